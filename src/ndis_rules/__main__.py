"""``python -m ndis_rules`` runs the command line."""

from .cli.main import main

raise SystemExit(main())
