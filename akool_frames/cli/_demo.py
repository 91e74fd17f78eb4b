"""``akool-frames demo``: sample scripts in several languages -> speech (tts) -> talking photos, on a sandbox of its
own. It says what each job cost, from the credits the API reports or, where it reports none (talking photo), from
the account balance before and after that job; and it downloads the results next to its csv, because the
sandbox that served them is gone when the demo ends."""

from __future__ import annotations

import os
import time
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import Any

from ._commands import NOT_DONE, OK

__all__ = ["demo"]

# The demo's jobs: (job, column prefix, parameters, the file extension of its results)
STEPS: tuple[tuple[str, str, dict[str, str], dict[str, str]], ...] = (
    ("tts", "tts_", {"input_text": "script", "voice_id": "voice_id", "language_code": "language"}, {}),
    ("talking_photo", "video_", {"talking_photo_url": "portrait_url", "audio_url": "tts_url"}, {"resolution": "720"}),
)
NAME = "{line_id}_{language}"  # result files: L001_en.mp3, L001_en.mp4


def _load_scripts(limit: int | None) -> Any:
    import pandas as pd

    with resources.files("akool_frames").joinpath("sample_data/scripts.csv").open(encoding="utf-8") as fh:
        frame = pd.read_csv(fh, dtype="string")
    return frame.head(limit) if limit else frame


def _balance(client: Any) -> float:
    import akool_frames as af

    return float(af.credits(client=client)["credit"].iloc[0])


def _charged(frame: Any, prefix: str, before: float, after: float) -> tuple[float, str]:
    """What a job cost: the credits its answers report, else the balance it took (said so)."""
    charged = frame[prefix + "credits"]
    if charged.notna().any():
        return float(charged.sum(skipna=True)), "as the API reported"
    return round(before - after, 6), "from the balance before and after"


def _line(job: str, frame: Any, prefix: str, credits: float, how: str) -> str:
    counts = Counter(frame[prefix + "status"].astype(object).fillna("none"))
    statuses = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    est = frame[prefix + "credits_est"]
    est_text = f"{round(est.sum(skipna=True), 4):g}" if est.notna().all() else "no documented price"
    return f"  {job:<14} {statuses:<14} {round(credits, 4):g} credits, {how} (estimate: {est_text})"


def _download(frame: Any, prefix: str, client: Any, files: Path, csv_folder: Path) -> Any:
    """The results as files under ``files``; ``{prefix}file`` says where, relative to the csv's folder."""
    got = frame.akool.download(files, client=client, prefix=prefix, name=NAME, progress=False)
    column = got[prefix + "file"]
    got[prefix + "file"] = column.map(lambda f: os.path.relpath(f, csv_folder) if isinstance(f, str) else f)
    return got


def demo(args: Any) -> int:
    """Scripts in several languages -> speech (tts) -> talking photos, on a local sandbox."""
    import akool_frames as af

    out, started = Path(args.out), time.monotonic()
    scripts = _load_scripts(args.rows)
    print(f"akool-frames demo: {len(scripts)} scripts in {scripts['language'].nunique()} languages "
          "-> speech -> talking photos, on the built-in sandbox (no account, no credits spent)")
    out.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    with af.sandbox(time_scale=args.time_scale) as sb:
        client = af.Client(**sb.client_options(), ledger=out.parent / "demo_ledger.sqlite")
        try:
            voices = af.voices(client=client)  # a voice of each script's language
            frame = scripts.assign(voice_id=scripts["language"].map(dict(zip(voices["locale"], voices["_id"],
                                                                             strict=False))))
            for job, prefix, columns, constants in STEPS:
                before = _balance(client)
                frame = frame.akool.run(job, **{f: af.col(c) for f, c in columns.items()}, **constants,
                                        client=client, prefix=prefix, progress=False)
                credits, how = _charged(frame, prefix, before, _balance(client))
                lines.append(_line(job, frame, prefix, credits, how))
            for _, prefix, _, _ in STEPS:  # before the sandbox, and its links, are gone
                frame = _download(frame, prefix, client, out.parent / "files", out.parent)
            stats = sb.stats()
        finally:
            client.close()
    frame.to_csv(out, index=False)
    print("\n".join(lines))
    print(f"  the sandbox received {stats['requests']} requests: {stats['creates']} creates "
          f"({stats['duplicate_creates']} duplicates), {stats['polls']} polls; it charged "
          f"{round(stats['credits_charged'], 4):g} credits in all")
    kept = sum(frame[prefix + "file"].notna().sum() for _, prefix, _, _ in STEPS)
    print(f"  results: {out}  ({time.monotonic() - started:.1f} s)")
    print(f"  files:   {out.parent / 'files'} ({kept}; its {' and '.join(p + 'file' for _, p, _, _ in STEPS)} "
          "columns name them)")
    failed = frame["video_status"].isin(["failed", "unknown", "invalid", "rejected"]).sum()
    return NOT_DONE if failed else OK
