"""Calibration: rates learned from what the ledger saw charged, and how far estimates were from charges.

Two sources, both kept in the ledger by the runs themselves:

- charges the provider reported per job (``deduction_credit``, ``deduction_duration``, Kling's
  ``final_unit_deduction``): the ``credits`` of completed attempts;
- for jobs whose answers report nothing (talking photo, lip sync, face swap ...): the account balance,
  read before and after a run that made such jobs, the difference attributed to the jobs that run made
  (recorded only when nothing else wrote to the ledger meanwhile and every job it made was over).

A job's rate is its charged credits over its units, in the unit ``pricing.UNDOCUMENTED`` states for it
(per minute of output, per job, per started 10 s ...), measured from each job's body and the media length
its estimate used. Pass the result as ``rates=`` (or ``rates="calibrated"``).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, overload

from ..catalog import get_job
from . import _rules as pricing
from ._rates import Rate, given_rates
from ._rules import PriceContext

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl

    from .._client import Client
    from ..typing import Backend, EagerFrame, Rates

__all__ = ["calibrate", "calibrated_rates", "resolve_rates"]

COLUMNS = ("job", "resolution", "unit", "rate", "jobs", "units", "charged", "estimated", "error_pct", "source")


@dataclass
class _Sum:
    """What one line of the calibration adds up: jobs, their units, what they were charged and estimated."""

    jobs: int = 0
    units: float = 0.0
    charged: float = 0.0
    estimated: float = 0.0
    estimated_jobs: int = 0
    sources: set[str] = field(default_factory=set)

    def add(self, units: float | None, charged: float, estimate: float | None, source: str) -> None:
        self.jobs += 1
        self.units += units or 0.0
        self.charged += charged
        self.sources.add(source)
        if estimate is not None:
            self.estimated += estimate
            self.estimated_jobs += 1


def _units(job: str, body: Mapping[str, Any], seconds: float | None) -> float | None:
    """The job's billing units for one body, with the media length its estimate used (None if it had none)."""
    if job not in pricing.UNDOCUMENTED:
        return None
    _, measure = pricing.UNDOCUMENTED[job]
    ctx = PriceContext(given=seconds, duration=lambda _url: (None, "its estimate had no length"))
    qty, _how = measure({**get_job(job).defaults, **body}, ctx)
    return qty


def _lines(entries: Iterable[Mapping[str, Any]],
           balances: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str | None], _Sum]:
    by_id = {}
    sums: dict[tuple[str, str | None], _Sum] = defaultdict(_Sum)

    def add(entry: Mapping[str, Any], charged: float, source: str) -> None:
        body = json.loads(entry["body"])
        units = _units(entry["job"], body, entry.get("duration_s"))
        resolution = body.get("resolution")
        for key in [(entry["job"], None), *([(entry["job"], str(resolution))] if resolution is not None else [])]:
            sums[key].add(units, charged, entry.get("credits_est"), source)

    for entry in entries:
        if entry["status"] != "completed":
            continue
        by_id[entry["job_id"]] = entry
        if entry.get("credits") is not None:
            add(entry, float(entry["credits"]), "charged per job")
    for record in balances:  # jobs whose answers say nothing: the balance's drop, shared by units
        made = [by_id[i] for i in json.loads(record["job_ids"]) if i in by_id and by_id[i].get("credits") is None]
        units = [_units(e["job"], json.loads(e["body"]), e.get("duration_s")) for e in made]
        total = sum(u for u in units if u)
        spent = float(record["before"]) - float(record["after"])
        for entry, unit in zip(made, units, strict=True):
            share = spent * (unit or 0.0) / total if total else spent / len(made)
            add(entry, share, "account balance before and after runs")
    return sums


def _row(job: str, resolution: str | None, total: _Sum) -> dict[str, Any]:
    unit = pricing.UNDOCUMENTED.get(job, ("", None))[0] or None
    rate = round(total.charged / total.units, 6) if unit and total.units > 0 else None
    error = (round((total.estimated - total.charged) / total.charged * 100, 2)
             if total.estimated_jobs == total.jobs and total.charged > 0 else None)
    how = " and ".join(sorted(total.sources))
    return {"job": job, "resolution": resolution, "unit": unit, "rate": rate, "jobs": total.jobs,
            "units": round(total.units, 6), "charged": round(total.charged, 6),
            "estimated": round(total.estimated, 6) if total.estimated_jobs else None, "error_pct": error,
            "source": f"calibrated from {total.jobs} charged job{'s' * (total.jobs != 1)} ({how})"}


@overload
def calibrate(*, client: Client | None = ..., backend: Literal["pandas"] = ...) -> pd.DataFrame: ...
@overload
def calibrate(*, client: Client | None = ..., backend: Literal["polars"]) -> pl.DataFrame: ...
def calibrate(*, client: Client | None = None, backend: Backend = "pandas") -> EagerFrame:
    """Rates learned from the ledger, and how far estimates were from charges, as a frame.

    One line per job (``resolution`` null: its rate, in the unit ``unit``), then one per job and
    resolution where the bodies had one (how estimates compare to charges there). ``error_pct`` is
    (estimated - charged) / charged, over the jobs that had an estimate. Pass the frame as ``rates=``.

    Args:
        client: The client whose ledger is read; default: the default client.
        backend: "pandas" or "polars".

    Example:
        >>> rates = af.calibrate()  # doctest: +SKIP
        >>> df.akool.estimate("talking_photo", ..., rates=rates)  # doctest: +SKIP
    """
    import narwhals.stable.v2 as nw

    from .._client import default_client

    ledger = (client or default_client()).ledger
    rows = [_row(job, resolution, total) for (job, resolution), total in sorted(
        _lines(ledger.entries(), ledger.balance_records()).items(),
        key=lambda item: (item[0][0], item[0][1] is not None, str(item[0][1])))]
    data = {name: [row[name] for row in rows] for name in COLUMNS}
    schema = {"job": nw.String(), "resolution": nw.String(), "unit": nw.String(), "rate": nw.Float64(),
              "jobs": nw.Int64(), "units": nw.Float64(), "charged": nw.Float64(), "estimated": nw.Float64(),
              "error_pct": nw.Float64(), "source": nw.String()}
    return nw.to_native(nw.from_dict(data, schema=schema, backend=backend))


def calibrated_rates(client: Client | None = None) -> dict[str, Rate]:
    """``rates="calibrated"``: the calibrated rate of every job the ledger can price, with its source."""
    from .._client import default_client

    ledger = (client or default_client()).ledger
    sums = _lines(ledger.entries(), ledger.balance_records())
    out = {}
    for (job, resolution), total in sums.items():
        row = _row(job, resolution, total)
        if resolution is None and row["rate"] is not None and math.isfinite(row["rate"]):
            out[job] = Rate(row["rate"], row["source"])
    return out


def resolve_rates(rates: Rates, client: Client | None = None) -> dict[str, Rate]:
    """Rates by job from any form ``rates=`` takes: "calibrated" (this account's calibration, from its ledger), a
    file, a mapping or a frame (``_rates``); {} for None."""
    if isinstance(rates, str) and rates == "calibrated":
        return calibrated_rates(client)
    return given_rates(rates)
