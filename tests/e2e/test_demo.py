"""``make demo``'s configuration works: examples/jupyterhub_config.py, examples/profiles.yaml
and examples/configmaps.yaml give a real server the settings the examples promise."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from tests.controlplane.harness import ControlPlane

from .demo import EXAMPLES, demo_stack
from .stack import LocalStack, load_manifests
from .test_hub import notebook_resources, process_environment


@pytest.fixture(scope="module")
def demo(e2e_ready: ControlPlane, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """The demo's hub, in a namespace of its own, on a free port."""
    with demo_stack(
        tmp_path_factory.mktemp("demo"),
        port=0,
        control_plane=e2e_ready,
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
    finally:
        demo.stop_server("alice")
