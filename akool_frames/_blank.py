"""What "not given" means, once for both paths: a value is blank when it is None, NaN, or a text of whitespace
only (Python's ``str.isspace``, what ``str.strip`` removes). The per-row path tests values (``blank``,
``without_blanks``); the vectorised estimate tests columns (``surely_blank``, ``surely_filled``), from the same
set of whitespace characters (``WHITESPACE``).

A column expression cannot strip texts cheaply, so it says what is *surely* blank (null, NaN, "") and what is
*surely* filled (a text whose first character lies in one of the ``SURELY_FILLED`` ranges, the gaps between the
whitespace characters); a text opening anywhere else (whitespace, controls, a few punctuation blocks) is left to
``blank``, a row at a time.
"""

from __future__ import annotations

import math
from typing import Any

import narwhals.stable.v2 as nw

__all__ = ["FLOAT", "SURELY_FILLED", "WHITESPACE", "blank", "surely_blank", "surely_filled", "without_blanks"]

# Every character str.isspace calls whitespace (none lies above U+3000: tests/frames/test_fast_estimate.py checks
# every code point).
WHITESPACE = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())


def blank(value: Any) -> bool:
    """None, NaN, or a text of whitespace only: what the validator reads as "not given"."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value or (value[0].isspace() and not value.strip())  # (per value: most texts start with a letter)
    return isinstance(value, float) and math.isnan(value)


def without_blanks(value: Any, *, flat: bool = False) -> Any:
    """Drop blank values (``blank``) from a body, at every depth, so that what is sent is what was validated (an
    empty optional enum would otherwise be refused by the provider). ``flat``: the body holds no dict or list."""
    if flat:  # the test of ``blank`` inline: a call per value costs a re-run a tenth of its time
        return {k: v for k, v in value.items() if not (v is None or (isinstance(v, str) and (
            not v or (v[0].isspace() and not v.strip()))) or (isinstance(v, float) and math.isnan(v)))}
    if isinstance(value, dict):
        return {k: without_blanks(v) if isinstance(v, dict | list) else v for k, v in value.items() if not blank(v)}
    if isinstance(value, list):
        return [without_blanks(v) for v in value]
    return value


def _gaps(spaces: str, widest: int) -> tuple[tuple[str, str | None], ...]:
    """The runs of characters between whitespace characters, from "!" on, at least ``widest`` wide (narrower runs,
    among controls, are left to the per-row path: each range costs two comparisons per text)."""
    out: list[tuple[str, str | None]] = []
    low = ord("!")
    for space in sorted({ord(c) for c in spaces if ord(c) >= low}):
        if space - low >= widest:
            out.append((chr(low), chr(space)))
        low = space + 1
    return (*out, (chr(low), None))


# Texts whose first character lies in one of these ranges are surely not blank. Tested as ranges of texts
# (lexicographic order is code point order, and a comparison reads only a string view's prefix: several times
# faster than a regex). Seven ranges: "!" to U+0084, U+00A1 to U+167F, ... U+3001 and above.
SURELY_FILLED = _gaps(WHITESPACE, widest=28)

FLOAT = (nw.Float32, nw.Float64)


def surely_blank(expr: nw.Expr, dtype: Any) -> nw.Expr:
    """The rows that are blank for sure: null, NaN (floats) or "" (texts). A text of whitespace is not among them:
    ``surely_filled`` leaves it undecided."""
    if isinstance(dtype, nw.String):
        return expr.is_null() | (expr == "")
    if isinstance(dtype, FLOAT):
        return expr.is_null() | expr.is_nan()
    return expr.is_null()


def surely_filled(expr: nw.Expr, *, plain: bool = False) -> nw.Expr:
    """Texts that start with a character that is surely not whitespace (false for null and "").
    ``plain``: the column's texts are known to be null, "" or start in the first range (``SURELY_FILLED[0]``)."""
    if plain:
        return ~(expr.is_null() | (expr == ""))
    ranges = [(expr >= low) & (expr < high) if high is not None else expr >= low for low, high in SURELY_FILLED]
    return nw.any_horizontal(*ranges, ignore_nulls=True).fill_null(value=False)
