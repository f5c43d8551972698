"""A whole local deployment: control plane, Nodes, JupyterHub, for tests and ``make demo``.

:class:`LocalStack` starts, in order (and stops in reverse, also on errors):

1. the control plane (:class:`tests.controlplane.harness.ControlPlane`: etcd,
   kube-apiserver, kube-controller-manager, kube-scheduler), unless one is given;
2. the cluster's Nodes (:class:`NodeSet`: the test kubelet of
   :mod:`tests.e2e.kubelet` as a process, playing every Node of
   ``tests/e2e/nodes.yaml``), unless a running NodeSet is given -- the Nodes
   belong to the cluster, so several stacks on one control plane share them;
3. a namespace, and the manifests given (ConfigMaps, Secrets, a
   PersistentVolume...), applied server-side;
4. JupyterHub (``python -m jupyterhub``) with a generated configuration:
   ``ProfileKubeSpawner`` in that namespace, KubeSpawner's client pointed at
   the control plane through ``KUBECONFIG``, the shared-password
   authenticator, configurable-http-proxy from ``tests/e2e/node_modules``
   (``npm ci --prefix tests/e2e``), every address on loopback.

kube-scheduler places each notebook pod on a Node; the test kubelet runs it.
Processes run in their own sessions, die with this process (``PR_SET_PDEATHSIG``)
and are stopped at interpreter exit at the latest. Logs go to ``workdir``:
``hub.log``, and, from the NodeSet's directory, ``kubelet.log`` and one
``container.log`` per pod under ``pods/``.
"""

from __future__ import annotations

import atexit
import contextlib
import http.cookiejar
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml

from tests.controlplane.harness import ControlPlane

from .kubelet import NODES_FILE, READY_MESSAGE, _die_with_parent, load_nodes

__all__ = [
    "CHP_HINT",
    "E2E_DIR",
    "LocalStack",
    "NodeSet",
    "StackError",
    "chp_path",
    "load_manifests",
]

E2E_DIR = Path(__file__).resolve().parent
REPO_ROOT = E2E_DIR.parent.parent
CHP_HINT = "install it with `npm ci --prefix tests/e2e` (make does this)"

#: The user servers' image; profiles may match it by name.
DEFAULT_IMAGE = "quay.io/jupyter/minimal-notebook:2025-01-01"

#: core/v1 kinds that live outside namespaces (as far as stacks apply them).
_CLUSTER_SCOPED = {"Node", "PersistentVolume"}


class StackError(RuntimeError):
    """A part of the stack did not start; the message quotes the end of its log."""


def chp_path() -> Path | None:
    """configurable-http-proxy as ``npm ci --prefix tests/e2e`` installs it, or None."""
    path = E2E_DIR / "node_modules" / ".bin" / "configurable-http-proxy"
    return path if path.exists() and shutil.which("node") else None


