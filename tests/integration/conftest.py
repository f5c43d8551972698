"""pytest fixtures for integration tests against a real kube-apiserver + etcd.

The control plane itself (``control_plane``, ``restartable_control_plane``,
``namespace``) is tests/conftest.py's, shared with the end-to-end suite;
here a hub wired the production way (``hub``, ``kubeconfig``), ConfigMaps
edited through the API (``configmaps``) and the profile loggers (``log``).
Every test under tests/integration gets the ``integration`` marker.
"""

from __future__ import annotations

import logging
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
from tests.controlplane.harness import ControlPlane
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
