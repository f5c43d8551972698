"""The test kubelet does what the end-to-end tests rely on: Nodes as
``tests/e2e/nodes.yaml`` describes them, kept Ready by heartbeats; only the
pods the scheduler bound to them, with a node's rights and no more; a
kubelet's environment, ``CreateContainerConfigError`` until a Secret exists,
and a graceful deletion that ends only when the process is gone."""

from __future__ import annotations

import os
import sys
from typing import Any

import pytest

from tests.controlplane.harness import ControlPlane

from .helpers import process_environment, wait_until
from .kubelet import LEASE_NAMESPACE, ContainerConfigError, KubeClient, load_nodes, resolve_env
from .stack import LocalStack, NodeSet

#: A container that only SIGKILL stops.
IGNORE_SIGTERM = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(300)"


def _pod(ns: str, container: dict[str, Any]) -> dict[str, Any]:
    return {
        "metadata": {"name": "p", "namespace": ns, "uid": "u-1"},
        "spec": {"containers": [{"name": "notebook", **container}]},
    }


def test_nodes_are_registered_as_the_topology_says(nodes: NodeSet) -> None:
    cp = nodes.control_plane
    status, listed = cp.request("GET", "/api/v1/nodes")
    assert status == 200, listed
    registered = {node["metadata"]["name"]: node for node in listed["items"]}
    for wanted in load_nodes(nodes.topology):
        node = registered[wanted["metadata"]["name"]]
        assert wanted["metadata"]["labels"].items() <= node["metadata"]["labels"].items()
        assert node["spec"].get("taints", []) == wanted["spec"].get("taints", [])
        assert node["status"]["capacity"] == wanted["status"]["capacity"]
        assert node["status"]["allocatable"] == wanted["status"]["allocatable"]
        ready = {c["type"]: c["status"] for c in node["status"]["conditions"]}["Ready"]
        assert ready == "True"


def test_heartbeats_renew_the_node_leases(nodes: NodeSet) -> None:
    cp = nodes.control_plane
    leases = f"/apis/coordination.k8s.io/v1/namespaces/{LEASE_NAMESPACE}/leases"

    def renewed() -> dict[str, str]:
        status, listed = cp.request("GET", leases)
        assert status == 200, listed
        return {lease["metadata"]["name"]: lease["spec"]["renewTime"] for lease in listed["items"]}

    before = renewed()
    assert set(before) >= set(nodes.names)
    wait_until(
        "every lease to be renewed",
        lambda: all(renewed()[name] > before[name] for name in nodes.names),
        timeout=3 * nodes.heartbeat,
    )


def test_a_node_has_a_nodes_rights_only(nodes: NodeSet, namespace: str) -> None:
    """The kubelet's credentials are a node's: it cannot bind a pod (only the
    scheduler does) nor write another node's status."""
    cp = nodes.control_plane
    node = KubeClient(nodes.workdir / "node-kubeconfigs" / "cpu-1.kubeconfig")
    pod = {"metadata": {"name": "unplaced"}, "spec": {"containers": [{"name": "notebook", "image": "x"}]}}
    pod["spec"]["nodeSelector"] = {"no-such-label": "anywhere"}  # the scheduler leaves it alone
    status, body = cp.request("POST", f"/api/v1/namespaces/{namespace}/pods", pod)
    assert status == 201, body

    binding = {
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": {"name": "unplaced"},
        "target": {"apiVersion": "v1", "kind": "Node", "name": "cpu-1"},
    }
    status, body = node.request("POST", f"/api/v1/namespaces/{namespace}/pods/unplaced/binding", binding)
    assert status == 403, body
    assert 'User "system:node:cpu-1" cannot create resource "pods/binding"' in body["message"]

    patch = {"status": {"conditions": [{"type": "Ready", "status": "False"}]}}
    status, body = node.request(
        "PATCH", "/api/v1/nodes/cpu-2/status", patch, content_type="application/merge-patch+json"
    )
    assert status == 403, body


def test_only_pods_bound_to_its_nodes_run(nodes: NodeSet, namespace: str) -> None:
    cp = nodes.control_plane
    pods = f"/api/v1/namespaces/{namespace}/pods"

    def pod(name: str, node: str) -> dict[str, Any]:
        command = [os.path.basename(sys.executable), "-c", "import time; time.sleep(300)"]
        container = {"name": "notebook", "image": "local/sleeper", "command": command}
        return {"metadata": {"name": name}, "spec": {"nodeName": node, "containers": [container]}}

    # Bound at creation, as a DaemonSet's pods are: no scheduler involved.
    for name, node in (("elsewhere", "not-a-test-node"), ("here", "cpu-1")):
        status, body = cp.request("POST", pods, pod(name, node))
        assert status == 201, body

    def phase(name: str) -> str:
        status, body = cp.request("GET", f"{pods}/{name}")
        return str(body.get("status", {}).get("phase", "")) if status == 200 else "gone"

    try:
        wait_until("the pod bound to cpu-1 to run", lambda: phase("here") == "Running")
        status, other = cp.request("GET", f"{pods}/elsewhere")
        assert status == 200 and "containerStatuses" not in other["status"], other["status"]
    finally:
        for name in ("here", "elsewhere"):
            cp.request("DELETE", f"{pods}/{name}", {"gracePeriodSeconds": 0})


