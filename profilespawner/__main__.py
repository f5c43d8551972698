"""``python -m profilespawner``: the same command line as ``profilespawner``."""

from .cli import main

raise SystemExit(main())
