"""B6: the wall time of the ``profilespawner`` command, as a person or a CI job waits for it.

Each command runs as a program (``python -m profilespawner ...``, a fresh
interpreter every time, with its bytecode cached), ``runs`` times in a row;
the figures are the fastest run and the median, in seconds of wall time,
and the same of the CPU time the process used (less disturbed by a busy
machine), beside the interpreter's own start (``python -c pass``), which no
command beats. The commands are those of the README and the docs, on the examples.
``python -X importtime`` of the same command says where the time of a start
goes: the largest imports, by their cumulative time, are kept for the table.

The bytecode is cached as an installed package has it (pip compiles it): the
commands run without ``PYTHONDONTWRITEBYTECODE``, so that the untimed first
run writes the checkout's ``__pycache__`` if the environment forbids it
(compiling the package's sources at every start costs about 60 ms).

Goal: ``validate`` and ``render`` of the examples under 1 s (the median run)
on an idle 2-core machine (``GOAL_SECONDS``); the load average before and
after says how idle it was.
"""

from __future__ import annotations

import os
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["COMMANDS", "GOAL_SECONDS", "measure_cli"]

REPO = Path(__file__).resolve().parents[1]
GOAL_SECONDS = 1.0

#: (name, arguments): what the README and the docs run on the examples.
COMMANDS = [
    ("python -c pass", ["-c", "pass"]),
    ("validate", ["-m", "profilespawner", "validate", "examples/profiles.yaml"]),
    ("validate --config", [
        "-m", "profilespawner", "validate", "examples/profiles.yaml",
        "--config", "examples/jupyterhub_config.py",
    ]),
    ("validate (a ConfigMap manifest)", [
        "-m", "profilespawner", "validate", "tests/unit/data/jsp07/example-configmap.yaml",
    ]),
    ("render", [
        "-m", "profilespawner", "render", "examples/profiles.yaml",
        "--user", "alice", "--group", "data-science",
        "--image", "quay.io/thoth-station/s2i-spark-notebook:3.6", "--size", "Small",
    ]),
    ("explain", ["-m", "profilespawner", "explain", "examples/profiles.yaml", "--user", "alice"]),
]  # fmt: skip

_IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)$")


def _cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _environment() -> dict[str, str]:
    """This process's environment, bytecode caching allowed."""
    return {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def _python(arguments: list[str]) -> subprocess.CompletedProcess[str]:
    """This Python run with ``arguments`` in the repository, output captured."""
    return subprocess.run(
        [sys.executable, *arguments],
        cwd=REPO,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _run(arguments: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run of the command."""
    cpu, started = _cpu(), time.perf_counter()
    proc = _python(arguments)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(arguments)} exited {proc.returncode}: {proc.stderr[-2000:]}")
    return elapsed, _cpu() - cpu


def _imports(arguments: list[str], top: int) -> list[dict[str, Any]]:
    """The ``top`` largest imports of the top level (cumulative microseconds)."""
    proc = _python(["-X", "importtime", *arguments])
    found = []
    for line in proc.stderr.splitlines():
        match = _IMPORT_LINE.match(line)
        # depth: two spaces per level; the first levels say which library a start pays for
        if match and len(match[3]) <= 2:
            found.append({"module": match[4], "cumulative_ms": int(match[2]) / 1000})
    return sorted(found, key=lambda f: -f["cumulative_ms"])[:top]


def measure_cli(runs: int, *, imports: bool = True) -> dict[str, Any]:
    """Wall time of every command of :data:`COMMANDS`, ``runs`` times each
    (after one untimed run that writes the bytecode caches)."""
    out: dict[str, Any] = {
        "runs": runs,
        "goal_seconds": GOAL_SECONDS,
        "load_before": os.getloadavg(),
        "commands": [],
    }
    for name, arguments in COMMANDS:
        _run(arguments)
        runs_ = [_run(arguments) for _ in range(runs)]
        times, cpu = [wall for wall, _ in runs_], [used for _, used in runs_]
        row: dict[str, Any] = {
            "name": name,
            "command": " ".join(["python", *arguments]),
            "min": min(times),
            "median": statistics.median(times),
            "max": max(times),
            "cpu_min": min(cpu),
            "cpu_median": statistics.median(cpu),
        }
        if imports and name != "python -c pass":
            row["imports"] = _imports(arguments, top=4)
        out["commands"].append(row)
    out["load_after"] = os.getloadavg()
    return out
