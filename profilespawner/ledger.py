"""The hub's count of what its servers hold against budgets (SPEC §10), and the check at spawn.

Usage is read from what KubeSpawner already watches -- the pods of its pod
reflectors (one per namespace, or one for every namespace with
``enable_user_namespaces``), each counted by its own record
(:func:`profilespawner.budgets.pod_claim`) -- plus this hub's spawns in flight:
no API request per spawn. :func:`reserve` checks a spawn (:func:`check_fits`,
the decision the profiles page's preview asks too) and records it as in
flight in one step on the event loop, with no ``await`` between the count and
the reservation, so that concurrent spawns can never overshoot. A reservation
lasts while its spawn is pending (JupyterHub's ``_spawn_pending`` /
``_start_pending``) and until :func:`release` (a stop); it is superseded as soon
as the reflector holds its pod, which then counts instead (each server once).
A pod being deleted, or gone, frees its share. After a restart the reflector's
first list holds the running pods, with their records: :func:`reserve` waits
for it (bounded by ``KubeSpawner.k8s_api_request_retry_timeout``) before it
decides.

What a spawn asks for is known before anything is created: KubeSpawner's own
resource settings, as its ``make_pod`` puts them on the notebook container,
with the resolution applied by :func:`profilespawner.apply.notebook_resources`
-- the step that builds the pod's. The metric :data:`BUDGET_COLLECTOR` reports
use and limits at each scrape.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from kubespawner import KubeSpawner
from kubespawner.objects import make_pod
from prometheus_client.core import REGISTRY, GaugeMetricFamily
from prometheus_client.registry import Collector

from .apply import notebook_resources
from .budgets import Claim, Standing, check, in_use, pod_claim, requested, standings
from .errors import UsageUnknownError
from .kubemodel import to_json
from .model import BUDGET_KEYS, NOTEBOOK_CONTAINER, Budget
from .resolve import Resolution

__all__ = [
    "BUDGET_COLLECTOR",
    "asked_by",
    "check_fits",
    "claims",
    "in_flight",
    "release",
    "remember",
    "reserve",
    "standing_for",
]

#: What each spawn in flight holds: its pod's key (``namespace/name``) and its claim.
_reservations: weakref.WeakKeyDictionary[Any, tuple[str, Claim]] = weakref.WeakKeyDictionary()


def asked_by(spawner: Any, resolution: Resolution, *, gpu_resource_name: str) -> dict[str, Decimal]:
    """What ``spawner``'s server will request once ``resolution`` is applied:
    KubeSpawner's own resources (``cpu_guarantee``, ``mem_guarantee``,
    ``extra_resource_guarantees``, the limits, ``extra_container_config``) as
    its ``make_pod`` builds them, then the profiles'. Computed for every
    spawn, budgeted or not: it raises
    :class:`~profilespawner.errors.ResourceConflictError` when a request ends
    up above its limit (:func:`profilespawner.apply.notebook_resources`),
    before anything is created."""
    pod = make_pod(
        name=spawner.pod_name,
        cmd=["jupyterhub-singleuser"],
        port=spawner.port,
        image=spawner.image,
        cpu_limit=spawner.cpu_limit,
        cpu_guarantee=spawner.cpu_guarantee,
        mem_limit=spawner.mem_limit,
        mem_guarantee=spawner.mem_guarantee,
        extra_resource_limits=spawner.extra_resource_limits,
        extra_resource_guarantees=spawner.extra_resource_guarantees,
        extra_container_config=spawner.extra_container_config,
    )
    container = next(c for c in pod.spec.containers if c.name == NOTEBOOK_CONTAINER)
    resources = notebook_resources(to_json(container), resolution, gpu_resource_name=gpu_resource_name)
    return requested(resources, gpu_resource_name=gpu_resource_name)


def _pod_reflectors() -> Iterator[Any]:
    for (kind, *_), reflector in list(KubeSpawner.reflectors.items()):
        if kind == "pods":
            yield reflector


def _pending(spawner: Any) -> bool:
    return bool(getattr(spawner, "_spawn_pending", False) or getattr(spawner, "_start_pending", False))


def claims(*, gpu_resource_name: str, exclude: str | None = None) -> list[Claim]:
    """Every server that counts now: the reflectors' pods by their records,
    and the spawns in flight whose pod does not count yet; ``exclude``
    (a pod key) leaves out one server."""
    counted: dict[str, Claim] = {}
    for reflector in _pod_reflectors():
        for key, pod in list(reflector.pods.items()):
            claim = pod_claim(pod, gpu_resource_name=gpu_resource_name)
            if claim is not None:
                counted[key] = claim
    for spawner, (key, claim) in list(_reservations.items()):
        if key in counted or not _pending(spawner):
            continue
        counted[key] = claim
    counted.pop(exclude or "", None)
    return list(counted.values())


def in_flight() -> list[str]:
    """The pod keys (``namespace/name``) of the spawns in flight that hold a
    share now, sorted: what changes the count besides the pods themselves,
    told cheaply (the profiles page's live part)."""
    return sorted(key for spawner, (key, _) in list(_reservations.items()) if _pending(spawner))


def _pod_key(spawner: Any) -> str:
    return f"{spawner.namespace}/{spawner.pod_name}"


async def _pods_loaded(spawner: Any) -> None:
    """Wait for the pod reflector's first list (it starts it when needed)."""
    reflector = spawner.pod_reflector
    if reflector is not None and reflector.first_load_future.done():
        return
    timeout = spawner.k8s_api_request_retry_timeout
    try:
        await asyncio.wait_for(asyncio.shield(spawner._start_watching_pods()), timeout)
    except Exception as error:
        raise UsageUnknownError(
            f"the hub could not list the notebook pods within {timeout} seconds to count "
            "what its budgets hold; try again shortly"
        ) from error


async def reserve(
    spawner: Any, resolution: Resolution, *, asked: Mapping[str, Decimal], gpu_resource_name: str
) -> None:
    """Check ``spawner``'s spawn, which asks for ``asked`` (:func:`asked_by`),
    against the budgets covering its user and, when it fits, hold its share
    until its pod counts (or the spawn ends).

    Raises :class:`~profilespawner.errors.BudgetExceededError` (or
    :class:`~profilespawner.errors.UsageUnknownError` when the pods cannot be
    listed); a refused spawn holds nothing.
    """
    _reservations.pop(spawner, None)
    if not resolution.budget_limits:
        return
    await _pods_loaded(spawner)
    # From here to the reservation nothing awaits: no other spawn runs in between.
    key = _pod_key(spawner)
    _reservations.pop(spawner, None)
    check_fits(
        resolution, user=spawner.user.name, asked=asked, gpu_resource_name=gpu_resource_name, exclude=key
    )
    _reservations[spawner] = (key, Claim(spawner.user.name, resolution.budgets, dict(asked)))


def check_fits(
    resolution: Resolution,
    *,
    user: str,
    asked: Mapping[str, Decimal],
    gpu_resource_name: str,
    exclude: str | None = None,
) -> None:
    """The decision :func:`reserve` makes, without reserving anything: does a
    server of ``user`` asking for ``asked`` fit the budgets of ``resolution``,
    given what the hub's servers hold now (:func:`claims`; ``exclude``, a pod
    key, leaves one out)? The profiles page's preview asks it too.

    Raises :class:`~profilespawner.errors.BudgetExceededError`.
    """
    if resolution.budget_limits:
        others = claims(gpu_resource_name=gpu_resource_name, exclude=exclude)
        check(resolution.budget_limits, others, user=user, asked=asked)


def release(spawner: Any) -> None:
    """Drop what ``spawner``'s spawn held in flight (its spawn failed or it stops)."""
    _reservations.pop(spawner, None)


def standing_for(budgets: tuple[Budget, ...], user: str, *, gpu_resource_name: str) -> list[Standing]:
    """The limits of ``budgets`` as they stand for ``user`` now (for the spawn form)."""
    return standings(budgets, claims(gpu_resource_name=gpu_resource_name), user=user)


# -- the metric --------------------------------------------------------------------------


class _Reported:
    """The budgets the metric reports: those of the profile set the last spawn
    or spawn form used, with the GPU resource name they count."""

    budgets: Mapping[str, Budget] = {}
    gpu_resource_name = "nvidia.com/gpu"


def remember(budgets: Mapping[str, Budget], gpu_resource_name: str) -> None:
    """The budgets of the profile set a spawn or a spawn form just used: the
    metric reports these."""
    _Reported.budgets = dict(budgets)
    _Reported.gpu_resource_name = gpu_resource_name


class _BudgetCollector(Collector):
    """``profilespawner_budget_in_use`` and ``profilespawner_budget_limit``, at each scrape."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        used = GaugeMetricFamily(
            "profilespawner_budget_in_use",
            "What the servers counting against a budget request, summed over everyone it "
            "covers (running and being spawned); gpu in GPUs, cpu in cores, memory in bytes",
            labels=["budget", "key"],
        )
        limit = GaugeMetricFamily(
            "profilespawner_budget_limit",
            "A budget's limit: over everyone it covers (scope total) or over each user's "
            "own servers (scope per_user)",
            labels=["budget", "key", "scope"],
        )
        reported = _Reported.budgets
        if reported:
            counted = claims(gpu_resource_name=_Reported.gpu_resource_name)
            for name, budget in sorted(reported.items()):
                amounts = in_use(counted, name)
                for key in BUDGET_KEYS:
                    used.add_metric([name, key], float(amounts[key]))
                for scope in ("total", "per_user"):
                    for key, amount in getattr(budget, scope).items():
                        limit.add_metric([name, key, scope], float(amount))
        yield used
        yield limit


#: Registered in the default registry, which JupyterHub serves at ``/metrics``.
BUDGET_COLLECTOR = _BudgetCollector()
REGISTRY.register(BUDGET_COLLECTOR)
