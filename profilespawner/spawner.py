"""``ProfileKubeSpawner``: KubeSpawner whose pods get the matching profiles.

Traits and glue only: every rule lives in the modules
:class:`~profilespawner.SingleuserProfiles` calls.
"""

from __future__ import annotations

import copy
from typing import Any

from jupyterhub.utils import maybe_future
from kubespawner import KubeSpawner
from traitlets import default

from .errors import UserOptionError
from .form import render_choices
from .profiles import SingleuserProfiles, http_error, spawn_identity
from .resolve import USER_OPTION_KEYS, Resolution, allowed_sizes, may_get_gpu
from .validate import NO_SIZE

__all__ = ["ProfileKubeSpawner"]


class ProfileKubeSpawner(KubeSpawner):  # type: ignore[misc]
    """A KubeSpawner that applies singleuser profiles to each pod it creates.

    Profiles are configured in the ``SingleuserProfiles`` section; they are
    re-read as they change, so no hub restart is needed.
    """

    #: What the last pod got ("profiles 'a', 'b'; size 'Small'"), for progress events.
    _applied_profiles = ""
    #: What load_user_options resolved, and for which spawn (identity, user_options).
    _resolved: tuple[Any, Resolution] | None = None

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
        profile_set = await self.singleuser_profiles.profiles_for_spawn(self)
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
        theirs = {k: v for k, v in formdata.items() if k not in USER_OPTION_KEYS}
        options: dict[str, Any] = super()._options_from_form(theirs)
        for key in USER_OPTION_KEYS:
            value = (formdata.get(key) or [""])[0]
            if key in options:
                # An option of the chosen profile_list entry has this name: the
                # key is KubeSpawner's (see SingleuserProfiles.resolve).
                if value not in ("", NO_SIZE):
                    conflict = UserOptionError(
                        f"the chosen profile has its own {key!r} option, which this choice would "
                        "replace; leave the field below at its default",
                        field=key,
                    )
                    self.log.warning("Refusing the spawn form of %s: %s", self.user.name, conflict)
                    raise http_error(400, conflict)
            elif value:
                options[key] = value
        return options

    async def load_user_options(self) -> None:
        self._applied_profiles = ""
        self._resolved = None
        await super().load_user_options()
        # Resolve now, before KubeSpawner creates a PVC or namespace for a spawn
        # that must fail with 400, and keep the result: the pod gets what was
        # checked, even when a ConfigMap changes in between.
        resolution = await self.singleuser_profiles.resolve(self)
        self._resolved = (self._spawn_key(), resolution)

    async def get_pod_manifest(self) -> Any:
        pod = await super().get_pod_manifest()
        resolved, self._resolved = self._resolved, None
        # Resolved for this very spawn, unless something changed the user,
        # image or options since (a caller that sets the image afterwards).
        earlier = resolved[1] if resolved is not None and resolved[0] == self._spawn_key() else None
        pod, resolution = await self.singleuser_profiles.apply_resolved(self, pod, earlier)
        self._applied_profiles = resolution.describe()
        return pod

    def _spawn_key(self) -> Any:
        return (spawn_identity(self), copy.deepcopy(self.user_options or {}))

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
