"""``python -m akool_frames.cli``: the ``akool-frames`` command."""

from ._main import main

__all__: list[str] = []

raise SystemExit(main())
