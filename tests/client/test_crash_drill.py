"""The crash drill, fast (the full one is ``python drills/crash.py``: 600 rows, 20 SIGKILLs): one run
killed at random points and resumed on the same ledger each time, then run to the end. Creates a killed run had
claimed but maybe not sent are looked up in the provider's list, proven absent (the list's end, or records made
before the claim) and only then sent: no duplicate, no row left ``unknown``."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "drills"))
from crash import drill


@pytest.mark.timeout(240)
@pytest.mark.parametrize("store", ["sqlite", "postgres"])
def test_killed_again_and_again_then_resumed_nothing_twice_nothing_left(store: str,
                                                                        request: pytest.FixtureRequest) -> None:
    """On an SQLite ledger, and on PostgreSQL (``drills/crash.py --ledger postgresql://...``)."""
    ledger = str(request.getfixturevalue("postgres")) if store == "postgres" else None
    result = drill(rows=250, kills=6, rng=random.Random(5), faults=False, ledger=ledger)
    assert result["duplicates"] == 0 and result["creates"] == 250
    assert result["keys_not_one_job"] == 0
    assert result["not_completed"] == 0 and result["final_rc"] == 0, result["left"]
