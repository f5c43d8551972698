"""Would the cluster accept the pods? Server-side dry runs of every targeted spawn.

A dry run renders the pod of each :class:`~profilespawner.tools.targets.Combination`
offline (:func:`~profilespawner.tools.preview.preview_spawn`) and submits it as
``POST /api/v1/namespaces/NS/pods?dryRun=All``: the API server validates it
and runs admission (LimitRange, ResourceQuota, Pod Security, webhooks) without
storing anything. Pods are submitted under ``generateName`` so that a running
server of the same name does not turn the check into a name conflict.
:func:`check_cluster` is what ``profilespawner validate`` asks a cluster:
its profile ConfigMaps, then the dry runs of what all the valid sources
target. Every request goes through :mod:`profilespawner.sources.kubeapi`.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from traitlets.config import Config

from ..errors import ProfileError
from ..model import DEFAULT_MOUNT_PATH, JSON, ProfileSet
from ..policy import DEFAULT_POLICY, Policy
from ..sources import kubeapi
from .cluster import ClusterProfiles, read_configmaps
from .lint import FileReport, Problem
from .targets import Combination, combinations, untested_patterns

__all__ = [
    "ClusterCheck",
    "ConfigMapSettings",
    "Trial",
    "check_cluster",
    "dry_run_pod",
    "dry_run_source",
    "server_dry_run",
    "trial_problems",
]

Outcome = Literal["accepted", "rejected", "refused"]


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
                **dict(combination.values),
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


def dry_run_source(namespace: str) -> str:
    """How problems of the dry runs name their source."""
    return f"server dry run in {namespace}"


@dataclass(frozen=True)
class ConfigMapSettings:
    """Which profile ConfigMaps to read, as ``SingleuserProfiles`` names them."""

    configmap_name: str
    label_selector: str
    key: str
    default_mount_path: str = DEFAULT_MOUNT_PATH


@dataclass(frozen=True)
class ClusterCheck:
    """What a cluster says about the profiles.

    ``configmaps``: its profile ConfigMaps, when asked for. ``trials``: the
    dry runs, when tried; ``untested``: the ``images`` patterns no tried image
    matches. The dry runs are not tried when a source is invalid
    (``skipped``) or when the profiles target more spawns than allowed
    (``too_many`` is how many).
    """

    namespace: str
    configmaps: ClusterProfiles | None = None
    trials: tuple[Trial, ...] | None = None
    untested: tuple[Problem, ...] = ()
    skipped: bool = False
    too_many: int | None = None


async def check_cluster(
    api: Any,
    *,
    namespace: str,
    file_reports: Sequence[FileReport],
    configmaps: ConfigMapSettings | None,
    dry_run: bool,
    images: Sequence[str] = (),
    range_values: Mapping[str, str] = {},
    max_combinations: int,
    config: Config | None,
    policy: Policy = DEFAULT_POLICY,
) -> ClusterCheck:
    """Read the profile ConfigMaps of ``namespace`` (with ``configmaps``), then,
    with ``dry_run``, try the pod of every spawn the files' and ConfigMaps'
    valid profiles target (:func:`~profilespawner.tools.targets.combinations`
    with ``images`` and ``range_values``), at most ``max_combinations`` of them.

    Raises :class:`~profilespawner.errors.KubeApiError` when the cluster
    cannot be asked and ``traitlets.TraitError`` for an invalid configuration.
    """
    read = None
    reports = list(file_reports)
    if configmaps is not None:
        read = await read_configmaps(
            api,
            namespace=namespace,
            configmap_name=configmaps.configmap_name,
            label_selector=configmaps.label_selector,
            key=configmaps.key,
            default_mount_path=configmaps.default_mount_path,
            policy=policy,
        )
        reports += read.reports
    if not dry_run:
        return ClusterCheck(namespace, read)
    if any(r.errors for r in reports):
        return ClusterCheck(namespace, read, skipped=True)
    profile_sets = [r.profile_set for r in reports if r.profile_set is not None]
    profile_set = ProfileSet.combine(profile_sets)
    tries = combinations(profile_set, images=images, range_values=range_values)
    if len(tries) > max_combinations:
        return ClusterCheck(namespace, read, too_many=len(tries))
    trials = await server_dry_run(
        api, namespace=namespace, combinations=tries, profile_sets=profile_sets, config=config
    )
    tried = {t.image for t in trials if t.image}
    untested = tuple(
        Problem(
            "warning",
            dry_run_source(namespace),
            f"pattern {pattern!r} matches none of the images tried ({', '.join(sorted(tried))}); "
            "give an --image it matches to try it",
            profile=f"profile {profile.name!r}",
            field="images",
        )
        for profile, pattern in untested_patterns(profile_set, tried)
    )
    return ClusterCheck(namespace, read, tuple(trials), untested)


def trial_problems(check: ClusterCheck) -> list[Problem]:
    """The dry runs' errors (a pod rejected, a spawn the hub refuses) and warnings."""
    source = dry_run_source(check.namespace)
    problems = []
    for trial in check.trials or ():
        if trial.outcome == "rejected":
            problems.append(Problem("error", source, f"{trial.describe()}: rejected: {trial.detail}"))
        elif trial.outcome == "refused":
            refused = f"{trial.describe()}: the hub would refuse the spawn: {trial.detail}"
            problems.append(Problem("error", source, refused))
    return problems + list(check.untested)
