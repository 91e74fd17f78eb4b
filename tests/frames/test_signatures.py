"""Signatures that teach: every accessor method declares its options as named, typed parameters with
a Google-style docstring (Args, Example), the same as its module function's, and help() shows them."""

from __future__ import annotations

import inspect
import pydoc

import pandas as pd
import polars as pl
import pytest

import akool_frames as af
from akool_frames.frames import _delete
from akool_frames.frames import _verbs as _frames
from akool_frames.frames._accessor import ARGS, FrameAccessor

VERBS = ["estimate", "submit", "run", "refresh", "download", "delete"]


def _module_function(verb: str) -> object:
    if verb.removeprefix("a") == "delete":
        return _delete.adelete
    return getattr(_frames, verb)


@pytest.mark.parametrize("verb", VERBS + [f"a{v}" for v in VERBS])
def test_each_method_has_its_functions_options_by_name(verb: str) -> None:
    method = inspect.signature(getattr(FrameAccessor, verb))
    function = inspect.signature(_module_function(verb))
    mine = [p for p in method.parameters.values() if p.name != "self"]
    theirs = [p for p in function.parameters.values() if p.name != "frame"]
    assert [(p.name, p.kind, p.default, str(p.annotation)) for p in mine] == \
           [(p.name, p.kind, p.default, str(p.annotation)) for p in theirs]
    options = [p.name for p in mine if p.kind is inspect.Parameter.KEYWORD_ONLY]
    assert "client" in options and "prefix" in options
    assert all(p.annotation is not inspect.Parameter.empty for p in mine)


@pytest.mark.parametrize("verb", VERBS + [f"a{v}" for v in VERBS])
def test_each_method_documents_every_option_with_an_example(verb: str) -> None:
    doc = inspect.getdoc(getattr(FrameAccessor, verb)) or ""
    assert "Args:" in doc and "Example:" in doc and ">>> " in doc
    for p in inspect.signature(getattr(FrameAccessor, verb)).parameters.values():
        if p.name != "self":
            assert f"    {'**' if p.kind is p.VAR_KEYWORD else ''}{p.name}: " in doc, (verb, p.name)


def test_help_shows_the_options_on_both_libraries() -> None:
    for frame in (pd.DataFrame({"a": [1]}), pl.DataFrame({"a": [1]})):
        text = pydoc.render_doc(frame.akool.run, renderer=pydoc.plaintext)
        for option in ("client", "budget", "progress", "timeout", "force", "follow", "**params"):
            assert option in text
        assert ARGS["budget"][:40] in " ".join(text.split())


def test_download_takes_progress(sb: af.Sandbox, tmp_path) -> None:
    with af.Client(**sb.client_options(), ledger=tmp_path / "l.sqlite") as client:
        done = pd.DataFrame({"text": ["One."]}).akool.run("tts", client=client, progress=False, text=af.col("text"),
                                                          voice_id="6889b628662160e2caad5dbc")
        files = done.akool.download(tmp_path / "out", client=client, progress=False)
    assert files["akool_file"].notna().all()
