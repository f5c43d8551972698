"""The dependency floors: declared once in setup.cfg, installed as they are by
``tox -e min`` (tests/constraints-min.txt), and low enough for the hub image of
the current Zero to JupyterHub chart, which the Containerfile builds on; and
docs/install.md says so.
"""

from __future__ import annotations

import os
import re
from configparser import ConfigParser
from importlib.metadata import version

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.packaging.conftest import ROOT

# What the hub image of the jupyterhub chart 4.4.0 (quay.io/jupyterhub/k8s-hub:4.4.0,
# Python 3.12) ships, from zero-to-jupyterhub-k8s at tag 4.4.0,
# images/hub/requirements.txt. It has no ruamel.yaml.clib: pip adds it to the image.
Z2JH_CHART_VERSION = "4.4.0"
Z2JH_HUB_IMAGE = {
    "jupyterhub": "5.5.0",
    "jupyterhub-kubespawner": "7.0.0",
    "kubernetes-asyncio": "36.1.0",
    "traitlets": "5.15.1",
    "ruamel-yaml": "0.19.1",
    "jsonschema": "4.26.0",
    "aiohttp": "3.14.1",
    "prometheus-client": "0.25.0",
}
Z2JH_HUB_PYTHON = "3.12"


def setup_cfg() -> ConfigParser:
    config = ConfigParser()
    config.read(ROOT / "setup.cfg")
    return config


def install_requires() -> list[Requirement]:
    lines = setup_cfg()["options"]["install_requires"].splitlines()
    return [Requirement(line) for line in lines if line.strip() and not line.strip().startswith("#")]


def floors() -> dict[str, str]:
    """Each runtime requirement's lowest version, by canonical name."""
    found = {}
    for requirement in install_requires():
        (specifier,) = requirement.specifier  # a floor and nothing else: no caps
        assert specifier.operator == ">=", f"{requirement}: a floor is written '>=X'"
        found[canonicalize_name(requirement.name)] = specifier.version
    return found


def constraints() -> dict[str, str]:
    found = {}
    for line in (ROOT / "tests" / "constraints-min.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            requirement = Requirement(line)
            (specifier,) = requirement.specifier
            assert specifier.operator == "==", f"{line}: a constraint pins '==X'"
            found[canonicalize_name(requirement.name)] = specifier.version
    return found


def test_tox_min_installs_exactly_the_floors() -> None:
    assert constraints() == floors()


def test_tox_min_uses_the_constraints_and_runs_by_default() -> None:
    tox = ConfigParser(interpolation=None)
    tox.read(ROOT / "tox.ini")
    assert "min" in re.split(r"[\s,]+", tox["tox"]["env_list"])
    assert "PIP_CONSTRAINT = {toxinidir}/tests/constraints-min.txt" in tox["testenv:min"]["set_env"]


@pytest.mark.skipif(
    os.environ.get("PROFILESPAWNER_EXPECT_FLOORS") != "1",
    reason="only under tox -e min, which sets PROFILESPAWNER_EXPECT_FLOORS=1",
)
def test_tox_min_runs_on_the_floors() -> None:
    installed = {name: version(name) for name in floors()}
    assert {name: Version(v) for name, v in installed.items()} == {
        name: Version(v) for name, v in floors().items()
    }


def test_every_package_we_import_has_a_floor_of_its_own() -> None:
    # not left to KubeSpawner's requirements: the package imports each of them
    assert {
        "jupyterhub",
        "jupyterhub-kubespawner",
        "kubernetes-asyncio",
        "traitlets",
        "ruamel-yaml",
        "jsonschema",
        "aiohttp",
        "prometheus-client",
    } <= set(floors())


def test_the_floors_admit_the_zero_to_jupyterhub_hub_image() -> None:
    declared = floors()
    for name, shipped in Z2JH_HUB_IMAGE.items():
        assert Version(declared[name]) <= Version(shipped), f"{name}>={declared[name]} excludes {shipped}"
    python_floor = setup_cfg()["options"]["python_requires"].removeprefix(">=")
    assert Version(python_floor) <= Version(Z2JH_HUB_PYTHON)


def test_the_containerfile_builds_on_that_chart_version() -> None:
    containerfile = (ROOT / "examples" / "Containerfile").read_text()
    assert f"ARG CHART_VERSION={Z2JH_CHART_VERSION}\n" in containerfile


def test_the_installation_page_lists_the_floors() -> None:
    rows = re.findall(r"^\| ([\w.-]+) \| ([\d.]+) \|", (ROOT / "docs" / "install.md").read_text(), flags=re.M)
    assert {canonicalize_name(name): version for name, version in rows} == floors()
