"""The command line's view of a cluster: profile ConfigMaps read once, and
would-be pods tried with server-side dry runs.

The hub keeps its ConfigMaps current with a list+watch cache
(:mod:`profilespawner.sources.configmaps`); a command needs them once. It
lists them with the same queries (the named one by field selector, the
labelled ones by label selector), orders them with the same
:func:`~profilespawner.sources.documents.source_order` and reads each the
same way, so it sees what the hub's next spawn would see. Every request goes
through :mod:`profilespawner.sources.kubeapi`; nothing here keeps a
connection, retries or watches.

A dry run renders the pod of each :class:`~profilespawner.tools.targets.Combination`
offline (:func:`~profilespawner.tools.preview.preview_spawn`) and submits it as
``POST /api/v1/namespaces/NS/pods?dryRun=All``: the API server validates it
and runs admission (LimitRange, ResourceQuota, Pod Security, webhooks) without
storing anything. Pods are submitted under ``generateName`` so that a running
server of the same name does not turn the check into a name conflict.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from traitlets.config import Config

from ..errors import ProfileError
from ..model import DEFAULT_MOUNT_PATH, JSON, ProfileSet
from ..policy import DEFAULT_POLICY, Policy
from ..sources import kubeapi
from ..sources.documents import source_order
from .lint import FileReport, check_configmap
from .targets import Combination

__all__ = ["ClusterProfiles", "Trial", "dry_run_pod", "read_configmaps", "server_dry_run"]

Outcome = Literal["accepted", "rejected", "refused"]


@dataclass(frozen=True)
class ClusterProfiles:
    """The profile ConfigMaps of a namespace, checked, in precedence order.

    ``missing`` is the named ConfigMap's name when it does not exist (which
    the hub does not mind either).
    """

    namespace: str
    reports: tuple[FileReport, ...]
    missing: str | None = None


async def read_configmaps(
    api: Any,
    *,
    namespace: str,
    configmap_name: str,
    label_selector: str,
    key: str,
    default_mount_path: str = DEFAULT_MOUNT_PATH,
    policy: Policy = DEFAULT_POLICY,
) -> ClusterProfiles:
    """List the profile ConfigMaps once and check each, as the hub would read
    them (``policy`` included).

    Raises :class:`~profilespawner.errors.KubeApiError` when a list fails.
    """
    by_name: dict[str, dict[str, Any]] = {}
    named = None
    if configmap_name:
        query = kubeapi.ConfigMapQuery(namespace, field_selector=f"metadata.name={configmap_name}")
        listing = await kubeapi.list_configmaps(api, query)
        by_name.update((_name(item), item) for item in listing.items)
        named = configmap_name if configmap_name in by_name else None
    labelled: list[str] = []
    if label_selector:
        listing = await kubeapi.list_configmaps(api, kubeapi.ConfigMapQuery(namespace, label_selector))
        for item in listing.items:
            labelled.append(_name(item))
            by_name.setdefault(_name(item), item)
    reports = tuple(
        check_configmap(
            by_name[name],
            source=f"{namespace}/{name}",
            key=key,
            default_mount_path=default_mount_path,
            policy=policy,
        )
        for name in source_order(named, labelled)
    )
    missing = configmap_name if configmap_name and named is None else None
    return ClusterProfiles(namespace, reports, missing)


def _name(item: dict[str, Any]) -> str:
    return str((item.get("metadata") or {}).get("name", ""))


# -- server-side dry runs ------------------------------------------------------------


@dataclass(frozen=True)
class Trial:
    """What became of one combination.

    ``accepted``: the API server would create the pod. ``rejected``: it would
    not (validation or admission); ``detail`` is its reason and message.
    ``refused``: the hub itself would refuse the spawn (a request above its
    limit), so no pod was submitted; ``detail`` says why. ``image`` is the
    image the pod got.
    """

    combination: Combination
    image: str
    outcome: Outcome
    detail: str = ""

    def describe(self) -> str:
        return self.combination.describe(self.image)


def dry_run_pod(pod: JSON, namespace: str) -> JSON:
    """``pod`` as a dry run submits it: in ``namespace``, named by ``generateName``."""
    pod = copy.deepcopy(pod)
    metadata = pod.setdefault("metadata", {})
    name = metadata.pop("name", None) or "jupyter"
    metadata["generateName"] = f"{name}-"
    metadata["namespace"] = namespace
    metadata.pop("resourceVersion", None)
    return pod


async def server_dry_run(
    api: Any,
    *,
    namespace: str,
    combinations: Sequence[Combination],
    profile_sets: Sequence[ProfileSet],
    config: Config | None = None,
) -> list[Trial]:
    """Render the pod of each combination from ``profile_sets`` (with the hub
    settings of ``config``) and submit it as a dry-run create in ``namespace``.

    Raises :class:`~profilespawner.errors.KubeApiError` when the API
    server does not judge a pod (no answer, no permission to create pods, no
    such namespace) and ``traitlets.TraitError`` for an invalid configuration.
    """
    from .preview import preview_spawn  # imports KubeSpawner: only when needed

    trials = []
    for combination in combinations:
        identity = combination.identity
        try:
            preview = await preview_spawn(
                (),
                user=identity.user,
                groups=identity.groups,
                image=combination.image,
                size=combination.size,
                config=config,
                profile_sets=profile_sets,
            )
        except ProfileError as e:
            trials.append(Trial(combination, combination.image or "", "refused", str(e)))
            continue
        name = str(preview.pod.get("metadata", {}).get("name") or "jupyter")
        answer = await kubeapi.dry_run_create_pod(api, namespace, dry_run_pod(preview.pod, namespace))
        if answer.accepted:
            trials.append(Trial(combination, preview.image, "accepted"))
            continue
        message = answer.message
        if answer.name:
            # the server names the pod it generated; the hub's pod has the plain name
            message = message.replace(f'"{answer.name}"', f'"{name}"')
        reason = answer.reason or f"HTTP {answer.status}"
        trials.append(Trial(combination, preview.image, "rejected", f"{reason}: {message}"))
    return trials
