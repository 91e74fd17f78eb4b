"""Blank optional values (empty cells) are not sent: what reaches the provider is what was validated."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import akool_frames as af
from tests.client.conftest import make_frame


def test_empty_optional_cells_are_left_out_of_the_create(make_sandbox: Any, tmp_path: Path, frame_lib: str) -> None:
    sb = make_sandbox()
    client = af.Client(**sb.client_options(), ledger=tmp_path / "l.sqlite")
    df = make_frame(frame_lib, {"prompt": ["A red fox in snow", "A lighthouse at dusk"], "scale": ["", "16:9"]})
    out = df.akool.run("image_generate", prompt=af.col("prompt"), scale=af.col("scale"), client=client,
                       progress=False)
    client.close()
    assert list(out["akool_status"]) == ["completed", "completed"]
    sent = sorted((job.body for job in sb.state.jobs.values()), key=lambda b: b["prompt"])
    assert sent == [{"prompt": "A lighthouse at dusk", "scale": "16:9"}, {"prompt": "A red fox in snow"}]
