"""``rates=``: the user's rates for jobs the docs give no price for, from wherever they come.

A dict ``{"talking_photo": 60}``, ``"calibrated"`` (learned from what the ledger saw charged, see
``_calibration``, which resolves it), a frame with ``job`` and ``rate`` columns (what ``af.calibrate()`` returns), or a
JSON/TOML file holding such a mapping (at the top level or under ``rates``). Each rate is in the unit that
``pricing.UNDOCUMENTED`` states for its job, and remembers where it came from, so a price's basis can say
"your rate" or "calibrated from 212 charged jobs".
"""

from __future__ import annotations

import difflib
import json
import math
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .._errors import ValidationError

__all__ = ["Rate", "given_rates"]


class Rate(float):
    """A rate (credits per the job's unit) that knows its source."""

    source: str

    def __new__(cls, value: float, source: str = "your rate") -> Rate:
        rate = super().__new__(cls, value)
        rate.source = source
        return rate


def _check(job: str, value: Any, source: str) -> Rate:
    from ..catalog import JOBS

    if job not in JOBS:
        close = difflib.get_close_matches(job, list(JOBS), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        msg = f"rates= names {job!r}, which is not a job.\n\nHint: {hint}jobs: {', '.join(sorted(JOBS))}."
        raise ValidationError(msg)
    if isinstance(value, Rate):
        return value
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value) or value < 0:
        msg = f"rates= gives {job!r} the rate {value!r}; a rate is a number of credits, 0 or more."
        raise ValidationError(msg)
    return Rate(float(value), source)


def _from_file(path: Path) -> Mapping[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except (OSError, ValueError) as exc:
        msg = f"Cannot read rates from {path}: {exc}.\n\nHint: a JSON or TOML file of job = rate."
        raise ValidationError(msg) from exc
    data = data.get("rates", data) if isinstance(data, Mapping) else data
    if not isinstance(data, Mapping):
        msg = f"{path} does not hold a mapping of job names to rates."
        raise ValidationError(msg)
    return data


def _from_frame(frame: Any) -> dict[str, Rate]:
    import narwhals.stable.v2 as nw

    table = nw.from_native(frame, eager_only=True)
    if not {"job", "rate"} <= set(table.columns):
        msg = f"A rates frame needs columns job and rate (as af.calibrate() returns); it has {table.columns}."
        raise ValidationError(msg)
    if "resolution" in table.columns:  # af.calibrate()'s breakdown lines are reading, not rates
        table = table.filter(nw.col("resolution").is_null())
    sources = table.get_column("source").to_list() if "source" in table.columns else [None] * len(table)
    out = {}
    for job, rate, source in zip(table.get_column("job").to_list(), table.get_column("rate").to_list(), sources,
                                 strict=True):
        if rate is not None and not (isinstance(rate, float) and math.isnan(rate)):
            out[str(job)] = _check(str(job), float(rate), str(source or "your rate"))
    return out


def given_rates(rates: Any) -> dict[str, Rate]:
    """Rates by job from the forms ``rates=`` takes but "calibrated" (see the module docstring); {} for None."""
    if rates is None:
        return {}
    if isinstance(rates, str | Path):
        return {job: _check(job, value, f"from {Path(rates).name}") for job, value in _from_file(Path(rates)).items()}
    if isinstance(rates, Mapping):
        return {str(job): _check(str(job), value, "your rate") for job, value in rates.items()}
    return _from_frame(rates)
