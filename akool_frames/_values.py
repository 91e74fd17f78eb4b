"""Frame values both ways: cells as plain Python (what every module that reads a cell uses), and typed columns
with each library's nullable types (results and look-ups alike). Only narwhals is imported here."""

from __future__ import annotations

import datetime as dt
import decimal
import math
from collections.abc import Mapping
from typing import Any

import narwhals.stable.v2 as nw

__all__ = ["to_py", "typed_series"]


def to_py(value: Any) -> Any:
    """A frame value as plain Python: nulls (None, NaN, pd.NA, NaT) -> None; numpy/arrow scalars -> int,
    float, bool, str; dates -> ISO text; durations -> seconds; containers converted item by item."""
    if value is None:
        return None
    kind = type(value)
    if kind is str or kind is int or kind is bool:
        return value
    if isinstance(value, float):  # also numpy.float64
        return None if math.isnan(value) else float(value)
    if isinstance(value, Mapping):
        return {k: to_py(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_py(v) for v in value]
    if kind.__name__ in ("NAType", "NaTType"):  # pd.NA, pd.NaT
        return None
    library = kind.__module__.partition(".")[0]
    if library == "numpy":
        if getattr(value, "ndim", 0):
            return to_py(value.tolist())
        scalar = nw.to_py_scalar(value)  # datetime64 -> datetime, NaT -> None, ...
        return to_py(scalar.item() if type(scalar).__module__.partition(".")[0] == "numpy" else scalar)
    if library == "pyarrow" and hasattr(value, "as_py"):
        return to_py(value.as_py())
    if isinstance(value, str):  # subclasses: str enums ...
        return str(value)
    if isinstance(value, int):  # IntEnum, ... (bool is handled above; bool subclasses do not exist)
        return int(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return None if value.is_nan() else float(value)
    if hasattr(value, "to_list"):  # a polars Series inside a cell
        return to_py(value.to_list())
    if hasattr(value, "tolist"):
        return to_py(value.tolist())
    return value


def typed_series(name: str, values: list[Any], impl: nw.Implementation, kind: str) -> nw.Series[Any]:
    """A column of ``kind`` "float", "int", "string", "bool", "list" (of strings) or "datetime" (UTC), with the
    library's nullable types; the look-ups build their frames with it too, so every frame types alike."""
    if kind == "list" and impl is nw.Implementation.PANDAS:  # pandas: Python lists, as object
        pd = impl.to_native_namespace()
        return nw.from_native(pd.Series(values, name=name, dtype=object), series_only=True)
    if kind == "float":
        values = [None if v is None else float(v) for v in values]
    if impl is nw.Implementation.PANDAS:  # pandas: the NA-based nullable dtypes, not object / NaN
        pd = impl.to_native_namespace()
        dtype = {"float": "Float64", "int": "Int64", "string": "string", "bool": "boolean",
                 "datetime": "datetime64[ns, UTC]"}[kind]
        native = pd.Series(values, name=name, dtype=dtype)
        return nw.from_native(native, series_only=True)
    typed = {"float": nw.Float64(), "int": nw.Int64(), "string": nw.String(), "bool": nw.Boolean(),
             "list": nw.List(nw.String()), "datetime": nw.Datetime("us", "UTC")}[kind]
    return nw.new_series(name, values, typed, backend=impl.to_native_namespace())  # (the module: any eager library)
