"""Budgets (SPEC §10) on a real hub, the real scheduler and the test nodes:
concurrent spawns never overshoot, a stopped server frees its share, named
servers count per user, a restarted hub still counts what runs, a budget
edited in its ConfigMap applies to the next spawn and stops nothing, a user
in two groups is held by both, and the hub's ``/metrics`` and spawn page say
where each budget stands.

The hub of this module is its own (its namespace, its ConfigMap), on the
session's control plane and Nodes: its servers ask for GPUs of the
``gpu-h100-1`` pool of tests/e2e/nodes.yaml (eight), so the scheduler can run
every server a budget of eight allows. ``cleanup_servers`` is off, so that
servers outlive a hub restart.
"""

from __future__ import annotations

import json
import os
import re
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.controlplane.harness import ControlPlane

from .helpers import CONFIGMAP_KEY, PROFILE_LABEL, notebook_resources, wait_until
from .stack import LocalStack, NodeSet

GPU = "nvidia.com/gpu"

#: The ten users of the concurrency test; all in the team of the eight-GPU budget.
RACERS = [f"racer{i}" for i in range(10)]

USERS = {
    **{user: ["gpu-team"] for user in RACERS},
    "nia": [],  # named servers, two per user
    "pat": ["gpu-team", "ml"],  # held by both budgets
    "quin": ["ml"],
}

PROFILES = """\
profiles:
- name: everyone
  resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {cpu: 500m, memory: 512Mi}}
sizes:
- name: Two GPUs
  gpu: 2
gpuTypes:
- type: h100
  node_tolerations:
  - {key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}
  - {key: example.com/gpu-model, operator: Equal, value: h100, effect: NoSchedule}
budgets:
- name: team-gpus
  groups: [gpu-team]
  total: {gpu: @GPUS@}
- name: ml-servers
  groups: [ml]
  total: {servers: 1}
- name: two-each
  users: [nia]
  per_user: {servers: 2}
"""

#: How many times the concurrency test runs its ten spawns.
ROUNDS = int(os.environ.get("PROFILESPAWNER_BUDGET_ROUNDS", "20"))


def budget_configmap(gpus: int = 8) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "budgets", "labels": dict(PROFILE_LABEL)},
        "data": {CONFIGMAP_KEY: PROFILES.replace("@GPUS@", str(gpus))},
    }


@pytest.fixture(scope="module")
def hub(
    e2e_ready: ControlPlane, nodes: NodeSet, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalStack]:
    with LocalStack(
        tmp_path_factory.mktemp("budgets"),
        control_plane=e2e_ready,
        nodes=nodes,
        manifests=[budget_configmap()],
        users=USERS,
        extra_config="\n".join(
            [
                "c.JupyterHub.allow_named_servers = True",
                "c.JupyterHub.cleanup_servers = False",
                "c.JupyterHub.authenticate_prometheus = False",
                "c.SingleuserProfiles.configmap_name = ''",
            ]
        ),
        start_timeout=60,
    ) as stack:
        yield stack
        stop_all(stack)


def servers_of(stack: LocalStack, user: str) -> dict[str, Any]:
    status, model = stack.api("GET", f"/users/{user}")
    assert status == 200, model
    return dict(model.get("servers") or {})


def stop_all(stack: LocalStack) -> None:
    """Stop every server of the module's users, together, and wait until their pods are gone."""
    running = [(user, name) for user in USERS for name in servers_of(stack, user)]
    with ThreadPoolExecutor(max_workers=10) as pool:
        for user, name in running:
            pool.submit(
                stack.api, "DELETE", f"/users/{user}/servers/{name}" if name else f"/users/{user}/server"
            )
    wait_until(
        "every server and pod of the budget hub to be gone",
        lambda: not stack.pods() and not any(servers_of(stack, u) for u in USERS),
        timeout=120,
    )


@pytest.fixture
def clean(hub: LocalStack) -> Iterator[LocalStack]:
    """The hub, every server of its users stopped after the test."""
    yield hub
    stop_all(hub)


def start(stack: LocalStack, user: str, server: str = "", **options: Any) -> tuple[str, str]:
    """Spawn through the REST API and follow it to its end: ("ready", "") or
    ("refused", the message the REST API or the spawn's progress gave)."""
    path = f"/users/{user}/servers/{server}" if server else f"/users/{user}/server"
    status, body = stack.api("POST", path, options, timeout=120)
    if status == 403:
        return "refused", str(body.get("message") if isinstance(body, dict) else body)
    assert status in (201, 202), (status, body)
    if status == 201:
        return "ready", ""
    # Still pending after slow_spawn_timeout: what the spawn page follows.
    progress_path = f"/users/{user}/servers/{server}/progress" if server else f"/users/{user}/server/progress"
    events = progress(stack, progress_path)
    last = events[-1] if events else {}
    return ("ready", "") if last.get("ready") else ("refused", str(last.get("message")))


