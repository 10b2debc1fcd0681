"""``python -m core``: the command line (see :func:`core.cli.main`)."""

from core.cli import main

raise SystemExit(main())
