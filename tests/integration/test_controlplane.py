"""Checks that the integration-test control plane is a real, working Kubernetes
API server: version, validation, label selectors, RBAC with TokenRequest
tokens, persistence across an apiserver kill, etcd restart and watch expiry."""

from __future__ import annotations

import json
import signal
import time
import urllib.error
import urllib.parse
from typing import Any

import pytest

from tests.controlplane.harness import ControlPlane, read_versions

READER_RULES = [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch"]}]


def _pod(name: str, image: str | None = "registry.invalid/jupyter:1") -> dict[str, Any]:
    container: dict[str, Any] = {"name": "notebook", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}
    if image is not None:
        container["image"] = image
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": [container]},
    }


def _configmap(
    name: str, labels: dict[str, str] | None = None, data: dict[str, str] | None = None
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "labels": labels or {}},
        "data": data or {},
    }


def _create_cm(cp: ControlPlane, ns: str, name: str, **kw: Any) -> dict[str, Any]:
    status, body = cp.request("POST", f"/api/v1/namespaces/{ns}/configmaps", _configmap(name, **kw))
    assert status == 201, body
    assert isinstance(body, dict)
    return body


def test_version_reports_pinned_version(control_plane: ControlPlane) -> None:
    status, body = control_plane.request("GET", "/version")
    assert status == 200, body
    if not control_plane.managed:
        assert body["gitVersion"].startswith("v1."), body
        return
    pinned = read_versions()["KUBERNETES_VERSION"]
    major, minor = pinned.lstrip("v").split(".")[:2]
    assert body["gitVersion"] == pinned, body
    assert (body["major"], body["minor"]) == (major, minor), body
    assert body["gitTreeState"] == "clean", body


def test_readyz_and_metrics(control_plane: ControlPlane) -> None:
    status, body = control_plane.request("GET", "/readyz?verbose")
    assert status == 200, body
    assert "readyz check passed" in body
    text = control_plane.metrics()
    assert "apiserver_request_total" in text
    # /metrics is not open to anonymous users
    status, _, _ = control_plane.raw_request("GET", "/metrics", use_admin=False)
    assert status in (401, 403)


def test_pod_dry_run_validation(control_plane: ControlPlane, namespace: str) -> None:
    pods = f"/api/v1/namespaces/{namespace}/pods"
    status, body = control_plane.request("POST", f"{pods}?dryRun=All", _pod("valid"))
    assert status == 201, body
    assert body["metadata"]["namespace"] == namespace
    # server-side defaulting ran, but nothing was stored
    assert body["spec"]["containers"][0]["imagePullPolicy"] == "IfNotPresent"
    status, _ = control_plane.request("GET", f"{pods}/valid")
    assert status == 404

    status, body = control_plane.request("POST", f"{pods}?dryRun=All", _pod("noimage", image=None))
    assert status == 422, body
    assert body["reason"] == "Invalid"
    fields = {c.get("field") for c in body["details"]["causes"]}
    assert "spec.containers[0].image" in fields, body

    # An unparsable quantity fails earlier, when the body is decoded: 400, not 422.
    bad = _pod("badquantity")
    bad["spec"]["containers"][0]["resources"]["limits"]["memory"] = "lots"
    status, body = control_plane.request("POST", f"{pods}?dryRun=All", bad)
    assert status == 400, body
    assert "quantities must match the regular expression" in json.dumps(body)

    # A negative quantity parses but is rejected by validation.
    neg = _pod("negquantity")
    neg["spec"]["containers"][0]["resources"]["limits"]["cpu"] = "-1"
    status, body = control_plane.request("POST", f"{pods}?dryRun=All", neg)
    assert status == 422, body


def test_configmap_label_selector(control_plane: ControlPlane, namespace: str) -> None:
    _create_cm(control_plane, namespace, "a1", labels={"app": "a", "tier": "x"})
    _create_cm(control_plane, namespace, "a2", labels={"app": "a"})
    _create_cm(control_plane, namespace, "b1", labels={"app": "b"})

    def names(selector: str) -> list[str]:
        q = urllib.parse.urlencode({"labelSelector": selector})
        status, body = control_plane.request("GET", f"/api/v1/namespaces/{namespace}/configmaps?{q}")
        assert status == 200, body
        return sorted(i["metadata"]["name"] for i in body["items"])

    assert names("app=a") == ["a1", "a2"]
    assert names("app!=a") == ["b1"]
    assert names("app in (a,b),tier") == ["a1"]
    assert names("app=zzz") == []


