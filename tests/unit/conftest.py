"""Fixtures for the unit suite: no cluster, ever.

Spawners are real KubeSpawner objects built offline (see profilespawner.tools.offline);
profiles come from YAML files written to tmp_path.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from traitlets.config import Config

from profilespawner import ProfileKubeSpawner, SingleuserProfiles
from profilespawner.tools.offline import offline_spawner

DATA = Path(__file__).parent / "data"


@pytest.fixture(autouse=True)
def fresh_profiles() -> Iterator[None]:
    """Each test gets its own process-wide SingleuserProfiles."""
    SingleuserProfiles.clear_instance()
    yield
    SingleuserProfiles.clear_instance()


@pytest.fixture
def write_yaml(tmp_path: Path) -> Callable[..., str]:
    """Write dedented YAML to a file in tmp_path; returns its path."""

    def write(text: str, name: str = "profiles.yaml") -> str:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        return str(path)

    return write


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
