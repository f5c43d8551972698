"""``ProfileKubeSpawner``: KubeSpawner whose pods get the matching profiles.

Traits and glue only: every rule lives in the modules
:class:`~profilespawner.SingleuserProfiles` calls.
"""

from __future__ import annotations

from typing import Any

from jupyterhub.utils import maybe_future
from kubespawner import KubeSpawner
from traitlets import default

from .form import render_choices
from .profiles import SingleuserProfiles, spawn_identity
from .resolve import allowed_sizes, may_get_gpu

__all__ = ["ProfileKubeSpawner"]


class ProfileKubeSpawner(KubeSpawner):  # type: ignore[misc]
    """A KubeSpawner that applies singleuser profiles to each pod it creates.

    Profiles are configured in the ``SingleuserProfiles`` section; they are
    re-read as they change, so no hub restart is needed.
    """

    #: What the last pod got ("profiles 'a', 'b'; size 'Small'"), for progress events.
    _applied_profiles = ""

    @property
    def singleuser_profiles(self) -> SingleuserProfiles:
        """The hub process's shared :class:`SingleuserProfiles`."""
        return SingleuserProfiles.instance(config=self.config)

    @default("options_form")
    def _profiles_options_form_default(self) -> Any:
        # Rendered at each visit of the spawn page, so a size added to a
        # ConfigMap shows up without a restart.
        return type(self)._render_profiles_form

    async def _render_profiles_form(self) -> str:
        """KubeSpawner's own form (``profile_list``), then the sizes and GPU types."""
        base = KubeSpawner._options_form_default(self)
        if callable(base):
            base = await maybe_future(base(self))
        profile_set = await self.singleuser_profiles.load_profiles(self)
        user, groups, _ = spawn_identity(self)
        options = self.user_options or {}
        choices = render_choices(
            allowed_sizes(profile_set, user=user, groups=groups),
            profile_set.gpu_types if may_get_gpu(profile_set, user=user, groups=groups) else {},
            selected_size=options.get("size"),
            selected_gpu_type=options.get("gpu_type"),
        )
        return f"{base or ''}{choices}"

    def _options_from_form(self, formdata: dict[str, list[str]]) -> dict[str, Any]:
        # KubeSpawner logs a warning for every field it does not know: not ours.
        theirs = {k: v for k, v in formdata.items() if k not in ("size", "gpu_type")}
        options: dict[str, Any] = super()._options_from_form(theirs)
        for key in ("size", "gpu_type"):
            value = (formdata.get(key) or [""])[0]
            if value:
                options[key] = value
        return options

    async def load_user_options(self) -> None:
        self._applied_profiles = ""
        await super().load_user_options()
        # Check the size and GPU type now, before KubeSpawner creates a PVC or
        # namespace for a spawn that must fail with 400.
        await self.singleuser_profiles.resolve(self)

    async def get_pod_manifest(self) -> Any:
        pod = await super().get_pod_manifest()
        pod, resolution = await self.singleuser_profiles.apply_resolved(self, pod)
        self._applied_profiles = resolution.describe()
        return pod

    async def progress(self) -> Any:
        """KubeSpawner's progress events, and which profiles and size were applied."""
        announced = False
        async for event in super().progress():
            if not announced and self._applied_profiles:
                announced = True
                yield {
                    "progress": event.get("progress", 0),
                    "message": f"Applied {self._applied_profiles}",
                }
            yield event
