"""Catalogue look-ups as DataFrames: voices, avatars, AI models, languages, effects, credit balance."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, overload

from ._client import Client, default_client
from ._loop import run_sync
from ._values import typed_series
from .catalog import get_path_either

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl

    from .typing import Backend, EagerFrame

__all__ = [
    "LOOKUPS", "Lookup", "ai_models", "avatars", "campaigns", "credits", "effects", "fetch_records", "languages",
    "ledger", "voices",
]


@dataclass(frozen=True)
class Lookup:
    """A documented list endpoint: path, fixed query, where the records sit, and how it pages."""

    provider: str
    path: str
    query: Mapping[str, Any]
    records: str
    paged: bool = False  # page/size with data.count (VoiceLab) or a bare array (v3 lists)
    size: int = 100
    kinds: Mapping[str, str] = field(default_factory=dict)  # columns whose kind the values may not show


LOOKUPS = {
    "voices": Lookup("akool", "/api/open/v4/voice/list", {"type": "2"}, "data.result", paged=True),
    "cloned_voices": Lookup("akool", "/api/open/v4/voice/list", {"type": "1"}, "data.result", paged=True),
    # legacy_tts takes v3 voice ids (seed 000; catalog 3.1): `from` 3 official, 4 user-created; data is a bare
    # array and no paging is documented, so it is read in one call (a server that ignores page would repeat).
    "v3_voices": Lookup("akool", "/api/open/v3/voice/list", {"from": "3"}, "data"),
    "v3_cloned_voices": Lookup("akool", "/api/open/v3/voice/list", {"from": "4"}, "data"),
    "avatars": Lookup("akool", "/api/open/v3/avatar/list", {}, "data", paged=True),
    "ai_models": Lookup("akool", "/api/open/v4/aigModel/list", {"types[]": "1501"}, "data"),
    "languages": Lookup("akool", "/api/open/v3/language/list", {}, "data"),
    "effects": Lookup("akool", "/api/open/v4/image2Video/effects", {}, "data.result"),
    "credits": Lookup("akool", "/api/open/v3/faceswap/quota/info", {}, "data", kinds={"credit": "float"}),
}


async def fetch_records(client: Client, lookup: Lookup, query: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every record a look-up lists (page by page where it pages): the look-ups' own rows, and the languages
    checks read."""
    params = {**lookup.query, **{k: v for k, v in query.items() if v is not None}}
    rows: list[dict[str, Any]] = []
    for page in range(1, 1000):
        if lookup.paged:
            params.update(page=str(page), size=str(lookup.size))
        answer = await client.http.request(lookup.provider, "GET", lookup.path, params=params)
        found = _unwrap(get_path_either(answer, lookup.records, (list, dict)))
        batch = found if isinstance(found, list) else ([found] if isinstance(found, dict) else [])
        rows.extend(batch)
        if not lookup.paged or len(batch) < lookup.size:
            return rows
    return rows


def _unwrap(found: Any) -> Any:
    """The records of an answer whose data is one named list (``{"lang_list": [...]}``): that list."""
    if isinstance(found, dict) and len(found) == 1:
        (inner,) = found.values()
        if isinstance(inner, list):
            return inner
    return found


# Catalogue times the API gives as epoch numbers (milliseconds in every documented list; seconds accepted).
EPOCH_COLUMNS = frozenset({"create_time", "update_time", "created_at", "updated_at"})


def _kind(name: str, values: Sequence[Any]) -> str:
    """The result columns' kind of a look-up column, from its values: nullable bool, int, float, string or a
    UTC datetime (known epoch columns); a column of nothing but nulls is text."""
    present = [v for v in values if v is not None]
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in present)
    if present and numbers and name in EPOCH_COLUMNS:
        return "datetime"
    if present and all(isinstance(v, bool) for v in present):
        return "bool"
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return "int"
    return "float" if present and numbers else "string"