def test_resolve_env_as_a_kubelet(control_plane: ControlPlane, namespace: str) -> None:
    base = f"/api/v1/namespaces/{namespace}"
    for path, obj in [
        (f"{base}/configmaps", {"metadata": {"name": "cm"}, "data": {"A": "from-cm", "B": "b"}}),
        (f"{base}/secrets", {"metadata": {"name": "sec"}, "stringData": {"token": "t0k"}}),
    ]:
        status, body = control_plane.request("POST", path, obj)
        assert status == 201, body
    client = KubeClient(control_plane.kubeconfig_path)
    container = {
        "envFrom": [{"configMapRef": {"name": "cm"}}, {"secretRef": {"name": "sec"}, "prefix": "S_"}],
        "env": [
            {"name": "A", "value": "literal wins over envFrom"},
            {"name": "REF", "value": "$(B)-$(MISSING)-$$(B)"},
            {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "sec", "key": "token"}}},
            {"name": "FROM_CM", "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "B"}}},
            {"name": "NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
            {"name": "OPT", "valueFrom": {"secretKeyRef": {"name": "nope", "key": "k", "optional": True}}},
        ],
    }

    env = resolve_env(client, _pod(namespace, container), container)

    assert env == {
        "A": "literal wins over envFrom",
        "B": "b",
        "S_token": "t0k",
        "REF": "b-$(MISSING)-$(B)",
        "TOKEN": "t0k",
        "FROM_CM": "b",
        "NS": namespace,
    }


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"secretKeyRef": {"name": "nope", "key": "k"}}, "Secret 'nope' not found"),
        ({"configMapKeyRef": {"name": "nope", "key": "k"}}, "ConfigMap 'nope' not found"),
        ({"resourceFieldRef": {"resource": "limits.cpu"}}, "not supported"),
    ],
)
def test_unresolvable_env_is_a_config_error(
    control_plane: ControlPlane,
    namespace: str,
    env: dict[str, Any],
    message: str,
) -> None:
    container = {"env": [{"name": "X", "valueFrom": env}]}
    with pytest.raises(ContainerConfigError, match=message):
        resolve_env(KubeClient(control_plane.kubeconfig_path), _pod(namespace, container), container)


def test_pod_waits_for_its_secret_and_deletion_waits_for_the_process(stack: LocalStack) -> None:
    assert stack.control_plane is not None
    cp, pods = stack.control_plane, f"/api/v1/namespaces/{stack.namespace}/pods"
    pod = {
        "metadata": {"name": "sleeper"},
        "spec": {
            "containers": [
                {
                    "name": "notebook",
                    "image": "local/sleeper",
                    "command": [os.path.basename(sys.executable), "-c", IGNORE_SIGTERM],
                    "env": [{"name": "KEY", "valueFrom": {"secretKeyRef": {"name": "late", "key": "k"}}}],
                }
            ]
        },
    }
    status, body = cp.request("POST", pods, pod)
    assert status == 201, body

    def state() -> dict[str, Any]:
        status, body = cp.request("GET", f"{pods}/sleeper")
        return body if status == 200 else {}

    def waiting_reason() -> str:
        statuses = state().get("status", {}).get("containerStatuses") or [{}]
        return str(statuses[0].get("state", {}).get("waiting", {}).get("reason", ""))

    try:
        wait_until("CreateContainerConfigError", lambda: waiting_reason() == "CreateContainerConfigError")
        late = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "late"}, "stringData": {"k": "v"}}
        stack.apply(late)
        wait_until("Running", lambda: state().get("status", {}).get("phase") == "Running")
        pid = int(state()["status"]["containerStatuses"][0]["containerID"].removeprefix("pid://"))
        assert process_environment(pid)["KEY"] == "v"

        status, body = cp.request("DELETE", f"{pods}/sleeper", {"gracePeriodSeconds": 2})
        assert status == 200, body
        # Terminating while the process runs out its grace period (it ignores
        # SIGTERM); gone once SIGKILL ended it and the kubelet confirmed.
        assert state()["metadata"]["deletionTimestamp"]
        os.kill(pid, 0)
        wait_until("the pod to be gone", lambda: not state())
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    finally:
        cp.request("DELETE", f"{pods}/sleeper", {"gracePeriodSeconds": 0})
        stack.delete("Secret", "late")
