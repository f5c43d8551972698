"""A source's parse, and the freeing of the set it replaces, kept from stalling the hub's loop.

A source's parse runs in a worker thread without the cyclic garbage collector.

Parsing and validating a large document makes hundreds of thousands of
objects. With the collector on, their allocation triggers full collections,
each of which runs in the worker thread holding the GIL, over every object
of the hub: the hub's event loop stalls for as long (measured: 0.64 s with
a 1 MiB source). :func:`parse_uncollected` switches the collector off for the
duration of the parse -- process-wide, since that is the only switch Python
has -- and back on after it, unless something else had switched it off. No
object is exempted for good (nothing is frozen): the collector sees the
parse's survivors at its next collections, young generation first. A parse
is bounded in size (``MAX_DOCUMENT_BYTES``), so is what it may leave for
the collector meanwhile. Parses in several threads at once count: the
collector comes back when the last one ends.

Freeing a large set is the other stall: the last reference to it dropped on
the loop frees its objects in one go (12 ms for 1 MiB of YAML).
:func:`release_gradually` frees them in a worker thread, one at a time, so
that the interpreter hands the loop the GIL between them.
"""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

__all__ = ["parse_uncollected", "release_gradually"]

_P = ParamSpec("_P")
_R = TypeVar("_R")

_lock = threading.Lock()
_running = 0
_switched_off = False


def parse_uncollected(parse: Callable[_P, _R], *args: _P.args, **kwargs: _P.kwargs) -> _R:
    """``parse(*args, **kwargs)`` with the cyclic garbage collector off meanwhile."""
    global _running, _switched_off
    with _lock:
        if _running == 0 and gc.isenabled():
            gc.disable()
            _switched_off = True
        _running += 1
    try:
        return parse(*args, **kwargs)
    finally:
        with _lock:
            _running -= 1
            if _running == 0 and _switched_off:
                _switched_off = False
                gc.enable()


def release_gradually(objects: list[Any]) -> None:
    """Free ``objects`` in a worker thread, the last first, one at a time.

    Call from the loop, with ``objects`` holding the references to drop (and
    nothing else of the caller's still holding them): list what a large
    object holds before the object itself, e.g. a set's profiles before the
    set, and each is freed on its own. Whatever something else still refers
    to simply lives on."""
    if objects:
        # not awaited: nothing waits for memory to be given back
        asyncio.get_running_loop().run_in_executor(None, _release, objects)


def _release(objects: list[Any]) -> None:
    while objects:
        objects.pop()
