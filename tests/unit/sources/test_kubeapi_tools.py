"""kubeapi's calls for tools: a client of their own, and server-side dry runs.

The API server's answers are played by a fake ``CoreV1Api``; the real one
answers in tests/integration/test_cli_cluster.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from profilespawner.errors import KubeApiError, KubeConfigError
from profilespawner.sources import kubeapi
from profilespawner.tools.offline import offline_kubeconfig


class Response:
    """What ``_preload_content=False`` gives: a status and a body to read."""

    def __init__(self, status: int, body: Any) -> None:
        self.status = status
        self.body = json.dumps(body).encode() if not isinstance(body, bytes) else body

    async def read(self) -> bytes:
        return self.body

    async def __aenter__(self) -> Response:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


class FakeCoreApi:
    def __init__(self, answer: Response | Exception) -> None:
        self.answer = answer
        self.calls: list[tuple[str, dict[str, Any], dict[str, Any]]] = []

    async def create_namespaced_pod(self, namespace: str, body: dict[str, Any], **kwargs: Any) -> Response:
        self.calls.append((namespace, body, kwargs))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def status(code: int, reason: str, message: str, name: str = "") -> dict[str, Any]:
    details = {"name": name, "kind": "pods"} if name else {"kind": "pods"}
    return {
        "kind": "Status",
        "status": "Failure",
        "code": code,
        "reason": reason,
        "message": message,
        "details": details,
    }


POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"generateName": "jupyter-a-"}}


async def test_a_dry_run_asks_for_dry_run_all() -> None:
    api = FakeCoreApi(Response(201, {"kind": "Pod"}))
    answer = await kubeapi.dry_run_create_pod(api, "hub", POD)
    assert answer == kubeapi.DryRunAnswer(201)
    assert answer.accepted
    ((namespace, body, kwargs),) = api.calls
    assert (namespace, body, kwargs["dry_run"], kwargs["_preload_content"]) == ("hub", POD, "All", False)


LIMITED = 'pods "jupyter-a-x1" is forbidden: maximum cpu usage per Container is 4, but limit is 8'
RBAC_DENIED = (
    'pods is forbidden: User "system:serviceaccount:hub:ci" cannot create resource "pods" in API group ""'
)

# (id, status, Status body, the verdict)
VERDICTS = [
    ("limitrange", 403, status(403, "Forbidden", LIMITED, "jupyter-a-x1"),
     kubeapi.DryRunAnswer(403, "Forbidden", LIMITED, "jupyter-a-x1")),
    ("invalid", 422, status(422, "Invalid", "Pod is invalid: spec.containers[0].env[0].name"),
     kubeapi.DryRunAnswer(422, "Invalid", "Pod is invalid: spec.containers[0].env[0].name")),
    ("not-json", 400, b"<html>bad</html>", kubeapi.DryRunAnswer(400)),
]  # fmt: skip


@pytest.mark.parametrize(("code", "body", "verdict"), [pytest.param(*v[1:], id=v[0]) for v in VERDICTS])
async def test_rejections_are_verdicts(code: int, body: Any, verdict: kubeapi.DryRunAnswer) -> None:
    answer = await kubeapi.dry_run_create_pod(FakeCoreApi(Response(code, body)), "hub", POD)
    assert answer == verdict
    assert not answer.accepted


async def test_a_long_rejection_is_cut() -> None:
    body = status(403, "Forbidden", "violates PodSecurity: " + "x" * 5000)
    answer = await kubeapi.dry_run_create_pod(FakeCoreApi(Response(403, body)), "hub", POD)
    assert len(answer.message) == 1024 and answer.message.endswith("…")


# (id, answer, fragment of the error): the pod was not judged, so the check cannot go on
NOT_JUDGED = [
    ("rbac", Response(403, status(403, "Forbidden", RBAC_DENIED)),
     "create pod in hub (dry run): HTTP 403: pods is forbidden: User"),
    ("credentials", Response(401, status(401, "Unauthorized", "Unauthorized")), "HTTP 401: Unauthorized"),
    ("no-namespace", Response(404, status(404, "NotFound", 'namespaces "hub" not found')), "HTTP 404"),
    ("server-error", Response(500, status(500, "InternalError", "etcd is down")), "HTTP 500: etcd is down"),
    ("no-answer", aiohttp.ClientConnectionError("refused"), "no answer: ClientConnectionError: refused"),
]  # fmt: skip


@pytest.mark.parametrize(("answer", "fragment"), [pytest.param(*c[1:], id=c[0]) for c in NOT_JUDGED])
async def test_requests_the_server_did_not_judge_raise(answer: Response | Exception, fragment: str) -> None:
    with pytest.raises(KubeApiError) as info:
        await kubeapi.dry_run_create_pod(FakeCoreApi(answer), "hub", POD)
    assert fragment in str(info.value)


# -- connect ----------------------------------------------------------------------------


def kubeconfig_with_namespace(tmp_path: Path, namespace: str | None) -> str:
    config = json.loads(Path(offline_kubeconfig()).read_text())
    if namespace is not None:
        (context,) = config["contexts"]
        context["context"]["namespace"] = namespace
    path = tmp_path / "config"
    path.write_text(json.dumps(config))
    return str(path)


@pytest.mark.parametrize(("namespace", "expected"), [("team", "team"), (None, "")])
async def test_connect_gives_a_client_of_its_own_and_the_contexts_namespace(
    tmp_path: Path, namespace: str | None, expected: str
) -> None:
    from kubernetes_asyncio.client import Configuration

    default = Configuration.get_default_copy().host
    client = await kubeapi.connect(kubeconfig_with_namespace(tmp_path, namespace))
    try:
        assert client.namespace == expected
        assert client.api.api_client.configuration.host == "https://127.0.0.1:9"
        assert Configuration.get_default_copy().host == default  # the shared configuration is untouched
    finally:
        await client.close()


async def test_connect_follows_kubeconfig_like_kubectl(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    with pytest.raises(KubeConfigError, match=r"no kubeconfig at ~/.kube/config"):
        await kubeapi.connect()
    monkeypatch.setenv("KUBECONFIG", f"{tmp_path / 'missing'}:{kubeconfig_with_namespace(tmp_path, 'env')}")
    client = await kubeapi.connect()
    await client.close()
    assert client.namespace == "env"
    # an explicit path wins over the environment
    with pytest.raises(KubeConfigError, match="no kubeconfig at nope"):
        await kubeapi.connect("nope")
    broken = tmp_path / "broken"
    broken.write_text("apiVersion: v1\nkind: Config\n")
    with pytest.raises(KubeConfigError, match=f"cannot load kubeconfig {broken}: "):
        await kubeapi.connect(str(broken))


async def test_connect_in_a_pod_uses_the_in_cluster_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.kube/config
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    # not in a pod here: no token file, which the in-cluster loader reports
    with pytest.raises(KubeConfigError, match="cannot load the in-cluster configuration"):
        await kubeapi.connect()
