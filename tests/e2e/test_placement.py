"""Where servers run, decided by the real kube-scheduler on the Nodes of
``tests/e2e/nodes.yaml``: a GPU type picks its GPU pool, a server without a
GPU stays off the tainted GPU nodes, ``node_selector`` and ``node_affinity``
place as written, and a ResourceQuota refuses what it must, with its message.
(A size larger than any node: ``test_browser.py``, as the spawn page shows it.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest

from .helpers import wait_until
from .stack import LocalStack

GPU = "nvidia.com/gpu"


def node_of(stack: LocalStack, user: str) -> str:
    pod = stack.pod_of(user)
    assert pod is not None, f"{user} has no pod"
    return str(pod["spec"].get("nodeName") or "")


def taints(stack: LocalStack, node: str) -> list[dict[str, Any]]:
    manifest = stack.get("Node", node)
    assert manifest is not None, node
    return list(manifest["spec"].get("taints") or [])


@pytest.mark.parametrize(
    ("user", "gpu_type", "node"),
    [("ivy", "a100", "gpu-a100-1"), ("jay", "t4", "gpu-t4-1")],
)
def test_a_gpu_type_lands_on_its_gpu_pool(
    stack: LocalStack, spawn: Callable[..., dict[str, Any]], user: str, gpu_type: str, node: str
) -> None:
    spawn(user, size="GPU", gpu_type=gpu_type)

    assert node_of(stack, user) == node
    pod = stack.pod_of(user)
    assert pod is not None
    notebook = next(c for c in pod["spec"]["containers"] if c["name"] == "notebook")
    assert notebook["resources"]["limits"][GPU] == "1"
    model = {
        (t["key"], t.get("value")) for t in pod["spec"]["tolerations"] if t["key"] == "example.com/gpu-model"
    }
    assert model == {("example.com/gpu-model", gpu_type)}, "only the picked type's tolerations"
    record = pod["metadata"]["annotations"]
    assert (record["profilespawner/size"], record["profilespawner/gpu-type"]) == ("GPU", gpu_type)
    assert pod["status"]["phase"] == "Running"


@pytest.mark.parametrize(
    ("user", "size", "node"),
    [
        pytest.param("kim", "SSD", "ssd-1", id="node_selector-disktype-ssd"),
        # zone-b holds cpu-2 and the tainted T4 pool: the affinity leaves one node
        pytest.param("lou", "Zone B", "cpu-2", id="node_affinity-zone-b"),
    ],
)
def test_node_selection_places_as_written(
    stack: LocalStack, spawn: Callable[..., dict[str, Any]], user: str, size: str, node: str
) -> None:
    spawn(user, size=size)
    assert node_of(stack, user) == node


@pytest.fixture
def pending(stack: LocalStack) -> Iterator[Callable[..., list[dict[str, Any]]]]:
    """Start a spawn, and follow its progress (what the spawn page shows) until
    an event matches ``until``; every server is stopped at the end (a pending
    spawn is interrupted)."""
    started: list[tuple[str, Future[tuple[int, Any]]]] = []
    pool = ThreadPoolExecutor(max_workers=2)

    def start(user: str, until: Callable[[dict[str, Any]], bool], **options: Any) -> list[dict[str, Any]]:
        # The request answers once the server is up or slow_spawn_timeout has
        # passed; the progress is there as soon as the spawn is pending.
        request = pool.submit(stack.api, "POST", f"/users/{user}/server", options)
        started.append((user, request))

        def spawning() -> bool:
            assert not request.done() or request.result()[0] in (201, 202), request.result()
            status, model = stack.api("GET", f"/users/{user}")
            return status == 200 and (model["servers"].get("") or {}).get("pending") == "spawn"

        wait_until(f"the spawn of {user} to be pending", spawning)
        return stack.progress(user, until=until)

    yield start
    for user, request in started:
        stack.stop_server(user)
        request.result(timeout=60)
    pool.shutdown()


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"size": "GPU node, no GPU"}, id="no-gpu-type"),
        # a GPU type brings its tolerations only with a GPU (SPEC §6)
        pytest.param({"size": "GPU node, no GPU", "gpu_type": "a100"}, id="gpu-type-without-gpu"),
    ],
)
def test_a_server_without_a_gpu_never_lands_on_a_tainted_node(
    stack: LocalStack, pending: Callable[..., list[dict[str, Any]]], options: dict[str, Any]
) -> None:
    """Sent to the GPU nodes by its selector, a server that asks for no GPU
    stays Pending: their taints keep it off, and the spawn page says so."""
    events = pending("max", until=lambda e: "untolerated taint" in e.get("message", ""), **options)

    message = events[-1]["message"]
    assert (
        "[Warning] 0/6 nodes are available: 3 node(s) didn't match Pod's node affinity/selector, "
        "3 node(s) had untolerated taint(s)."
    ) in message, message
    pod = stack.pod_of("max")
    assert pod is not None
    assert not pod["spec"].get("nodeName")
    assert not any(t.get("key") == GPU for t in pod["spec"].get("tolerations") or []), "no GPU toleration"
    reasons = {(e["type"], e["reason"]) for e in stack.events_of(pod["metadata"]["name"])}
    assert ("Warning", "FailedScheduling") in reasons, reasons


def test_no_server_without_a_gpu_runs_on_a_gpu_node(
    stack: LocalStack, spawn: Callable[..., dict[str, Any]]
) -> None:
    """Every running server that asks for no GPU runs on an untainted node. The
    scheduler scores the least allocated nodes highest, and the GPU nodes are
    the roomiest: only their taints keep a plain server off them."""
    spawn("max", size="Medium")
    running = [pod for pod in stack.pods() if pod["status"].get("phase") == "Running"]
    assert running
    for pod in running:
        notebook = next(c for c in pod["spec"]["containers"] if c["name"] == "notebook")
        if GPU not in (notebook.get("resources") or {}).get("limits", {}):
            node = pod["spec"]["nodeName"]
            assert not taints(stack, node), f"{pod['metadata']['name']} runs on tainted {node}"


@pytest.fixture
def gpu_quota(stack: LocalStack) -> Iterator[dict[str, Any]]:
    """A ResourceQuota of two GPUs for the namespace, once the quota controller
    has filled in its status (until then the API server refuses every pod that
    it covers)."""
    quota = {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": "team-gpus"},
        "spec": {"hard": {f"requests.{GPU}": "2"}},
    }
    stack.apply(quota)
    try:

        def counted() -> bool:
            current = stack.get("ResourceQuota", "team-gpus") or {}
            return "used" in current.get("status", {})

        wait_until("the quota controller to fill in the quota's status", counted)
        yield stack.get("ResourceQuota", "team-gpus") or {}
    finally:
        stack.delete("ResourceQuota", "team-gpus")


def test_a_spawn_refused_by_a_quota_says_so(stack: LocalStack, gpu_quota: dict[str, Any]) -> None:
    """Four GPUs fit the A100 node, but not the namespace's quota of two: the
    API server refuses the pod, and the user is told the quota's message."""
    assert gpu_quota["status"] == {"hard": {f"requests.{GPU}": "2"}, "used": {f"requests.{GPU}": "0"}}
    refusal = (
        'the cluster refused the server: pods "jupyter-ora" is forbidden: exceeded quota: team-gpus, '
        f"requested: requests.{GPU}=4, used: requests.{GPU}=0, limited: requests.{GPU}=2"
    )
    logged_before = stack.hub_log.stat().st_size
    try:
        status, body = stack.api("POST", "/users/ora/server", {"size": "Four GPUs", "gpu_type": "a100"})

        assert (status, body["message"]) == (403, refusal)
        # KubeSpawner logs the refused pod: its name, never its manifest (the
        # environment holds the server's API token and the profiles' values)
        with stack.hub_log.open("rb") as log:
            log.seek(logged_before)
            logged = log.read().decode(errors="replace")
        assert "Failed to create pod jupyter-ora (its manifest is not logged" in logged
        assert "JUPYTERHUB_API_TOKEN" not in logged and "'env':" not in logged
        # what the spawn page shows
        (event,) = stack.progress("ora")
        assert event["failed"] and event["message"] == f"Spawn failed: {refusal}"
        assert stack.pod_of("ora") is None
    finally:
        stack.stop_server("ora")
