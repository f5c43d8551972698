"""A source's parse without the cyclic garbage collector
(:mod:`profilespawner.sources.collector`): off while any parse runs, back on
after the last, left off when something else switched it off."""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import Iterator

import pytest

from profilespawner.sources.collector import parse_uncollected


@pytest.fixture
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_off_during_the_parse_and_on_after_it_even_when_it_fails(collector_on: None) -> None:
    assert parse_uncollected(gc.isenabled) is False
    assert gc.isenabled()

    def fails() -> None:
        raise ValueError("bad document")

    with pytest.raises(ValueError, match="bad document"):
        parse_uncollected(fails)
    assert gc.isenabled()


def test_left_off_when_it_was_off(collector_on: None) -> None:
    gc.disable()
    parse_uncollected(len, "x")
    assert not gc.isenabled()


async def test_parses_in_several_threads_turn_it_on_after_the_last(collector_on: None) -> None:
    first_running, release_first = threading.Event(), threading.Event()

    def first() -> bool:
        first_running.set()
        release_first.wait(timeout=10)
        return gc.isenabled()

    pending = asyncio.ensure_future(asyncio.to_thread(parse_uncollected, first))
    assert await asyncio.to_thread(first_running.wait, 10)
    assert await asyncio.to_thread(parse_uncollected, gc.isenabled) is False
    assert not gc.isenabled(), "the first parse still runs"
    release_first.set()
    assert await pending is False
    assert gc.isenabled()
