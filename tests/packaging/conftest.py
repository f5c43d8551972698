"""The distributions under test: the sdist and the wheel of this checkout.

Built once per session with ``python -m build`` (an isolated build environment,
the wheel built from the sdist, as a package index user's pip would), or taken
from ``PROFILESPAWNER_DIST_DIR`` when set: ``make dist`` builds into ``dist/``
and runs tests/packaging/test_distributions.py on what it built.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from profilespawner import __version__

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Distributions:
    sdist: Path
    wheel: Path


def build(outdir: Path) -> None:
    """Build the sdist and the wheel of the checkout into ``outdir`` (what ``make dist`` runs)."""
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(outdir), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]


@pytest.fixture(scope="session")
def distributions(tmp_path_factory: pytest.TempPathFactory) -> Distributions:
    given = os.environ.get("PROFILESPAWNER_DIST_DIR")
    if given:
        outdir = Path(given)
    else:
        outdir = tmp_path_factory.mktemp("dist")
        build(outdir)
    found = Distributions(
        sdist=outdir / f"profilespawner-{__version__}.tar.gz",
        wheel=outdir / f"profilespawner-{__version__}-py3-none-any.whl",
    )
    for path in (found.sdist, found.wheel):
        assert path.is_file(), f"{path} was not built (found: {sorted(p.name for p in outdir.iterdir())})"
    return found
