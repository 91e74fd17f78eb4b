"""Campaign budgets held in the ledger (SQLite and PostgreSQL): every run that names a campaign, in any process
sharing the ledger, spends from one budget; each create first reserves its row's estimate; rows that do not fit end
skipped, saying why."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import akool_frames as af

ROOT = Path(__file__).resolve().parents[2]
VOICE = "6889b628662160e2caad5dbc"


def _lines(n: int, start: int = 0) -> pd.DataFrame:
    # 1,000 characters a line: 4.4 credits each on the pro plan
    return pd.DataFrame({"script": [f"{i:04d} " + "x" * 995 for i in range(start, start + n)]})


def _run(frame: pd.DataFrame, client: af.Client, **options: Any) -> pd.DataFrame:
    return frame.akool.run("tts", input_text=af.col("script"), voice_id=VOICE, client=client, progress=False,
                           **options)


def test_rows_that_do_not_fit_the_campaign_are_skipped_and_a_rerun_spends_nothing_more(sb, ledger_url):
    client = af.Client(**sb.client_options(), ledger=ledger_url, max_concurrency=1)
    frame = _lines(6)
    estimate = float(frame.akool.estimate("tts", input_text=af.col("script"), voice_id=VOICE,
                                          client=client)["akool_credits_est"].iloc[0])
    out = _run(frame, client, budget=estimate * 4 + 1, campaign="spring")
    statuses = out["akool_status"].tolist()
    assert statuses == ["completed"] * 4 + ["skipped"] * 2, out["akool_error"].tolist()
    assert "not sent: campaign 'spring' has" in out["akool_error"].iloc[4]
    assert f"this row needs {estimate:g}" in out["akool_error"].iloc[4]
    assert sb.stats()["creates"] == 4
    table = af.campaigns(client=client).set_index("campaign")
    assert table.loc["spring", "budget"] == pytest.approx(estimate * 4 + 1)
    assert table.loc["spring", "charged"] == pytest.approx(sb.stats()["credits_charged"])
    assert table.loc["spring", "reserved"] == 0 and table.loc["spring", "rows"] == 4
    # A later run names the campaign only: the same budget; the rows done are followed, the others still do not fit
    again = _run(frame, client, campaign="spring")
    assert again["akool_status"].tolist() == statuses and sb.stats()["creates"] == 4
    # Raising the budget lets the rest through
    more = _run(frame, client, budget=estimate * 6 + 1, campaign="spring")
    assert more["akool_status"].tolist() == ["completed"] * 6 and sb.stats()["creates"] == 6


def test_a_campaign_without_a_budget_is_refused_before_anything_is_sent(sb, ledger_url):
    client = af.Client(**sb.client_options(), ledger=ledger_url)
    with pytest.raises(af.ConfigError, match="(?s)There is no campaign 'autumn'.*budget="):
        _run(_lines(2), client, campaign="autumn")
    assert sb.stats()["creates"] == 0


WORKER = """
import json, sys
import pandas as pd
import akool_frames as af
options, ledger, start, out = json.loads(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
client = af.Client(**options, ledger=ledger, max_concurrency=4)
frame = pd.DataFrame({"script": [f"{i:04d} " + "x" * 995 for i in range(start, start + 40)]})
done = frame.akool.run("tts", input_text=af.col("script"), voice_id=sys.argv[6], client=client, progress=False,
                       budget=float(sys.argv[5]), campaign="shared")
done.to_csv(out, index=False)
"""


def test_two_processes_share_one_budget(make_sandbox, tmp_path, ledger_url):
    sb = make_sandbox()
    ledger = ledger_url
    per_row = 4.4
    budget = per_row * 50 + 1  # 80 rows asked for between the two processes, 50 fit
    env = {k: v for k, v in os.environ.items() if not k.startswith("AKOOL_")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, json.dumps(sb.client_options()), str(ledger),
                                 str(start), str(tmp_path / f"out{start}.csv"), str(budget), VOICE], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
               for start in (0, 1000)]
    for worker in workers:
        output, _ = worker.communicate(timeout=120)
        assert worker.returncode == 0, output
    outs = pd.concat([pd.read_csv(tmp_path / f"out{start}.csv") for start in (0, 1000)])
    statuses = outs["akool_status"].value_counts().to_dict()
    assert statuses == {"completed": 50, "skipped": 30}, statuses
    assert outs.loc[outs["akool_status"] == "skipped", "akool_error"].str.contains("campaign 'shared' has").all()
    stats = sb.stats()
    assert stats["creates"] == 50 and stats["credits_charged"] <= budget
    table = af.campaigns(client=af.Client(**sb.client_options(), ledger=ledger)).set_index("campaign")
    assert table.loc["shared", "charged"] + table.loc["shared", "reserved"] <= budget
    assert table.loc["shared", "charged"] == pytest.approx(stats["credits_charged"])
