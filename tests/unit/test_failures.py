"""Why a server did not start, in words for its user (profilespawner/failures.py)."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from profilespawner.failures import MAX_REASON, keep_pod_manifests_out_of, not_started_reason, refusal_reason

UNSCHEDULABLE = (
    "0/5 nodes are available: 2 node(s) had untolerated taint(s), 3 Insufficient cpu. "
    "preemption: 0/5 nodes are available: 5 No preemption victims found for incoming pod."
)


def pod(**status: Any) -> dict[str, Any]:
    return {"metadata": {"name": "jupyter-ned"}, "status": status}


def waiting(reason: str, message: str = "", name: str = "notebook") -> dict[str, Any]:
    state: dict[str, Any] = {"reason": reason}
    if message:
        state["message"] = message
    return {"name": name, "ready": False, "state": {"waiting": state}}


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        pytest.param(
            {
                "phase": "Pending",
                "conditions": [
                    {
                        "type": "PodScheduled",
                        "status": "False",
                        "reason": "Unschedulable",
                        "message": UNSCHEDULABLE,
                    }
                ],
            },
            f"pod jupyter-ned cannot be scheduled: {UNSCHEDULABLE}",
            id="unschedulable",
        ),
        pytest.param(
            {"conditions": [{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]},
            "pod jupyter-ned cannot be scheduled: SchedulingGated",
            id="scheduling-gated-no-message",
        ),
        pytest.param(
            {
                "conditions": [{"type": "PodScheduled", "status": "True"}],
                "containerStatuses": [
                    waiting("CreateContainerConfigError", "Secret 'team-s3' not found (env 'AWS_SECRET')")
                ],
            },
            "pod jupyter-ned is waiting: container notebook: CreateContainerConfigError: "
            "Secret 'team-s3' not found (env 'AWS_SECRET')",
            id="container-config",
        ),
        pytest.param(
            {"containerStatuses": [waiting("ImagePullBackOff")]},
            "pod jupyter-ned is waiting: container notebook: ImagePullBackOff",
            id="waiting-without-message",
        ),
        pytest.param(
            {"containerStatuses": [waiting("ImagePullBackOff", name="sidecar")]},
            None,
            id="another-container-waits",
        ),
        pytest.param({"phase": "Pending"}, None, id="nothing-known"),
        pytest.param(
            {"conditions": [{"type": "PodScheduled", "status": "True"}], "phase": "Running"},
            None,
            id="scheduled-and-running",
        ),
    ],
)
def test_not_started_reason(status: dict[str, Any], reason: str | None) -> None:
    assert not_started_reason(pod(**status)) == reason


def test_no_pod_no_reason() -> None:
    assert not_started_reason(None) is None
    assert not_started_reason({}) is None


def test_a_long_reason_is_cut() -> None:
    long = {"conditions": [{"type": "PodScheduled", "status": "False", "message": "x" * 10_000}]}
    reason = not_started_reason(pod(**long))
    assert reason is not None
    assert len(reason) == MAX_REASON
    assert reason.endswith("…")


QUOTA = (
    'pods "jupyter-ora" is forbidden: exceeded quota: team-gpus, requested: requests.nvidia.com/gpu=4, '
    "used: requests.nvidia.com/gpu=0, limited: requests.nvidia.com/gpu=2"
)


def status(code: int, reason: str, message: str) -> str:
    return json.dumps(
        {
            "kind": "Status",
            "apiVersion": "v1",
            "status": "Failure",
            "message": message,
            "reason": reason,
            "code": code,
        }
    )


@pytest.mark.parametrize(
    ("code", "body", "reason"),
    [
        pytest.param(
            403, status(403, "Forbidden", QUOTA), f"the cluster refused the server: {QUOTA}", id="quota"
        ),
        pytest.param(
            403,
            status(403, "Forbidden", QUOTA).encode(),
            f"the cluster refused the server: {QUOTA}",
            id="bytes",
        ),
        # Invalid may quote a value: not passed on
        pytest.param(422, status(422, "Invalid", 'Invalid value: "s3cr3t"'), None, id="invalid"),
        pytest.param(500, status(500, "InternalError", "etcd"), None, id="server-error"),
        pytest.param(403, "<html>proxy says no</html>", None, id="not-json"),
        pytest.param(403, '["a list"]', None, id="not-a-status"),
        pytest.param(403, json.dumps({"kind": "Status", "message": ""}), None, id="no-message"),
        pytest.param(403, None, None, id="no-body"),
    ],
)
def test_refusal_reason(code: int, body: str | bytes | None, reason: str | None) -> None:
    assert refusal_reason(code, body) == reason


def test_a_refused_pods_manifest_is_logged_as_its_name(caplog: pytest.LogCaptureFixture) -> None:
    """KubeSpawner logs ``pod.to_str()`` when the API server refuses a pod:
    the redaction keeps the record and its exception, without the manifest."""
    from kubernetes_asyncio.client import V1Container, V1EnvVar, V1ObjectMeta, V1Pod, V1PodSpec

    env = [V1EnvVar(name="JUPYTERHUB_API_TOKEN", value="s3cr3t-token")]
    pod = V1Pod(
        metadata=V1ObjectMeta(name="jupyter-ned", labels={"component": "singleuser-server"}),
        spec=V1PodSpec(containers=[V1Container(name="notebook", image="jupyter/base", env=env)]),
    )
    log = logging.getLogger("test-failures-redaction")
    keep_pod_manifests_out_of(log)
    keep_pod_manifests_out_of(log)  # idempotent
    assert log.filters.count(log.filters[0]) == 1 and len(log.filters) == 1
    with caplog.at_level(logging.INFO, logger=log.name):
        try:
            raise RuntimeError("(403) Forbidden")
        except RuntimeError:
            log.exception("Failed for %s", pod.to_str())
        log.info("Failed for %s", "no metadata at all")
        log.info("Other %s", pod.to_str())  # only KubeSpawner's record is rewritten

    refused, unnamed, other = caplog.records
    assert refused.getMessage() == (
        "Failed to create pod jupyter-ned (its manifest is not logged: it holds environment values)"
    )
    assert refused.exc_info is not None and "s3cr3t" not in caplog.text.split("Other")[0]
    assert "pod (unnamed)" in unnamed.getMessage()
    assert "s3cr3t-token" in other.getMessage()
