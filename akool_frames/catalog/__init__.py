"""The job catalog: every job of PRODUCT.md's table as declarative data, one module per product family."""

from __future__ import annotations

from . import audio, audiocleaner, detection, faceswap, image, image2video, kling, moderation, video, voice
from ._inputs import has_media_inputs, media_inputs, replace_inputs
from ._spec import (
    AKOOL_STATUS,
    I2V_MODELS,
    PLAN_TEXT_LIMITS,
    TERMINAL,
    Delete,
    Field,
    JobSpec,
    Poll,
    Reconcile,
    coerce_ints,
    get_path,
    get_path_either,
    undocumented,
    validate_body,
)

__all__ = [
    "AKOOL_STATUS", "I2V_MODELS", "JOBS", "PLAN_TEXT_LIMITS", "TERMINAL", "Delete", "Field", "JobSpec", "Poll",
    "Reconcile", "coerce_ints", "get_job", "get_path", "get_path_either", "has_media_inputs", "media_inputs",
    "replace_inputs", "undocumented", "validate_body",
]

JOBS: dict[str, JobSpec] = {
    spec.name: spec
    for module in (voice, audio, video, image, image2video, faceswap, detection, moderation, audiocleaner, kling)
    for spec in module.JOBS
}


def get_job(name: str | JobSpec) -> JobSpec:
    """The spec of a job by name; the error lists the names that exist."""
    if isinstance(name, JobSpec):
        return name
    try:
        return JOBS[name]
    except KeyError:
        import difflib

        close = difflib.get_close_matches(str(name), JOBS, n=3)
        hint = f"Did you mean {', '.join(map(repr, close))}? " if close else ""
        msg = f"There is no job {name!r}.\n\nHint: {hint}Jobs: {', '.join(sorted(JOBS))}."
        raise KeyError(msg) from None
