"""profilespawner.tools.settings: a tool reads the hub's settings through the traits."""

from __future__ import annotations

from pathlib import Path

import pytest
from traitlets import TraitError
from traitlets.config import Config

from profilespawner import SingleuserProfiles
from profilespawner.tools.settings import (
    hub_settings,
    kubespawner_component_label,
    kubespawner_namespace,
    load_config_file,
    trait_default,
    with_kubespawner_namespace,
)


def test_without_a_config_the_defaults_are_the_traits() -> None:
    settings = hub_settings(None)
    for name in ("configmap_name", "label_selector", "configmap_key", "default_mount_path", "namespace"):
        assert (
            getattr(settings, name)
            == trait_default(name)
            == SingleuserProfiles.class_traits()[name].default()
        )
    assert not SingleuserProfiles.initialized()  # not the hub's shared instance


def test_a_config_is_read_and_checked_by_the_traits(tmp_path: Path) -> None:
    path = tmp_path / "jupyterhub_config.py"
    path.write_text("c = get_config()\nc.SingleuserProfiles.configmap_key = 'team.yaml'\n")
    config = load_config_file(str(path))
    assert hub_settings(config).configmap_key == "team.yaml"
    config.SingleuserProfiles.default_mount_path = "relative"
    with pytest.raises(TraitError, match=r"SingleuserProfiles\.default_mount_path must be an absolute path"):
        hub_settings(config)


def test_the_spawner_namespace_is_kept_or_given() -> None:
    config = Config()
    assert kubespawner_namespace(config) == ""
    assert with_kubespawner_namespace(config, "hub").KubeSpawner.namespace == "hub"
    config.ProfileKubeSpawner.namespace = "own"
    assert kubespawner_namespace(config) == "own"
    assert "namespace" not in with_kubespawner_namespace(config, "hub").KubeSpawner


def test_the_component_label_is_the_spawners() -> None:
    config = Config()
    assert kubespawner_component_label(config) is None
    config.KubeSpawner.component_label = "hub-b"
    assert kubespawner_component_label(config) == "hub-b"
    config.ProfileKubeSpawner.component_label = "own"
    assert kubespawner_component_label(config) == "own"
