"""The Dask verbs teach as the pandas ones do: each option a named, typed parameter, documented (Args, Example), with
the pandas verb's name, kind and default wherever the two share an option; the pandas options a lazy frame cannot
honour (``progress``, ``confirm``) are not there, and ``budget`` is there to say why it is refused."""

from __future__ import annotations

import inspect

import pytest

pytest.importorskip("dask.dataframe")

from akool_frames.frames._accessor import FrameAccessor
from akool_frames.frames._dask import AkoolDaskFrame

VERBS = ["estimate", "submit", "run", "refresh", "download"]


@pytest.mark.parametrize("verb", VERBS)
def test_each_verb_has_the_pandas_options_it_can_honour(verb: str) -> None:
    mine = inspect.signature(getattr(AkoolDaskFrame, verb)).parameters
    theirs = inspect.signature(getattr(FrameAccessor, verb)).parameters
    assert set(mine) == set(theirs) - {"progress", "confirm"}
    for name, p in mine.items():
        q = theirs[name]
        assert (p.kind, p.default) == (q.kind, q.default), name
        assert name == "self" or p.annotation is not inspect.Parameter.empty


@pytest.mark.parametrize("verb", VERBS)
def test_each_verb_documents_every_option_with_an_example(verb: str) -> None:
    doc = inspect.getdoc(getattr(AkoolDaskFrame, verb)) or ""
    assert "Args:" in doc and "Example:" in doc and ">>> " in doc
    for p in inspect.signature(getattr(AkoolDaskFrame, verb)).parameters.values():
        if p.name != "self":
            assert f"    {'**' if p.kind is p.VAR_KEYWORD else ''}{p.name}: " in doc, (verb, p.name)
