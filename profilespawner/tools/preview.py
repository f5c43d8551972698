"""The pod a user would get, built as the hub builds it but without a cluster.

For tools (the CLI) and tests: a :class:`~profilespawner.ProfileKubeSpawner`
made by :func:`~profilespawner.tools.offline.offline_spawner`, configured like the hub
(optionally from its ``jupyterhub_config.py``) but reading profiles from files
and from profile sets the caller already has (ConfigMaps the CLI read, say)
-- ``configmap_name`` and ``label_selector`` are forced to ``""``, so nothing
here talks to Kubernetes. The steps are the spawner's own:
``load_user_options()``, ``get_pod_manifest()``, then ``modify_pod_hook`` as
``KubeSpawner.start`` calls it. Each call replaces the process's
:class:`~profilespawner.SingleuserProfiles` instance, so this is not for use
inside a running hub.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

from jupyterhub.utils import maybe_future
from kubespawner import KubeSpawner
from tornado import web
from traitlets.config import Config

from ..errors import ProfileError
from ..kubemodel import to_json
from ..model import JSON, ProfileSet
from ..profiles import SingleuserProfiles
from ..spawner import ProfileKubeSpawner
from .explain import Explanation, explain
from .offline import offline_spawner

__all__ = ["Preview", "preview_spawn"]


@dataclass(frozen=True)
class Preview:
    """One would-be spawn: KubeSpawner's pod, the final pod, and why."""

    pod: JSON
    base_pod: JSON
    image: str
    explanation: Explanation


class _PreviewProfiles(SingleuserProfiles):
    """The files' profiles, then ``extra`` (profile sets given by the caller),
    as if they came from the ConfigMaps. A preview counts no usage: what the
    hub's servers hold of a budget is the hub's to check, when the spawn starts."""

    extra: tuple[ProfileSet, ...] = ()
    counts_usage = False

    async def load_profiles(self, spawner: KubeSpawner | None = None) -> ProfileSet:
        files = await super().load_profiles(spawner)
        return ProfileSet.combine([files, *self.extra])


def _clear_instances() -> None:
    # _PreviewProfiles.clear_instance() also clears SingleuserProfiles' (its parent's)
    _PreviewProfiles.clear_instance()
    SingleuserProfiles.clear_instance()


def _offline_config(files: Sequence[str], config: Config | None) -> Config:
    cfg = copy.deepcopy(config) if config is not None else Config()
    cfg.SingleuserProfiles.files = list(files)
    cfg.SingleuserProfiles.configmap_name = ""
    cfg.SingleuserProfiles.label_selector = ""
    return cfg


async def preview_spawn(
    files: Sequence[str],
    *,
    user: str,
    groups: Sequence[str] = (),
    image: str | None = None,
    size: str | None = None,
    gpu_type: str | None = None,
    cpu: str | None = None,
    memory: str | None = None,
    gpu: str | None = None,
    config: Config | None = None,
    profile_sets: Sequence[ProfileSet] = (),
) -> Preview:
    """Build the pod ``user`` would get from ``files``, then ``profile_sets``
    (valid sets in precedence order, as from ConfigMaps); call inside an event loop.

    ``image`` overrides the configured one (default: KubeSpawner's own);
    ``size``, ``gpu_type``, ``cpu``, ``memory`` and ``gpu`` are the
    ``user_options`` of the spawn. Raises
    :class:`~profilespawner.errors.UserOptionError` for a size, GPU type or
    range value the user may not pick,
    :class:`~profilespawner.errors.ResourceConflictError` when a request ends
    up above its limit and :class:`~profilespawner.errors.MountConflictError`
    when two volumes end up at one mount path -- the spawns the hub would refuse.
    """
    choices = {"size": size, "gpu_type": gpu_type, "cpu": cpu, "memory": memory, "gpu": gpu}
    options = {key: value for key, value in choices.items() if value is not None}
    _clear_instances()
    try:
        # created before the spawner asks SingleuserProfiles.instance(), so that it gets this one
        profiles = _PreviewProfiles.instance(config=_offline_config(files, config))
        profiles.extra = tuple(profile_sets)
        return await _preview(files, user, groups, image, options, config)
    except web.HTTPError as e:
        # the spawner turns a refusal into an HTTP error for JupyterHub; tools want the cause
        if isinstance(e.__cause__, ProfileError):
            raise e.__cause__ from None
        raise
    finally:
        _clear_instances()


async def _preview(
    files: Sequence[str],
    user: str,
    groups: Sequence[str],
    image: str | None,
    options: dict[str, str],
    config: Config | None,
) -> Preview:
    spawner = offline_spawner(
        ProfileKubeSpawner,
        user=user,
        groups=list(groups),
        user_options=options,
        config=_offline_config(files, config),
    )
    await spawner.load_user_options()
    if image is not None:
        spawner.image = image
    base_pod = to_json(await KubeSpawner.get_pod_manifest(spawner))
    pod = await spawner.get_pod_manifest()
    if spawner.modify_pod_hook:  # as KubeSpawner.start does
        pod = await maybe_future(spawner.modify_pod_hook(spawner, pod))
    pod_json = to_json(pod)
    profiles = spawner.singleuser_profiles
    explanation = explain(
        await profiles.load_profiles(),
        user=user,
        groups=groups,
        image=spawner.image,
        size=options.get("size"),
        gpu_type=options.get("gpu_type"),
        cpu=options.get("cpu"),
        memory=options.get("memory"),
        gpu=options.get("gpu"),
        gpu_resource_name=profiles.gpu_resource_name,
        base_pod=base_pod,
        pod=pod_json,
    )
    return Preview(pod=pod_json, base_pod=base_pod, image=spawner.image, explanation=explanation)
