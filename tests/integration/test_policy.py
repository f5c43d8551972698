"""The policy against a real kube-apiserver: someone who may only create
ConfigMaps cannot reach the node or the hub's Secret through the hub.

A ServiceAccount whose only right is to create ConfigMaps (a token from the
TokenRequest API) cannot read the hub's Secret nor create a pod. Through the
label selector it can still ask the hub to create pods for it: one labelled
ConfigMap mounts the node's ``/``, another puts the hub's Secret into the
environment. With the settings docs/security.md recommends, the hub rejects
both, says why, and the pod it renders (as it renders every pod) gets neither,
while a valid team ConfigMap still applies. With the settings widened, both
apply, and the API server would create that pod: the policy is what stops it.
``profilespawner validate --configmaps`` applies the same policy: the
defaults, or those of ``--config``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from profilespawner import SingleuserProfiles
from profilespawner.kubemodel import to_json
from profilespawner.policy import VOLUME_TYPES
from tests.controlplane.harness import ControlPlane
from tests.docs import configure, page_files
from tests.integration.helpers import LABELS, ConfigMaps, eventually, logged, messages
from tests.support import Result

KEY = "jupyterhub-singleuser-profiles.yaml"

NODE_ROOT = """\
profiles:
- name: Node root
  volumes:
  - name: node
    hostPath: {path: /}
    mountPath: /host
"""

HUB_SECRET = """\
profiles:
- name: Hub values
  env:
  - name: HUB_VALUES
    valueFrom:
      secretKeyRef: {name: hub, key: values.yaml}
"""

TEAM = """\
profiles:
- name: Team A
  env:
  - name: AWS_SECRET_ACCESS_KEY
    valueFrom:
      secretKeyRef: {name: team-a-s3, key: secret}
"""


def recommended_settings() -> dict[str, Any]:
    """The policy settings of docs/security.md's ``jupyterhub_config.py``."""
    config = configure(page_files()["jupyterhub_config.py"], "jupyterhub_config.py")
    section = config.SingleuserProfiles
    return {name: section[name] for name in ("allowed_volume_types", "allowed_secrets")}


def create_as(cp: ControlPlane, token: str | None, namespace: str, name: str, text: str) -> tuple[int, Any]:
    """Create a labelled profile ConfigMap with ``token`` (None: the admin's)."""
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "labels": LABELS},
        "data": {KEY: text},
    }
    return cp.request("POST", f"/api/v1/namespaces/{namespace}/configmaps", body, token=token)


def secret_names(pod: dict[str, Any]) -> set[str]:
    """Every Secret the notebook container's env names."""
    (container,) = [c for c in pod["spec"]["containers"] if c["name"] == "notebook"]
    names = {
        var["valueFrom"]["secretKeyRef"]["name"]
        for var in container.get("env") or []
        if "secretKeyRef" in (var.get("valueFrom") or {})
    }
    return names | {
        item["secretRef"]["name"] for item in container.get("envFrom") or [] if "secretRef" in item
    }


def host_paths(pod: dict[str, Any]) -> list[str]:
    return [v["hostPath"]["path"] for v in pod["spec"].get("volumes") or [] if "hostPath" in v]


async def rendered(spawner: Any) -> dict[str, Any]:
    """The pod as the hub renders it for a spawn."""
    pod: dict[str, Any] = to_json(await spawner.get_pod_manifest())
    return pod


@pytest.fixture
def writer(control_plane: ControlPlane, namespace: str) -> str:
    """The token of a ServiceAccount that may only create ConfigMaps."""
    return control_plane.service_account_token(
        namespace, "configmap-writer", [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["create"]}]
    )


@pytest.fixture
def hub_secret(control_plane: ControlPlane, namespace: str) -> None:
    """The hub's own Secret, as Zero to JupyterHub keeps it next to the notebooks."""
    body = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "hub"},
        "data": {"values.yaml": base64.b64encode(b"hub: {cookieSecret: x}").decode()},
    }
    status, answer = control_plane.request("POST", f"/api/v1/namespaces/{namespace}/secrets", body)
    assert status == 201, answer