def load_manifests(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The objects of a (multi-document) YAML manifest file."""
    with open(path) as stream:
        return [doc for doc in yaml.safe_load_all(stream) if doc]


# -- processes ---------------------------------------------------------------

_LIVE: dict[int, subprocess.Popen[bytes]] = {}


def _start(argv: Sequence[str], *, log: Path, env: Mapping[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as output:
        process = subprocess.Popen(
            list(argv),
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            # PR_SET_PDEATHSIG fires when the forking *thread* ends: main thread only.
            preexec_fn=_die_with_parent if threading.current_thread() is threading.main_thread() else None,
        )
    _LIVE[process.pid] = process
    return process


def _stop(process: subprocess.Popen[bytes] | None, grace: float) -> None:
    """SIGTERM, then SIGKILL to the whole process group after ``grace`` seconds."""
    if process is None:
        return
    try:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=grace)
        # Children left behind in the group (the proxy of a killed hub) go too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        _LIVE.pop(process.pid, None)


@atexit.register
def _stop_leftovers() -> None:
    for process in list(_LIVE.values()):
        with contextlib.suppress(Exception):
            _stop(process, grace=3.0)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def _wait_for(what: str, check: Any, *, timeout: float, process: subprocess.Popen[bytes], log: Path) -> None:
    """Poll ``check()`` until true; fail early when ``process`` exits."""
    deadline = time.monotonic() + timeout
    while not check():
        if process.poll() is not None:
            raise StackError(f"{what} exited with {process.returncode}; {log}:\n{_tail(log)}")
        if time.monotonic() > deadline:
            raise StackError(f"{what} not ready after {timeout:.0f}s; {log}:\n{_tail(log)}")
        time.sleep(0.1)


# -- the hub's configuration -------------------------------------------------


@dataclass
class HubSettings:
    """What the generated ``jupyterhub_config.py`` says (see :meth:`render`)."""

    namespace: str
    port: int
    users: Mapping[str, Sequence[str]]  # user -> groups
    password: str
    api_token: str
    image: str = DEFAULT_IMAGE
    profile_files: Sequence[str] = ()
    base_config: str | None = None  # a jupyterhub_config.py loaded first
    extra_config: str = ""  # Python appended at the end
    start_timeout: int = 60  # KubeSpawner.start_timeout
    hub_port: int = field(default_factory=_free_port)
    proxy_api_port: int = field(default_factory=_free_port)

    def render(self, workdir: Path, chp: Path) -> str:
        """The configuration file's text."""
        groups: dict[str, dict[str, list[str]]] = {}
        for user, names in self.users.items():
            for group in names:
                groups.setdefault(group, {"users": []})["users"].append(user)
        lines = [
            '"""Generated by tests/e2e/stack.py for a local stack; do not edit."""',
            "c = get_config()  # noqa: F821",
        ]
        if self.base_config:
            lines.append(f"load_subconfig({self.base_config!r})  # noqa: F821")
        settings: list[tuple[str, Any]] = [
            ("JupyterHub.spawner_class", "profilespawner.ProfileKubeSpawner"),
            # DummyAuthenticator.password is deprecated since JupyterHub 5.3; this
            # is its successor: one password for every (non-admin) user.
            ("JupyterHub.authenticator_class", "shared-password"),
            ("SharedPasswordAuthenticator.user_password", self.password),
            ("Authenticator.allowed_users", set(self.users)),
            ("JupyterHub.load_groups", groups),
            ("JupyterHub.ip", "127.0.0.1"),
            ("JupyterHub.port", self.port),
            ("JupyterHub.hub_ip", "127.0.0.1"),
            ("JupyterHub.hub_port", self.hub_port),
            ("JupyterHub.hub_connect_ip", "127.0.0.1"),
            ("ConfigurableHTTPProxy.command", [str(chp)]),
            ("ConfigurableHTTPProxy.api_url", f"http://127.0.0.1:{self.proxy_api_port}"),
            ("ConfigurableHTTPProxy.pid_file", str(workdir / "proxy.pid")),
            ("JupyterHub.db_url", f"sqlite:///{workdir / 'jupyterhub.sqlite'}"),
            ("JupyterHub.cookie_secret_file", str(workdir / "cookie_secret")),
            ("JupyterHub.pid_file", str(workdir / "hub.pid")),
            ("JupyterHub.services", [{"name": "e2e", "api_token": self.api_token}]),
            (
                "JupyterHub.load_roles",
                [
                    {
                        "name": "e2e-driver",
                        "scopes": ["admin:users", "admin:servers", "admin:groups", "read:roles"],
                        "services": ["e2e"],
                    }
                ],
            ),
            ("KubeSpawner.namespace", self.namespace),
            ("KubeSpawner.image", self.image),
            ("KubeSpawner.cmd", ["jupyterhub-singleuser"]),
            ("KubeSpawner.storage_pvc_ensure", False),
            ("KubeSpawner.start_timeout", self.start_timeout),
            ("KubeSpawner.http_timeout", 30),
        ]
        if self.profile_files:
            settings.append(("SingleuserProfiles.files", list(self.profile_files)))
        lines += [f"c.{name} = {value!r}" for name, value in settings]
        if self.extra_config:
            lines.append(self.extra_config)
        return "\n".join(lines) + "\n"


# -- the Nodes ---------------------------------------------------------------


class NodeSet:
    """The Nodes of ``topology`` on ``control_plane``, played by the test
    kubelet (:mod:`tests.e2e.kubelet`) as a process.

    Each node gets a kubeconfig of its own, a client certificate for
    ``system:node:<name>`` in group ``system:nodes``, as a kubelet has. Logs
    in ``workdir``: ``kubelet.log``, and ``pods/<namespace>_<pod>_<uid>/container.log``.
    """

    def __init__(
        self,
        control_plane: ControlPlane,
        workdir: str | os.PathLike[str],
        *,
        topology: str | os.PathLike[str] = NODES_FILE,
        heartbeat: float = 10.0,
    ) -> None:
        self.control_plane = control_plane
        self.workdir = Path(workdir).resolve()
        self.topology = Path(topology)
        self.heartbeat = heartbeat
        self.names = [node["metadata"]["name"] for node in load_nodes(self.topology)]
        self.log = self.workdir / "kubelet.log"
        self.pods_dir = self.workdir / "pods"
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> NodeSet:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start the kubelet; return once every node is registered and Ready."""
        kubeconfigs = self.workdir / "node-kubeconfigs"
        kubeconfigs.mkdir(parents=True, exist_ok=True)
        kubeconfigs.chmod(0o700)
        for name in self.names:
            self.control_plane.write_client_kubeconfig(
                kubeconfigs / f"{name}.kubeconfig", user=f"system:node:{name}", groups=["system:nodes"]
            )
        argv = [
            sys.executable,
            "-m",
            "tests.e2e.kubelet",
            f"--nodes={self.topology}",
            f"--kubeconfigs={kubeconfigs}",
            f"--workdir={self.pods_dir}",
            f"--heartbeat={self.heartbeat}",
        ]
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self._process = _start(argv, log=self.log, env=env, cwd=REPO_ROOT)
        _wait_for(
            "test kubelet",
            lambda: READY_MESSAGE in self.log.read_text(errors="replace"),
            timeout=30,
            process=self._process,
            log=self.log,
        )

    def stop(self) -> None:
        """Stop the kubelet and every pod process it runs. The Node objects stay,
        as when a node goes down: the node lifecycle controller marks them
        NotReady once their Leases run out."""
        _stop(self._process, grace=10.0)
        self._process = None

    def logs(self) -> Iterator[Path]:
        """The kubelet's log and every container's."""
        if self.log.exists():
            yield self.log
        if self.pods_dir.exists():
            yield from sorted(self.pods_dir.glob("*/container.log"))


# -- the stack ---------------------------------------------------------------


class LocalStack:
    """Control plane + Nodes + namespace + manifests + JupyterHub.

    ``control_plane``: reuse a running one (a namespace of it is used, and
    deleted at the end); else one is started in ``workdir`` and stopped at the
    end. ``nodes``: a running :class:`NodeSet` of that control plane; else one
    is started for ``topology`` and stopped at the end. ``users`` maps user
    names to their JupyterHub groups; they all log in with ``password``.
    ``api_token`` is a hub API token with admin rights on users and servers
    (service ``e2e``).
    """

    def __init__(
        self,
        workdir: str | os.PathLike[str],
        *,
        control_plane: ControlPlane | None = None,
        nodes: NodeSet | None = None,
        topology: str | os.PathLike[str] = NODES_FILE,
        namespace: str | None = None,
        manifests: Iterable[Mapping[str, Any]] = (),
        users: Mapping[str, Sequence[str]] | None = None,
        password: str | None = None,
        port: int = 0,
        image: str = DEFAULT_IMAGE,
        profile_files: Sequence[str] = (),
        base_config: str | None = None,
        extra_config: str = "",
        hub_timeout: float = 60.0,
        start_timeout: int = 60,
    ) -> None:
        self.workdir = Path(workdir).resolve()
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.workdir.chmod(0o700)  # the hub config holds the password and the API token
        self._given_control_plane = control_plane
        self.control_plane: ControlPlane | None = control_plane
        self._given_nodes = nodes
        self.nodes: NodeSet | None = nodes
        self.topology = topology
        self.namespace = namespace or f"e2e-{secrets.token_hex(4)}"
        self.manifests = [dict(m) for m in manifests]
        self.password = password or secrets.token_urlsafe(12)
        self.api_token = secrets.token_hex(24)
        self.hub = HubSettings(
            namespace=self.namespace,
            port=port or _free_port(),
            users=dict(users or {}),
            password=self.password,
            api_token=self.api_token,
            image=image,
            profile_files=profile_files,
            base_config=base_config,
            extra_config=extra_config,
            start_timeout=start_timeout,
        )
        self.hub_timeout = hub_timeout
        self.url = f"http://127.0.0.1:{self.hub.port}"
        self.hub_log = self.workdir / "hub.log"
        self._hub: subprocess.Popen[bytes] | None = None
        self._namespace_created = False

    # -- lifecycle -----------------------------------------------------------

    def __enter__(self) -> LocalStack:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Start every part; see the module docstring."""
        chp = chp_path()
        if chp is None:
            raise StackError(f"configurable-http-proxy (or node) not found: {CHP_HINT}")
        if self.control_plane is None:
            self.control_plane = ControlPlane(workdir=self.workdir / "controlplane").start()
        cp = self.control_plane
        if self.nodes is None:
            self.nodes = NodeSet(cp, self.workdir / "nodes", topology=self.topology)
            self.nodes.start()
        cp.create_namespace(self.namespace, labels={"profilespawner-test": "e2e"})
        self._namespace_created = True
        for manifest in self.manifests:
            self.apply(manifest)
        self._start_hub(chp)

    def stop(self) -> None:
        """Stop the hub (it stops the servers), the Nodes (if started here),
        then the control plane (if started here)."""
        # The hub stops every server at shutdown, which needs the kubelet to
        # confirm the pod deletions: give it time before the kubelet goes.
        _stop(self._hub, grace=30.0)
        self._hub = None
        self._stop_leftover_proxy()
        if self.nodes is not None and self._given_nodes is None:
            self.nodes.stop()
            self.nodes = None
        if self.control_plane is not None:
            if self._given_control_plane is None:
                self.control_plane.stop()
                self.control_plane = None
            elif self._namespace_created:
                with contextlib.suppress(Exception):
                    self.control_plane.delete_namespace(self.namespace)
        self._namespace_created = False

    def restart_hub(self) -> None:
        """Stop the hub and start it again, on the same database and namespace.

        With ``c.JupyterHub.cleanup_servers = False`` the servers keep
        running through it, as they do through a hub upgrade."""
        chp = chp_path()
        if chp is None:
            raise StackError(f"configurable-http-proxy (or node) not found: {CHP_HINT}")
        _stop(self._hub, grace=30.0)
        self._hub = None
        self._stop_leftover_proxy()
        self._start_hub(chp)

    def _stop_leftover_proxy(self) -> None:
        # A JupyterHub that is killed leaves its proxy running, on purpose (users
        # keep their connections); here nothing may outlive the stack.
        pid_file = self.workdir / "proxy.pid"
        with contextlib.suppress(OSError, ValueError):
            os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)

    def _environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", os.defpath)])
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def _start_hub(self, chp: Path) -> None:
        assert self.control_plane is not None
        config = self.workdir / "jupyterhub_config.py"
        config.write_text(self.hub.render(self.workdir, chp))
        config.chmod(0o600)
        env = self._environment()
        # KubeSpawner's load_config() reads it: the hub talks to this control plane.
        env["KUBECONFIG"] = str(self.control_plane.kubeconfig_path)
        argv = [sys.executable, "-m", "jupyterhub", "-f", str(config)]
        self._hub = _start(argv, log=self.hub_log, env=env, cwd=self.workdir)
        _wait_for("JupyterHub", self._hub_up, timeout=self.hub_timeout, process=self._hub, log=self.hub_log)

    def _hub_up(self) -> bool:
        try:
            status, _ = self.api("GET", "/", timeout=2)
        except OSError:
            return False
        return status == 200

    # -- the control plane ---------------------------------------------------

    def _path(self, kind: str, name: str) -> str:
        """The URL of a core/v1 object: in the stack's namespace, or cluster-wide
        for the kinds that are (PersistentVolume, Node)."""
        plural = kind.lower() + ("es" if kind.endswith("s") else "s")
        where = "" if kind in _CLUSTER_SCOPED else f"/namespaces/{self.namespace}"
        return f"/api/v1{where}/{plural}/{urllib.parse.quote(name)}"

    def apply(self, manifest: Mapping[str, Any]) -> dict[str, Any]:
        """Create or update a core/v1 object (ConfigMap, Secret, ResourceQuota,
        PersistentVolume, ...), in the stack's namespace unless cluster-wide,
        server-side."""
        assert self.control_plane is not None
        kind, metadata = manifest["kind"], dict(manifest["metadata"])
        if kind not in _CLUSTER_SCOPED:
            metadata["namespace"] = self.namespace
        return self.control_plane.apply(
            self._path(kind, metadata["name"]), {**manifest, "metadata": metadata}
        )

    def get(self, kind: str, name: str) -> dict[str, Any] | None:
        """A core/v1 object (as :meth:`apply` finds it), or None."""
        assert self.control_plane is not None
        status, body = self.control_plane.request("GET", self._path(kind, name))
        if status == 404:
            return None
        if status != 200:
            raise StackError(f"get {kind} {name}: HTTP {status}: {body}")
        return dict(body)

    def delete(self, kind: str, name: str) -> None:
        """Delete a core/v1 object (as :meth:`apply` finds it); a missing one is fine."""
        assert self.control_plane is not None
        status, body = self.control_plane.request("DELETE", self._path(kind, name))
        if status not in (200, 202, 404):
            raise StackError(f"delete {kind} {name}: HTTP {status}: {body}")

    def pods(self) -> list[dict[str, Any]]:
        """The pods of the stack's namespace."""
        assert self.control_plane is not None
        status, body = self.control_plane.request("GET", f"/api/v1/namespaces/{self.namespace}/pods")
        if status != 200:
            raise StackError(f"list pods: HTTP {status}")
        return list(body["items"])

    def pod_of(self, user: str) -> dict[str, Any] | None:
        """The pod of ``user``'s default server, if there is one."""
        for pod in self.pods():
            labels = pod["metadata"].get("labels") or {}
            if labels.get("hub.jupyter.org/username") == user and not labels.get(
                "hub.jupyter.org/servername"
            ):
                return pod
        return None

    def events_of(self, pod_name: str) -> list[dict[str, Any]]:
        """The events about a pod of the stack's namespace (scheduler, kubelet), oldest first."""
        assert self.control_plane is not None
        query = urllib.parse.urlencode(
            {"fieldSelector": f"involvedObject.kind=Pod,involvedObject.name={pod_name}"}
        )
        status, body = self.control_plane.request(
            "GET", f"/api/v1/namespaces/{self.namespace}/events?{query}"
        )
        if status != 200:
            raise StackError(f"list events: HTTP {status}")
        return sorted(body["items"], key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")

    # -- the hub -------------------------------------------------------------

    def api(self, method: str, path: str, body: Any = None, *, timeout: float = 30.0) -> tuple[int, Any]:
        """One hub REST API call (``/hub/api`` + ``path``) with the stack's token:
        (HTTP status, decoded JSON or text)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.url}/hub/api{path}", data=data, method=method)
        request.add_header("Authorization", f"token {self.api_token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                raw = response.read()
                status = response.status
        except urllib.error.HTTPError as error:
            raw, status = error.read(), error.code
        text = raw.decode("utf-8", "replace")
        try:
            return status, json.loads(text) if text else None
        except ValueError:
            return status, text

    def progress(
        self, user: str, timeout: float = 90.0, until: Callable[[dict[str, Any]], bool] | None = None
    ) -> list[dict[str, Any]]:
        """The progress events of ``user``'s spawn (what the spawn page shows),
        followed until the last one says ready or failed, or satisfies ``until``."""
        request = urllib.request.Request(f"{self.url}/hub/api/users/{user}/server/progress")
        request.add_header("Authorization", f"token {self.api_token}")
        request.add_header("Accept", "text/event-stream")
        events: list[dict[str, Any]] = []
        with urllib.request.urlopen(request, timeout=timeout) as stream:
            for raw in stream:
                line = raw.decode().strip()
                if not line.startswith("data:"):
                    continue
                events.append(json.loads(line[5:]))
                if events[-1].get("ready") or events[-1].get("failed") or (until and until(events[-1])):
                    break
        return events

    def wait_for_server(self, user: str, timeout: float = 90.0) -> dict[str, Any]:
        """Follow the spawn's progress events until it is ready; the user model.

        Raises :class:`StackError` when the spawn fails or takes too long.
        """
        events = self.progress(user, timeout)
        last = events[-1] if events else {}
        if not last.get("ready"):
            raise StackError(f"server of {user} did not start: {last.get('message')}\n{_tail(self.hub_log)}")
        status, model = self.api("GET", f"/users/{user}")
        if status != 200:
            raise StackError(f"GET user {user}: HTTP {status}")
        return dict(model)

    def stop_server(self, user: str, timeout: float = 60.0) -> None:
        """Stop ``user``'s server and wait until the hub and the pod agree it is gone."""
        status, body = self.api("DELETE", f"/users/{user}/server")
        if status not in (202, 204, 400):  # 400: not running
            raise StackError(f"stop server of {user}: HTTP {status}: {body}")
        deadline = time.monotonic() + timeout
        while True:
            status, model = self.api("GET", f"/users/{user}")
            running = status == 200 and "" in (model.get("servers") or {})
            if not running and self.pod_of(user) is None:
                return
            if time.monotonic() > deadline:
                raise StackError(f"server of {user} still there after {timeout:.0f}s")
            time.sleep(0.2)

    def login(self, user: str) -> urllib.request.OpenerDirector:
        """An HTTP client logged in to the hub as ``user`` (cookies, XSRF)."""
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        opener.open(f"{self.url}/hub/login", timeout=30).read()
        xsrf = next((c.value for c in jar if c.name == "_xsrf"), "")
        form = urllib.parse.urlencode({"username": user, "password": self.password, "_xsrf": xsrf})
        with opener.open(f"{self.url}/hub/login", data=form.encode(), timeout=30) as response:
            if "/hub/login" in response.url:
                raise StackError(f"login of {user} failed")
        return opener

    # -- processes -----------------------------------------------------------

    def server_pid(self, user: str) -> int:
        """The process id of ``user``'s running server (from the pod status)."""
        pod = self.pod_of(user)
        if pod is None:
            raise StackError(f"no pod for {user}")
        for status in pod.get("status", {}).get("containerStatuses") or []:
            container_id = status.get("containerID", "")
            if container_id.startswith("pid://"):
                return int(container_id[len("pid://") :])
        raise StackError(f"pod of {user} has no running container")

    def logs(self) -> Iterator[Path]:
        """Every log file of the stack (hub, kubelet, containers; with shared
        Nodes, the containers of every stack on them)."""
        if self.hub_log.exists():
            yield self.hub_log
        if self.nodes is not None:
            yield from self.nodes.logs()
