"""profilespawner.tools.dryrun without a cluster: how a pod is submitted. The
dry runs themselves are tested against a real API server in
tests/integration/test_cli_cluster.py."""

from __future__ import annotations

from profilespawner.tools.dryrun import dry_run_pod


def test_dry_run_pod_is_named_by_the_server_in_the_namespace() -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "jupyter-alice", "labels": {"a": "b"}}}
    submitted = dry_run_pod(pod, "hub")
    assert submitted["metadata"] == {
        "generateName": "jupyter-alice-",
        "namespace": "hub",
        "labels": {"a": "b"},
    }
    assert pod["metadata"]["name"] == "jupyter-alice"  # the pod given is not changed
