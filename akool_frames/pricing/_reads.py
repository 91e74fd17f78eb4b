"""What a price rule reads of a body, declared where the rule is written (``pricing``), so that the vectorised
estimate (``_fast_estimate``) needs no list of its own: it keys the rows by what the rule reads and runs the
rule once per distinct key.

    @reads(chars=("input_text",))
    def _tts(body, ctx): ...

A rule without a declaration (``reads_of`` gives None) is priced a row at a time. A declaration that reads too
little gives wrong prices, and ``tests/frames/test_price_truth.py`` finds it: every job's frames estimated both
ways must agree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

__all__ = ["Declared", "Reads", "reads", "reads_of"]

T = TypeVar("T")


@dataclass(frozen=True)
class Reads:
    """What a rule reads: the values of ``values``, the lengths (characters) of the texts ``chars``, the length of
    media the row gives with ``duration=`` (``duration``); and ``needs``, fields without which the rule would
    measure media (rows without them go a row at a time)."""

    values: tuple[str, ...] = ()
    chars: tuple[str, ...] = ()
    duration: bool = False
    needs: tuple[str, ...] = ()


class Declared(Generic[T]):
    """A rule (a price, or a measure for user rates) and what it reads; called as the rule itself."""

    def __init__(self, fn: Callable[[Mapping[str, Any], Any], T], declared: Reads) -> None:
        self.fn, self.reads = fn, declared
        self.__name__ = getattr(fn, "__name__", "rule")
        self.__doc__ = fn.__doc__

    def __call__(self, body: Mapping[str, Any], ctx: Any) -> T:
        return self.fn(body, ctx)

    def __repr__(self) -> str:
        return f"<price rule {self.__name__} reading {self.reads}>"


def reads(values: tuple[str, ...] = (), chars: tuple[str, ...] = (), *, duration: bool = False,
          needs: tuple[str, ...] = ()) -> Callable[[Callable[[Mapping[str, Any], Any], T]], Declared[T]]:
    """Declare what the rule below reads (see ``Reads``)."""
    declared = Reads(tuple(values), tuple(chars), duration, tuple(needs))

    def attach(fn: Callable[[Mapping[str, Any], Any], T]) -> Declared[T]:
        return Declared(fn, declared)

    return attach


def reads_of(rule: Any) -> Reads | None:
    """What ``rule`` declares it reads; None for a rule without a declaration (priced a row at a time)."""
    return rule.reads if isinstance(rule, Declared) else None
