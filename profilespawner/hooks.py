"""profilespawner for deployments that keep KubeSpawner: its hooks.

``c.KubeSpawner.modify_pod_hook = profilespawner.apply_pod_profile`` gives the
pod the same profile as :class:`~profilespawner.ProfileKubeSpawner` would. The
hook is one of the hub's two entry points: a choice the user may not make
(HTTP 400) or profiles that cannot be read (HTTP 503) become the HTTP error
JupyterHub shows (:mod:`profilespawner.httperrors`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .httperrors import refusals_as_http_errors
from .profiles import SingleuserProfiles

if TYPE_CHECKING:
    from kubespawner import KubeSpawner

__all__ = ["apply_pod_profile"]


async def apply_pod_profile(spawner: KubeSpawner, pod: Any) -> Any:
    """``c.KubeSpawner.modify_pod_hook`` for deployments that keep KubeSpawner.

    Gives the same pod as :class:`~profilespawner.ProfileKubeSpawner`.
    """
    profiles = SingleuserProfiles.instance(config=spawner.config)
    with refusals_as_http_errors(spawner.log, spawner.user.name):
        return await profiles.apply_pod_profile(spawner, pod)
