"""What the sdist and the wheel hold, and that a package index would take them.

The package is more than its modules: the JSON Schema (read by the validator,
``profilespawner schema`` and editors) and ``py.typed`` (so mypy users get our
hints) must ship, and the entry points JupyterHub and the shell find us by.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from configparser import ConfigParser
from fnmatch import fnmatch

from tests.docs import CONTAINERFILE, instructions
from tests.packaging.conftest import ROOT, Distributions

PACKAGE = ROOT / "profilespawner"


def package_files() -> set[str]:
    """Every file of the package in the checkout, as ``profilespawner/...`` paths."""
    return {
        path.relative_to(ROOT).as_posix()
        for path in PACKAGE.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_the_package_has_its_schema_and_py_typed() -> None:
    files = package_files()
    assert "profilespawner/py.typed" in files
    assert "profilespawner/schema/profiles.schema.json" in files


def test_the_wheel_holds_the_whole_package_and_nothing_else(distributions: Distributions) -> None:
    with zipfile.ZipFile(distributions.wheel) as wheel:
        names = set(wheel.namelist())
    dist_info = {name for name in names if name.startswith("profilespawner-") and ".dist-info/" in name}
    assert names - dist_info == package_files()
    assert {name.rsplit("/", 1)[1] for name in dist_info} == {
        "METADATA",
        "WHEEL",
        "RECORD",
        "entry_points.txt",
        "top_level.txt",
    }


def test_the_sdist_holds_the_whole_package(distributions: Distributions) -> None:
    prefix = distributions.sdist.name.removesuffix(".tar.gz") + "/"
    with tarfile.open(distributions.sdist) as sdist:
        names = {member.name.removeprefix(prefix) for member in sdist.getmembers() if member.isfile()}
    assert package_files() <= names
    assert {"pyproject.toml", "setup.cfg", "README.md", "PKG-INFO"} <= names


def test_the_wheel_declares_the_entry_points(distributions: Distributions) -> None:
    with zipfile.ZipFile(distributions.wheel) as wheel:
        (name,) = (n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt"))
        entry_points = ConfigParser()
        entry_points.read_string(wheel.read(name).decode())
    assert dict(entry_points["jupyterhub.spawners"]) == {"profiles": "profilespawner:ProfileKubeSpawner"}
    assert dict(entry_points["console_scripts"]) == {"profilespawner": "profilespawner.cli:program"}


def test_twine_check_passes(distributions: Distributions) -> None:
    files = [str(distributions.sdist), str(distributions.wheel)]
    proc = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *files],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("PASSED") == 2, proc.stdout


def test_the_containerfile_copies_this_wheel(distributions: Distributions) -> None:
    (copy,) = (arguments for name, arguments in instructions(CONTAINERFILE.read_text()) if name == "COPY")
    source, _ = copy.split()
    assert fnmatch(distributions.wheel.name, source)
    assert not fnmatch(distributions.sdist.name, source)
