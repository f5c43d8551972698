"""Timing, loop-lag and memory helpers shared by every benchmark worker.

Standard library only: the jsp07 harness imports this module too, from its own
virtualenv. Rules kept by every measurement:

- a *batch* runs one operation ``loops`` times back to back, after a
  ``gc.collect()``; it is timed with ``time.perf_counter`` (wall) and
  ``time.process_time`` (CPU of every thread of the process);
- ``loops`` is calibrated so that a batch lasts about ``batch_seconds``;
- batches repeat ``repeats`` times, fewer when ``max_seconds`` is spent
  (never fewer than ``min_repeats``): loops are bounded and stop by themselves;
- results are per operation: median, quartiles, min and max over the batches.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import math
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

__all__ = [
    "Budget",
    "GcWatch",
    "LagProbe",
    "Stats",
    "idle_window",
    "lag_summary",
    "measure",
    "measure_async",
    "read_job",
    "summarize",
    "write_result",
]


@dataclass(frozen=True)
class Budget:
    """How long to measure one thing."""

    repeats: int = 15
    min_repeats: int = 5
    batch_seconds: float = 0.05
    max_seconds: float = 8.0
    warmup: int = 3

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Budget:
        return cls(**data)


@dataclass(frozen=True)
class Stats:
    """Seconds per operation over the batches."""

    median: float
    q1: float
    q3: float
    min: float
    max: float
    batches: int
    loops: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def summarize(values: Sequence[float], loops: int) -> Stats:
    ordered = sorted(values)
    if len(ordered) >= 2:
        q1, _, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
    else:
        q1 = q3 = ordered[0]
    return Stats(
        median=statistics.median(ordered),
        q1=q1,
        q3=q3,
        min=ordered[0],
        max=ordered[-1],
        batches=len(ordered),
        loops=loops,
    )


def _loops_for(one_call: float, budget: Budget) -> int:
    return max(1, min(100_000, math.ceil(budget.batch_seconds / max(one_call, 1e-7))))


def measure(
    call: Callable[[Any], object],
    prepare: Callable[[int], Sequence[Any]],
    budget: Budget,
) -> dict[str, Any]:
    """Time ``call(arg)`` for the args ``prepare(loops)`` returns (prepared untimed).

    Returns ``{"cpu": Stats, "wall": Stats}`` as JSON, seconds per call.
    """
    for arg in prepare(budget.warmup):
        call(arg)
    start = time.perf_counter()
    (arg,) = prepare(1)
    call(arg)
    loops = _loops_for(time.perf_counter() - start, budget)
    cpu: list[float] = []
    wall: list[float] = []
    deadline = time.perf_counter() + budget.max_seconds
    while len(cpu) < budget.repeats and (len(cpu) < budget.min_repeats or time.perf_counter() < deadline):
        args = prepare(loops)
        gc.collect()
        c0, w0 = time.process_time(), time.perf_counter()
        for arg in args:
            call(arg)
        w1, c1 = time.perf_counter(), time.process_time()
        cpu.append((c1 - c0) / loops)
        wall.append((w1 - w0) / loops)
    return {"cpu": summarize(cpu, loops).to_json(), "wall": summarize(wall, loops).to_json()}


async def measure_async(call: Callable[[], Awaitable[object]], budget: Budget) -> dict[str, Any]:
    """Like :func:`measure` for a coroutine function without arguments."""
    for _ in range(budget.warmup):
        await call()
    start = time.perf_counter()
    await call()
    loops = _loops_for(time.perf_counter() - start, budget)
    cpu: list[float] = []
    wall: list[float] = []
    deadline = time.perf_counter() + budget.max_seconds
    while len(cpu) < budget.repeats and (len(cpu) < budget.min_repeats or time.perf_counter() < deadline):
        gc.collect()
        c0, w0 = time.process_time(), time.perf_counter()
        for _ in range(loops):
            await call()
        w1, c1 = time.perf_counter(), time.process_time()
        cpu.append((c1 - c0) / loops)
        wall.append((w1 - w0) / loops)
    return {"cpu": summarize(cpu, loops).to_json(), "wall": summarize(wall, loops).to_json()}


class LagProbe:
    """Event-loop lag: a task sleeps ``interval`` seconds in a loop and records
    how late it wakes up. A late wake-up is a stall: something held the loop.

    ``mark()`` starts a new window; ``window_max()`` is the longest lateness
    seen since. Use as ``async with LagProbe() as probe:``.
    """

    def __init__(self, interval: float = 0.001) -> None:
        self.interval = interval
        self.samples: list[float] = []
        self._window_start = 0
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> LagProbe:
        self._task = asyncio.get_running_loop().create_task(self._run())
        await asyncio.sleep(self.interval * 3)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _run(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(self.interval)
            self.samples.append(max(0.0, time.perf_counter() - before - self.interval))

    def mark(self) -> None:
        self._window_start = len(self.samples)

    def window(self) -> list[float]:
        return self.samples[self._window_start :]

    def window_max(self) -> float:
        return max(self.window(), default=0.0)


class GcWatch:
    """Durations of the garbage collector's passes, to tell GC pauses from other stalls.

    A full (generation 2) collection holds the GIL for its whole run, in
    whichever thread triggered it, so the event loop stalls for as long.
    """

    def __init__(self) -> None:
        self.pauses: list[tuple[int, float]] = []
        self._start = 0.0
        self._mark = 0

    def __enter__(self) -> GcWatch:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.pauses.append((info["generation"], time.perf_counter() - self._start))

    def mark(self) -> None:
        self._mark = len(self.pauses)

    def window(self) -> dict[str, float]:
        """Longest pause and count of full collections since :meth:`mark`."""
        pauses = self.pauses[self._mark :]
        return {
            "max_pause": max((p for _, p in pauses), default=0.0),
            "full_collections": float(sum(1 for g, _ in pauses if g == 2)),
        }


def lag_summary(samples: Sequence[float]) -> dict[str, float]:
    """Longest, 99th percentile and median lateness (seconds), and the count."""
    ordered = sorted(samples) or [0.0]
    p99 = ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)]
    return {
        "max": ordered[-1],
        "p99": p99,
        "median": statistics.median(ordered),
        "samples": float(len(samples)),
    }


async def idle_window(probe: LagProbe, gcw: GcWatch, seconds: float) -> dict[str, float]:
    """The loop's lateness and GC pauses while nothing else runs: the noise floor."""
    probe.mark()
    gcw.mark()
    await asyncio.sleep(seconds)
    return {**lag_summary(probe.window()), **gcw.window()}


def read_job() -> dict[str, Any]:
    """The job a worker was given: JSON in the file named by ``argv[1]``."""
    with open(sys.argv[1]) as f:
        job: dict[str, Any] = json.load(f)
    return job


def write_result(result: dict[str, Any]) -> None:
    """Hand a worker's result to the orchestrator: JSON in the file named by ``argv[2]``."""
    with open(sys.argv[2], "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)
