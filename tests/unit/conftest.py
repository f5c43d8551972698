"""Fixtures for the unit suite: no cluster, ever.

Spawners are real KubeSpawner objects built offline (see profilespawner.tools.offline);
profiles come from YAML files written to tmp_path (``write_yaml``, tests/conftest.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from traitlets.config import Config

from profilespawner import ProfileKubeSpawner
from profilespawner.kubemodel import to_json
from profilespawner.tools.offline import offline_spawner

DATA = Path(__file__).parent / "data"

#: Profiles for spawns in process: one for everyone, sizes for everyone, and
#: one only ``root`` may pick.
SPAWN_PROFILES = """\
profiles:
- name: globals
  env: [{name: TEAM, value: everyone}]
sizes:
- name: Small
  resources: {requests: {cpu: "1", memory: 1Gi}, limits: {cpu: "2", memory: 2Gi}}
  env: [{name: SIZE, value: small}]
- name: Large
  resources: {requests: {cpu: "4"}, limits: {cpu: "8"}}
  node_tolerations: [{key: large, operator: Exists}]
  labels: {size: large}
- name: Secret
  users: [root]
"""


@pytest.fixture(autouse=True)
def _own_profiles(fresh_profiles: None) -> None:
    """Each test gets its own process-wide SingleuserProfiles."""


def profiles_config(files: list[str], **spawner_config: Any) -> Config:
    """Config with file sources only (no ConfigMaps) and KubeSpawner settings."""
    config = Config()
    config.SingleuserProfiles.files = files
    config.SingleuserProfiles.configmap_name = ""
    config.SingleuserProfiles.label_selector = ""
    for name, value in spawner_config.items():
        setattr(config.KubeSpawner, name, value)
    return config


@pytest.fixture
def make_spawner() -> Callable[..., Any]:
    """Build an offline spawner (call inside the test's event loop)."""

    def make(
        files: list[str],
        *,
        user: str = "alice",
        groups: list[str] | None = None,
        image: str = "quay.io/jupyter/minimal-notebook:2024-01-01",
        user_options: dict[str, Any] | None = None,
        spawner_class: type[Any] = ProfileKubeSpawner,
        **spawner_config: Any,
    ) -> Any:
        return offline_spawner(
            spawner_class,
            user=user,
            groups=groups,
            image=image,
            user_options=user_options,
            config=profiles_config(files, **spawner_config),
        )

    return make


@pytest.fixture
def spawn_profiles(write_yaml: Callable[..., str]) -> str:
    """:data:`SPAWN_PROFILES` in a file."""
    return write_yaml(SPAWN_PROFILES, "spawn-profiles.yaml")


@pytest.fixture
def pod_for() -> Callable[[Any], Awaitable[dict[str, Any]]]:
    """The pod of a spawn, as the hub builds it: ``load_user_options``, then
    ``get_pod_manifest``, as the API server's JSON."""

    async def build(spawner: Any) -> dict[str, Any]:
        await spawner.load_user_options()
        return to_json(await spawner.get_pod_manifest())  # type: ignore[no-any-return]

    return build
