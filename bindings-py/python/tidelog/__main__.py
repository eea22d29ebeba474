"""``python -m tidelog``: the ``tidelog`` command."""

from .cli import main

raise SystemExit(main())
