"""Budgets on the real API server: what a spawn is counted for before its pod
exists is what its pod requests once the API server has stored (and
defaulted) it, and the hub's count follows KubeSpawner's pod reflector --
a reservation until the pod shows, the pod after, nothing once it is being
deleted."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from kubespawner import KubeSpawner
from tornado import web

from profilespawner import (
    SingleuserProfiles,
    hooks,
    ledger,
    pre_spawn_hook,
)
from profilespawner.budgets import in_use, requested
from profilespawner.tools.offline import OfflineGroup, OfflineUser
from tests.controlplane.harness import ControlPlane

from .helpers import eventually, file_spawner

GPU = "nvidia.com/gpu"

PROFILES = """\
profiles:
- name: everyone
  resources: {requests: {cpu: 250m}, limits: {memory: 1Gi}}
sizes:
- name: Two GPUs
  gpu: 2
- name: Custom
  ranges:
    cpu: {min: 100m, max: "4", default: 500m}
    memory: {min: 256Mi, max: 8G, default: 1Gi}
  limit_factor: 2
- name: Limits only
  resources: {limits: {cpu: "3", memory: 3G}}
budgets:
- name: team
  groups: [team]
  total: {gpu: 2, cpu: "64", memory: 1Ti, servers: 10}
"""


@pytest.fixture
async def spawner_of(
    control_plane: ControlPlane, namespace: str, kubeconfig: Callable[[str | Path], None], tmp_path: Path
) -> Any:
    """``spawner_of(user, way, options, **KubeSpawner settings)``: a spawner in ``namespace``
    whose user is in group ``team``; ``way`` "subclass" or "hook"."""
    kubeconfig(control_plane.kubeconfig_path)
    SingleuserProfiles.clear_instance()
    profiles = tmp_path / "profiles.yaml"
    profiles.write_text(PROFILES)
    made: list[Any] = []

    def make(user: str, way: str = "subclass", options: dict[str, Any] | None = None, **settings: Any) -> Any:
        team_member = OfflineUser(user, [OfflineGroup("team")])
        spawner = file_spawner(
            way, namespace=namespace, profiles=profiles, user=team_member, settings=settings
        )
        spawner.user_options = options or {}
        made.append(spawner)
        return spawner

    yield make
    for spawner in made:
        ledger.release(spawner)
    await KubeSpawner._stop_all_reflectors()
    SingleuserProfiles.clear_instance()


async def create(spawner: Any, *, dry_run: bool) -> dict[str, Any]:
    """The pod as ``KubeSpawner.start`` makes it, created (or dry-run) with
    the spawner's own client: the API server's JSON of it, defaulted."""
    pod = await spawner.get_pod_manifest()
    if spawner.modify_pod_hook:
        pod = await spawner.modify_pod_hook(spawner, pod)
    created = await spawner.api.create_namespaced_pod(
        spawner.namespace, pod, dry_run="All" if dry_run else None
    )
    return dict(spawner.api.api_client.sanitize_for_serialization(created))


def notebook(pod: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in pod["spec"]["containers"] if c["name"] == "notebook")


@pytest.mark.parametrize("way", ["subclass", "hook"])
@pytest.mark.parametrize(
    ("options", "settings"),
    [
        pytest.param({}, {}, id="profile-only"),
        pytest.param(
            {"size": "Two GPUs"}, {"cpu_guarantee": 0.5, "mem_guarantee": "1G"}, id="gpus-and-guarantees"
        ),
        pytest.param({"size": "Custom", "cpu": "1500m", "memory": "3G"}, {"cpu_limit": 8.0}, id="ranges"),
        # No request: the API server makes each limit the request.
        pytest.param({"size": "Limits only"}, {"mem_limit": "4G"}, id="limits-only"),
        pytest.param(
            {},
            {"extra_resource_guarantees": {GPU: "1"}, "extra_resource_limits": {GPU: "1"}},
            id="kubespawner-gpu",
        ),
        pytest.param(
            {"size": "Two GPUs"},
            {"extra_resource_limits": {GPU: "2"}, "mem_guarantee": 2**30},
            id="gpu-limit-from-kubespawner",
        ),
    ],
)
async def test_what_a_spawn_is_counted_for_is_what_its_pod_requests(
    spawner_of: Any, way: str, options: dict[str, Any], settings: dict[str, Any]
) -> None:
    spawner = spawner_of("alice", way, options, **settings)
    await spawner.load_user_options()
    resolution = await hooks.check_spawn(spawner)
    asked = ledger.asked_by(spawner, resolution, gpu_resource_name=GPU)
    pod = await create(spawner, dry_run=True)
    assert requested(notebook(pod)["resources"], gpu_resource_name=GPU) == asked
    # ... and what the API server stored holds requests for every resource counted.
    stored = notebook(pod)["resources"].get("requests") or {}
    assert {k for k, v in asked.items() if v and k != "servers"} <= {
        "gpu" if name == GPU else name for name in stored
    }


async def now_() -> None:
    return None


def held(spawner: Any) -> dict[str, Any]:
    return in_use(ledger.claims(gpu_resource_name=GPU), "team")


async def test_a_server_counts_once_from_its_check_to_its_pod_and_frees_its_share_when_deleted(
    spawner_of: Any,
) -> None:
    first = spawner_of("alice", options={"size": "Two GPUs"})
    second = spawner_of("bob", options={"size": "Two GPUs"})
    for spawner in (first, second):
        spawner._spawn_pending = True  # as JupyterHub marks a spawn in flight

    # The hub's entry point: starts the reflector, checks, reserves.
    await first.load_user_options()
    assert held(first)["gpu"] == 2 and held(first)["servers"] == 1
    with pytest.raises(web.HTTPError) as refused:
        await second.load_user_options()
    assert refused.value.status_code == 403
    assert "budget 'team': total.gpu: allows 2 GPUs for everyone it covers; 2 in use" in str(refused.value)
    assert "alice" not in refused.value.log_message % refused.value.args

    await create(first, dry_run=False)
    # The pod shows in the reflector: it counts, the reservation no more (once, not twice).
    key = f"{first.namespace}/{first.pod_name}"
    await eventually(now_, lambda _: key in first.pod_reflector.pods)
    assert held(first)["gpu"] == 2 and held(first)["servers"] == 1
    first._spawn_pending = False
    assert held(first)["gpu"] == 2  # the pod itself holds it

    await first.api.delete_namespaced_pod(first.pod_name, first.namespace, grace_period_seconds=30)
    # Being deleted (deletionTimestamp, the kubelet not done yet): its share is free.
    await eventually(now_, lambda _: held(first)["gpu"] == 0)
    await second.load_user_options()
    assert held(second)["gpu"] == 2


async def test_a_failed_or_ended_spawn_holds_nothing(spawner_of: Any) -> None:
    spawner = spawner_of("alice", options={"size": "Two GPUs"})
    spawner._spawn_pending = True
    await spawner.load_user_options()
    assert held(spawner)["gpu"] == 2
    spawner._spawn_pending = False  # JupyterHub: the spawn is over, and no pod came of it
    assert held(spawner)["gpu"] == 0
    spawner._spawn_pending = True
    ledger.release(spawner)  # a stop
    assert held(spawner)["gpu"] == 0


async def test_the_hook_refuses_past_a_budget_with_403(spawner_of: Any) -> None:
    """Plain KubeSpawner with profilespawner's pre_spawn_hook: the same check."""
    first = spawner_of("alice", "hook", {"size": "Two GPUs"})
    second = spawner_of("bob", "hook", {"size": "Two GPUs"})
    for spawner in (first, second):
        spawner._start_pending = True  # JupyterHub runs pre_spawn_hook with it set
    await pre_spawn_hook(first)
    with pytest.raises(web.HTTPError) as refused:
        await pre_spawn_hook(second)
    assert refused.value.status_code == 403
    assert "budget 'team': total.gpu" in str(refused.value)
    # The refused spawn holds nothing: the first one's share is all that is held.
    assert held(first)["gpu"] == 2 and held(first)["servers"] == 1


