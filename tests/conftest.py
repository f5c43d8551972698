"""Fixtures shared by every suite."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from profilespawner.cli import main

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Result:
    """What a run of the command gave: as ``subprocess.CompletedProcess``."""

    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., Result]]:
    """Run ``main(args)`` in process, from the checkout's root; the logging it
    configures is undone after the test."""
    monkeypatch.chdir(ROOT)
    loggers = {name: logging.getLogger(name).level for name in ("profilespawner", "traitlets")}

    def run(*args: str) -> Result:
        capsys.readouterr()
        try:
            code = main(list(args))
        except SystemExit as e:  # argparse
            code = int(e.code or 0)
        out, err = capsys.readouterr()
        return Result(code, out, err)

    yield run
    for name, level in loggers.items():
        logging.getLogger(name).setLevel(level)