def _value(value: Any, kind: str) -> Any:
    import datetime as dt
    import json

    if value is None or kind in ("bool", "int", "float"):
        return value
    if kind == "datetime":
        if isinstance(value, dt.datetime):
            return value
        # Over 1e11 it is milliseconds (as seconds it would be the year 5138; as ms it is 1973 on).
        return dt.datetime.fromtimestamp(value / 1000 if value > 1e11 else value, dt.UTC)
    # Nested values (tag lists, resolution tables) as JSON text: readable, parseable, and one type per column.
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _frame(rows: Sequence[Mapping[str, Any]], backend: Backend, kinds: Mapping[str, str] | None = None) -> EagerFrame:
    """The records as a frame typed like the result columns (``typed_series``): the columns ``kinds``
    names first, with those kinds, then the records' other fields, typed from their values."""
    import narwhals.stable.v2 as nw

    kinds = kinds or {}
    names: dict[str, None] = dict.fromkeys(kinds)
    for row in rows:
        names.update(dict.fromkeys(row))
    names = names or {"empty": None}  # no records, no known columns: one text column, as before
    impl = nw.Implementation.from_backend(backend)
    series = []
    for name in names:
        raw = [row.get(name) for row in rows]
        kind = kinds.get(name) or _kind(name, raw)
        series.append(typed_series(name, [_value(v, kind) for v in raw], impl, kind))
    return nw.to_native(nw.from_dict({s.name: s for s in series}))


def _lookup(name: str, client: Client | None, backend: Backend, **query: object) -> EagerFrame:
    client = client or default_client()
    return _frame(run_sync(fetch_records(client, LOOKUPS[name], query)), backend, LOOKUPS[name].kinds)


VOICE_LISTS = {(4, False): "voices", (4, True): "cloned_voices", (3, False): "v3_voices", (3, True): "v3_cloned_voices"}


@overload
def voices(*, version: int = ..., cloned: bool = ..., client: Client | None = ..., backend: Literal["pandas"] = ...,
           **filters: object) -> pd.DataFrame: ...
@overload
def voices(*, version: int = ..., cloned: bool = ..., client: Client | None = ..., backend: Literal["polars"],
           **filters: object) -> pl.DataFrame: ...
def voices(*, version: int = 4, cloned: bool = False, client: Client | None = None, backend: Backend = "pandas",
           **filters: object) -> EagerFrame:
    """Voices: VoiceLab's (``version=4``, for tts and the v4 jobs) or the legacy list (``version=3``, the ids
    ``legacy_tts`` and ``legacy_voice_clone`` take); Akool's own, or yours with ``cloned=True``. Filters
    (v4 only): gender, style, name, ..."""
    name = VOICE_LISTS.get((version, cloned))
    if name is None:
        msg = f"voices(version={version!r}): the API has voice lists version 3 (legacy_tts) and 4"
        raise ValueError(msg)
    return _lookup(name, client, backend, **filters)


@overload
def avatars(*, client: Client | None = ..., backend: Literal["pandas"] = ..., **filters: object) -> pd.DataFrame: ...
@overload
def avatars(*, client: Client | None = ..., backend: Literal["polars"], **filters: object) -> pl.DataFrame: ...
def avatars(*, client: Client | None = None, backend: Backend = "pandas", **filters: object) -> EagerFrame:
    """Talking avatars (``from_=2`` official, ``3`` yours; ``type=1`` talking, ``2`` streaming)."""
    if "from_" in filters:
        filters["from"] = filters.pop("from_")
    return _lookup("avatars", client, backend, **filters)


@overload
def ai_models(types: Sequence[int] = ..., *, client: Client | None = ..., backend: Literal["pandas"] = ...) -> pd.DataFrame: ...
@overload
def ai_models(types: Sequence[int] = ..., *, client: Client | None = ..., backend: Literal["polars"]) -> pl.DataFrame: ...
def ai_models(types: Sequence[int] = (1501,), *, client: Client | None = None, backend: Backend = "pandas") -> EagerFrame:
    """AI models with their resolutions and unit credits (1501 image to video, 1502, 2101)."""
    return _lookup("ai_models", client, backend, **{"types[]": ",".join(map(str, types))})


