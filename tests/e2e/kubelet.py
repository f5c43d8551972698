"""A test kubelet: the Nodes of the test cluster, each pod a local process.

One process plays the kubelet of every Node of a topology file
(``tests/e2e/nodes.yaml``), each with its own credentials (a client
certificate for ``system:node:<name>``, group ``system:nodes``: the API
server's Node authorizer and NodeRestriction admission hold it to its own
Node, Lease and pods, as they hold a real kubelet). For each node it

- registers the Node (labels, taints, capacity and allocatable, addresses,
  node info, conditions ``Ready``) and keeps it alive as a kubelet does: its
  Lease in ``kube-node-lease`` is renewed every ``heartbeat`` seconds and its
  status (``Ready``, ``lastHeartbeatTime``) every ``6 * heartbeat``; the
  controller-manager's node lifecycle controller marks a node whose heartbeats
  stop ``NotReady``, and the scheduler then keeps pods off it;
- watches the pods bound to it (``fieldSelector=spec.nodeName=<node>``: list,
  then watch from the list's resourceVersion; a 410 or a cut stream lists
  again). kube-scheduler binds them; this kubelet never binds a pod (its
  credentials could not);
- runs the container named ``notebook`` of each as a local process: its
  ``command`` and ``args`` as Kubernetes combines them with the image's (no
  ENTRYPOINT, CMD ``jupyterhub-singleuser``; KubeSpawner puts
  ``KubeSpawner.cmd`` in ``args``), found on the image's ``PATH`` -- here this
  Python's ``bin`` directory, so ``jupyterhub-singleuser`` is the one of this
  virtualenv; its environment resolved as a kubelet resolves it (``envFrom``
  ConfigMaps and Secrets, then ``env``: ``value`` with ``$(VAR)`` references,
  ``valueFrom`` ``secretKeyRef``, ``configMapKeyRef`` and ``fieldRef``). A
  reference that cannot be resolved leaves the pod ``Pending`` with
  ``CreateContainerConfigError`` (and a ``Failed`` event), retried, as a
  kubelet does;
- gives each pod its own loopback address (127.N.0.1, 127.N.0.2, ..., N random per
  process) as its pod IP. A server that would listen on all interfaces (``0.0.0.0``, which is
  what KubeSpawner's ``ip`` and ``JUPYTERHUB_SERVICE_URL`` say) listens on the
  pod IP instead -- in a real pod "all interfaces" is the pod's own network
  namespace. The port is the container port, as in Kubernetes;
- once the process runs, sets the pod status (status subresource) to
  ``Running``, ``Ready``, the container ready, with ``podIP``, and records a
  ``Started`` event; the process id is in ``containerStatuses[0].containerID``
  as ``pid://<pid>``;
- sends SIGTERM to the process of a pod being deleted (``deletionTimestamp``),
  SIGKILL after its grace period, and once the process is gone deletes the pod
  object with ``gracePeriodSeconds=0``, which is the confirmation a kubelet
  gives;
- reports a process that exits on its own as terminated, with its exit code
  (``restartPolicy`` is not honoured: nothing is restarted).

What a real node does and this one does not: images (the command runs from
this machine), volumes, init and sidecar containers, resource limits (the
capacity is what the topology says, not what this machine has), probes, user
ids, the kubelet API (``kubectl logs`` and ``exec``). Credential values are
never logged.

Run it (``python -m tests.e2e.kubelet --help``) or use :class:`Kubelet` from a
main thread.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import ctypes
import datetime
import json
import logging
import os
import queue
import random
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = ["NODES_FILE", "ContainerConfigError", "KubeClient", "Kubelet", "load_nodes", "main", "resolve_env"]

log = logging.getLogger("test-kubelet")

#: The line the kubelet logs once its nodes are registered and Ready, and it
#: watches their pods.
READY_MESSAGE = "test kubelet ready"

#: The test cluster's nodes, for the end-to-end tests and ``make demo``.
NODES_FILE = Path(__file__).resolve().parent / "nodes.yaml"

#: The namespace of the nodes' Leases, as in every cluster.
LEASE_NAMESPACE = "kube-node-lease"
LEASE_SECONDS = 40  # a kubelet's default nodeLeaseDurationSeconds

_WILDCARD_HOSTS = {"", "0.0.0.0", "::", "[::]"}
_CONTAINER = "notebook"
_RETRY_CONFIG_SECONDS = 1.0
_WATCH_SECONDS = 60


class ContainerConfigError(Exception):
    """The container's environment cannot be built (a kubelet's
    ``CreateContainerConfigError``); the message names objects and keys only."""


# -- the API client ----------------------------------------------------------


class KubeClient:
    """The few API calls a kubelet makes, over ``urllib``, from a kubeconfig
    with a bearer token or a client certificate (what the test control plane
    writes)."""

    def __init__(self, kubeconfig: str | os.PathLike[str]) -> None:
        path = Path(kubeconfig)
        config = yaml.safe_load(path.read_text())
        context_name = config["current-context"]
        context = _named(config["contexts"], context_name)["context"]
        cluster = _named(config["clusters"], context["cluster"])["cluster"]
        user = _named(config["users"], context["user"])["user"] or {}
        self.server = str(cluster["server"]).rstrip("/")
        self._token = user.get("token")
        self._ssl = ssl.create_default_context()
        if cluster.get("certificate-authority-data"):
            ca = base64.b64decode(cluster["certificate-authority-data"]).decode()
            self._ssl.load_verify_locations(cadata=ca)
        elif cluster.get("certificate-authority"):
            self._ssl.load_verify_locations(cafile=path.parent / cluster["certificate-authority"])
        if cluster.get("insecure-skip-tls-verify"):
            self._ssl.check_hostname = False
            self._ssl.verify_mode = ssl.CERT_NONE
        if user.get("client-certificate-data"):
            # ssl wants files: a private copy, gone once loaded.
            with tempfile.TemporaryDirectory(prefix="kubeclient-") as tmp:
                cert, key = Path(tmp, "client.crt"), Path(tmp, "client.key")
                cert.write_bytes(base64.b64decode(user["client-certificate-data"]))
                key.touch(mode=0o600)
                key.write_bytes(base64.b64decode(user["client-key-data"]))
                self._ssl.load_cert_chain(cert, key)
        elif user.get("client-certificate"):
            self._ssl.load_cert_chain(
                path.parent / user["client-certificate"], path.parent / user["client-key"]
            )

    def _open(self, method: str, path: str, body: Any, content_type: str, timeout: float) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.server + path, data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", content_type)
        if self._token:
            request.add_header("Authorization", f"Bearer {self._token}")
        return urllib.request.urlopen(request, context=self._ssl, timeout=timeout)

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        content_type: str = "application/json",
        timeout: float = 30.0,
    ) -> tuple[int, Any]:
        """(HTTP status, decoded JSON body) of one request; errors are answers too."""
        try:
            with self._open(method, path, body, content_type, timeout) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            raw = error.read()
            try:
                return error.code, json.loads(raw)
            except ValueError:
                return error.code, raw.decode("utf-8", "replace")

    def stream(self, path: str, timeout: float) -> Iterator[dict[str, Any]]:
        """The JSON objects of a watch, one per line."""
        with self._open("GET", path, None, "", timeout) as response:
            for line in response:
                if line.strip():
                    yield json.loads(line)


def _named(items: list[dict[str, Any]], name: str) -> dict[str, Any]:
    for item in items:
        if item.get("name") == name:
            return item
    raise KeyError(f"kubeconfig has no entry named {name!r}")


# -- the container's environment --------------------------------------------

_VAR_REF = re.compile(r"\$\$|\$\(([-._a-zA-Z0-9]+)\)")


def _expand(value: str, env: Mapping[str, str]) -> str:
    """Kubernetes ``$(VAR)`` expansion: known variables are replaced, unknown
    references are kept as written, ``$$`` is a literal ``$``."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        return env.get(match.group(1), match.group(0))

    return _VAR_REF.sub(replace, value)


