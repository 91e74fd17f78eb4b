"""No bare ``Any`` in what users call: every name of ``af.__all__`` (functions, and the constructors, methods and
properties of its classes), the ``df.akool`` accessor methods and the module verbs take and return named types
(``IntoFrame``, ``EagerFrame``, ``Client | None``, ``ProgressSink``, ``Report`` ...), read here from their annotations
with ``typing.get_type_hints``. ``Any`` inside a container (``dict[str, Any]``: JSON as it comes) is allowed; ``Any``
as the annotation, a member of a union or a TypeVar's bound is not. One documented exception: the verbs' job fields,
``**params``, are open by design (each job has its own)."""

from __future__ import annotations

import inspect
import sys
import types
import typing
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest

import akool_frames as af
import akool_frames.frames as frames
from akool_frames.frames._pandas import AkoolAccessor
from akool_frames.frames._polars import AkoolFrame, AkoolLazyFrame

OPEN_BY_DESIGN = {"params"}  # ``**params``: the job's documented fields, different for every job


def _namespace(fn: Callable[..., object]) -> dict[str, object]:
    """The names an annotation may use: its module's, and those its module imports only for type checkers."""
    import collections.abc
    import os
    import pathlib

    import matplotlib.figure
    import narwhals.stable.v2 as nw
    import pandas as pd
    import polars as pl

    import akool_frames.typing as public_types
    from akool_frames.frames._confirm import ConfirmPanel
    from akool_frames.ledger import Ledger
    from akool_frames.storage import Stager
    from akool_frames.transport import Http

    module = sys.modules[inspect.unwrap(fn).__module__]
    return {**vars(collections.abc), **vars(public_types), "os": os, "Path": pathlib.Path, "pd": pd, "pl": pl,
            "nw": nw, "Figure": matplotlib.figure.Figure, "Client": af.Client, "Report": af.Report,
            "ConfirmPanel": ConfirmPanel, "Ledger": Ledger, "Http": Http,
            "Stager": Stager, **vars(module)}


def bare_any(annotation: object, namespace: dict[str, object]) -> bool:
    """``Any`` itself, in a union (``Any | None``), or as a TypeVar's bound or constraint."""
    if annotation is Any:
        return True
    if isinstance(annotation, typing.ForwardRef | str):  # a TypeVar's bound, written as text
        text = annotation.__forward_arg__ if isinstance(annotation, typing.ForwardRef) else annotation
        return bare_any(eval(text, namespace), namespace)  # (our own annotations)
    if isinstance(annotation, TypeVar):
        return any(bare_any(t, namespace) for t in (annotation.__bound__, *annotation.__constraints__) if t is not None)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return any(bare_any(arg, namespace) for arg in typing.get_args(annotation))
    if typing.get_origin(annotation) is typing.Annotated:
        return bare_any(typing.get_args(annotation)[0], namespace)
    return False


def any_in(fn: Callable[..., object]) -> list[str]:
    """The parameters (and ``return``) of ``fn`` annotated with a bare ``Any``; every annotation must resolve."""
    namespace = _namespace(fn)
    hints = typing.get_type_hints(fn, globalns=namespace)
    found = [name for name, hint in hints.items() if bare_any(hint, namespace)]
    signature = inspect.signature(fn)
    unannotated = [p.name for p in signature.parameters.values()
                   if p.name not in ("self", "cls") and p.annotation is inspect.Parameter.empty]
    if "return" not in hints and fn.__name__ != "__init__":
        unannotated.append("return")
    variadic = {p.name for p in signature.parameters.values() if p.kind is p.VAR_KEYWORD}
    return [n for n in found if not (n in OPEN_BY_DESIGN and n in variadic)] + [f"{n} (unannotated)" for n in unannotated]


def _members(cls: type) -> Iterator[tuple[str, Callable[..., object]]]:
    """A public class's constructor, public methods and property getters, as far as this package defines them."""
    for klass in cls.__mro__:
        if not klass.__module__.startswith("akool_frames"):
            continue
        for name, value in vars(klass).items():
            if name.startswith("_") and name != "__init__":
                continue
            if isinstance(value, property) and value.fget is not None:
                yield f"{cls.__name__}.{name}", value.fget
            elif isinstance(value, staticmethod | classmethod):
                yield f"{cls.__name__}.{name}", value.__func__
            elif inspect.isfunction(value):
                yield f"{cls.__name__}.{name}", value


def public_callables() -> dict[str, Callable[..., object]]:
    found: dict[str, Callable[..., object]] = {}
    for name in af.__all__:
        value = getattr(af, name)
        if inspect.isclass(value):
            found.update(_members(value))
        elif callable(value):
            found[f"af.{name}"] = value
    for accessor in (AkoolAccessor, AkoolFrame, AkoolLazyFrame):  # what df.akool is (FrameAccessor's verbs)
        found.update(_members(accessor))
    for name in frames.__all__:
        value = getattr(frames, name)
        if inspect.isfunction(value):
            found[f"akool_frames.frames.{name}"] = value
    return found


PUBLIC = public_callables()


def test_the_walk_finds_the_surface() -> None:
    for expected in ("af.report", "af.forecast", "af.calibrate", "af.read_sheet", "af.voices", "Client.__init__",
                     "Client.close", "Report.summary", "Report.to_html", "Report.total_est", "AkoolAccessor.run",
                     "AkoolLazyFrame.aestimate", "akool_frames.frames.run", "akool_frames.frames.asubmit",
                     "Sandbox.__init__", "af.sandbox"):
        assert expected in PUBLIC, expected
    assert len(PUBLIC) > 80


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_no_bare_any_in_public_signatures(name: str) -> None:
    assert any_in(PUBLIC[name]) == [], f"{name} takes or returns a bare Any"


def test_sandbox_options_name_the_config_fields() -> None:
    """``af.sandbox(**options)`` is typed by ``SandboxOptions``: the same fields as ``SandboxConfig``."""
    import dataclasses

    from akool_frames.sandbox import SandboxOptions

    assert set(typing.get_type_hints(SandboxOptions)) == {f.name for f in dataclasses.fields(af.SandboxConfig)}


# ------------------------------------------------------------------------- the check can fail
T = TypeVar("T")
LooseT = TypeVar("LooseT", bound=Any)


def takes_any(x: Any) -> int:
    return 0


def returns_any(x: int) -> Any:
    return x


def maybe_any(x: Any | None = None) -> int:
    return 0


def loose(x: LooseT) -> LooseT:
    return x


def unannotated(x, y: int) -> int:
    return y


def other_kwargs(**options: Any) -> None:
    pass


def params(frame: int, **params: Any) -> int:  # the documented exception
    return frame


def precise(x: dict[str, Any], y: T, *, z: Callable[..., Any] | None = None) -> list[T]:  # Any inside: fine
    return [y]


@pytest.mark.parametrize(("fn", "found"), [
    (takes_any, ["x"]), (returns_any, ["return"]), (maybe_any, ["x"]), (loose, ["x", "return"]),
    (unannotated, ["x (unannotated)"]), (other_kwargs, ["options"]), (params, []), (precise, []),
])
def test_the_check_finds_bare_any(fn: Callable[..., object], found: list[str]) -> None:
    assert any_in(fn) == found
