"""Reports and forecasts in a real browser: headless Chromium at 1280x900 shows the totals first.

Each page is rendered twice by Chromium: a screenshot of the page itself at 1280x900, kept as a CI artifact
under ``test-artifacts/report-browser/``, and a small wrapper page of the test's own that loads the report
in a 1280x900 iframe and, with a script of its own (the report has none), writes what the browser laid out
into its DOM: the report's ``scrollWidth`` (wider than 1280 means a horizontal scrollbar) and the boxes of
the headline and of the total credits and USD, read back with ``--dump-dom``. Nothing is injected into the
product's page. The wrapper can fail: a page made too wide on purpose is measured as too wide.

No browser: skipped with the reason, except under ``CI=true``, where the browser is part of the job
(``.ci/run`` installs Debian's chromium) and its absence fails.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import struct
import subprocess
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import akool_frames as af

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts" / "report-browser"
WIDTH, HEIGHT = 1280, 900
VOICE = "6889b628662160e2caad5dbc"

WRAPPER = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><style>html,body{margin:0}iframe{border:0;display:block}</style></head>
<body><pre id="measured">not measured</pre>
<iframe id="report" src="%(src)s" width="%(width)d" height="%(height)d"></iframe>
<script>
function box(el) {
  var r = el.getBoundingClientRect();
  return {left: r.left, right: r.right, top: r.top, bottom: r.bottom, text: el.textContent.trim()};
}
document.getElementById("report").addEventListener("load", function () {
  var out = {};
  try {
    var doc = this.contentDocument, root = doc.documentElement;
    out.scrollWidth = root.scrollWidth;
    out.clientWidth = root.clientWidth;
    var headline = doc.querySelector('[data-testid="af-headline"]');
    out.headline = headline ? box(headline) : null;
    out.credits = Array.prototype.map.call(doc.querySelectorAll('[data-testid="af-total-credits"]'), box);
    out.usd = Array.prototype.map.call(doc.querySelectorAll('[data-testid="af-total-usd"]'), box);
    out.details = doc.querySelectorAll("details").length;
    Array.prototype.forEach.call(doc.querySelectorAll("details"), function (d) { d.open = true; });
    out.scrollWidthOpen = root.scrollWidth;  // the folded inputs opened: still no sideways scrolling
  } catch (e) {
    out.error = String(e);
  }
  document.getElementById("measured").textContent = JSON.stringify(out);
});
</script></body></html>
"""


# ------------------------------------------------------------------------------------ browser
def _browser() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if found:
        return found
    reason = "no chromium, chromium-browser or google-chrome on PATH (Debian: apt-get install -y chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true needs a browser for this test: {reason}")
    pytest.skip(reason)


def _chromium(browser: str, profile: Path, url: str, *args: str) -> str:
    """One headless Chromium run at 1280x900; its standard output. Local files only: nothing leaves the host."""
    command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--disable-extensions", "--allow-file-access-from-files", f"--user-data-dir={profile}",
               f"--window-size={WIDTH},{HEIGHT}", *args, url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, f"{browser} failed ({done.returncode}):\n{done.stderr[-2000:]}"
    return done.stdout


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


def render(page: Path, name: str, tmp_path: Path) -> dict[str, Any]:
    """Screenshot ``page`` as ``name``.png (kept under ARTIFACTS) and measure it through the wrapper."""
    browser = _browser()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / f"{name}.png"
    shot.unlink(missing_ok=True)
    _chromium(browser, tmp_path / f"profile-{name}-shot", page.as_uri(), f"--screenshot={shot}")
    assert shot.exists(), f"no screenshot written for {name}"
    assert _png_size(shot) == (WIDTH, HEIGHT)
    wrapper = page.with_name(f"measure-{name}.html")
    wrapper.write_text(WRAPPER % {"src": html.escape(page.name), "width": WIDTH, "height": HEIGHT}, encoding="utf-8")
    dom = _chromium(browser, tmp_path / f"profile-{name}-dom", wrapper.as_uri(), "--virtual-time-budget=20000",
                    "--dump-dom")
    found = re.search(r'<pre id="measured">(.*?)</pre>', dom, re.DOTALL)
    assert found, f"the wrapper page did not come back from --dump-dom:\n{dom[:500]}"
    measured = json.loads(html.unescape(found.group(1)))
    assert "error" not in measured, measured
    (ARTIFACTS / f"{name}.json").write_text(json.dumps(measured, indent=2), encoding="utf-8")
    return measured


