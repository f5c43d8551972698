"""``ProfileKubeSpawner``: KubeSpawner whose pods get the matching profiles.

Traits and glue only: every rule lives in the modules
:class:`~profilespawner.SingleuserProfiles` calls, and in :mod:`.failures`
(why a server did not start). It is one of the hub's two entry points: what
the hub calls -- the spawn form, ``load_user_options``, ``get_pod_manifest``
-- turns a refusal into its HTTP error (:mod:`.httperrors`). A spawn resolves
once, in ``load_user_options``, before KubeSpawner creates anything; its pod
gets what was checked.
"""

from __future__ import annotations

import asyncio
import copy
import time
from typing import Any

from jupyterhub.utils import AnyTimeoutError, maybe_future
from kubespawner import KubeSpawner
from traitlets import default

from .errors import UserOptionError
from .failures import not_started_reason, refusal_reason
from .form import CHOICE_FIELDS, choices_from_form, is_choice_field, render_choices
from .httperrors import http_error, refusals_as_http_errors
from .model import NO_SIZE
from .profiles import SingleuserProfiles, spawn_identity
from .resolve import Resolution, allowed_sizes, may_get_gpu
from .sources.kubeapi import api_error_answer

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
        user, groups, _ = spawn_identity(self)
        with refusals_as_http_errors(self.log, user):
            profile_set = await self.singleuser_profiles.load_profiles(self)
        options = self.user_options or {}
        choices = render_choices(
            allowed_sizes(profile_set, user=user, groups=groups),
            profile_set.gpu_types if may_get_gpu(profile_set, user=user, groups=groups) else {},
            selected_size=options.get("size"),
            selected_gpu_type=options.get("gpu_type"),
            selected_values=options,
        )
        return f"{base or ''}{choices}"

    def _options_from_form(self, formdata: dict[str, list[str]]) -> dict[str, Any]:
        # KubeSpawner logs a warning for every field it does not know: not ours.
        theirs = {k: v for k, v in formdata.items() if not is_choice_field(k)}
        options: dict[str, Any] = super()._options_from_form(theirs)
        for key, value in choices_from_form(formdata).items():
            if key in options:
                # An option of the chosen profile_list entry has this name: the
                # key is KubeSpawner's (see SingleuserProfiles.resolve).
                if value != NO_SIZE:
                    leave = (
                        "leave the field below at its default"
                        if key in CHOICE_FIELDS
                        else (f"pick a size without a {key} range")
                    )
                    conflict = UserOptionError(
                        f"the chosen profile has its own {key!r} option, which this choice would "
                        f"replace; {leave}",
                        field=key,
                    )
                    self.log.warning("Refusing the spawn form of %s: %s", self.user.name, conflict)
                    raise http_error(400, conflict)
            else:
                options[key] = value
        return options

    async def load_user_options(self) -> None:
        self._applied_profiles = ""
        self._resolved = None
        await super().load_user_options()
        # Resolve now, before KubeSpawner creates a PVC or namespace for a spawn
        # that must fail with 400, and keep the result: the pod gets what was
        # checked, even when a ConfigMap changes in between.
        with refusals_as_http_errors(self.log, self.user.name):
            resolution = await self.singleuser_profiles.resolve(self)
        self._resolved = (self._spawn_key(), resolution)

    def start(self) -> Any:
        """KubeSpawner's start; a spawn that fails says why (see :mod:`.failures`):
        the API server's reason when it forbids the pod (HTTP 403 to the user),
        the pod's status when it has not started within ``start_timeout``."""
        # Before the hub starts its start_timeout clock, which begins when this returns.
        began = time.monotonic()
        return asyncio.ensure_future(self._start_explained(super().start(), began))

    async def _start_explained(self, started: Any, began: float) -> Any:
        try:
            return await started
        except AnyTimeoutError:
            # KubeSpawner's own wait for a running pod ran out (start_timeout,
            # give or take the 10 % jitter of JupyterHub's exponential_backoff).
            self._fail_not_started()
            raise
        except asyncio.CancelledError:
            # JupyterHub cancels a start that has run out of start_timeout, then
            # fails the spawn with a bare TimeoutError; when that is why we are
            # cancelled, say why instead. A cancellation before then is a stop.
            if time.monotonic() - began >= self.start_timeout - 1:
                self._fail_not_started()
            raise
        except Exception as error:
            # The API server refused the pod (KubeSpawner has cleaned up);
            # without this the user sees a bare 500.
            answer = api_error_answer(error)
            reason = refusal_reason(*answer) if answer is not None else None
            if reason is None:
                raise
            self.log.warning("Server of %s refused: %s", self.user.name, reason)
            raise http_error(403, reason) from None

    def _fail_not_started(self) -> None:
        """Raise a TimeoutError (which the hub reports as a timeout) saying what
        keeps the pod from running, when its status says; else return."""
        reflector = getattr(self, "pod_reflector", None)
        pod = reflector.pods.get(f"{self.namespace}/{self.pod_name}") if reflector else None
        reason = not_started_reason(pod)
        if reason is None:
            return
        self.log.warning(
            "Server of %s not started within %ss: %s", self.user.name, self.start_timeout, reason
        )
        raise TimeoutError(f"Server not started within {self.start_timeout} seconds: {reason}") from None

    async def get_pod_manifest(self) -> Any:
        pod = await super().get_pod_manifest()
        resolved, self._resolved = self._resolved, None
        # Resolved for this very spawn, unless something changed the user,
        # image or options since (a caller that sets the image afterwards).
        earlier = resolved[1] if resolved is not None and resolved[0] == self._spawn_key() else None
        with refusals_as_http_errors(self.log, self.user.name):
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
