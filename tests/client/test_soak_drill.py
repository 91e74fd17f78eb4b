"""The soak drill, fast (the full one is ``python drills/soak.py``: 100,000 rows): a run through 5xx,
resets before and after the create was handled, failed jobs and a real rate limit, killed halfway and resumed.
Nothing lost, nothing created twice, in flight never above max_concurrency."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "drills"))
from soak import soak


@pytest.mark.timeout(240)
def test_a_long_faulty_run_killed_and_resumed_loses_nothing() -> None:
    result = soak(rows=1500, rate=400.0, rng=random.Random(3))
    assert result["rc"] == 0, result["log"]
    assert result["lost"] == 0 and result["duplicates"] == 0 and result["creates"] == 1500
    assert result["max_in_flight"] <= 8
    faults = result["faults"]
    assert faults.get("reset_after", 0) > 0 and faults.get("error_5xx", 0) > 0 and faults.get("job_fail", 0) > 0