def progress(stack: LocalStack, path: str) -> list[dict[str, Any]]:
    request = urllib.request.Request(f"{stack.url}/hub/api{path}")
    request.add_header("Authorization", f"token {stack.api_token}")
    request.add_header("Accept", "text/event-stream")
    events: list[dict[str, Any]] = []
    with urllib.request.urlopen(request, timeout=120) as stream:
        for raw in stream:
            line = raw.decode().strip()
            if line.startswith("data:"):
                events.append(json.loads(line[5:]))
                if events[-1].get("ready") or events[-1].get("failed"):
                    break
    return events


def gpus_held(stack: LocalStack) -> int:
    """GPUs requested by the notebook pods not being deleted: what the scheduler holds."""
    return sum(
        int((notebook_resources(pod).get("requests") or {}).get(GPU, 0))
        for pod in stack.pods()
        if not pod["metadata"].get("deletionTimestamp")
    )


def metric(stack: LocalStack, name: str, **labels: str) -> float:
    with urllib.request.urlopen(f"{stack.url}/hub/metrics", timeout=30) as response:
        text = response.read().decode()
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith(f"{name}{{"):
            got = ",".join(sorted(line[line.index("{") + 1 : line.index("}")].split(",")))
            if got == wanted:
                return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no {name}{{{wanted}}} in /metrics")


FULL = (
    "budget 'team-gpus': total.gpu: allows 8 GPUs for everyone it covers; 8 in use, "
    "and this server asks for 2"
)


def race(stack: LocalStack) -> list[tuple[str, str]]:
    """The ten racers spawn two GPUs each, all at once."""
    with ThreadPoolExecutor(max_workers=len(RACERS)) as pool:
        return list(pool.map(lambda user: start(stack, user, size="Two GPUs"), RACERS))


def test_concurrent_spawns_never_overshoot_and_a_stopped_server_frees_its_share(clean: LocalStack) -> None:
    stack = clean
    began = time.monotonic()
    for round_ in range(ROUNDS):
        outcomes = race(stack)
        ready = [user for user, (outcome, _) in zip(RACERS, outcomes, strict=True) if outcome == "ready"]
        refusals = [message for outcome, message in outcomes if outcome == "refused"]
        assert len(ready) == 4, (round_, outcomes)
        assert len(refusals) == 6, (round_, outcomes)
        for message in refusals:
            assert FULL in message, (round_, message)
            assert not any(user in message for user in RACERS), message  # no other user's name
        assert gpus_held(stack) == 8, round_
        if round_ < ROUNDS - 1:
            stop_all(stack)
    elapsed = time.monotonic() - began
    print(f"\n{ROUNDS} rounds of 10 concurrent spawns: {elapsed:.1f} s ({elapsed / ROUNDS:.1f} s a round)")

    # The budget is full: stop one server, and the next spawn gets its share.
    assert metric(stack, "profilespawner_budget_in_use", budget="team-gpus", key="gpu") == 8
    assert metric(stack, "profilespawner_budget_limit", budget="team-gpus", key="gpu", scope="total") == 8
    refused = next(user for user in RACERS if not servers_of(stack, user))
    outcome, message = start(stack, refused, size="Two GPUs")
    assert outcome == "refused" and FULL in message, message
    first = next(user for user in RACERS if servers_of(stack, user))
    stack.stop_server(first)
    assert metric(stack, "profilespawner_budget_in_use", budget="team-gpus", key="gpu") == 6
    assert start(stack, refused, size="Two GPUs") == ("ready", "")
    assert gpus_held(stack) == 8


def test_a_restarted_hub_still_counts_the_running_servers(clean: LocalStack) -> None:
    stack = clean
    outcomes = race(stack)
    assert sorted(outcome for outcome, _ in outcomes).count("ready") == 4
    running = {user for user in RACERS if servers_of(stack, user)}

    stack.restart_hub()
    # The servers ran on through the restart, and the budget is still full.
    assert {user for user in RACERS if servers_of(stack, user)} == running
    late = next(user for user in RACERS if user not in running)
    outcome, message = start(stack, late, size="Two GPUs")
    assert (outcome, FULL in message) == ("refused", True), message
    assert gpus_held(stack) == 8