def test_service_account_token_rbac(control_plane: ControlPlane, namespace: str) -> None:
    token = control_plane.service_account_token(namespace, "reader", rules=READER_RULES)
    _create_cm(control_plane, namespace, "visible")
    base = f"/api/v1/namespaces/{namespace}"

    status, body = control_plane.request(
        "POST",
        "/apis/authentication.k8s.io/v1/selfsubjectreviews",
        {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
        token=token,
    )
    assert status == 201, body
    assert body["status"]["userInfo"]["username"] == f"system:serviceaccount:{namespace}:reader"

    status, body = control_plane.request("GET", f"{base}/configmaps", token=token)
    assert status == 200, body
    assert [i["metadata"]["name"] for i in body["items"]] == ["visible"]
    status, body = control_plane.request("GET", f"{base}/configmaps/visible", token=token)
    assert status == 200, body

    status, body = control_plane.request("POST", f"{base}/configmaps", _configmap("nope"), token=token)
    assert status == 403, body
    status, body = control_plane.request("GET", f"{base}/secrets", token=token)
    assert status == 403, body
    # the Role is namespaced: nothing outside the namespace
    status, body = control_plane.request("GET", "/api/v1/namespaces/default/configmaps", token=token)
    assert status == 403, body
    status, body = control_plane.request("GET", "/api/v1/configmaps", token=token)
    assert status == 403, body

    # a garbage token is rejected outright
    status, body = control_plane.request("GET", f"{base}/configmaps", token="not-a-token")
    assert status == 401, body


def test_apiserver_kill_restart_keeps_data_and_port(
    restartable_control_plane: ControlPlane, namespace: str
) -> None:
    cp = restartable_control_plane
    token = cp.service_account_token(namespace, "reader", rules=READER_RULES)
    created = _create_cm(cp, namespace, "survivor", data={"k": "v"})
    url_before = cp.server_url

    cp.stop_apiserver(signal.SIGKILL)
    with pytest.raises(urllib.error.URLError):
        cp.request("GET", "/readyz", timeout=5)

    cp.start_apiserver()
    assert cp.server_url == url_before
    status, body = cp.request("GET", f"/api/v1/namespaces/{namespace}/configmaps/survivor")
    assert status == 200, body
    assert body["metadata"]["uid"] == created["metadata"]["uid"]
    assert body["data"] == {"k": "v"}
    # tokens minted before the restart stay valid (same signing key, same etcd)
    status, body = cp.request("GET", f"/api/v1/namespaces/{namespace}/configmaps", token=token)
    assert status == 200, body


def test_etcd_restart_keeps_data(restartable_control_plane: ControlPlane, namespace: str) -> None:
    cp = restartable_control_plane
    created = _create_cm(cp, namespace, "in-etcd")
    cp.restart_etcd()
    status, body = cp.request("GET", f"/api/v1/namespaces/{namespace}/configmaps/in-etcd")
    assert status == 200, body
    assert body["metadata"]["uid"] == created["metadata"]["uid"]
    _create_cm(cp, namespace, "after-etcd-restart")


def _watch_once(cp: ControlPlane, ns: str, rv: str) -> tuple[int, list[dict[str, Any]]]:
    q = urllib.parse.urlencode(
        {"watch": "1", "resourceVersion": rv, "timeoutSeconds": "1", "allowWatchBookmarks": "false"}
    )
    status, raw, _ = cp.raw_request("GET", f"/api/v1/namespaces/{ns}/configmaps?{q}", timeout=15)
    if status != 200:
        return status, [json.loads(raw)] if raw.strip() else []
    return status, [json.loads(line) for line in raw.splitlines() if line.strip()]


def test_watch_from_expired_resource_version_is_gone(
    restartable_control_plane: ControlPlane, namespace: str
) -> None:
    """A watch from a resourceVersion older than the apiserver's watch cache
    must fail with 410 Gone (clients then re-list). The quick way to get there:
    restart the apiserver, whose fresh watch cache starts at etcd's current
    revision, so older versions are out of its window."""
    cp = restartable_control_plane
    old_rv = _create_cm(cp, namespace, "w")["metadata"]["resourceVersion"]
    for i in range(3):
        status, body = cp.request(
            "PATCH",
            f"/api/v1/namespaces/{namespace}/configmaps/w",
            {"data": {"i": str(i)}},
            content_type="application/merge-patch+json",
        )
        assert status == 200, body

    # Before the restart the old version is still in the cache window: events replay.
    status, events = _watch_once(cp, namespace, old_rv)
    assert status == 200, events
    assert [e["type"] for e in events] == ["MODIFIED"] * 3, events

    cp.stop_apiserver(signal.SIGKILL)
    cp.start_apiserver()

    deadline = time.monotonic() + 30
    while True:
        status, events = _watch_once(cp, namespace, old_rv)
        if status == 410:
            assert events and events[0].get("reason") in ("Expired", "Gone"), events
            break
        if status == 200 and events and events[0]["type"] == "ERROR":
            assert events[0]["object"]["code"] == 410, events
            break
        # 429 while the watch cache initialises; anything else is a failure
        assert status in (200, 429), (status, events)
        assert time.monotonic() < deadline, f"no 410 within 30s: {status} {events}"
        time.sleep(0.5)
