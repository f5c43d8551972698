"""The RBAC objects of the how-to guides, created in a real API server, let the
hub's ServiceAccount do what the hub does: list and watch its profile ConfigMaps.

The pure parts of the guides are checked by tests/unit/test_docs_guides.py.
Here each guide's Role and RoleBinding are created as written (in the test's
namespace instead of ``jupyterhub``), with the ServiceAccount they name; the
guide's ConfigMaps too. Then the ``profilespawner`` command, with that
ServiceAccount's token, reads the ConfigMaps as the hub would.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.controlplane.harness import ControlPlane
from tests.docs import DOCS, blocks
from tests.support import Result

RBAC = "/apis/rbac.authorization.k8s.io/v1"
GUIDES = ["zero-to-jupyterhub", "openshift"]


def documents(guide: str) -> Iterator[dict[str, Any]]:
    for block in blocks(DOCS / "howto" / f"{guide}.md", "yaml"):
        for document in YAML(typ="safe").load_all(block):
            if isinstance(document, dict) and "kind" in document:
                yield document


def in_namespace(obj: dict[str, Any], namespace: str) -> dict[str, Any]:
    """``obj`` moved from the guide's namespace to the test's."""
    obj = copy.deepcopy(obj)
    obj["metadata"]["namespace"] = namespace
    for subject in obj.get("subjects") or []:
        subject["namespace"] = namespace
    return obj


def create(cp: ControlPlane, obj: dict[str, Any]) -> None:
    namespace = obj["metadata"]["namespace"]
    base = {
        "Role": f"{RBAC}/namespaces/{namespace}/roles",
        "RoleBinding": f"{RBAC}/namespaces/{namespace}/rolebindings",
        "ConfigMap": f"/api/v1/namespaces/{namespace}/configmaps",
        "ServiceAccount": f"/api/v1/namespaces/{namespace}/serviceaccounts",
    }[obj["kind"]]
    status, answer = cp.request("POST", base, obj)
    assert status == 201, answer


def allowed(cp: ControlPlane, namespace: str, account: str, verb: str) -> bool:
    status, answer = cp.request(
        "POST",
        "/apis/authorization.k8s.io/v1/subjectaccessreviews",
        {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SubjectAccessReview",
            "spec": {
                "user": f"system:serviceaccount:{namespace}:{account}",
                "groups": ["system:serviceaccounts", f"system:serviceaccounts:{namespace}"],
                "resourceAttributes": {"namespace": namespace, "verb": verb, "resource": "configmaps"},
            },
        },
    )
    assert status == 201, answer
    return bool(answer["status"].get("allowed"))


def token(cp: ControlPlane, namespace: str, account: str) -> str:
    status, answer = cp.request(
        "POST",
        f"/api/v1/namespaces/{namespace}/serviceaccounts/{account}/token",
        {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {"expirationSeconds": 600},
        },
    )
    assert status == 201, answer
    return str(answer["status"]["token"])


@pytest.mark.parametrize("guide", GUIDES)
def test_the_guides_rbac_lets_the_hub_read_its_configmaps(
    guide: str,
    cli: Callable[..., Result],
    control_plane: ControlPlane,
    namespace: str,
    tmp_path: Path,
) -> None:
    objects = [in_namespace(d, namespace) for d in documents(guide)]
    kinds = [o["kind"] for o in objects]
    assert kinds.count("Role") == 1 and kinds.count("RoleBinding") == 1, kinds
    (binding,) = [o for o in objects if o["kind"] == "RoleBinding"]
    (account,) = [s["name"] for s in binding["subjects"] if s["kind"] == "ServiceAccount"]
    create(
        control_plane,
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": account, "namespace": namespace}},
    )
    for obj in objects:
        create(control_plane, obj)

    deadline = time.monotonic() + 15  # the authorizer reads RBAC through an informer
    while not all(allowed(control_plane, namespace, account, verb) for verb in ("get", "list", "watch")):
        assert time.monotonic() < deadline, f"the RBAC of {guide}.md does not let {account} read ConfigMaps"
        time.sleep(0.1)
    assert not allowed(control_plane, namespace, account, "update")  # read only

    kubeconfig = control_plane.write_kubeconfig(
        tmp_path / "hub.kubeconfig", token=token(control_plane, namespace, account), namespace=namespace
    )
    result = cli("validate", "--configmaps", "--kubeconfig", str(kubeconfig), "--format", "json")
    assert (result.returncode, json.loads(result.stdout), result.stderr) == (0, [], "")
    configmaps = [o["metadata"]["name"] for o in objects if o["kind"] == "ConfigMap"]
    if configmaps:
        text = cli("validate", "--configmaps", "--kubeconfig", str(kubeconfig)).stdout
        assert [line.split(":")[0] for line in text.splitlines()] == [f"{namespace}/{n}" for n in configmaps]
