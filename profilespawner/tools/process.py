"""The ``profilespawner`` command as a process of its own: the garbage collector set for a short life.

``render`` imports about 1,800 modules (KubeSpawner's JupyterHub with
SQLAlchemy and Alembic, the Kubernetes client and its models), builds one pod
and exits. Nothing the imports make is garbage, yet CPython's cyclic
collector walks it all again and again while it piles up (five full passes
during the imports), and once more at the interpreter's exit: about 30 % of
the command's time (``benchmarks/cli_wall.py``, B6).

:func:`short_lived` runs the program (:func:`profilespawner.cli.program`)
with the collector off; :func:`imports_done`, called once the command has
imported what it needs, freezes what is alive then (``gc.freeze()``: the
collector leaves it alone for good, it lives as long as the process anyway)
and switches the collector back on, so that the command's own work is
collected as usual, a dry run of hundreds of spawns included. At the end
:func:`short_lived` freezes what is left, so that the exit does not walk it.
Reference counting frees objects as always; only unreachable cycles wait,
for a later collection or for the exit, and what the command prints does not
depend on when they go (``tests/cli`` compares the program's output with
:func:`~profilespawner.cli.main`'s in the test's own process, where none of
this happens).

Only the program's process: :func:`profilespawner.cli.main` called in a
process of someone else's (a test, a notebook) leaves its collector alone,
and the hub never imports this module (the tests check both).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["imports_done", "short_lived"]

_switched_off = False


@contextmanager
def short_lived() -> Iterator[None]:
    """The body is the whole life of this process: the collector off until
    :func:`imports_done`, what is alive at the end frozen, the collector
    left as it was found."""
    global _switched_off
    if gc.isenabled():
        gc.disable()
        _switched_off = True
    try:
        yield
    finally:
        gc.freeze()
        if _switched_off:
            _switched_off = False
            gc.enable()


def imports_done() -> None:
    """The command has imported what it needs: freeze what is alive, and
    switch the collector back on if :func:`short_lived` switched it off
    (otherwise: nothing)."""
    global _switched_off
    if _switched_off:
        _switched_off = False
        gc.freeze()
        gc.enable()
