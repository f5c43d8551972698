"""Every golden pod of the unit suite is a pod the real API server accepts.

The unit suite compares our output with tests/unit/golden/*/pod.yaml; this
proves those manifests are valid Kubernetes by a server-side dry-run create,
and that the API server would catch what our validator lets through on purpose
being wrong (a deliberately broken pod is rejected).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.controlplane.harness import ControlPlane

GOLDEN = Path(__file__).parent.parent / "unit" / "golden"
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "pod.yaml").exists())


def golden_pod(case: str) -> dict[str, Any]:
    pod: dict[str, Any] = YAML(typ="safe").load((GOLDEN / case / "pod.yaml").read_text())
    return pod


def dry_run_create(cp: ControlPlane, namespace: str, pod: dict[str, Any]) -> tuple[int, Any]:
    return cp.request("POST", f"/api/v1/namespaces/{namespace}/pods?dryRun=All", pod)


def test_there_are_golden_pods() -> None:
    assert len(CASES) >= 4


@pytest.mark.parametrize("case", CASES)
def test_golden_pod_is_accepted_by_the_api_server(
    control_plane: ControlPlane, namespace: str, case: str
) -> None:
    status, body = dry_run_create(control_plane, namespace, golden_pod(case))
    assert status == 201, body
    # a dry run stores nothing
    status, listed = control_plane.request("GET", f"/api/v1/namespaces/{namespace}/pods")
    assert status == 200 and listed["items"] == []


@pytest.mark.parametrize(
    ("breakage", "field"),
    [
        (lambda c: c["env"].append({"name": "BAD=NAME", "value": "x"}), "env"),
        (
            lambda c: c["resources"].setdefault("requests", {}).update({"cpu": "9", "memory": "9Gi"}),
            "requests",
        ),
        (lambda c: c["volumeMounts"].append({"name": "nowhere", "mountPath": "/x"}), "volumeMounts"),
    ],
    ids=["env-name", "request-above-limit", "mount-without-volume"],
)
def test_a_broken_golden_pod_is_rejected(
    control_plane: ControlPlane, namespace: str, breakage: Any, field: str
) -> None:
    pod = copy.deepcopy(golden_pod("data-science-team"))
    notebook = next(c for c in pod["spec"]["containers"] if c["name"] == "notebook")
    breakage(notebook)
    status, body = dry_run_create(control_plane, namespace, pod)
    assert status == 422, body
    assert field in str(body)
