"""Forecasts: what a campaign will cost, from counts, before a single row exists.

A campaign is a table with one line per *kind of work*: the ``job``, how many units (``count``), and what
its price depends on, by the job's documented field names (``resolution``, ``video_length``, ``model_name``,
``type`` ...) plus three of our own: ``duration_s`` (the media length of one unit, in seconds),
``characters`` (the text length of one unit) and ``languages`` (target languages per unit, a number or a
comma list). Each line is priced once, by the same rules as ``estimate`` applied to one unit made up from
the line, and multiplied by its count: ten million units cost no more time than one. Lines the docs
cannot price say why (and take ``rates=``, like estimate).

    fc = af.forecast(pd.DataFrame({"job": ["tts", "talking_photo"], "count": [2000, 500],
                                   "characters": [120, None], "duration_s": [None, 30]}),
                     rates={"talking_photo": 60})
    fc.table, fc.unpriced, fc.chart(), fc.to_html("forecast.html")

``af.forecast({"A": campaign_a, "B": campaign_b})`` prices each scenario and puts them side by side.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import narwhals.stable.v2 as nw

from .. import pricing
from .._errors import ValidationError
from .._values import to_py
from ..catalog import get_job
from ..pricing import PriceContext
from ..typing import EagerFrame

if TYPE_CHECKING:
    from .._client import Client
    from ..typing import Backend, Rates
    from ._report import Report

__all__ = ["OWN_COLUMNS", "forecast", "unit_body"]

# A campaign: a frame or a sheet (path) of lines; af.forecast also takes several, by scenario name.
Campaign: TypeAlias = EagerFrame | str | Path

OWN_COLUMNS = ("job", "count", "duration_s", "characters", "languages", "plan", "content_type")  # not body fields
_CONTENT_TYPES = {"image": 1, "video": 2, "audio": 3, "text": 4}  # moderation's documented type codes

# Where one unit's text goes for jobs priced by characters (``characters`` fills it with that many).
_TEXT_FIELD = {"tts": "input_text", "legacy_tts": "input_text", "legacy_voice_clone": "input_text",
               "audiocleaner.tts": "text", "moderation": "content"}


def _languages(value: Any) -> str | None:
    """``languages``: a number of target languages, or the codes themselves ("es,fr,de")."""
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return ",".join(f"l{i}" for i in range(int(value)))  # the rule counts them; the codes do not matter
    return str(value)


# Fields a unit needs that no forecast line gives, made up so the job's own rule can price it.
_SHAPES: dict[str, Callable[[dict[str, Any], Mapping[str, Any]], None]] = {
    "talking_avatar": lambda body, line: body.setdefault(
        "elements", [{"type": "audio", "input_text": "x" * int(line.get("characters") or 0)}]),
    "video_translation": lambda body, line: body.__setitem__(
        "language", _languages(line.get("languages")) or body.get("language") or "l0"),
    "moderation": lambda body, line: body.update(
        type=body.get("type") or _CONTENT_TYPES.get(str(line.get("content_type") or "").lower(),
                                                    line.get("content_type")),
        content=body.get("content") or "https://forecast.invalid/media"),
}


def unit_body(job: str, line: Mapping[str, Any]) -> dict[str, Any]:
    """One unit of a forecast line as a body the job's price rule reads: its documented fields from the
    line, ``characters`` as that much text in the job's text field, the job's defaults under them."""
    spec = get_job(job)
    body = {k: v for k, v in line.items() if k not in OWN_COLUMNS and v is not None and k in spec.field_names()}
    chars = line.get("characters")
    if job in _SHAPES:
        _SHAPES[job](body, line)
    if job in _TEXT_FIELD and chars is not None and (job != "moderation" or body.get("type") == 4):
        body[_TEXT_FIELD[job]] = "x" * int(chars)  # moderation: only text (type 4) is priced by characters
    return {**spec.defaults, **body}


def _no_media(target: Any) -> tuple[float | None, str]:
    return None, "a forecast has no media to measure: give duration_s"


def _price_line(line: Mapping[str, Any], plan: str, rates: Mapping[str, float]) -> dict[str, Any]:
    job = str(line.get("job") or "")
    count = line.get("count")
    count = 1 if count is None else count
    out: dict[str, Any] = {"count": count, "unit_credits": None, "credits_est": None, "price_basis": None,
                           "reason": None}
    if not isinstance(count, int | float) or isinstance(count, bool) or count < 0 or not math.isfinite(count):
        return {**out, "reason": f"count must be a number of units, got {count!r}"}
    try:
        spec = get_job(job)
    except (KeyError, ValueError, ValidationError) as exc:
        return {**out, "reason": str(exc).split("\n")[0]}
    given = line.get("duration_s")
    ctx = PriceContext(plan=str(line.get("plan") or plan), rates=rates, duration=_no_media,
                            given=float(given) if given is not None else None)
    price = pricing.estimate(spec, unit_body(job, line), ctx)
    if price.credits is None:
        return {**out, "reason": price.reason}
    return {**out, "unit_credits": price.credits, "credits_est": round(price.credits * count, 6),
            "price_basis": f"{_number(count)} x ({price.basis})"}


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,}"


def _campaign(campaign: Campaign, storage_options: Mapping[str, Any] | None = None) -> nw.DataFrame[Any]:
    if isinstance(campaign, str | Path):
        from ..sheets import read_sheet

        campaign = read_sheet(campaign, storage_options=storage_options)
    frame = nw.from_native(campaign, eager_only=True)
    if "job" not in frame.columns:
        msg = (f"A campaign needs a 'job' column (one line per kind of work); it has {frame.columns}.\n\n"
               "Hint: columns job, count, and what the price depends on: duration_s, characters, resolution, ...")
        raise ValidationError(msg)
    return frame


def _priced(campaign: Campaign, plan: str, rates: Mapping[str, float], scenario: str | None,
            storage_options: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """Each line of one campaign with its price (one unit priced, times the count)."""
    frame = _campaign(campaign, storage_options)
    out = []
    for i, row in enumerate(frame.iter_rows(named=True)):  # lines, not units: a campaign has few
        # A number column with a gap comes back as floats (pandas): 10.0 is the documented 10.
        line = {k: int(v) if isinstance(v, float) and v.is_integer() else v for k, v in
                ((k, to_py(v)) for k, v in row.items())}
        out.append({"scenario": scenario, "line": i, "inputs": line, **_price_line(line, plan, rates)})
    return out


def _column(values: list[Any]) -> tuple[list[Any], Any]:
    """A descriptive column as it can be stored, with its type: whole numbers Int64, other numbers Float64,
    anything else (or mixed) text."""
    given = [v for v in values if v is not None]
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in given):
        if all(float(v).is_integer() for v in given):
            return [None if v is None else int(v) for v in values], nw.Int64()
        return [None if v is None else float(v) for v in values], nw.Float64()
    return [None if v is None else str(v) for v in values], nw.String()


def _frame(data: dict[str, list[Any]], schema: dict[str, Any], backend: Backend) -> EagerFrame:
    """A native frame of ``backend`` with these types; pandas gets its nullable Int64/Float64 (a count reads
    500, an unknown price <NA>), as the result columns have."""
    if backend == "pandas":
        import pandas as pd

        dtypes = {nw.Int64: "Int64", nw.Float64: "Float64", nw.String: "string"}
        return pd.DataFrame({c: pd.Series(v, dtype=dtypes.get(type(schema[c])), index=range(len(v)))
                             for c, v in data.items()})
    return nw.to_native(nw.from_dict(data, schema, backend=backend))


def _report(lines: list[dict[str, Any]], usd: float, backend: Backend) -> Report:
    """The forecast as a Report: a line per campaign line (units as rows), totals, the unpriced lines."""
    from ._report import Report

    scenarios = any(line["scenario"] is not None for line in lines)
    inputs = list(dict.fromkeys(k for line in lines for k in line["inputs"] if k not in ("job", "count")))
    priced = [line["credits_est"] is not None for line in lines]
    count, kind = _column([line["count"] if isinstance(line["count"], int | float) else 0 for line in lines])
    described = {name: _column([line["inputs"].get(name) for line in lines]) for name in inputs}
    money = [line["credits_est"] for line in lines]
    data: dict[str, tuple[list[Any], Any]] = {
        **({"scenario": ([str(line["scenario"]) for line in lines], nw.String())} if scenarios else {}),
        "job": ([str(line["inputs"].get("job") or "") for line in lines], nw.String()),
        "count": (count, kind),
        **described,
        "unit_credits": ([line["unit_credits"] for line in lines], nw.Float64()),
        "rows": (count, kind),
        "priced_rows": ([c if p else 0 for c, p in zip(count, priced, strict=True)], kind),
        "unpriced_rows": ([0 if p else c for c, p in zip(count, priced, strict=True)], kind),
        "credits_est": (money, nw.Float64()),
        "usd_est": ([None if c is None else round(c * usd, 6) for c in money], nw.Float64()),
        "price_basis": ([line["price_basis"] or f"no price: {line['reason']}" for line in lines], nw.String()),
    }
    table = _frame({c: v for c, (v, _) in data.items()}, {c: t for c, (_, t) in data.items()}, backend)
    missing = [(line, n) for line, p, n in zip(lines, priced, count, strict=True) if not p]
    unpriced = {
        **({"scenario": ([str(line["scenario"]) for line, _ in missing], nw.String())} if scenarios else {}),
        "row": ([line["line"] for line, _ in missing], nw.Int64()),
        "job": ([str(line["inputs"].get("job") or "") for line, _ in missing], nw.String()),
        "count": ([n for _, n in missing], kind),
        "reason": ([str(line["reason"]) for line, _ in missing], nw.String()),
    }
    unpriced_frame = _frame({c: v for c, (v, _) in unpriced.items()}, {c: t for c, (_, t) in unpriced.items()}, backend)
    keys = ["scenario", "job"] if scenarios else ["job"]
    return Report(table, unpriced_frame, kind="forecast", usd_per_credit=usd, keys=keys, has_totals=False)


def forecast(campaign: Campaign | Mapping[str, Campaign], *, plan: str | None = None, rates: Rates = None,
             usd_per_credit: float | None = None, client: Client | None = None, backend: Backend = "pandas",
             storage_options: Mapping[str, Any] | None = None) -> Report:
    """Price a campaign from counts: one line per kind of work, never a row per unit.

    Args:
        campaign: A frame (pandas or polars) or a sheet's path or URI with columns ``job``, ``count`` and the pricing
            inputs (documented field names, plus ``duration_s``, ``characters``, ``languages``), or a dict
            of such campaigns by scenario name, compared side by side.
        plan: Pricing plan (pro, max, business); default: the client's. A ``plan`` column overrides it per line.
        rates: Rates for jobs the docs give no price for: a dict, ``"calibrated"``, a frame or a TOML/JSON file
            (as ``estimate``'s ``rates=``).
        usd_per_credit: Dollars per credit; default: the client's (0.04).
        client: The client whose plan, rates and calibration are used; default: the default client.
        backend: "pandas" or "polars": the library of the report's tables.
        storage_options: For a campaign sheet given as an object store's URI (``"s3://bucket/campaign.xlsx"``):
            its filesystem's options, as ``read_sheet``'s.

    Returns:
        A ``Report``: ``.table`` (one line per campaign line, and totals), ``.unpriced``, ``.chart()``,
        ``.to_html(path)``.

    Example:
        >>> fc = af.forecast(pd.DataFrame({"job": ["tts"], "count": [2000], "characters": [120]}))  # doctest: +SKIP
        >>> fc.table["credits_est"].iloc[0]  # doctest: +SKIP
        1056.0
    """
    from ..pricing import resolve_rates

    settings = client if client is not None else _maybe_default_client()
    plan = plan or getattr(settings, "plan", None) or "pro"
    table = resolve_rates(rates, settings)
    scenarios: Sequence[tuple[str | None, Campaign]] = (
        list(campaign.items()) if isinstance(campaign, Mapping) else [(None, campaign)])
    lines = [line for name, c in scenarios for line in _priced(c, plan, table, name, storage_options)]
    usd = usd_per_credit if usd_per_credit is not None else getattr(settings, "usd_per_credit", 0.04)
    return _report(lines, usd, backend)


def _maybe_default_client() -> Client | None:
    """The default client if one is set or can be made from the environment; a forecast needs none."""
    from .._client import default_if_set

    return default_if_set()  # read, never made: a forecast works without credentials
