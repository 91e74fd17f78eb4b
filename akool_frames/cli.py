"""``akool-frames demo | sandbox``: the demo on the built-in sandbox, and the sandbox on its own."""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = ["main"]


def _load_scripts(limit: int | None) -> Any:
    import pandas as pd

    with resources.files("akool_frames").joinpath("sample_data/scripts.csv").open(encoding="utf-8") as fh:
        frame = pd.read_csv(fh, dtype="string")
    return frame.head(limit) if limit else frame


def _summary(label: str, frame: Any, prefix: str) -> str:
    counts = Counter(frame[prefix + "status"].astype(object).fillna("none"))
    charged = frame[prefix + "credits"]
    charged_text = f"{charged.sum(skipna=True):.4g}" if charged.notna().any() else "not reported by the API"
    est = frame[prefix + "credits_est"]
    est_text = f"{est.sum(skipna=True):.4g}" if est.notna().all() else "no documented price"
    statuses = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    return f"  {label:<14} {statuses:<16} credits charged: {charged_text} (estimate: {est_text})"


def demo(out: str, limit: int | None, time_scale: float) -> int:
    """Scripts in several languages -> speech (tts) -> talking photos, on a local sandbox."""
    import akool_frames as af

    started = time.monotonic()
    scripts = _load_scripts(limit)
    print(f"akool-frames demo: {len(scripts)} scripts in {scripts['language'].nunique()} languages "
          "-> speech -> talking photos, on the built-in sandbox (no account, no credits spent)")
    with af.sandbox(time_scale=time_scale) as sb:
        client = af.Client(**sb.client_options(), ledger=Path(out).parent / "demo_ledger.sqlite")
        voices = af.voices(client=client)
        by_language = dict(zip(voices["locale"], voices["_id"], strict=False))
        scripts["voice_id"] = scripts["language"].map(by_language)
        speech = scripts.akool.run("tts", input_text=af.col("script"), voice_id=af.col("voice_id"),
                                   language_code=af.col("language"), client=client, prefix="tts_", progress=False)
        videos = speech.akool.run("talking_photo", talking_photo_url=af.col("portrait_url"),
                                  audio_url=af.col("tts_url"), resolution="720", client=client, prefix="video_",
                                  progress=False)
        stats = sb.stats()
        client.close()
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    videos.to_csv(out, index=False)
    print(_summary("tts", videos, "tts_"))
    print(_summary("talking_photo", videos, "video_"))
    print(f"  the sandbox received {stats['requests']} requests: {stats['creates']} creates "
          f"({stats['duplicate_creates']} duplicates), {stats['polls']} polls; charged {stats['credits_charged']:.4g} credits")
    print(f"  results: {out}  ({time.monotonic() - started:.1f} s)")
    failed = videos["video_status"].isin(["failed", "unknown", "invalid", "rejected"]).sum()
    return 1 if failed else 0


def serve(host: str, port: int, options: dict[str, Any]) -> int:
    from .sandbox import Sandbox
    from .sandbox._server import serve_forever

    box = Sandbox(host=host, port=port, **options)

    def announce(url: str) -> None:
        box.url = url
        print(f"akool-frames sandbox listening on {url}  (Ctrl-C stops it)")
        print("Point a client at it with these environment variables (sandbox-only keys):")
        for name, value in box.env().items():
            print(f"  export {name}={value}")
        print(f"Inspect it: GET {url}/_sandbox/stats, {url}/_sandbox/log")
        sys.stdout.flush()

    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: binding {host} exposes the sandbox beyond this machine", file=sys.stderr)
    try:
        serve_forever(box.app, host, port, on_start=announce)
    except KeyboardInterrupt:
        pass
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="akool-frames", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p_demo = sub.add_parser("demo", help="run tts then talking_photo over the sample scripts on a local sandbox")
    p_demo.add_argument("--out", default="results/demo_results.csv", help="where to write the result table")
    p_demo.add_argument("--rows", type=int, default=None, help="only the first N scripts")
    p_demo.add_argument("--time-scale", type=float, default=20.0, help="sandbox seconds per real second")
    p_box = sub.add_parser("sandbox", help="run the sandbox in the foreground")
    p_box.add_argument("--host", default="127.0.0.1", help="bind address (loopback unless you mean it)")
    p_box.add_argument("--port", type=int, default=8765)
    p_box.add_argument("--time-scale", type=float, default=20.0)
    p_box.add_argument("--rate-limit", type=float, default=None, help="requests per second per account")
    p_box.add_argument("--concurrency-limit", type=int, default=None, help="in-flight requests per account")
    p_box.add_argument("--credits", type=float, default=1_000_000.0)
    p_box.add_argument("--plan", default="pro", choices=["pro", "max", "business"])
    p_box.add_argument("--api-key", default=None, help="accept this key (16, 24 or 32 characters)")
    args = parser.parse_args(argv)
    if args.command == "demo":
        return demo(args.out, args.rows, args.time_scale)
    options = {"time_scale": args.time_scale, "rate_limit": args.rate_limit, "credits": args.credits,
               "concurrency_limit": args.concurrency_limit, "plan": args.plan}
    if args.api_key:
        options["api_key"] = args.api_key
    return serve(args.host, args.port, options)


if __name__ == "__main__":
    raise SystemExit(main())
