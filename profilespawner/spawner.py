"""``ProfileKubeSpawner``: KubeSpawner whose pods get the matching profiles.

Traits and glue only: the spawner is built on the functions of
:mod:`.hooks` -- the very ones plain KubeSpawner is given as its hooks -- so
both give the same form, the same refusals and the same pods; every rule
lives in the modules :class:`~profilespawner.SingleuserProfiles` calls, and
in :mod:`.failures` (why a server did not start). A spawn resolves once, in
``load_user_options``, before KubeSpawner creates anything; its pod gets what
was checked.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from jupyterhub.utils import AnyTimeoutError
from kubespawner import KubeSpawner
from traitlets import default

from . import hooks, ledger
from .failures import not_started_reason, refusal_reason
from .httperrors import http_error
from .profiles import SingleuserProfiles
from .sources.kubeapi import api_error_answer

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
        return await hooks.spawn_form(self, KubeSpawner._options_form_default(self))

    def _options_from_form(self, formdata: dict[str, list[str]]) -> dict[str, Any]:
        return hooks.form_options(self, formdata, super()._options_from_form)

    async def load_user_options(self) -> None:
        self._applied_profiles = ""
        await super().load_user_options()
        await hooks.check_spawn(self)

    def start(self) -> Any:
        """KubeSpawner's start; a spawn that fails says why (see :mod:`.failures`):
        the API server's reason when it forbids the pod (HTTP 403 to the user),
        the pod's status when it has not started within ``start_timeout``."""
        # Before the hub starts its start_timeout clock, which begins when this returns.
        began = time.monotonic()
        started = self._start_explained(super().start(), began)
        return asyncio.ensure_future(self._releasing_on_failure(started))

    async def _releasing_on_failure(self, started: Any) -> Any:
        try:
            return await started
        except BaseException:
            ledger.release(self)  # a failed spawn holds nothing of its budgets
            raise

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

    async def stop(self, now: bool = False) -> None:
        """KubeSpawner's stop; what the spawn held of its budgets in flight is freed."""
        ledger.release(self)
        await super().stop(now=now)

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
        pod, resolution = await hooks.apply_checked(self, pod)
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
