"""The ledger's own tests, each on both stores where the promise is the same: ``ledger_url`` is an SQLite file
under the test's folder, or a fresh database on the real PostgreSQL server (``postgres`` in tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from akool_frames.ledger import Ledger, PostgresLedger, is_database_url


@pytest.fixture(params=["sqlite", "postgres"])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "ledger.sqlite")
    return str(request.getfixturevalue("postgres"))


def open_ledger(url: str, **options: Any) -> Ledger | PostgresLedger:
    return PostgresLedger(url, **options) if is_database_url(url) else Ledger(url, **options)
