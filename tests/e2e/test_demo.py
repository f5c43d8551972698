"""``make demo``'s configuration works: examples/jupyterhub_config.py, examples/profiles.yaml
and examples/configmaps.yaml give a real server the settings the examples promise, on the
nodes the examples' GPU types are written for; the kubeconfig the demo prints shows,
through the kubectl built with the control plane, where each server runs; and a user lands
in JupyterLab, whose terminal shows what the profiles gave the server."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.controlplane.harness import ControlPlane, find_binaries

from .demo import EXAMPLES, _instructions, demo_stack
from .helpers import log_in, notebook_resources, process_environment, wait_until
from .stack import LocalStack, NodeSet, load_manifests


@pytest.fixture(scope="module")
def demo(
    e2e_ready: ControlPlane, nodes: NodeSet, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalStack]:
    """The demo's hub, in a namespace of its own, on a free port, on the session's nodes
    (those of tests/e2e/nodes.yaml, which the demo starts for itself)."""
    with demo_stack(
        tmp_path_factory.mktemp("demo"),
        port=0,
        control_plane=e2e_ready,
        nodes=nodes,
        namespace=f"demo-{secrets.token_hex(4)}",
    ) as local_stack:
        yield local_stack


def secret_value(name: str, key: str) -> Any:
    for manifest in load_manifests(EXAMPLES / "configmaps.yaml"):
        if manifest["kind"] == "Secret" and manifest["metadata"]["name"] == name:
            return manifest["stringData"][key]
    raise KeyError(name)


def test_alice_starts_a_spark_notebook(demo: LocalStack) -> None:
    status, body = demo.api("POST", "/users/alice/server", {"profile": "spark", "size": "Small"})
    assert status in (201, 202), (status, body)
    try:
        demo.wait_for_server("alice")
        pod = demo.pod_of("alice")
        assert pod is not None
        env = process_environment(demo.server_pid("alice"))

        assert pod["spec"]["containers"][0]["image"].endswith("/s2i-spark-notebook:3.6")
        assert env["SPARK_MASTER"] == "spark://spark-alice:7077"  # the Spark profile, {username}
        assert env["S3_ENDPOINT_URL"] == "http://minio.storage.svc:9000"  # the site ConfigMap wins
        assert env["MLFLOW_EXPERIMENT_NAME"] == "notebooks"  # envFrom, for the data-science group
        assert env["NOTEBOOK_POD"] == pod["metadata"]["name"]
        has_credential = env.get("AWS_SECRET_ACCESS_KEY") == secret_value(
            "notebook-s3-credentials", "secret-access-key"
        )
        assert has_credential, "AWS_SECRET_ACCESS_KEY is not the value of Secret notebook-s3-credentials"
        assert notebook_resources(pod) == {  # size Small, applied last
            "requests": {"cpu": "1", "memory": "2Gi"},
            "limits": {"cpu": "2", "memory": "4Gi"},
        }
        assert pod["metadata"]["labels"]["team"] == "data-science"
        assert "datasets" in {volume["name"] for volume in pod["spec"]["volumes"]}
        # placed by the scheduler once the claim was bound, off the GPU pools
        claim = demo.get("PersistentVolumeClaim", "shared-datasets")
        assert claim is not None and claim["status"]["phase"] == "Bound"
        assert pod["spec"]["nodeName"] in ("cpu-1", "cpu-2", "ssd-1")
    finally:
        demo.stop_server("alice")


def test_a_gpu_image_runs_on_the_gpu_type_picked(demo: LocalStack) -> None:
    """The "GPU notebooks" profile and the gpuTypes of examples/profiles.yaml
    match the demo's GPU pools."""
    options = {"profile": "tensorflow-gpu", "gpu_type": "nvidia-t4"}
    status, body = demo.api("POST", "/users/bob/server", options)
    assert status in (201, 202), (status, body)
    try:
        demo.wait_for_server("bob")
        pod = demo.pod_of("bob")
        assert pod is not None
        assert pod["spec"]["nodeName"] == "gpu-t4-1"
        assert notebook_resources(pod)["limits"]["nvidia.com/gpu"] == "1"
    finally:
        demo.stop_server("bob")


def test_the_printed_kubeconfig_shows_where_servers_run(demo: LocalStack) -> None:
    printed = _instructions(demo)
    kubeconfig = re.search(r"export KUBECONFIG=(\S+)", printed)
    kubectl = re.search(r"alias kubectl=(\S+)", printed)
    assert kubeconfig and kubectl, printed
    binaries = find_binaries()
    assert binaries is not None and kubectl.group(1) == str(binaries.kubectl)
    status, body = demo.api("POST", "/users/carol/server", {"size": "Tiny"})
    assert status in (201, 202), (status, body)
    try:
        demo.wait_for_server("carol")
        pod = demo.pod_of("carol")
        assert pod is not None
        env = {**os.environ, "KUBECONFIG": kubeconfig.group(1)}
        listed = subprocess.run(
            [kubectl.group(1), "get", "pods", "-n", demo.namespace, "-o", "wide", "--no-headers"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        (line,) = [row for row in listed.stdout.splitlines() if row.startswith("jupyter-carol ")]
        assert line.split()[2] == "Running" and pod["spec"]["nodeName"] in line.split(), line
        nodes = subprocess.run(
            [kubectl.group(1), "get", "nodes", "--no-headers"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        assert demo.nodes is not None
        statuses = {row.split()[0]: row.split()[1] for row in nodes.stdout.splitlines()}
        assert statuses == dict.fromkeys(demo.nodes.names, "Ready")
    finally:
        demo.stop_server("carol")


def test_the_server_opens_in_jupyterlab_whose_terminal_shows_the_profiles_env(
    demo: LocalStack, page: Any, tmp_path: Path
) -> None:
    """What ``make demo`` shows a user: log in, land in JupyterLab, open a
    terminal from the launcher, and find there what the profiles set."""
    log_in(page, demo, "alice")
    status, body = demo.api("POST", "/users/alice/server", {"profile": "spark", "size": "Small"})
    assert status in (201, 202), (status, body)
    written = tmp_path / "env.txt"
    try:
        demo.wait_for_server("alice")
        page.goto(f"{demo.url}/user/alice/")
        page.wait_for_url(f"{demo.url}/user/alice/lab", timeout=60_000)
        page.locator(".jp-LauncherCard", has_text="Terminal").click(timeout=60_000)
        terminal = page.locator(".jp-Terminal .xterm-helper-textarea")
        terminal.wait_for(state="attached")
        terminal.focus()
        page.keyboard.type(f"env > {written}.part && mv {written}.part {written}\n")
        wait_until("the terminal's env", written.exists, timeout=30)
        env = dict(line.partition("=")[::2] for line in written.read_text().splitlines() if "=" in line)
        assert env["SPARK_MASTER"] == "spark://spark-alice:7077"  # the Spark profile, {username}
        assert env["S3_ENDPOINT_URL"] == "http://minio.storage.svc:9000"  # the site ConfigMap
        assert env["MEM_LIMIT"] == str(4 * 1024**3)  # size Small
        assert env["JUPYTERHUB_USER"] == "alice"
    finally:
        demo.stop_server("alice")
