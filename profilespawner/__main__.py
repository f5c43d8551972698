"""``python -m profilespawner``: the same command line as ``profilespawner``."""

from .cli import program

__all__: list[str] = []

raise SystemExit(program())
