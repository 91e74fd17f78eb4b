"""The secrets drill's other half (tests/client/test_secrets.py covers reprs, logs, exceptions, the
ledger, frames and progress output): with canary keys, a run through the CLI, a CLI run refused for a wrong key,
an HTML report, sheets written as csv and xlsx, a webhook-mode run's receiver, and a notebook executed in a real
kernel and saved (outputs, widget states, a traceback) never carry a key. Target: 0 hits.

The pieces are those of ``python drills/secrets_canary.py`` (see drills/README.md), which also searches DEBUG logs,
progress output, reprs, a refused key's exception, the ledger file and ``af.ledger()``, on every provider.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from drills.secrets_canary import SEARCHED, _hits, notebook, outputs


def test_canary_keys_reach_no_output(tmp_path: Path) -> None:
    places, checks, secrets = outputs(tmp_path)
    assert [check for check, passed in checks.items() if not passed] == []  # the search finds things
    assert {place: _hits(text, secrets) for place, text in places.items() if _hits(text, secrets)} == {}


def test_canary_keys_reach_no_saved_notebook(tmp_path: Path) -> None:
    """A notebook run in a real kernel and saved as a user would (outputs, widget states, a traceback)."""
    pytest.importorskip("nbformat")
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    saved, searched, raised = notebook(tmp_path)
    assert "Canary four." in saved and raised  # the search finds things
    # The keys the cells were given appear in their sources; outputs and widget states must not carry them.
    assert _hits(searched, SEARCHED) == []  # the refused key too
