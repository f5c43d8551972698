"""``python -m profilespawner``: the same command line as ``profilespawner``."""

from .cli import main

__all__: list[str] = []

raise SystemExit(main())
