"""profilespawner: per-user, per-group and per-image settings for KubeSpawner pods.

Profiles (environment, resources, GPUs, sizes, scheduling, volumes, labels)
come from YAML files and ConfigMaps and apply at the next server start, with no
hub restart. Use :class:`ProfileKubeSpawner` as the hub's spawner, or
:func:`apply_pod_profile` as ``KubeSpawner.modify_pod_hook``.
"""

from ._version import __version__
from .errors import (
    ProfileError,
    ProfileSpawnError,
    ProfileSyntaxError,
    ProfileValidationError,
    ResourceConflictError,
    UserOptionError,
)
from .profiles import SingleuserProfiles, apply_pod_profile
from .spawner import ProfileKubeSpawner

__all__ = [
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
]
