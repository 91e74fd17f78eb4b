"""A PostgreSQL ledger's password never shows: not in the client's or the ledger's repr, ``ledger_path``, the
CLI's status, ``af.ledger()``, the logs of a run at DEBUG (akool_frames', psycopg's, the pool's), nor in the
errors of a server that refuses (a wrong port, a database or user that does not exist), which are ConfigErrors
naming the URL with ``***`` and what to fix. Without psycopg, the ledger says which extra to install. A ledger
written by a newer schema is refused rather than misread."""

from __future__ import annotations

import logging
import os
import pickle
import subprocess
import sys
import traceback
import urllib.parse
from pathlib import Path

import pandas as pd
import pytest

import akool_frames as af
from akool_frames.ledger import DatabaseAddress, PostgresLedger
from tests.client.conftest import VOICE

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Canary-pw/7f3b@9:x"  # ("/", "@" and ":" are written %-encoded in a URL)
ENCODED = urllib.parse.quote(PASSWORD, safe="")


def _forms() -> list[str]:
    return [PASSWORD, ENCODED, urllib.parse.quote_plus(PASSWORD), "Canary-pw"]


def _with_password(postgres: str, user: str = "akool_pw") -> str:
    """The fixture's database, reached as a user with a password (the server trusts loopback: any password
    passes, which is all this needs: the password is given, and must never show)."""
    import psycopg

    database = postgres.rsplit("/", 1)[1]
    with psycopg.connect(postgres, autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (user,)).fetchone():
            admin.execute(f"CREATE ROLE {user} LOGIN PASSWORD '{PASSWORD}'")
        admin.execute(f'GRANT ALL ON DATABASE "{database}" TO {user}')
    host = postgres.split("@", 1)[1].rsplit("/", 1)[0]
    return f"postgresql://{user}:{ENCODED}@{host}/{database}"


def _clean(text: str, where: str) -> None:
    found = [form for form in _forms() if form in text]
    assert not found, f"the password shows in {where}: {text[:2000]}"


def test_the_password_never_shows(sb: af.Sandbox, postgres: str, caplog: pytest.LogCaptureFixture,
                                  tmp_path: Path) -> None:
    url = _with_password(postgres)
    caplog.set_level(logging.DEBUG)  # every logger: akool_frames', psycopg's, psycopg.pool's
    client = af.Client(**sb.client_options(), ledger=url)
    assert client.ledger_path == url.replace(ENCODED, "***") and "***" in repr(client)
    out = pd.DataFrame({"text": ["Hello.", "Again."]}).akool.run("tts", input_text=af.col("text"), voice_id=VOICE,
                                                                 client=client, progress=False)
    assert out["akool_status"].tolist() == ["completed"] * 2
    ledger = client.ledger
    [(user,)] = ledger._query("SELECT current_user")
    assert user == "akool_pw"  # the password was given to the server, and the ledger works as that user
    texts = {"repr(client)": repr(client), "ledger_path": str(client.ledger_path), "repr(ledger)": repr(ledger),
             "ledger.path": str(ledger.path), "address": f"{client.ledger_address} {client.ledger_address!r}",
             "af.ledger()": af.ledger(client=client).to_csv(), "result": out.to_csv(),
             "logs": "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records)}
    client.close()
    with pytest.raises(TypeError):
        pickle.dumps(client.ledger_address)  # (it goes nowhere it is not given)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AKOOL_")}
    status = subprocess.run([sys.executable, "-m", "akool_frames.cli", "status"], capture_output=True, text=True,
                            env={**env, "AKOOL_FRAMES_LEDGER": url, "PYTHONPATH": str(ROOT)}, cwd=tmp_path, timeout=60)
    texts["cli status"] = status.stdout + status.stderr
    assert "***" in status.stdout and "tts" in status.stdout, texts["cli status"]
    for where, text in texts.items():
        _clean(text, where)
    assert any(r.name.startswith("akool_frames") for r in caplog.records)  # (the logs were listened to)


def _refusal(url: str) -> str:
    with pytest.raises(af.ConfigError) as caught:
        af.Client(ledger=url).ledger  # (opening it is the point)
    text = "".join(traceback.format_exception(caught.value))
    _clean(text, "the error")
    return str(caught.value)


def test_a_server_that_refuses_is_a_config_error_naming_the_url_and_the_fix(postgres: str) -> None:
    url = _with_password(postgres)
    host = url.split("@", 1)[1].split(":")[0]
    message = _refusal(f"postgresql://akool_pw:{ENCODED}@{host}:1/x")  # nothing listens on port 1
    assert f"postgresql://akool_pw:***@{host}:1/x" in message and "Hint: check that the server runs" in message
    message = _refusal(url.rsplit("/", 1)[0] + "/no_such_db")
    assert "no_such_db" in message and "createdb no_such_db" in message
    message = _refusal(url.replace("akool_pw:", "nobody_here:"))
    assert "nobody_here" in message and "check the user and password" in message


def test_without_psycopg_the_ledger_says_which_extra_to_install(postgres: str,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # (as when it is not installed)
    with pytest.raises(af.ConfigError, match=r"pip install 'akool-frames\[postgres\]'"):
        af.Client(ledger=postgres).ledger


def test_a_ledger_written_by_a_newer_schema_is_refused(postgres: str) -> None:
    PostgresLedger(postgres).close()  # made at this version
    import psycopg

    with psycopg.connect(postgres, autocommit=True) as db:
        db.execute("UPDATE akool_frames.meta SET value = '99' WHERE name = 'schema_version'")
    with pytest.raises(af.LedgerError, match="newer akool_frames"):
        PostgresLedger(postgres)


def test_the_url_is_taken_apart_without_losing_or_showing_its_password() -> None:
    address = DatabaseAddress(f"postgresql://me:{ENCODED}@db.internal:5432/akool?sslmode=require")
    assert address.shown == "postgresql://me:***@db.internal:5432/akool?sslmode=require"
    assert address.conninfo == "postgresql://me@db.internal:5432/akool?sslmode=require"
    assert address.password() == PASSWORD and address.database == "akool"
    assert DatabaseAddress(address.url()) == address
    unencoded = DatabaseAddress("postgres://me:pa/ss@host/db")  # (a password written without %-encoding)
    assert unencoded.shown == "postgres://me:***@host/db" and unencoded.password() == "pa/ss"
    in_query = DatabaseAddress("postgresql:///akool?host=/tmp&password=s3cret")
    assert "s3cret" not in in_query.shown + in_query.conninfo and in_query.password() == "s3cret"
    assert DatabaseAddress("postgresql://host/db").password() is None
    assert address.clean(f"failed for {PASSWORD} and {ENCODED}") == "failed for *** and ***"
