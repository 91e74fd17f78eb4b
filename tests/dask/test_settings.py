"""What the Dask graph carries of a client: its settings without credentials. A database ledger's URL loses its
password (the workers take theirs from PGPASSWORD or ~/.pgpass, and say so when they have none); a SQLite ledger is
one absolute path; the settings pickle, and hold no secret of the client's."""

from __future__ import annotations

import pickle
import types
from dataclasses import replace
from pathlib import Path

import pytest

import akool_frames as af
from akool_frames.frames._dask_tasks import client_for, is_database, ledger_location, settings_of


def test_a_database_url_travels_without_its_password() -> None:
    client = types.SimpleNamespace(ledger_url="postgresql://akool:s3cr%40t@db.internal:5432/akool?sslmode=require"
                                              "&password=an0ther", ledger_path=None)
    url, had = ledger_location(client)
    assert (url, had) == ("postgresql://akool@db.internal:5432/akool?sslmode=require", True)
    bare = types.SimpleNamespace(ledger_url="postgres://akool@db:5432/akool", ledger_path=None)
    assert ledger_location(bare) == ("postgres://akool@db:5432/akool", False)
    assert is_database(url) and is_database("postgresql+psycopg://h/db") and not is_database("/tmp/l.sqlite")


def test_a_sqlite_ledger_travels_as_an_absolute_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    client = af.Client(api_key="sk-not-a-real-key-0123456789", client_secret="not-a-real-secret",
                       ledger="ledgers/l.sqlite", base_url="http://127.0.0.1:9")
    settings = settings_of(client)
    assert settings.sqlite and settings.ledger == str(tmp_path / "ledgers" / "l.sqlite")
    blob = pickle.dumps(settings)
    assert b"sk-not-a-real-key" not in blob and b"not-a-real-secret" not in blob
    assert settings.options["base_url"] == "http://127.0.0.1:9" and settings.withheld == ()
    assert client_for(settings, sends=True) is client  # (in its own process: the client itself)


def test_a_worker_without_a_database_password_says_where_it_goes(monkeypatch: pytest.MonkeyPatch,
                                                                 tmp_path: Path) -> None:
    for name in ("PGPASSWORD", "PGPASSFILE", "PGSERVICE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # (no ~/.pgpass)
    settings = settings_of(af.Client(api_key="sk-x", ledger=tmp_path / "l.sqlite"))
    elsewhere = replace(settings, origin=("another-host", 1), ledger="postgresql://akool@db:5432/akool",
                        ledger_password=True)
    with pytest.raises(af.ConfigError, match="set PGPASSWORD"):
        client_for(elsewhere, sends=True)


def test_the_gate_setting_travels_too(tmp_path: Path) -> None:
    """A worker's client shares the gate as the caller's does: off, following the ledger, or the place named (a
    database URL without its password)."""
    keys = {"api_key": "sk-not-a-real-key-0123456789", "ledger": tmp_path / "l.sqlite"}
    assert settings_of(af.Client(**keys, shared_gate=False)).options["shared_gate"] is False
    assert settings_of(af.Client(**keys)).options["shared_gate"] is True
    named = settings_of(af.Client(**keys, shared_gate="postgresql://akool:pw@db.internal/akool"))
    assert named.options["shared_gate"] == "postgresql://akool@db.internal/akool"
    assert "pw" not in pickle.dumps(named).decode("latin-1")
