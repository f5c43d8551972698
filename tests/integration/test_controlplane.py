"""Checks that the integration-test control plane is a real, working Kubernetes
control plane: version, validation, label selectors, RBAC with TokenRequest
tokens, persistence across an apiserver kill, etcd restart and watch expiry;
a scheduler and a controller-manager that act under their own names, whose
controllers fill in quotas and remove deleted namespaces, and that outlive an
API server restart."""

from __future__ import annotations

import json
import signal
import ssl
import time
import urllib.error
import urllib.parse
from typing import Any

import pytest

from tests.controlplane.harness import COMPONENTS, CONTROLLERS, ControlPlane, read_versions

#: The ServiceAccount (in kube-system) each controller acts as.
CONTROLLER_ACCOUNTS = {
    "resourcequota": "resourcequota-controller",
    "namespace": "namespace-controller",
    "nodelifecycle": "node-controller",
    "persistentvolume-binder": "persistent-volume-binder",
}
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


def _wait_for(what: str, check: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)
    return result


def _quota_counted(cp: ControlPlane, namespace: str, name: str) -> dict[str, Any]:
    """Create a ResourceQuota on pods and wait until the quota controller has counted them."""
    quota = {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": name},
        "spec": {"hard": {"pods": "5"}},
    }
    status, body = cp.request("POST", f"/api/v1/namespaces/{namespace}/resourcequotas", quota)
    assert status == 201, body

    def counted() -> dict[str, Any] | None:
        status, body = cp.request("GET", f"/api/v1/namespaces/{namespace}/resourcequotas/{name}")
        return body.get("status") if status == 200 and "used" in body.get("status", {}) else None

    result: dict[str, Any] = _wait_for(f"the quota controller to count {name}", counted)
    return result


def test_components_act_under_their_own_names(restartable_control_plane: ControlPlane) -> None:
    """kube-scheduler and kube-controller-manager authenticate with client
    certificates of their own, and each controller as its own ServiceAccount."""
    cp = restartable_control_plane
    assert set(cp.components) == set(COMPONENTS)
    for component, user in COMPONENTS.items():
        context = ssl.create_default_context(cafile=str(cp.ca_file))
        context.load_cert_chain(cp.pki_dir / f"{component}.crt", cp.pki_dir / f"{component}.key")
        request = urllib.request.Request(
            f"{cp.server_url}/apis/authentication.k8s.io/v1/selfsubjectreviews",
            data=json.dumps({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, context=context, timeout=10) as answer:
            assert json.load(answer)["status"]["userInfo"]["username"] == user
        assert "token:" not in (cp.workdir / f"{component}.kubeconfig").read_text()
    status, accounts = cp.request("GET", "/api/v1/namespaces/kube-system/serviceaccounts")
    assert status == 200, accounts
    names = {account["metadata"]["name"] for account in accounts["items"]}
    assert set(CONTROLLER_ACCOUNTS) == set(CONTROLLERS)
    assert set(CONTROLLER_ACCOUNTS.values()) <= names, names


def test_the_quota_controller_counts_what_a_namespace_uses(
    control_plane: ControlPlane, namespace: str
) -> None:
    assert _quota_counted(control_plane, namespace, "pods") == {"hard": {"pods": "5"}, "used": {"pods": "0"}}


def test_a_deleted_namespace_is_emptied_and_removed(control_plane: ControlPlane) -> None:
    name = f"it-deleted-{int(time.time() * 1000) % 10**8}"
    control_plane.create_namespace(name)
    _create_cm(control_plane, name, "content")
    control_plane.delete_namespace(name)
    _wait_for(
        "the namespace controller to remove it",
        lambda: control_plane.request("GET", f"/api/v1/namespaces/{name}")[0] == 404,
        timeout=60,
    )


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
    # and the controller-manager, which kept running, is back at work
    assert _quota_counted(cp, namespace, "after-restart")["used"] == {"pods": "0"}


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
