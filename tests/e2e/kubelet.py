"""A test kubelet: runs the notebook container of each pod as a local process.

The control plane of the tests has no scheduler and no kubelet, so a pod that
KubeSpawner creates would stay ``Pending`` forever. This module plays both for
one namespace, the way a node would, through the real API server:

- it watches the pods of the namespace (list, then watch from the list's
  resourceVersion; a 410 or a cut stream lists again);
- a new pod is bound to this node (``pods/binding``, as a scheduler does), so
  that the API server treats its deletion as a kubelet-confirmed one;
- the container named ``notebook`` runs as a local process: its ``command``
  and ``args`` as Kubernetes combines them with the image's (no ENTRYPOINT,
  CMD ``jupyterhub-singleuser``; KubeSpawner puts ``KubeSpawner.cmd`` in
  ``args``), found on the image's ``PATH`` -- here this Python's ``bin``
  directory, so ``jupyterhub-singleuser`` is the one of this virtualenv; its
  environment resolved as a kubelet resolves it
  (``envFrom`` ConfigMaps and Secrets, then ``env``: ``value`` with ``$(VAR)``
  references, ``valueFrom`` ``secretKeyRef``, ``configMapKeyRef`` and
  ``fieldRef``). A reference that cannot be resolved leaves the pod
  ``Pending`` with ``CreateContainerConfigError``, retried, as a kubelet does;
- each pod gets its own loopback address (127.0.0.2, 127.0.0.3, ...) as its
  pod IP. A server that would listen on all interfaces (``0.0.0.0``, which is
  what KubeSpawner's ``ip`` and ``JUPYTERHUB_SERVICE_URL`` say) listens on the
  pod IP instead -- in a real pod "all interfaces" is the pod's own network
  namespace. The port is the container port, as in Kubernetes;
- once the process runs, the pod status (status subresource) says ``Running``,
  ``Ready``, the container ready, with ``podIP``; the process id is in
  ``containerStatuses[0].containerID`` as ``pid://<pid>``;
- a pod being deleted (``deletionTimestamp``) gets SIGTERM, SIGKILL after its
  grace period, and once the process is gone the pod object is deleted with
  ``gracePeriodSeconds=0``, which is the confirmation a kubelet gives;
- a process that exits on its own is reported as terminated, with its exit code
  (``restartPolicy`` is not honoured: nothing is restarted).

What a real node does and this one does not: images (the command runs from
this machine), volumes, init and sidecar containers, resource limits,
probes, user ids. Credential values are never logged.

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

__all__ = ["ContainerConfigError", "KubeClient", "Kubelet", "main", "resolve_env"]

log = logging.getLogger("test-kubelet")

#: The line the kubelet logs once it has listed the pods and watches.
READY_MESSAGE = "test kubelet ready"

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
    with a bearer token (what the test control plane writes)."""

    def __init__(self, kubeconfig: str | os.PathLike[str]) -> None:
        config = yaml.safe_load(Path(kubeconfig).read_text())
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
            self._ssl.load_verify_locations(cafile=cluster["certificate-authority"])
        if cluster.get("insecure-skip-tls-verify"):
            self._ssl.check_hostname = False
            self._ssl.verify_mode = ssl.CERT_NONE

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


@dataclass
class _Container:
    """One running (or finished) notebook container."""

    namespace: str
    pod_name: str
    uid: str
    ip: str
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    kill_at: float | None = None  # SIGKILL deadline once terminating
    exit_code: int | None = None
    deleted: bool = False


