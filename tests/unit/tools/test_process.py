"""profilespawner.tools.process: the program's collector, off for its imports,
frozen after them and at the end, never touched unless the program owns the
process. Each case runs in a fresh interpreter: freezing this one's objects
would outlive the test."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

PROBE = """\
import gc
from profilespawner.tools.process import imports_done, short_lived

def state():
    return f"{'on' if gc.isenabled() else 'off'} {'frozen' if gc.get_freeze_count() else 'none'}"
"""


def probe(body: str) -> list[str]:
    """What ``body`` prints after :data:`PROBE`, a line each."""
    proc = subprocess.run(
        [sys.executable, "-c", PROBE + textwrap.dedent(body)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


def test_off_until_the_imports_are_done_then_on_with_them_frozen() -> None:
    assert probe(
        """
        print(state())
        with short_lived():
            print(state())
            imports_done()
            print(state())
            imports_done()  # once is what counts
            print(state())
        print(state())
        """
    ) == ["on none", "off none", "on frozen", "on frozen", "on frozen"]


def test_frozen_at_the_end_even_without_imports_done() -> None:
    """A usage error ends the program before the command imports anything."""
    assert probe(
        """
        try:
            with short_lived():
                print(state())
                raise SystemExit(2)
        except SystemExit:
            print(state())
        """
    ) == ["off none", "on frozen"]


def test_a_collector_switched_off_by_someone_else_stays_off() -> None:
    assert probe(
        """
        gc.disable()
        with short_lived():
            imports_done()
            print(state())
        print(state())
        """
    ) == ["off none", "off frozen"]


@pytest.mark.parametrize("argv", [["schema"], ["validate", "examples/profiles.yaml"]])
def test_main_in_someone_elses_process_leaves_the_collector_alone(argv: list[str]) -> None:
    """``main`` is the command for a caller's process (the tests use it): only
    ``program`` sets the collector."""
    assert probe(
        f"""
        import contextlib, io
        from profilespawner.cli import main
        with contextlib.redirect_stdout(io.StringIO()):
            code = main({argv!r})
        print(code, state())
        """
    ) == ["0 on none"]
