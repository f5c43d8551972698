"""profilespawner: per-user, per-group and per-image settings for KubeSpawner pods.

Profiles (environment, resources, GPUs, sizes, scheduling, volumes, labels)
come from YAML files and ConfigMaps and apply at the next server start, with no
hub restart. Use :class:`ProfileKubeSpawner` as the hub's spawner, or keep
KubeSpawner and give it :func:`options_form`, :func:`options_from_form`,
:func:`pre_spawn_hook` and :func:`apply_pod_profile` (``modify_pod_hook``).
"""

import importlib as _importlib
import typing as _typing

from ._version import __version__
from .errors import (
    ConfigMapsUnavailableError,
    MountConflictError,
    ProfileError,
    ProfileSpawnError,
    ProfileSyntaxError,
    ProfileValidationError,
    ResourceConflictError,
    UserOptionError,
)

if _typing.TYPE_CHECKING:
    from .hooks import apply_pod_profile, options_form, options_from_form, pre_spawn_hook
    from .profiles import SingleuserProfiles
    from .spawner import ProfileKubeSpawner

# The spawner and the profile engine import KubeSpawner and jsonschema, which
# take seconds; they load on first use so that the CLI's quick commands stay quick.
_LAZY = {
    "ProfileKubeSpawner": "spawner",
    "SingleuserProfiles": "profiles",
    "apply_pod_profile": "hooks",
    "options_form": "hooks",
    "options_from_form": "hooks",
    "pre_spawn_hook": "hooks",
}


def __getattr__(name: str) -> _typing.Any:
    if name in _LAZY:
        module = _importlib.import_module(f".{_LAZY[name]}", __name__)
        value = getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "ConfigMapsUnavailableError",
    "MountConflictError",
    "ProfileError",
    "ProfileKubeSpawner",
    "ProfileSpawnError",
    "ProfileSyntaxError",
    "ProfileValidationError",
    "ResourceConflictError",
    "SingleuserProfiles",
    "UserOptionError",
    "__version__",
    "apply_pod_profile",
    "options_form",
    "options_from_form",
    "pre_spawn_hook",
]