class Kubelet:
    """Runs the pods of ``namespace`` as local processes (see the module doc).

    Not thread-safe: call :meth:`run` from the main thread (child processes
    are tied to the thread that starts them by ``PR_SET_PDEATHSIG``).
    """

    def __init__(
        self,
        client: KubeClient,
        namespace: str,
        workdir: str | os.PathLike[str],
        *,
        node_name: str = "profilespawner-test-node",
        image_path: str | None = None,
        image_cmd: tuple[str, ...] = ("jupyterhub-singleuser",),
    ) -> None:
        self.client = client
        self.namespace = namespace
        self.workdir = Path(workdir)
        self.node_name = node_name
        self.image_path = image_path or os.pathsep.join(
            [os.path.dirname(sys.executable), "/usr/local/bin", "/usr/bin", "/bin"]
        )
        self.image_cmd = image_cmd
        self._events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._containers: dict[str, _Container] = {}  # by pod uid
        self._pending: dict[str, dict[str, Any]] = {}  # uid -> pod waiting for its config
        self._pending_errors: dict[str, str] = {}  # uid -> the error last reported
        self._stop = threading.Event()
        self._next_retry = 0.0

    # -- the watch thread ----------------------------------------------------

    def _watch(self) -> None:
        pods = f"/api/v1/namespaces/{self.namespace}/pods"
        while not self._stop.is_set():
            try:
                status, body = self.client.request("GET", pods)
            except OSError as error:  # the API server is away: try again
                status, body = None, str(error)
            if status != 200:
                log.warning("listing pods: %s", f"HTTP {status}" if status else body)
                self._stop.wait(1)
                continue
            self._events.put(("SYNC", body["items"]))
            version = body["metadata"]["resourceVersion"]
            try:
                while not self._stop.is_set():
                    query = urllib.parse.urlencode(
                        {
                            "watch": "1",
                            "resourceVersion": version,
                            "allowWatchBookmarks": "true",
                            "timeoutSeconds": str(_WATCH_SECONDS),
                        }
                    )
                    for event in self.client.stream(f"{pods}?{query}", timeout=_WATCH_SECONDS + 30):
                        obj = event.get("object") or {}
                        if event.get("type") == "ERROR":
                            raise _Relist(obj.get("message", "watch error"))
                        version = obj.get("metadata", {}).get("resourceVersion", version)
                        if event.get("type") != "BOOKMARK":
                            self._events.put((event["type"], obj))
            except (_Relist, OSError, ValueError) as error:
                if not self._stop.is_set():
                    log.info("pod watch ended (%s); listing again", error)
                    self._stop.wait(0.5)

    # -- the main loop -------------------------------------------------------

    def run(self, ready: threading.Event | None = None) -> None:
        """Serve pods until :meth:`stop`; then stop every process."""
        watcher = threading.Thread(target=self._watch, name="pod-watch", daemon=True)
        watcher.start()
        announced = False
        try:
            while not self._stop.is_set():
                try:
                    kind, obj = self._events.get(timeout=0.2)
                except queue.Empty:
                    pass
                else:
                    self._guarded(self._dispatch, kind, obj)
                    if kind == "SYNC" and not announced:
                        announced = True
                        log.info("%s: node %s, namespace %s", READY_MESSAGE, self.node_name, self.namespace)
                        if ready is not None:
                            ready.set()
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

    def _dispatch(self, kind: str, obj: Any) -> None:
        if kind == "SYNC":
            present = {pod["metadata"]["uid"] for pod in obj}
            for uid, container in list(self._containers.items()):
                if uid not in present:
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
        if spec.get("nodeName") not in (None, "", self.node_name):
            return
        container = self._containers.get(uid)
        if meta.get("deletionTimestamp"):
            self._pending.pop(uid, None)
            if container is None or container.process is None or container.exit_code is not None:
                self._confirm_deletion(pod)
            elif container.kill_at is None:
                grace = meta.get("deletionGracePeriodSeconds") or 0
                log.info("stopping %s/%s (grace %ss)", self.namespace, meta["name"], grace)
                _signal_group(container.process, signal.SIGTERM)
                container.kill_at = time.monotonic() + grace
            return
        if container is None and uid not in self._pending:
            if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
                return
            if not spec.get("nodeName") and not self._bind(pod):
                return
            self._start(pod)

    def _bind(self, pod: dict[str, Any]) -> bool:
        name = pod["metadata"]["name"]
        binding = {
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": {"name": name},
            "target": {"apiVersion": "v1", "kind": "Node", "name": self.node_name},
        }
        status, body = self.client.request(
            "POST", f"/api/v1/namespaces/{self.namespace}/pods/{name}/binding", binding
        )
        if status not in (200, 201):
            log.warning("binding %s/%s: HTTP %s: %s", self.namespace, name, status, _message(body))
            return False
        pod["spec"]["nodeName"] = self.node_name
        return True

    # -- starting ------------------------------------------------------------

    def _start(self, pod: dict[str, Any]) -> None:
        meta = pod["metadata"]
        name, uid = meta["name"], meta["uid"]
        container = next((c for c in pod["spec"]["containers"] if c["name"] == _CONTAINER), None)
        if container is None:
            container = pod["spec"]["containers"][0]
        ip, port = self._allocate(container)
        pod.setdefault("status", {}).update(podIP=ip, hostIP="127.0.0.1")
        try:
            env = resolve_env(self.client, pod, container)
        except ContainerConfigError as error:
            self._pending[uid] = pod
            if str(error) != self._pending_errors.get(uid):
                self._pending_errors[uid] = str(error)
                log.warning("%s/%s: CreateContainerConfigError: %s", self.namespace, name, error)
                self._patch_status(pod, self._waiting_status(container, "CreateContainerConfigError", error))
            return
        self._pending.pop(uid, None)
        self._pending_errors.pop(uid, None)

        pod_dir = self.workdir / f"{self.namespace}_{name}_{uid[:8]}"
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
            log.warning("%s/%s: cannot start %s: %s", self.namespace, name, argv[0], error)
            self._containers[uid] = _Container(self.namespace, name, uid, ip, exit_code=128)
            self._patch_status(pod, self._terminated_status(container, 128, "StartError", "Failed"))
            return
        self._containers[uid] = _Container(self.namespace, name, uid, ip, process, log_path)
        log.info(
            "started %s/%s: pid %s on %s:%s, log %s", self.namespace, name, process.pid, ip, port, log_path
        )
        self._patch_status(pod, self._running_status(container, process.pid))

    def _allocate(self, container: Mapping[str, Any]) -> tuple[str, int]:
        """A loopback address no other pod uses, where the container port is free."""
        port = _container_port(container)
        used = {c.ip for c in self._containers.values() if c.exit_code is None}
        for third in range(256):
            for fourth in range(2 if third == 0 else 1, 255):
                ip = f"127.0.{third}.{fourth}"
                if ip not in used and _bindable(ip, port):
                    return ip, port
        raise RuntimeError("no free loopback address left")

    # -- status --------------------------------------------------------------

    def _patch_status(self, pod: Mapping[str, Any], status: dict[str, Any]) -> None:
        meta = pod["metadata"]
        path = f"/api/v1/namespaces/{self.namespace}/pods/{meta['name']}/status"
        patch = {"metadata": {"uid": meta["uid"]}, "status": {**self._base_status(pod), **status}}
        code, body = self.client.request("PATCH", path, patch, content_type="application/merge-patch+json")
        if code != 200:
            log.warning("status of %s/%s: HTTP %s: %s", self.namespace, meta["name"], code, _message(body))

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
                    log.info("killing %s/%s: grace period over", self.namespace, container.pod_name)
                    _signal_group(process, signal.SIGKILL)
                    container.kill_at = float("inf")
                continue
            container.exit_code = code
            # A leftover child of the server (a kernel) goes with it.
            _signal_group(process, signal.SIGKILL)
            log.info(
                "%s/%s: process %s exited with %s", self.namespace, container.pod_name, process.pid, code
            )
            if container.kill_at is not None:
                self._confirm_deletion_of(container)
            else:
                status, pod = self.client.request(
                    "GET", f"/api/v1/namespaces/{self.namespace}/pods/{container.pod_name}"
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
            self.namespace, meta["name"], meta["uid"], ""
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
        status, answer = self.client.request(
            "DELETE", f"/api/v1/namespaces/{self.namespace}/pods/{container.pod_name}", body
        )
        if status in (200, 202, 404, 409):
            log.info("%s/%s: deleted (HTTP %s)", self.namespace, container.pod_name, status)
        else:
            container.deleted = False
            log.warning(
                "deleting %s/%s: HTTP %s: %s", self.namespace, container.pod_name, status, _message(answer)
            )

    def _forget(self, container: _Container, why: str) -> None:
        if container.process is not None and container.exit_code is None:
            log.info("%s/%s %s: stopping its process", self.namespace, container.pod_name, why)
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
    """``python -m tests.e2e.kubelet --kubeconfig K --namespace NS``: run until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(prog="python -m tests.e2e.kubelet", description=__doc__.splitlines()[0])
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--namespace", required=True)
    parser.add_argument("--workdir", help="where pod homes and logs go (default: a temporary directory)")
    parser.add_argument("--node-name", default="profilespawner-test-node")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    workdir = args.workdir or tempfile.mkdtemp(prefix="test-kubelet-")
    kubelet = Kubelet(KubeClient(args.kubeconfig), args.namespace, workdir, node_name=args.node_name)

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