def test_an_edited_budget_applies_to_the_next_spawn_and_stops_nothing(clean: LocalStack) -> None:
    stack = clean
    user_a, user_b, user_c = RACERS[:3]
    assert start(stack, user_a, size="Two GPUs") == ("ready", "")
    assert start(stack, user_b, size="Two GPUs") == ("ready", "")
    try:
        stack.apply(budget_configmap(gpus=2))  # below what runs

        # The next spawn sees it (the ConfigMap watch) and is refused; nothing stops.
        def refused_by_the_new_limit() -> bool:
            outcome, message = start(stack, user_c, size="Two GPUs")
            if outcome == "ready":
                stack.stop_server(user_c)
                return False
            return "allows 2 GPUs for everyone it covers; 4 in use" in message

        wait_until("the edited budget to refuse the next spawn", refused_by_the_new_limit, timeout=30)
        assert servers_of(stack, user_a) and servers_of(stack, user_b)
        assert gpus_held(stack) == 4
        stack.apply(budget_configmap(gpus=6))
        wait_until(
            "the raised budget to let the next spawn in",
            lambda: start(stack, user_c, size="Two GPUs")[0] == "ready",
            timeout=30,
        )
        assert gpus_held(stack) == 6
    finally:
        stack.apply(budget_configmap())


def test_per_user_servers_count_named_servers(clean: LocalStack) -> None:
    stack = clean
    assert start(stack, "nia", "one") == ("ready", "")
    assert start(stack, "nia", "two") == ("ready", "")
    outcome, message = start(stack, "nia", "three")
    assert outcome == "refused"
    assert (
        "budget 'two-each': per_user.servers: allows 2 servers per user; 2 in use by your servers" in message
    )
    status, _ = stack.api("DELETE", "/users/nia/servers/one")
    assert status in (202, 204)
    wait_until("nia's server 'one' to be gone", lambda: "one" not in servers_of(stack, "nia"), timeout=60)
    assert start(stack, "nia", "three") == ("ready", "")


def test_a_user_in_two_groups_is_held_by_both_budgets(clean: LocalStack) -> None:
    stack = clean
    # ml-servers (one server for the ml group) is taken by quin: pat is held by it,
    # though team-gpus has room.
    assert start(stack, "quin") == ("ready", "")
    outcome, message = start(stack, "pat", size="Two GPUs")
    assert outcome == "refused"
    assert "budget 'ml-servers': total.servers: allows 1 servers for everyone it covers; 1 in use" in message
    assert "quin" not in message
    stack.stop_server("quin")
    assert start(stack, "pat", size="Two GPUs") == ("ready", "")
    # pat's server counts against both.
    pod = stack.pod_of("pat")
    assert pod is not None
    assert pod["metadata"]["annotations"]["profilespawner/budgets"] == '["team-gpus","ml-servers"]'
    assert metric(stack, "profilespawner_budget_in_use", budget="ml-servers", key="servers") == 1
    assert metric(stack, "profilespawner_budget_in_use", budget="team-gpus", key="gpu") == 2
    # ... and team-gpus, when full, holds pat too, though ml-servers has room.
    stack.stop_server("pat")
    for user in RACERS[:4]:
        assert start(stack, user, size="Two GPUs") == ("ready", "")
    outcome, message = start(stack, "pat", size="Two GPUs")
    assert outcome == "refused" and FULL in message, message
    assert metric(stack, "profilespawner_budget_in_use", budget="ml-servers", key="servers") == 0


def test_the_spawn_page_says_what_the_budgets_have_left(clean: LocalStack) -> None:
    stack = clean
    assert start(stack, RACERS[0], size="Two GPUs") == ("ready", "")
    with stack.login(RACERS[1]).open(f"{stack.url}/hub/spawn", timeout=30) as response:
        page = response.read().decode()
    assert re.search(r"budget &#x27;team-gpus&#x27;: 6 of 8 GPUs left in total", page), page[-2000:]


def test_the_spawn_page_shows_the_refusal(clean: LocalStack, page: Any) -> None:
    stack = clean
    for user in RACERS[:4]:
        assert start(stack, user, size="Two GPUs") == ("ready", "")
    late = RACERS[4]
    page.goto(f"{stack.url}/hub/login")
    page.fill("#username_input", late)
    page.fill("#password_input", stack.password)
    page.click("#login_submit")
    page.wait_for_url(re.compile(r"/hub/(home|spawn)"))
    page.goto(f"{stack.url}/hub/spawn")
    assert "budget 'team-gpus': 0 of 8 GPUs left in total" in page.inner_text(".profilespawner-budgets")
    page.get_by_label("Server size").select_option("Two GPUs")
    page.get_by_role("button", name="Start").click()
    page.get_by_text("allows 8 GPUs for everyone it covers").first.wait_for()
    assert FULL in page.inner_text("body")
    assert not servers_of(stack, late) and stack.pod_of(late) is None
