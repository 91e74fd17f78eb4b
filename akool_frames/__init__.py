"""akool_frames: DataFrame rows in, paid AI media jobs out."""

from __future__ import annotations

from .sandbox import Faults, Sandbox, SandboxConfig, sandbox

__all__ = ["Faults", "Sandbox", "SandboxConfig", "sandbox"]
__version__ = "0.1.0"
