"""The package's public surface: exactly ``__all__``, and the spawner's entry point."""

from __future__ import annotations

from importlib.metadata import entry_points

import profilespawner
from profilespawner import ProfileKubeSpawner


def test_public_api_is_exactly_all() -> None:
    from types import ModuleType

    public = {
        name
        for name in dir(profilespawner)
        if not name.startswith("_") and not isinstance(getattr(profilespawner, name), ModuleType)
    }
    assert public == set(profilespawner.__all__) - {"__version__"}


def test_entry_point_names_the_spawner() -> None:
    (ep,) = [ep for ep in entry_points(group="jupyterhub.spawners") if ep.name == "profiles"]
    assert ep.load() is ProfileKubeSpawner