def _field_value(pod: Mapping[str, Any], path: str) -> str:
    metadata = pod.get("metadata") or {}
    simple = {
        "metadata.name": metadata.get("name"),
        "metadata.namespace": metadata.get("namespace"),
        "metadata.uid": metadata.get("uid"),
        "spec.nodeName": (pod.get("spec") or {}).get("nodeName"),
        "spec.serviceAccountName": (pod.get("spec") or {}).get("serviceAccountName"),
        "status.podIP": (pod.get("status") or {}).get("podIP"),
        "status.hostIP": (pod.get("status") or {}).get("hostIP"),
    }
    if path in simple:
        return str(simple[path] or "")
    match = re.fullmatch(r"metadata\.(labels|annotations)\['([^']+)'\]", path)
    if match:
        return str((metadata.get(match.group(1)) or {}).get(match.group(2), ""))
    raise ContainerConfigError(f"fieldRef {path!r} is not supported by the test kubelet")


def resolve_env(client: KubeClient, pod: Mapping[str, Any], container: Mapping[str, Any]) -> dict[str, str]:
    """The container's environment as a kubelet builds it: ``envFrom`` in order,
    then ``env`` in order (a later name replaces an earlier one).

    Raises :class:`ContainerConfigError` for a missing ConfigMap, Secret or key
    that is not ``optional``.
    """
    namespace = pod["metadata"]["namespace"]
    cache: dict[tuple[str, str], dict[str, str] | None] = {}

    def data_of(kind: str, name: str) -> dict[str, str] | None:
        if (kind, name) not in cache:
            plural = "secrets" if kind == "Secret" else "configmaps"
            quoted = urllib.parse.quote(name)
            status, body = client.request("GET", f"/api/v1/namespaces/{namespace}/{plural}/{quoted}")
            if status == 404:
                cache[kind, name] = None
            elif status != 200:
                raise ContainerConfigError(f"cannot read {kind} {name!r}: HTTP {status}")
            elif kind == "Secret":
                cache[kind, name] = {
                    k: base64.b64decode(v).decode() for k, v in (body.get("data") or {}).items()
                }
            else:
                cache[kind, name] = dict(body.get("data") or {})
        return cache[kind, name]

    env: dict[str, str] = {}
    for source in container.get("envFrom") or []:
        for ref_key, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
            ref = source.get(ref_key)
            if ref is None:
                continue
            data = data_of(kind, ref["name"])
            if data is None:
                if ref.get("optional"):
                    continue
                raise ContainerConfigError(f"{kind} {ref['name']!r} not found (envFrom)")
            prefix = source.get("prefix") or ""
            env.update({prefix + key: value for key, value in data.items()})

    for var in container.get("env") or []:
        name = var["name"]
        if "valueFrom" not in var:
            env[name] = _expand(var.get("value") or "", env)
            continue
        value_from = var["valueFrom"]
        for ref_key, kind in (("secretKeyRef", "Secret"), ("configMapKeyRef", "ConfigMap")):
            ref = value_from.get(ref_key)
            if ref is None:
                continue
            data = data_of(kind, ref["name"])
            if data is not None and ref["key"] in data:
                env[name] = data[ref["key"]]
            elif not ref.get("optional"):
                what = "not found" if data is None else f"has no key {ref['key']!r}"
                raise ContainerConfigError(f"{kind} {ref['name']!r} {what} (env {name!r})")
            break
        else:
            if "fieldRef" in value_from:
                env[name] = _field_value(pod, value_from["fieldRef"]["fieldPath"])
            else:
                kinds = ", ".join(sorted(value_from))
                raise ContainerConfigError(f"env {name!r}: valueFrom {kinds} is not supported")
    return env


