"""``ProfileKubeSpawner``: KubeSpawner whose pods get the matching profiles.

Traits and glue only: every rule lives in the modules
:class:`~profilespawner.SingleuserProfiles` calls.
"""

from __future__ import annotations

from typing import Any

from kubespawner import KubeSpawner

from .profiles import SingleuserProfiles

__all__ = ["ProfileKubeSpawner"]


class ProfileKubeSpawner(KubeSpawner):  # type: ignore[misc]
    """A KubeSpawner that applies singleuser profiles to each pod it creates.

    Profiles are configured in the ``SingleuserProfiles`` section; they are
    re-read as they change, so no hub restart is needed.
    """

    @property
    def singleuser_profiles(self) -> SingleuserProfiles:
        """The hub process's shared :class:`SingleuserProfiles`."""
        return SingleuserProfiles.instance(config=self.config)

    async def load_user_options(self) -> None:
        await super().load_user_options()
        # Check the size and GPU type now, before KubeSpawner creates a PVC or
        # namespace for a spawn that must fail with 400.
        await self.singleuser_profiles.resolve(self)

    async def get_pod_manifest(self) -> Any:
        pod = await super().get_pod_manifest()
        return await self.singleuser_profiles.apply_pod_profile(self, pod)
