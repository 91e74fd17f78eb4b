"""``python -m akool_frames.cli``: the ``akool-frames`` command."""

from ._main import main

raise SystemExit(main())