@overload
def languages(*, client: Client | None = ..., backend: Literal["pandas"] = ...) -> pd.DataFrame: ...
@overload
def languages(*, client: Client | None = ..., backend: Literal["polars"]) -> pl.DataFrame: ...
def languages(*, client: Client | None = None, backend: Backend = "pandas") -> EagerFrame:
    """Target languages of video translation."""
    return _lookup("languages", client, backend)


@overload
def effects(*, client: Client | None = ..., backend: Literal["pandas"] = ...) -> pd.DataFrame: ...
@overload
def effects(*, client: Client | None = ..., backend: Literal["polars"]) -> pl.DataFrame: ...
def effects(*, client: Client | None = None, backend: Backend = "pandas") -> EagerFrame:
    """Image-to-video effects (``effect_code``)."""
    return _lookup("effects", client, backend)


@overload
def credits(*, client: Client | None = ..., backend: Literal["pandas"] = ...) -> pd.DataFrame: ...
@overload
def credits(*, client: Client | None = ..., backend: Literal["polars"]) -> pl.DataFrame: ...
def credits(*, client: Client | None = None, backend: Backend = "pandas") -> EagerFrame:
    """The account's credit balance (faceswap quota info)."""
    return _lookup("credits", client, backend)


LEDGER_TIMES = ("created_at", "submitted_at", "updated_at", "completed_at", "deleted_at")  # epoch seconds inside
LEDGER_KINDS = {"attempt": "int", "credits_est": "float", "credits": "float", "duration_s": "float",
                **dict.fromkeys(LEDGER_TIMES, "datetime")}  # the rest is text (extra: JSON)


@overload
def ledger(*, client: Client | None = ..., backend: Literal["pandas"] = ...) -> pd.DataFrame: ...
@overload
def ledger(*, client: Client | None = ..., backend: Literal["polars"]) -> pl.DataFrame: ...
def ledger(*, client: Client | None = None, backend: Backend = "pandas") -> EagerFrame:
    """Every submission the ledger holds (one row per attempt), as a DataFrame; its times as UTC datetimes.
    The same frame from an SQLite ledger and from a PostgreSQL one (``ledger="postgresql://..."``). No secrets in it.

    Args:
        client: The client whose ledger to read; default: the default client.
        backend: "pandas" or "polars".

    Example:
        >>> af.ledger()[["key", "status", "credits", "completed_at"]].tail()  # doctest: +SKIP
    """
    from .ledger import PUBLIC_COLUMNS

    client = client or default_client()
    # Typed by name, not by value: an empty ledger, or one where nothing was deleted, keeps every column's type.
    kinds = {name: LEDGER_KINDS.get(name, "string") for name in PUBLIC_COLUMNS}
    return _frame(client.ledger.entries(), backend, kinds)


CAMPAIGN_KINDS = {"campaign": "string", "budget": "float", "charged": "float", "reserved": "float", "left": "float",
                  "rows": "int", "created_at": "datetime", "updated_at": "datetime"}


@overload
def campaigns(*, client: Client | None = ..., backend: Literal["pandas"] = ...) -> pd.DataFrame: ...
@overload
def campaigns(*, client: Client | None = ..., backend: Literal["polars"]) -> pl.DataFrame: ...
def campaigns(*, client: Client | None = None, backend: Backend = "pandas") -> EagerFrame:
    """Every campaign budget the ledger holds (``run(..., budget=, campaign=)``), one row each: the budget, what its
    finished jobs were charged, what its other rows hold reserved, what is left, how many rows it reserved for.

    Args:
        client: The client whose ledger to read; default: the default client.
        backend: "pandas" or "polars".

    Example:
        >>> af.campaigns()[["campaign", "budget", "charged", "reserved", "left"]]  # doctest: +SKIP
    """
    client = client or default_client()
    return _frame(client.ledger.campaigns(), backend, CAMPAIGN_KINDS)