# -- the processes -----------------------------------------------------------

_PR_SET_PDEATHSIG = 1
_prctl: Any
try:
    _prctl = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # not Linux with glibc
    _prctl = None


def _die_with_parent() -> None:  # in the child, between fork and exec
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _bindable(ip: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((ip, port))
        except OSError:
            return False
    return True


def _micro_now() -> str:
    """A MicroTime (Lease ``renewTime``)."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def load_nodes(path: str | os.PathLike[str] = NODES_FILE) -> list[dict[str, Any]]:
    """The Node manifests of a topology file (see ``tests/e2e/nodes.yaml``)."""
    with open(path) as stream:
        nodes = [doc for doc in yaml.safe_load_all(stream) if doc]
    for node in nodes:
        if node.get("kind") != "Node" or not node.get("metadata", {}).get("name"):
            raise ValueError(f"{path}: every document must be a Node with a name")
    return nodes


@dataclass
class _Container:
    """One running (or finished) notebook container."""

    node: str
    namespace: str
    pod_name: str
    uid: str
    ip: str
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    kill_at: float | None = None  # SIGKILL deadline once terminating
    exit_code: int | None = None
    deleted: bool = False


@dataclass
class _Node:
    """One Node this kubelet plays: its manifest, its credentials, its heartbeats."""

    manifest: dict[str, Any]
    client: KubeClient
    uid: str = ""
    ready_since: str = ""
    next_lease: float = 0.0
    next_status: float = 0.0

    @property
    def name(self) -> str:
        return str(self.manifest["metadata"]["name"])


class Kubelet:
    """Plays the kubelet of each of ``nodes`` (Node manifests), with the client
    of ``clients[node name]``, and runs the pods bound to them as local
    processes (see the module doc).

    Not thread-safe: call :meth:`run` from the main thread (child processes
    are tied to the thread that starts them by ``PR_SET_PDEATHSIG``).
    """

    def __init__(
        self,
        nodes: Sequence[Mapping[str, Any]],
        clients: Mapping[str, KubeClient],
        workdir: str | os.PathLike[str],
        *,
        heartbeat: float = 10.0,
        image_path: str | None = None,
        image_cmd: tuple[str, ...] = ("jupyterhub-singleuser",),
    ) -> None:
        self.nodes = {
            str(node["metadata"]["name"]): _Node(dict(node), clients[node["metadata"]["name"]])
            for node in nodes
        }
        self.workdir = Path(workdir)
        self.heartbeat = heartbeat
        self.image_path = image_path or os.pathsep.join(
            [os.path.dirname(sys.executable), "/usr/local/bin", "/usr/bin", "/bin"]
        )
        self.image_cmd = image_cmd
        self._events: queue.Queue[tuple[str, str, Any]] = queue.Queue()  # (node, kind, object)
        self._containers: dict[str, _Container] = {}  # by pod uid
        self._pending: dict[str, dict[str, Any]] = {}  # uid -> pod waiting for its config
        self._pending_errors: dict[str, str] = {}  # uid -> the error last reported
        self._stop = threading.Event()
        self._next_retry = 0.0
        self._second_octet = random.randint(1, 254)

    def _client(self, pod: Mapping[str, Any]) -> KubeClient:
        """The credentials of the node the pod is bound to."""
        return self.nodes[pod["spec"]["nodeName"]].client

    # -- the nodes -----------------------------------------------------------

    def _register(self, node: _Node) -> None:
        """Create the Node as a kubelet registers it: labels, taints and status
        at once (a node may set its taints only when it creates itself)."""
        manifest = node.manifest
        node.ready_since = _now()
        body = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": node.name, "labels": self._labels(node)},
            "spec": dict(manifest.get("spec") or {}),
            "status": self._node_status(node),
        }
        status, answer = node.client.request("POST", "/api/v1/nodes", body)
        if status == 409:  # registered before (a kubelet restart): keep it, refresh its status
            status, answer = node.client.request("GET", f"/api/v1/nodes/{node.name}")
            if status == 200 and _own_taints(answer) != _own_taints(body):
                log.warning("node %s exists with other taints; a node cannot change its own", node.name)
        if status not in (200, 201):
            raise RuntimeError(f"registering node {node.name}: HTTP {status}: {_message(answer)}")
        node.uid = answer["metadata"]["uid"]
        self._post_status(node)
        self._renew_lease(node)

    @staticmethod
    def _labels(node: _Node) -> dict[str, str]:
        labels = {
            "kubernetes.io/hostname": node.name,
            "kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64",
        }
        labels.update(node.manifest["metadata"].get("labels") or {})
        return labels

    def _node_status(self, node: _Node) -> dict[str, Any]:
        now = _now()

        def condition(kind: str, status: str, reason: str, message: str) -> dict[str, Any]:
            return {
                "type": kind,
                "status": status,
                "reason": reason,
                "message": message,
                "lastHeartbeatTime": now,
                "lastTransitionTime": node.ready_since,
            }

        reported = node.manifest.get("status") or {}
        return {
            "capacity": dict(reported.get("capacity") or {}),
            "allocatable": dict(reported.get("allocatable") or reported.get("capacity") or {}),
            "conditions": [
                condition(
                    "MemoryPressure",
                    "False",
                    "KubeletHasSufficientMemory",
                    "kubelet has sufficient memory available",
                ),
                condition(
                    "DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"
                ),
                condition(
                    "PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"
                ),
                condition("Ready", "True", "KubeletReady", "test kubelet is posting ready status"),
            ],
            "addresses": [
                {"type": "InternalIP", "address": "127.0.0.1"},
                {"type": "Hostname", "address": node.name},
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 0}},
            "nodeInfo": {
                "machineID": "",
                "systemUUID": "",
                "bootID": "",
                "kernelVersion": os.uname().release,
                "osImage": "profilespawner test kubelet (pods are local processes)",
                "containerRuntimeVersion": "local-process://0",
                "kubeletVersion": "",
                "kubeProxyVersion": "",
                "operatingSystem": "linux",
                "architecture": "amd64",
            },
        }

    def _post_status(self, node: _Node) -> None:
        status, answer = node.client.request(
            "PATCH",
            f"/api/v1/nodes/{node.name}/status",
            {"status": self._node_status(node)},
            content_type="application/merge-patch+json",
        )
        if status != 200:
            log.warning("status of node %s: HTTP %s: %s", node.name, status, _message(answer))
        node.next_status = time.monotonic() + 6 * self.heartbeat

    def _renew_lease(self, node: _Node) -> None:
        path = f"/apis/coordination.k8s.io/v1/namespaces/{LEASE_NAMESPACE}/leases"
        spec = {"holderIdentity": node.name, "leaseDurationSeconds": LEASE_SECONDS, "renewTime": _micro_now()}
        status, answer = node.client.request(
            "PATCH", f"{path}/{node.name}", {"spec": spec}, content_type="application/merge-patch+json"
        )
        if status == 404:
            lease = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {
                    "name": node.name,
                    "namespace": LEASE_NAMESPACE,
                    "ownerReferences": [
                        {"apiVersion": "v1", "kind": "Node", "name": node.name, "uid": node.uid}
                    ],
                },
                "spec": spec,
            }
            status, answer = node.client.request("POST", path, lease)
        if status not in (200, 201):
            log.warning("lease of node %s: HTTP %s: %s", node.name, status, _message(answer))
        node.next_lease = time.monotonic() + self.heartbeat

    def _heartbeats(self) -> None:
        now = time.monotonic()
        for node in self.nodes.values():
            if now >= node.next_lease:
                self._renew_lease(node)
            if now >= node.next_status:
                self._post_status(node)

    # -- the watch threads -----------------------------------------------------

    def _watch(self, node: _Node) -> None:
        """List, then watch, the pods bound to ``node``; events go to the queue."""
        selector = urllib.parse.urlencode({"fieldSelector": f"spec.nodeName={node.name}"})
        pods = "/api/v1/pods"
        while not self._stop.is_set():
            try:
                status, body = node.client.request("GET", f"{pods}?{selector}")
            except OSError as error:  # the API server is away: try again
                status, body = None, str(error)
            if status != 200:
                log.warning("listing pods of %s: %s", node.name, f"HTTP {status}" if status else body)
                self._stop.wait(1)
                continue
            self._events.put((node.name, "SYNC", body["items"]))
            version = body["metadata"]["resourceVersion"]
            try:
                while not self._stop.is_set():
                    query = urllib.parse.urlencode(
                        {
                            "fieldSelector": f"spec.nodeName={node.name}",
                            "watch": "1",
                            "resourceVersion": version,
                            "allowWatchBookmarks": "true",
                            "timeoutSeconds": str(_WATCH_SECONDS),
                        }
                    )
                    for event in node.client.stream(f"{pods}?{query}", timeout=_WATCH_SECONDS + 30):
                        obj = event.get("object") or {}
                        if event.get("type") == "ERROR":
                            raise _Relist(obj.get("message", "watch error"))
                        version = obj.get("metadata", {}).get("resourceVersion", version)
                        if event.get("type") != "BOOKMARK":
                            self._events.put((node.name, event["type"], obj))
            except (_Relist, OSError, ValueError) as error:
                if not self._stop.is_set():
                    log.info("pod watch of %s ended (%s); listing again", node.name, error)
                    self._stop.wait(0.5)

    # -- the main loop -------------------------------------------------------

    def run(self, ready: threading.Event | None = None) -> None:
        """Register the nodes, serve their pods until :meth:`stop`; then stop
        every process."""
        for node in self.nodes.values():
            self._register(node)
        for node in self.nodes.values():
            watcher = threading.Thread(
                target=self._watch, args=(node,), name=f"watch-{node.name}", daemon=True
            )
            watcher.start()
        unsynced = set(self.nodes)
        try:
            while not self._stop.is_set():
                try:
                    node_name, kind, obj = self._events.get(timeout=0.2)
                except queue.Empty:
                    pass
                else:
                    self._guarded(self._dispatch, node_name, kind, obj)
                    if kind == "SYNC" and node_name in unsynced:
                        unsynced.discard(node_name)
                        if not unsynced:
                            log.info("%s: nodes %s", READY_MESSAGE, ", ".join(self.nodes))
                            if ready is not None:
                                ready.set()
                self._guarded(self._heartbeats)
                self._guarded(self._reap)
                if self._pending and time.monotonic() >= self._next_retry:
                    self._next_retry = time.monotonic() + _RETRY_CONFIG_SECONDS
                    for pod in list(self._pending.values()):
                        self._guarded(self._start, pod)
        finally:
            self._stop.set()
            self._shutdown()

    def stop(self) -> None:
        """Ask :meth:`run` to return (any thread, or a signal handler)."""
        self._stop.set()

    @staticmethod
    def _guarded(step: Any, *args: Any) -> None:
        """Run one step; an API server that does not answer is not fatal (the
        watch lists again once it is back, which replays every pod)."""
        try:
            step(*args)
        except OSError as error:
            log.warning("API server unreachable: %s", error)

    def _dispatch(self, node_name: str, kind: str, obj: Any) -> None:
        if kind == "SYNC":
            present = {pod["metadata"]["uid"] for pod in obj}
            for uid, container in list(self._containers.items()):
                if container.node == node_name and uid not in present:
                    self._forget(container, "gone from the list")
            for pod in obj:
                self._on_pod(pod)
        elif kind == "DELETED":
            self._pending.pop(obj["metadata"]["uid"], None)
            gone = self._containers.get(obj["metadata"]["uid"])
            if gone is not None:
                self._forget(gone, "deleted")
        else:
            self._on_pod(obj)

    def _on_pod(self, pod: dict[str, Any]) -> None:
        meta, spec = pod["metadata"], pod["spec"]
        uid = meta["uid"]
        if spec.get("nodeName") not in self.nodes:
            return  # not bound here: the scheduler decides, never this kubelet
        container = self._containers.get(uid)
        if meta.get("deletionTimestamp"):
            self._pending.pop(uid, None)
            if container is None or container.process is None or container.exit_code is not None:
                self._confirm_deletion(pod)
            elif container.kill_at is None:
                grace = meta.get("deletionGracePeriodSeconds") or 0
                log.info("stopping %s/%s (grace %ss)", meta["namespace"], meta["name"], grace)
                _signal_group(container.process, signal.SIGTERM)
                container.kill_at = time.monotonic() + grace
            return
        if container is None and uid not in self._pending:
            if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
                return
            self._start(pod)

    # -- starting ------------------------------------------------------------

    def _start(self, pod: dict[str, Any]) -> None:
        meta = pod["metadata"]
        namespace, name, uid, node = meta["namespace"], meta["name"], meta["uid"], pod["spec"]["nodeName"]
        client = self._client(pod)
        container = next((c for c in pod["spec"]["containers"] if c["name"] == _CONTAINER), None)
        if container is None:
            container = pod["spec"]["containers"][0]
        ip, port = self._allocate(container)
        pod.setdefault("status", {}).update(podIP=ip, hostIP="127.0.0.1")
        try:
            env = resolve_env(client, pod, container)
        except ContainerConfigError as error:
            self._pending[uid] = pod
            if str(error) != self._pending_errors.get(uid):
                self._pending_errors[uid] = str(error)
                log.warning("%s/%s: CreateContainerConfigError: %s", namespace, name, error)
                self._patch_status(pod, self._waiting_status(container, "CreateContainerConfigError", error))
                self._event(pod, "Warning", "Failed", f"Error: {error}")
            return
        self._pending.pop(uid, None)
        self._pending_errors.pop(uid, None)

        pod_dir = self.workdir / f"{namespace}_{name}_{uid[:8]}"
        home = pod_dir / "home"
        home.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            # What the image would ship: jupyter_server refuses to run as root
            # otherwise, and this node cannot switch to the pod's user.
            config_dir = home / ".jupyter"
            config_dir.mkdir(exist_ok=True)
            (config_dir / "jupyter_server_config.json").write_text('{"ServerApp": {"allow_root": true}}\n')
        image_env = {"PATH": self.image_path, "HOME": str(home), "LANG": "C.UTF-8"}
        env = {**image_env, **env}
        env = _listen_on_pod_ip(env, ip, port)
        argv = _argv(container, self.image_cmd)
        argv = _rewrite_ip_args(argv, ip)
        workdir = container.get("workingDir")
        cwd = workdir if workdir and os.path.isdir(workdir) else str(home)
        log_path = pod_dir / "container.log"
        try:
            with open(log_path, "ab") as output:
                process = subprocess.Popen(
                    argv,
                    env=env,
                    cwd=cwd,
                    stdin=subprocess.DEVNULL,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    preexec_fn=_die_with_parent,
                )
        except OSError as error:
            log.warning("%s/%s: cannot start %s: %s", namespace, name, argv[0], error)
            self._containers[uid] = _Container(node, namespace, name, uid, ip, exit_code=128)
            self._patch_status(pod, self._terminated_status(container, 128, "StartError", "Failed"))
            self._event(pod, "Warning", "Failed", f"Error: cannot start {argv[0]}")
            return
        self._containers[uid] = _Container(node, namespace, name, uid, ip, process, log_path)
        log.info(
            "started %s/%s on %s: pid %s on %s:%s, log %s",
            namespace,
            name,
            node,
            process.pid,
            ip,
            port,
            log_path,
        )
        self._patch_status(pod, self._running_status(container, process.pid))
        self._event(pod, "Normal", "Started", f"Started container {container['name']}")

    def _allocate(self, container: Mapping[str, Any]) -> tuple[str, int]:
        """A loopback address no other pod uses, where the container port is free."""
        port = _container_port(container)
        used = {c.ip for c in self._containers.values() if c.exit_code is None}
        # Each kubelet process starts in its own /16 of 127.0.0.0/8: a free port
        # is only checked, not held, until the server binds it, so two test
        # stacks on one machine counting from 127.0.0.2 would race for it.
        for third in range(256):
            for fourth in range(1, 255):
                ip = f"127.{self._second_octet}.{third}.{fourth}"
                if ip not in used and _bindable(ip, port):
                    return ip, port
        raise RuntimeError("no free loopback address left")

    # -- status and events ---------------------------------------------------

    def _patch_status(self, pod: Mapping[str, Any], status: dict[str, Any]) -> None:
        meta = pod["metadata"]
        path = f"/api/v1/namespaces/{meta['namespace']}/pods/{meta['name']}/status"
        patch = {"metadata": {"uid": meta["uid"]}, "status": {**self._base_status(pod), **status}}
        code, body = self._client(pod).request(
            "PATCH", path, patch, content_type="application/merge-patch+json"
        )
        if code != 200:
            log.warning("status of %s/%s: HTTP %s: %s", meta["namespace"], meta["name"], code, _message(body))

    def _event(self, pod: Mapping[str, Any], kind: str, reason: str, message: str) -> None:
        """Record an event about the pod's container, as a kubelet does (KubeSpawner
        shows a pod's events as the spawn's progress)."""
        meta = pod["metadata"]
        node = pod["spec"]["nodeName"]
        now = _now()
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"generateName": f"{meta['name']}.", "namespace": meta["namespace"]},
            "involvedObject": {
                "apiVersion": "v1",
                "kind": "Pod",
                "namespace": meta["namespace"],
                "name": meta["name"],
                "uid": meta["uid"],
                "fieldPath": f"spec.containers{{{_CONTAINER}}}",
            },
            "type": kind,
            "reason": reason,
            "message": message,
            "source": {"component": "kubelet", "host": node},
            "reportingComponent": "kubelet",
            "reportingInstance": node,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
        }
        code, body = self._client(pod).request(
            "POST", f"/api/v1/namespaces/{meta['namespace']}/events", event
        )
        if code != 201:
            log.warning("event for %s/%s: HTTP %s: %s", meta["namespace"], meta["name"], code, _message(body))

    @staticmethod
    def _conditions(ready: bool) -> list[dict[str, Any]]:
        now = _now()
        flag = "True" if ready else "False"
        return [
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": now},
            {"type": "Initialized", "status": "True", "lastTransitionTime": now},
            {"type": "ContainersReady", "status": flag, "lastTransitionTime": now},
            {"type": "Ready", "status": flag, "lastTransitionTime": now},
        ]

    def _base_status(self, pod: Mapping[str, Any]) -> dict[str, Any]:
        ip = pod["status"]["podIP"]
        return {
            "hostIP": "127.0.0.1",
            "hostIPs": [{"ip": "127.0.0.1"}],
            "podIP": ip,
            "podIPs": [{"ip": ip}],
            "startTime": pod["status"].get("startTime") or _now(),
        }

    def _container_status(
        self, container: Mapping[str, Any], ready: bool, state: dict[str, Any], pid: int | None = None
    ) -> dict[str, Any]:
        status = {
            "name": container["name"],
            "image": container.get("image", ""),
            "imageID": "",
            "ready": ready,
            "started": "running" in state,
            "restartCount": 0,
            "state": state,
        }
        if pid is not None:
            status["containerID"] = f"pid://{pid}"
        return status

    def _running_status(self, container: Mapping[str, Any], pid: int) -> dict[str, Any]:
        return {
            "phase": "Running",
            "conditions": self._conditions(True),
            "containerStatuses": [
                self._container_status(container, True, {"running": {"startedAt": _now()}}, pid)
            ],
        }

    def _waiting_status(self, container: Mapping[str, Any], reason: str, error: Exception) -> dict[str, Any]:
        return {
            "phase": "Pending",
            "conditions": self._conditions(False),
            "containerStatuses": [
                self._container_status(
                    container, False, {"waiting": {"reason": reason, "message": str(error)}}
                )
            ],
        }

    def _terminated_status(
        self, container: Mapping[str, Any], code: int, reason: str, phase: str
    ) -> dict[str, Any]:
        state = {"terminated": {"exitCode": code, "reason": reason, "finishedAt": _now()}}
        return {
            "phase": phase,
            "conditions": self._conditions(False),
            "containerStatuses": [self._container_status(container, False, state)],
        }

    # -- stopping ------------------------------------------------------------

    def _reap(self) -> None:
        for container in list(self._containers.values()):
            process = container.process
            if process is None or container.exit_code is not None:
                continue
            code = process.poll()
            if code is None:
                if container.kill_at is not None and time.monotonic() >= container.kill_at:
                    log.info("killing %s/%s: grace period over", container.namespace, container.pod_name)
                    _signal_group(process, signal.SIGKILL)
                    container.kill_at = float("inf")
                continue
            container.exit_code = code
            # A leftover child of the server (a kernel) goes with it.
            _signal_group(process, signal.SIGKILL)
            log.info(
                "%s/%s: process %s exited with %s", container.namespace, container.pod_name, process.pid, code
            )
            if container.kill_at is not None:
                self._confirm_deletion_of(container)
            else:
                status, pod = self.nodes[container.node].client.request(
                    "GET", f"/api/v1/namespaces/{container.namespace}/pods/{container.pod_name}"
                )
                if status == 200 and pod["metadata"]["uid"] == container.uid:
                    notebook = next(
                        (c for c in pod["spec"]["containers"] if c["name"] == _CONTAINER),
                        pod["spec"]["containers"][0],
                    )
                    phase = "Succeeded" if code == 0 else "Failed"
                    reason = "Completed" if code == 0 else "Error"
                    self._patch_status(pod, self._terminated_status(notebook, code, reason, phase))

    def _confirm_deletion(self, pod: Mapping[str, Any]) -> None:
        meta = pod["metadata"]
        container = self._containers.get(meta["uid"]) or _Container(
            pod["spec"]["nodeName"], meta["namespace"], meta["name"], meta["uid"], ""
        )
        self._containers.setdefault(meta["uid"], container)
        self._confirm_deletion_of(container)

    def _confirm_deletion_of(self, container: _Container) -> None:
        """Delete the pod object now that its process is gone (what a kubelet
        does after a graceful stop); a pod another uid replaced is left alone."""
        if container.deleted:
            return
        container.deleted = True
        body = {
            "apiVersion": "v1",
            "kind": "DeleteOptions",
            "gracePeriodSeconds": 0,
            "preconditions": {"uid": container.uid},
        }
        status, answer = self.nodes[container.node].client.request(
            "DELETE", f"/api/v1/namespaces/{container.namespace}/pods/{container.pod_name}", body
        )
        if status in (200, 202, 404, 409):
            log.info("%s/%s: deleted (HTTP %s)", container.namespace, container.pod_name, status)
        else:
            container.deleted = False
            log.warning(
                "deleting %s/%s: HTTP %s: %s",
                container.namespace,
                container.pod_name,
                status,
                _message(answer),
            )

    def _forget(self, container: _Container, why: str) -> None:
        if container.process is not None and container.exit_code is None:
            log.info("%s/%s %s: stopping its process", container.namespace, container.pod_name, why)
            _stop_process(container.process, grace=2.0)
        self._containers.pop(container.uid, None)

    def _shutdown(self) -> None:
        running = [c for c in self._containers.values() if c.process is not None and c.exit_code is None]
        for container in running:
            assert container.process is not None
            _signal_group(container.process, signal.SIGTERM)
        for container in running:
            assert container.process is not None
            _stop_process(container.process, grace=5.0)
        if running:
            log.info("stopped %d process(es)", len(running))


def _own_taints(node: Mapping[str, Any]) -> list[Any]:
    """A Node's taints but those the node lifecycle controller manages."""
    taints = (node.get("spec") or {}).get("taints") or []
    return [t for t in taints if not str(t.get("key", "")).startswith("node.kubernetes.io/")]


