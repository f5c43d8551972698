"""The hub's settings as a tool reads them.

A ``jupyterhub_config.py`` is loaded as JupyterHub loads it
(:func:`load_config_file`); its ``SingleuserProfiles`` section is read through
the traits themselves (:func:`hub_settings`), so a tool checks every setting
as the hub would and, where the configuration says nothing, uses the very
defaults the hub uses -- never a copy of them (:func:`trait_default`).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Sequence
from typing import Any

from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from ..profiles import SingleuserProfiles

__all__ = [
    "hub_settings",
    "kubespawner_component_label",
    "kubespawner_namespace",
    "load_config_file",
    "profile_files",
    "trait_default",
    "with_kubespawner_namespace",
]


def load_config_file(path: str) -> Config:
    """Load a ``jupyterhub_config.py`` as JupyterHub does (``c = get_config()``).

    Raises ``OSError`` when it cannot be read and whatever executing it raises.
    """
    directory, filename = os.path.split(os.path.abspath(path))
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no such file: {path}")
    loader = PyFileConfigLoader(filename, path=directory)
    config: Config = loader.load_config()
    return config


def hub_settings(config: Config | None) -> SingleuserProfiles:
    """The ``SingleuserProfiles`` settings of ``config``, checked by the traits;
    without a config, their defaults. Not the hub's shared instance: nothing
    is read or watched. Raises ``traitlets.TraitError`` for an invalid setting."""
    return SingleuserProfiles(config=copy.deepcopy(config) if config is not None else Config())


def trait_default(name: str) -> Any:
    """The default of the setting ``SingleuserProfiles.<name>``."""
    return SingleuserProfiles.class_traits()[name].default()


def profile_files(files: Sequence[str], config: Config | None) -> list[str]:
    """The profile files of a spawn: ``files`` if any, else ``SingleuserProfiles.files``."""
    if files:
        return list(files)
    if config is not None and "files" in config.SingleuserProfiles:
        return list(config.SingleuserProfiles.files)
    return []


def _section(config: Config | None, name: str) -> Any:
    """A section of ``config`` (an empty dict when there is none)."""
    if config is None or name not in config:
        return {}
    return config[name]


def kubespawner_namespace(config: Config | None) -> str:
    """The namespace ``config`` gives the spawner (``ProfileKubeSpawner`` or
    ``KubeSpawner.namespace``); ``""`` when it gives none."""
    kubespawner = _section(config, "KubeSpawner").get("namespace", "")
    return str(_section(config, "ProfileKubeSpawner").get("namespace", kubespawner))


def kubespawner_component_label(config: Config | None) -> str | None:
    """The ``component_label`` ``config`` gives the spawner (``ProfileKubeSpawner``
    or ``KubeSpawner``), which labels its pods; None when it gives none."""
    kubespawner = _section(config, "KubeSpawner").get("component_label")
    label = _section(config, "ProfileKubeSpawner").get("component_label", kubespawner)
    return None if label is None else str(label)


def with_kubespawner_namespace(config: Config | None, namespace: str) -> Config:
    """``config`` with KubeSpawner's namespace set to ``namespace`` unless it sets one."""
    cfg = copy.deepcopy(config) if config is not None else Config()
    if "namespace" not in _section(cfg, "KubeSpawner") and "namespace" not in _section(
        cfg, "ProfileKubeSpawner"
    ):
        cfg.KubeSpawner.namespace = namespace
    return cfg