def check_fits(measured: dict[str, Any]) -> None:
    """No sideways scrolling; the headline and every total credits/USD figure inside the first 1280x900."""
    assert measured["scrollWidth"] <= WIDTH, f"page is {measured['scrollWidth']} px wide: it scrolls sideways"
    assert measured["scrollWidthOpen"] <= WIDTH, f"with the inputs unfolded: {measured['scrollWidthOpen']} px"
    headline = measured["headline"]
    assert headline is not None, "no headline (data-testid=af-headline)"
    assert headline["right"] <= WIDTH and 0 <= headline["top"] < HEIGHT, headline
    assert measured["credits"] and measured["usd"]
    for figure in measured["credits"] + measured["usd"]:
        assert 0 <= figure["left"] and figure["right"] <= WIDTH, figure
        assert 0 <= figure["top"] and figure["bottom"] <= HEIGHT, figure


def _figures(measured: dict[str, Any], key: str) -> list[str]:
    return [f["text"] for f in measured[key]]


# -------------------------------------------------------------------------------------- pages
def forecast_page(tmp_path: Path) -> tuple[af.Report, Path]:
    campaign = af.read_sheet(ROOT / "sample_data" / "campaign.csv")
    at_720p = campaign.assign(resolution=campaign["resolution"].replace({"1080p": "720p"}))
    fc = af.forecast({"as planned": campaign, "720p only": at_720p}, usd_per_credit=0.04)
    return fc, fc.to_html(tmp_path / "forecast.html")


def report_page(tmp_path: Path) -> tuple[af.Report, Path]:
    """estimate() over the sandbox: talking photos (no documented price) and tts lines (priced)."""
    with af.Sandbox() as sb:
        client = af.Client(**sb.client_options(), ledger=tmp_path / "ledger.sqlite")
        try:
            photos = pd.DataFrame({"audio": [f"https://cdn.example.com/a{i}.mp3" for i in range(30)],
                                   "seconds": [30.0] * 30, "language": ["en", "fr", "de"] * 10})
            est_photos = photos.akool.estimate("talking_photo", talking_photo_url="https://cdn.example.com/p.png",
                                               audio_url=af.col("audio"), duration=af.col("seconds"), client=client)
            lines = pd.DataFrame({"text": ["hello world " * k for k in range(1, 9)], "language": ["en", "fr"] * 4})
            est_tts = lines.akool.estimate("tts", input_text=af.col("text"), voice_id=VOICE, client=client)
        finally:
            client.close()
    rep = af.report(pd.concat([est_photos, est_tts], ignore_index=True), by=["job", "language"])
    assert rep.unpriced_rows == 30 and rep.total_est is not None
    return rep, rep.to_html(tmp_path / "report.html")


# -------------------------------------------------------------------------------------- tests
def test_forecast_totals_visible_at_1280(tmp_path: Path) -> None:
    _browser()
    fc, page = forecast_page(tmp_path)
    measured = render(page, "forecast", tmp_path)
    check_fits(measured)
    totals = fc.scenario_totals
    assert _figures(measured, "credits") == [f"{totals[s]['credits_est']:,.0f}" for s in ("as planned", "720p only")]
    assert _figures(measured, "usd") == [f"{totals[s]['usd_est']:,.2f}" for s in ("as planned", "720p only")]
    assert measured["details"] == 1  # the campaign's inputs, folded


def test_report_totals_visible_at_1280(tmp_path: Path) -> None:
    _browser()  # before the sandbox is started
    rep, page = report_page(tmp_path)
    measured = render(page, "report", tmp_path)
    check_fits(measured)
    credits = f"{rep.total_est:,.4f}".rstrip("0").rstrip(".")
    assert _figures(measured, "credits") == [credits]
    assert _figures(measured, "usd") == [f"{rep.total_est * rep.usd_per_credit:,.2f}"]


def test_the_measure_sees_a_page_too_wide(tmp_path: Path) -> None:
    """The same measure on the forecast page with one wide nowrap column added: it must say so."""
    _browser()
    _, page = forecast_page(tmp_path)
    wide = "<table><tr><td style=\"white-space:nowrap\">" + "no wrap here " * 300 + "</td></tr></table>"
    page.write_text(page.read_text(encoding="utf-8").replace("</h2>", "</h2>" + wide, 1), encoding="utf-8")
    measured = render(page, "too-wide", tmp_path)
    assert measured["scrollWidth"] > WIDTH
    with pytest.raises(AssertionError, match="scrolls sideways"):
        check_fits(measured)
