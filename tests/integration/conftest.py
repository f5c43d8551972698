"""pytest fixtures for integration tests against a real kube-apiserver + etcd.

* ``control_plane`` (session): one :class:`~tests.controlplane.harness.ControlPlane`
  for the whole session, or the cluster of ``PROFILESPAWNER_TEST_KUBECONFIG``
  when that is set (plain ``KUBECONFIG`` is never used).
* ``restartable_control_plane``: the same, but skips the test when the control
  plane is an existing cluster (kill/restart helpers are unavailable).
* ``namespace`` (function): a fresh, uniquely named namespace, deleted after.

Without binaries the tests skip with a hint to run
``bash tests/controlplane/build.sh``; with ``PROFILESPAWNER_REQUIRE_K8S=1``
they fail instead. Every test under tests/integration gets the
``integration`` marker.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.controlplane.harness import (
    BUILD_HINT,
    ControlPlane,
    binaries_dir,
    find_binaries,
)

HERE = Path(__file__).resolve().parent


def pytest_configure(config: pytest.Config) -> None:
    # Also registered in pyproject.toml; repeating it is harmless and keeps
    # --strict-markers happy when this directory is run on its own.
    config.addinivalue_line("markers", "integration: needs a real Kubernetes API server (tests/integration)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.path)).resolve().is_relative_to(HERE):
            item.add_marker(pytest.mark.integration)


def _unavailable(reason: str) -> None:
    if os.environ.get("PROFILESPAWNER_REQUIRE_K8S") == "1":
        pytest.fail(f"PROFILESPAWNER_REQUIRE_K8S=1 but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def control_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    workdir = tmp_path_factory.mktemp("controlplane")
    kubeconfig = os.environ.get("PROFILESPAWNER_TEST_KUBECONFIG")
    if kubeconfig:
        cp = ControlPlane.from_kubeconfig(kubeconfig, workdir=workdir)
        cp.wait_ready(timeout=30)
        yield cp
        return
    binaries = find_binaries()
    if binaries is None:
        _unavailable(
            f"kube-apiserver/etcd not found in {binaries_dir()}: {BUILD_HINT}, "
            "or set PROFILESPAWNER_CONTROLPLANE_DIR to a directory holding both, "
            "or PROFILESPAWNER_TEST_KUBECONFIG to use an existing cluster"
        )
    with ControlPlane(workdir=workdir, binaries=binaries) as cp:
        yield cp


@pytest.fixture
def restartable_control_plane(control_plane: ControlPlane) -> ControlPlane:
    if not control_plane.can_restart:
        pytest.skip("PROFILESPAWNER_TEST_KUBECONFIG cluster: cannot kill/restart its apiserver")
    return control_plane


@pytest.fixture
def namespace(control_plane: ControlPlane, request: pytest.FixtureRequest) -> Iterator[str]:
    base = re.sub(r"[^a-z0-9-]+", "-", request.node.name.lower()).strip("-")
    name = f"it-{base[:45].strip('-')}-{secrets.token_hex(3)}"
    control_plane.create_namespace(name, labels={"profilespawner-test": "true"})
    try:
        yield name
    finally:
        control_plane.delete_namespace(name)