async def test_with_user_namespaces_the_pods_of_every_namespace_count(
    spawner_of: Any, control_plane: ControlPlane
) -> None:
    """``enable_user_namespaces``: one reflector watches every namespace, and
    a server in one user's namespace holds the budget for everyone."""
    template = f"budget-{secrets.token_hex(3)}-{{username}}"
    settings = {"enable_user_namespaces": True, "user_namespace_template": template}
    first = spawner_of("alice", options={"size": "Two GPUs"}, **settings)
    second = spawner_of("bob", options={"size": "Two GPUs"}, **settings)
    assert first.namespace != second.namespace
    try:
        for spawner in (first, second):
            control_plane.create_namespace(spawner.namespace, labels={"profilespawner-test": "integration"})
            spawner._spawn_pending = True
        await first.load_user_options()
        await create(first, dry_run=False)
        first._spawn_pending = False  # from now on only its pod holds the budget
        key = f"{first.namespace}/{first.pod_name}"
        await eventually(now_, lambda _: key in first.pod_reflector.pods)
        assert first.pod_reflector is second.pod_reflector  # one for all namespaces
        with pytest.raises(web.HTTPError) as refused:
            await second.load_user_options()
        assert refused.value.status_code == 403
    finally:
        for spawner in (first, second):
            control_plane.delete_namespace(spawner.namespace)