async def test_a_configmap_writer_reaches_neither_the_node_nor_the_hubs_secret(
    hub: Any,
    configmaps: ConfigMaps,
    control_plane: ControlPlane,
    namespace: str,
    writer: str,
    hub_secret: None,
    log: Any,
) -> None:
    # The writer may not read the Secret nor create a pod itself ...
    status, _ = control_plane.request("GET", f"/api/v1/namespaces/{namespace}/secrets/hub", token=writer)
    assert status == 403
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": []}}
    status, _ = control_plane.request("POST", f"/api/v1/namespaces/{namespace}/pods", pod, token=writer)
    assert status == 403

    # ... but may create labelled ConfigMaps, which the hub reads.
    settings = recommended_settings()
    assert "hostPath" not in settings["allowed_volume_types"] and settings["allowed_secrets"] == ["team-*"]
    spawner = hub(**settings)
    await rendered(spawner)  # the hub lists and watches the ConfigMaps from now on
    await configmaps.create("team-a", TEAM, labels=LABELS)
    for name, text in (("node-root", NODE_ROOT), ("hub-values", HUB_SECRET)):
        status, answer = create_as(control_plane, writer, namespace, name, text)
        assert status == 201, answer

    for name in ("node-root", "hub-values", "team-a"):
        await eventually(lambda n=name: logged(log, f"profile source {namespace}/{n}"), bool)
    (node_root,) = messages(log, f"Rejected profile source {namespace}/node-root")
    assert node_root.getMessage() == (
        f"Rejected profile source {namespace}/node-root (it is not used): {namespace}/node-root: "
        "profile 'Node root': volumes[0].hostPath: volume type 'hostPath' is not allowed by "
        "SingleuserProfiles.allowed_volume_types"
    )
    (hub_values,) = messages(log, f"Rejected profile source {namespace}/hub-values")
    assert hub_values.getMessage() == (
        f"Rejected profile source {namespace}/hub-values (it is not used): {namespace}/hub-values: "
        "profile 'Hub values': env[0].valueFrom.secretKeyRef.name: Secret 'hub' is not allowed by "
        "SingleuserProfiles.allowed_secrets (it allows 'team-*')"
    )
    assert "cookieSecret" not in log.text

    pod = await rendered(spawner)
    assert host_paths(pod) == []
    assert secret_names(pod) == {"team-a-s3"}  # the team's ConfigMap applies, the others not at all
    assert "HUB_VALUES" not in {var["name"] for var in pod["spec"]["containers"][0]["env"]}

    # Widened, the same ConfigMaps apply: the hub, not the API server, was what stopped them.
    await SingleuserProfiles.instance().close()
    SingleuserProfiles.clear_instance()
    widened = hub(allowed_volume_types=sorted(VOLUME_TYPES), allowed_secrets=["*"])
    pod = await eventually(
        lambda: rendered(widened), lambda p: bool(host_paths(p)) and "hub" in secret_names(p)
    )
    assert host_paths(pod) == ["/"]
    assert secret_names(pod) == {"team-a-s3", "hub"}
    status, answer = control_plane.request("POST", f"/api/v1/namespaces/{namespace}/pods?dryRun=All", pod)
    assert status == 201, answer


async def test_an_edit_asking_for_more_keeps_the_last_valid_version(
    hub: Any, configmaps: ConfigMaps, namespace: str, log: Any
) -> None:
    spawner = hub(**recommended_settings())
    await configmaps.create("team-a", TEAM, labels=LABELS)
    await eventually(lambda: rendered(spawner), lambda p: secret_names(p) == {"team-a-s3"})

    await configmaps.edit("team-a", TEAM.replace("team-a-s3", "hub") + NODE_ROOT.replace("profiles:\n", ""))
    await eventually(lambda: logged(log, f"Rejected profile source {namespace}/team-a"), bool)
    (rejected,) = messages(log, f"Rejected profile source {namespace}/team-a")
    assert "(keeping its last valid version)" in rejected.getMessage()
    assert "(and 1 more problem)" in rejected.getMessage()
    pod = await rendered(spawner)
    assert (secret_names(pod), host_paths(pod)) == ({"team-a-s3"}, [])


def test_validate_configmaps_applies_the_policy_of_config(
    control_plane: ControlPlane,
    namespace: str,
    cli: Callable[..., Result],
    tmp_path: Path,
) -> None:
    for name, text in (("team-a", TEAM), ("node-root", NODE_ROOT), ("hub-values", HUB_SECRET)):
        status, answer = create_as(control_plane, None, namespace, name, text)
        assert status == 201, answer
    config = tmp_path / "jupyterhub_config.py"
    config.write_text(page_files()["jupyterhub_config.py"])
    kubeconfig = str(control_plane.write_kubeconfig(tmp_path / "admin.kubeconfig", namespace=namespace))

    def errors(*args: str) -> list[tuple[str, str]]:
        result = cli("validate", "--configmaps", "--kubeconfig", kubeconfig, "--format", "json", *args)
        assert result.returncode == 1, result.stderr
        return [(p["source"], p["field"]) for p in json.loads(result.stdout)]

    # without --config, the defaults: every Secret, every volume type but hostPath
    assert errors() == [(f"{namespace}/node-root", "volumes[0].hostPath")]
    assert errors("--config", str(config)) == [
        (f"{namespace}/hub-values", "env[0].valueFrom.secretKeyRef.name"),
        (f"{namespace}/node-root", "volumes[0].hostPath"),
    ]
