"""pytest fixtures for integration tests against a real kube-apiserver + etcd.

* ``control_plane`` (session): one :class:`~tests.controlplane.harness.ControlPlane`
  for the whole session, or the cluster of ``PROFILESPAWNER_TEST_KUBECONFIG``
  when that is set (plain ``KUBECONFIG`` is never used).
* ``restartable_control_plane``: the same, but skips the test when the control
  plane is an existing cluster (kill/restart helpers are unavailable).
* ``namespace`` (function): a fresh, uniquely named namespace, deleted after.

Without binaries (any of kube-apiserver, kube-controller-manager,
kube-scheduler, kubectl, etcd) the tests skip with a hint to run
``bash tests/controlplane/build.sh``; with ``PROFILESPAWNER_REQUIRE_K8S=1``
they fail instead. Every test under tests/integration gets the
``integration`` marker.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes_asyncio.client import Configuration
from kubernetes_asyncio.config import kube_config
from kubespawner.clients import load_config
from traitlets.config import Config

from profilespawner import ProfileKubeSpawner, SingleuserProfiles
from profilespawner.tools.offline import OfflineGroup, OfflineUser
from tests.controlplane.harness import (
    BINARY_NAMES,
    BUILD_HINT,
    ControlPlane,
    binaries_dir,
    find_binaries,
    missing_binaries,
)
from tests.integration.helpers import ConfigMaps

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
            f"{', '.join(missing_binaries())} not found in {binaries_dir()}: {BUILD_HINT}, "
            "or set PROFILESPAWNER_CONTROLPLANE_DIR to a directory holding all of "
            f"{', '.join(BINARY_NAMES)}, or PROFILESPAWNER_TEST_KUBECONFIG to use an existing cluster"
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


# -- fixtures: a hub wired the production way --------------------------------------


@pytest.fixture
def kubeconfig(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str | Path], None]]:
    """Point KubeSpawner's ``load_config`` at a kubeconfig, as a hub outside a
    cluster would; restores the process-wide client configuration after."""
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    saved_location = kube_config.KUBE_CONFIG_DEFAULT_LOCATION
    saved_default = Configuration._default

    def use(path: str | Path) -> None:
        kube_config.KUBE_CONFIG_DEFAULT_LOCATION = str(path)
        load_config.cache_clear()  # it is cached on its arguments, not on the file

    yield use
    kube_config.KUBE_CONFIG_DEFAULT_LOCATION = saved_location
    load_config.cache_clear()
    Configuration._default = saved_default


@pytest.fixture
async def hub(
    control_plane: ControlPlane, namespace: str, kubeconfig: Callable[[str | Path], None]
) -> AsyncIterator[Callable[..., Any]]:
    """``hub(user=..., **SingleuserProfiles settings)`` → a ProfileKubeSpawner in
    ``namespace`` whose client is the admin kubeconfig (a test may point
    ``kubeconfig`` elsewhere before its first spawner)."""
    kubeconfig(control_plane.kubeconfig_path)
    SingleuserProfiles.clear_instance()

    def spawner(user: str = "alice", groups: tuple[str, ...] = (), **settings: Any) -> Any:
        config = Config()
        config.KubeSpawner.namespace = namespace
        for name, value in settings.items():
            setattr(config.SingleuserProfiles, name, value)
        return ProfileKubeSpawner(
            _mock=True, user=OfflineUser(user, [OfflineGroup(g) for g in groups]), config=config
        )

    try:
        yield spawner
    finally:
        if SingleuserProfiles.initialized():
            await SingleuserProfiles.instance().close()
        SingleuserProfiles.clear_instance()


@pytest.fixture
def configmaps(control_plane: ControlPlane, namespace: str) -> ConfigMaps:
    return ConfigMaps(control_plane, namespace)


@pytest.fixture
def log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG, logger="profilespawner")
    return caplog
