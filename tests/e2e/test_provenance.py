"""End to end: what a pod of the real hub records of how it was made (SPEC §8),
and ``profilespawner pods`` telling a running server that is up to date from
one whose sources changed since it started -- until it is restarted."""

from __future__ import annotations

import json
import secrets
import urllib.parse
from collections.abc import Callable
from typing import Any

from tests.support import RunCli

from .helpers import PROFILE_LABEL, configmap, wait_until
from .stack import LocalStack

USER = "pat"  # of group data-science
MINE = "profiles-zz-provenance"
#: The value of a variable the profile sets: it must not appear in the record.
VALUE = secrets.token_hex(12)


def profiles(mark: str, size: str) -> str:
    return (
        f"profiles:\n- name: provenance\n  users: [{USER}]\n"
        f"  env:\n  - {{name: PROVENANCE_MARK, value: {VALUE}-{mark}}}\n"
        f"sizes:\n- name: {size}\n  users: [{USER}]\n"
        "  resources: {requests: {cpu: 300m}, limits: {cpu: 300m}}\n"
    )


def spawn_page(stack: LocalStack) -> str:
    """The spawn page of the user, as HTML."""
    with stack.login(USER).open(f"{stack.url}/hub/spawn", timeout=30) as response:
        return str(response.read().decode())


def profile_configmaps(stack: LocalStack) -> list[dict[str, Any]]:
    """The sources as SPEC §2 orders them, read from the API server here: the
    named ConfigMap, then the labelled ones by name."""
    assert stack.control_plane is not None
    named = stack.get("ConfigMap", "jupyter-singleuser-profiles")
    selector = urllib.parse.urlencode(
        {"labelSelector": ",".join(f"{k}={v}" for k, v in PROFILE_LABEL.items())}
    )
    status, body = stack.control_plane.request(
        "GET", f"/api/v1/namespaces/{stack.namespace}/configmaps?{selector}"
    )
    assert status == 200, body
    labelled = sorted(body["items"], key=lambda item: item["metadata"]["name"])
    return [item for item in [named, *labelled] if item is not None]


def recorded_sources(stack: LocalStack) -> list[dict[str, str]]:
    return [
        {
            "source": f"{stack.namespace}/{item['metadata']['name']}",
            "version": item["metadata"]["resourceVersion"],
        }
        for item in profile_configmaps(stack)
    ]


def test_a_pod_records_what_it_got_and_goes_stale_until_restarted(
    stack: LocalStack, spawn: Callable[..., dict[str, Any]], run_cli: RunCli
) -> None:
    assert stack.control_plane is not None

    def pods() -> dict[str, Any]:
        result = run_cli(
            "pods",
            "--config",
            str(stack.workdir / "jupyterhub_config.py"),
            "--kubeconfig",
            str(stack.control_plane.kubeconfig_path),
            "--format",
            "json",
        )
        assert result.returncode == 0, result.stderr
        (mine,) = [pod for pod in json.loads(result.stdout) if pod["user"] == USER]
        return dict(mine)

    try:
        stack.apply(configmap(MINE, profiles("one", "Recorded")))
        wait_until("size Recorded in the form", lambda: 'value="Recorded"' in spawn_page(stack))
        spawn(USER, size="Recorded")
        pod = stack.pod_of(USER)
        assert pod is not None
        annotations = pod["metadata"]["annotations"]
        record = {k: v for k, v in annotations.items() if k.startswith("profilespawner/")}
        assert record.keys() == {"profilespawner/profiles", "profilespawner/size", "profilespawner/sources"}
        assert json.loads(record["profilespawner/profiles"]) == ["everyone", "data science", "provenance"]
        assert record["profilespawner/size"] == "Recorded"
        started_with = recorded_sources(stack)
        assert json.loads(record["profilespawner/sources"]) == started_with
        assert all(VALUE not in value for value in annotations.values())

        listed = pods()
        assert (listed["state"], listed["size"], listed["sources"]) == (
            "up to date",
            "Recorded",
            started_with,
        )

        # An edit of one ConfigMap: the running server is stale, and says which.
        stack.apply(configmap(MINE, profiles("two", "Edited")))
        listed = pods()
        assert (listed["state"], listed["changed"]) == ("stale", [f"{stack.namespace}/{MINE}"])
        assert listed["sources"] == started_with  # what the pod got, not what there is now

        # Restarted once the hub has the edit: up to date, at the new version.
        stack.stop_server(USER)
        wait_until("size Edited in the form", lambda: 'value="Edited"' in spawn_page(stack))
        spawn(USER, size="Edited")
        pod = stack.pod_of(USER)
        assert pod is not None
        now = recorded_sources(stack)
        assert now != started_with
        assert json.loads(pod["metadata"]["annotations"]["profilespawner/sources"]) == now
        listed = pods()
        assert (listed["state"], listed["size"], listed["sources"]) == ("up to date", "Edited", now)
    finally:
        stack.delete("ConfigMap", MINE)
