"""The built wheel, installed as an administrator installs it: into an empty
virtualenv, with its runtime dependencies from the package index and nothing
else, away from the checkout. Then JupyterHub's way in (the spawner class and
the ``profiles`` entry point) and the command on the examples.

It needs the package index (pip's cache keeps a repeated run short).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.packaging.conftest import ROOT, Distributions

EXAMPLES = ROOT / "examples"


class Virtualenv:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.bin = path / "bin"

    def run(self, *argv: str | Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run a command of the virtualenv from an empty directory, so that
        nothing of the checkout can be imported by accident."""
        proc = subprocess.run(
            [str(arg) for arg in argv],
            cwd=self.path,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert proc.returncode == 0, f"{argv}:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
        return proc

    def python(self, code: str) -> str:
        return self.run(self.bin / "python", "-c", code).stdout


@pytest.fixture(scope="module")
def installed(distributions: Distributions, tmp_path_factory: pytest.TempPathFactory) -> Virtualenv:
    venv = Virtualenv(tmp_path_factory.mktemp("venv") / "wheel")
    subprocess.run([sys.executable, "-m", "venv", str(venv.path)], check=True, timeout=120)
    venv.run(
        venv.bin / "python",
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        distributions.wheel,
        timeout=600,
    )
    return venv


def test_the_wheel_installs_with_consistent_dependencies(installed: Virtualenv) -> None:
    installed.run(installed.bin / "python", "-m", "pip", "check", "--disable-pip-version-check")
    listed = json.loads(
        installed.run(
            installed.bin / "python", "-m", "pip", "list", "--format", "json", "--disable-pip-version-check"
        ).stdout
    )
    names = {package["name"].lower() for package in listed}
    # the runtime dependencies only: none of the test, e2e or docs extras
    assert {"profilespawner", "jupyterhub", "jupyterhub-kubespawner"} <= names
    assert not names & {"pytest", "playwright", "jupyter-server", "sphinx", "build", "twine"}


def test_jupyterhub_finds_the_spawner_in_the_wheel(installed: Virtualenv) -> None:
    answer = installed.python(
        "import json, importlib.metadata as md, profilespawner\n"
        "from profilespawner import ProfileKubeSpawner\n"
        "from kubespawner import KubeSpawner\n"
        "(entry,) = md.entry_points(group='jupyterhub.spawners', name='profiles')\n"
        "print(json.dumps({'file': profilespawner.__file__,\n"
        "    'subclass': issubclass(ProfileKubeSpawner, KubeSpawner),\n"
        "    'entry_point': entry.load() is ProfileKubeSpawner}))"
    )
    found = json.loads(answer)
    assert Path(found["file"]).is_relative_to(installed.path)
    assert found["subclass"] and found["entry_point"]


def test_validate_the_examples_with_the_installed_command(installed: Virtualenv) -> None:
    profiles = EXAMPLES / "profiles.yaml"
    plain = installed.run(installed.bin / "profilespawner", "validate", profiles)
    assert plain.stdout == f"{profiles}: ok (4 profiles, 4 sizes, 2 GPU types)\n"
    configured = installed.run(
        installed.bin / "profilespawner", "validate", profiles, "--config", EXAMPLES / "jupyterhub_config.py"
    )
    assert configured.stdout == plain.stdout


def test_the_installed_command_prints_the_shipped_schema(installed: Virtualenv) -> None:
    printed = installed.run(installed.bin / "profilespawner", "schema").stdout
    shipped = ROOT / "profilespawner" / "schema" / "profiles.schema.json"
    assert json.loads(printed) == json.loads(shipped.read_text())
