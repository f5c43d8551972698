"""A source's parse, run in a worker thread without the cyclic garbage collector.

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
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable
from typing import ParamSpec, TypeVar

__all__ = ["parse_uncollected"]

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
