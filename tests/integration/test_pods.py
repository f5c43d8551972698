"""``profilespawner pods`` against a real kube-apiserver: the pods a
ProfileKubeSpawner made (created through the API as KubeSpawner creates
them) record their sources, and the command tells which are up to date as
ConfigMaps and files change. The command runs with the Role docs/cli.md gives."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from profilespawner.kubemodel import to_json
from tests.controlplane.harness import ControlPlane
from tests.integration.helpers import LABELS, ConfigMaps, cli_role, eventually, profile_yaml
from tests.support import Result, content_version, rewrite

BASE = "profiles:\n- name: everyone\nsizes:\n- name: Small\n  resources: {limits: {cpu: '1'}}\n"


class Pods:
    """Pods made by spawners of the ``hub`` fixture, created through the API."""

    def __init__(self, cp: ControlPlane, namespace: str) -> None:
        self.cp = cp
        self.namespace = namespace

    async def spawn(self, spawner: Any) -> dict[str, Any]:
        await spawner.load_user_options()
        return await self.create(to_json(await spawner.get_pod_manifest()))

    async def create(self, pod: dict[str, Any]) -> dict[str, Any]:
        status, answer = await asyncio.to_thread(
            self.cp.request, "POST", f"/api/v1/namespaces/{self.namespace}/pods", pod
        )
        assert status == 201, answer
        return dict(answer)


def resource_version(cp: ControlPlane, namespace: str, name: str) -> str:
    status, answer = cp.request("GET", f"/api/v1/namespaces/{namespace}/configmaps/{name}")
    assert status == 200, answer
    return str(answer["metadata"]["resourceVersion"])


async def test_pods_are_up_to_date_until_a_source_changes(
    control_plane: ControlPlane,
    namespace: str,
    hub: Callable[..., Any],
    configmaps: ConfigMaps,
    cli: Callable[..., Result],
    tmp_path: Path,
) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(profile_yaml(("site", "file")))
    await configmaps.create("jupyter-singleuser-profiles", BASE)
    await configmaps.create("team", profile_yaml(("team", "one")), labels=LABELS)
    token = control_plane.service_account_token(namespace, "check", rules=cli_role())
    kubeconfig = str(control_plane.write_kubeconfig(tmp_path / "check.kubeconfig", token=token))
    pods = Pods(control_plane, namespace)

    async def listed(*files: str) -> dict[str, dict[str, Any]]:
        args = ["pods", *files, "--kubeconfig", kubeconfig, "--namespace", namespace, "--format", "json"]
        result = await asyncio.to_thread(cli, *args)
        assert result.returncode == 0, result.stderr
        return {pod["user"]: pod for pod in json.loads(result.stdout)}

    alice = hub("alice", files=[str(site)])
    alice.user_options = {"size": "Small"}
    await pods.spawn(alice)
    # a notebook pod profilespawner did not make (plain KubeSpawner, an older version)
    await pods.create(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": "jupyter-zed",
                "labels": {"component": "singleuser-server", "hub.jupyter.org/username": "zed"},
            },
            "spec": {"containers": [{"name": "notebook", "image": "quay.io/jupyter/base-notebook"}]},
        }
    )

    listing = await listed(str(site))
    assert listing["alice"] == {
        "pod": "jupyter-alice",
        "user": "alice",
        "server": "",
        "state": "up to date",
        "profiles": ["site", "everyone", "team"],
        "size": "Small",
        "gpu_type": None,
        "budgets": [],
        "sources": [
            {"source": str(site), "version": content_version(str(site))},
            {
                "source": f"{namespace}/jupyter-singleuser-profiles",
                "version": resource_version(control_plane, namespace, "jupyter-singleuser-profiles"),
            },
            {"source": f"{namespace}/team", "version": resource_version(control_plane, namespace, "team")},
        ],
        "changed": [],
        "gone": [],
        "added": [],
        "unknown": [],
    }
    assert listing["zed"]["state"] == "no record" and listing["zed"]["profiles"] is None

    # A ConfigMap edit: alice's server is stale; a server spawned after it is not.
    await configmaps.edit("team", profile_yaml(("team", "two")))
    listing = await listed(str(site))
    assert (listing["alice"]["state"], listing["alice"]["changed"]) == ("stale", [f"{namespace}/team"])
    bob = hub("bob", files=[str(site)])

    async def team_version() -> Any:
        return (await bob.singleuser_profiles.load_profiles(bob)).sources[-1].version

    await eventually(team_version, lambda v: v == resource_version(control_plane, namespace, "team"))
    await pods.spawn(bob)
    listing = await listed(str(site))
    assert listing["bob"]["state"] == "up to date"
    assert listing["alice"]["state"] == "stale"

    # A file edit, a ConfigMap added: bob's is stale too, and says why.
    rewrite(str(site), profile_yaml(("site", "edited")))
    await configmaps.create("zz-new", profile_yaml(("new", "x")), labels=LABELS)
    listing = await listed(str(site))
    assert listing["bob"]["state"] == "stale"
    assert (listing["bob"]["changed"], listing["bob"]["added"]) == ([str(site)], [f"{namespace}/zz-new"])

    # Without the file (not the hub's any more) it is gone; an invalid ConfigMap
    # cannot be judged from here: the hub keeps its last valid version.
    await configmaps.delete("zz-new")
    await configmaps.edit("team", "profiles: [{name: team, resouces: {}}]")
    result = await asyncio.to_thread(cli, "pods", "--kubeconfig", kubeconfig, "--namespace", namespace)
    assert result.returncode == 0, result.stderr
    assert f"note: {namespace}/team is invalid now" in result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "POD",
        "USER",
        "SERVER",
        "SIZE",
        "GPU",
        "TYPE",
        "PROFILES",
        "BUDGETS",
        "STATE",
    ]
    rows = {line.split()[1]: line for line in lines[1:]}
    assert rows["alice"].split()[:4] == ["jupyter-alice", "alice", "-", "Small"]
    assert rows["alice"].endswith(f"stale: {site} gone")
    assert rows["bob"].endswith(f"stale: {site} gone")
    assert "no record" in rows["zed"]

    rewrite(str(site), profile_yaml(("site", "file")))
    listing = await listed(str(site))
    assert listing["alice"]["state"] == "unknown"
    assert listing["alice"]["unknown"] == [f"{namespace}/team"]


async def test_the_pods_of_the_hub_are_those_its_component_label_names(
    control_plane: ControlPlane, namespace: str, cli: Callable[..., Result], tmp_path: Path
) -> None:
    """Two hubs in one namespace, told apart by KubeSpawner.component_label."""
    pods = Pods(control_plane, namespace)
    for user, component in (("ann", "singleuser-server"), ("ben", "hub-b")):
        await pods.create(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": f"jupyter-{user}",
                    "labels": {"component": component},
                    "annotations": {"hub.jupyter.org/username": user},
                },
                "spec": {"containers": [{"name": "notebook", "image": "quay.io/jupyter/base-notebook"}]},
            }
        )
    token = control_plane.service_account_token(namespace, "check", rules=cli_role())
    kubeconfig = str(control_plane.write_kubeconfig(tmp_path / "check.kubeconfig", token=token))
    config = tmp_path / "jupyterhub_config.py"
    config.write_text(
        f"c = get_config()\nc.KubeSpawner.namespace = {namespace!r}\n"
        "c.KubeSpawner.component_label = 'hub-b'\n"
    )

    async def users(*args: str) -> list[str]:
        result = await asyncio.to_thread(cli, "pods", "--kubeconfig", kubeconfig, "--format", "json", *args)
        assert result.returncode == 0, result.stderr
        return [pod["user"] for pod in json.loads(result.stdout)]

    assert await users("--namespace", namespace) == ["ann"]
    assert await users("--config", str(config)) == ["ben"]