class _Relist(Exception):
    pass


def _message(body: Any) -> str:
    """The API server's Status message, cut (never an object's content)."""
    text = body.get("message", "") if isinstance(body, dict) else str(body)
    return text[:256]


def _stop_process(process: subprocess.Popen[bytes], grace: float) -> None:
    _signal_group(process, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        _signal_group(process, signal.SIGKILL)
        process.wait(timeout=10)
    _signal_group(process, signal.SIGKILL)


def _argv(container: Mapping[str, Any], image_cmd: Sequence[str]) -> list[str]:
    """The process to run, as Kubernetes combines ``command`` and ``args`` with
    the image's ENTRYPOINT (none here) and CMD (``image_cmd``)."""
    if container.get("command"):
        return [*container["command"], *(container.get("args") or [])]
    return list(container.get("args") or image_cmd)


def _container_port(container: Mapping[str, Any]) -> int:
    ports = container.get("ports") or []
    for port in ports:
        if port.get("name") == "notebook-port":
            return int(port["containerPort"])
    return int(ports[0]["containerPort"]) if ports else 8888


def _listen_on_pod_ip(env: dict[str, str], ip: str, port: int) -> dict[str, str]:
    """Point a wildcard ``JUPYTERHUB_SERVICE_URL`` at the pod IP (see the module doc)."""
    url = env.get("JUPYTERHUB_SERVICE_URL")
    if not url:
        return env
    parts = urllib.parse.urlsplit(url)
    if (parts.hostname or "") not in _WILDCARD_HOSTS:
        return env
    netloc = f"{ip}:{parts.port or port}"
    return {**env, "JUPYTERHUB_SERVICE_URL": urllib.parse.urlunsplit(parts._replace(netloc=netloc))}


def _rewrite_ip_args(argv: list[str], ip: str) -> list[str]:
    """``--ip=0.0.0.0`` (or ``--ServerApp.ip``) means the pod IP here too."""
    result = []
    for arg in argv:
        option, sep, value = arg.partition("=")
        if sep and option in ("--ip", "--ServerApp.ip", "--NotebookApp.ip") and value in _WILDCARD_HOSTS:
            arg = f"{option}={ip}"
        result.append(arg)
    return result


# -- command line ------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """``python -m tests.e2e.kubelet --kubeconfigs DIR [--nodes FILE]``: run until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(prog="python -m tests.e2e.kubelet", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--nodes",
        default=str(NODES_FILE),
        help="the Node manifests to play (default: tests/e2e/nodes.yaml)",
    )
    parser.add_argument(
        "--kubeconfigs",
        required=True,
        help="directory with one kubeconfig per node, <node>.kubeconfig, whose user is system:node:<node>",
    )
    parser.add_argument("--workdir", help="where pod homes and logs go (default: a temporary directory)")
    parser.add_argument(
        "--heartbeat",
        type=float,
        default=10.0,
        help="seconds between Lease renewals (default: 10, a kubelet's)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    nodes = load_nodes(args.nodes)
    names = [node["metadata"]["name"] for node in nodes]
    clients = {name: KubeClient(Path(args.kubeconfigs) / f"{name}.kubeconfig") for name in names}
    workdir = args.workdir or tempfile.mkdtemp(prefix="test-kubelet-")
    kubelet = Kubelet(nodes, clients, workdir, heartbeat=args.heartbeat)

    def on_signal(signum: int, frame: object) -> None:
        kubelet.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        kubelet.run()
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
