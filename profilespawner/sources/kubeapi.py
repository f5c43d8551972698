"""Every call profilespawner makes to the Kubernetes API: list and watch
ConfigMaps (the hub and the CLI), create pods as server-side dry runs (the
CLI's ``validate --server-dry-run``) and list the notebook pods (the CLI's
``pods``).

No other module calls the API, nor imports the Kubernetes client but for its
models (:mod:`profilespawner.kubemodel`): what the spawner needs of the client
(the status of an ``ApiException``) and the offline spawners (the default
kubeconfig) is here too. In the hub the client is KubeSpawner's own
(``kubespawner.clients.load_config`` + ``shared_client("CoreV1Api")``), so
``KubeSpawner.k8s_api_host``, in-cluster configuration and kubeconfig files work
exactly as they do for the spawner. A ``ConfigMapSource`` takes any ``CoreV1Api``
(one built from another kubeconfig, for instance). Tools get a client of their
own from :func:`connect` (a kubeconfig as kubectl finds it, or in-cluster),
which never touches KubeSpawner's shared configuration.

Rules:

- Nothing here blocks the event loop: responses are read raw
  (``_preload_content=False``) and large JSON bodies are decoded in a worker
  thread; loading the client configuration runs in a thread too.
- Failures of any kind (HTTP status, connection, timeout, malformed stream)
  become :class:`KubeApiError`, chained with ``raise ... from``. Its message
  holds the HTTP status, the API server's ``Status`` message cut to 256
  characters, and never the content of a ConfigMap.
- Callers own retries and caching (see :mod:`profilespawner.sources.configmaps`).
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncGenerator, Awaitable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from ..errors import MAX_API_MESSAGE, KubeApiError, KubeConfigError, WatchExpired, shorten

__all__ = [
    "ClusterClient",
    "ConfigMapQuery",
    "DryRunAnswer",
    "Listing",
    "WatchEvent",
    "api_error_answer",
    "connect",
    "dry_run_create_pod",
    "list_configmaps",
    "list_pods",
    "set_default_kubeconfig",
    "shared_core_api",
    "watch_configmaps",
]

#: Seconds allowed to open a connection to the API server.
CONNECT_TIMEOUT = 10.0
#: Seconds allowed for a whole list request.
LIST_TIMEOUT = 30.0
#: A watch that sends nothing (not even a bookmark) for this long after its
#: server-side timeout should have ended it is considered dead.
WATCH_READ_GRACE = 30.0
#: JSON documents larger than this are decoded in a worker thread.
THREAD_DECODE_BYTES = 64 * 1024
#: Longest reason quoted for a pod a dry run rejected: admission messages
#: (Pod Security lists every violation) are the point of the check.
MAX_REJECTION_MESSAGE = 1024
#: Where a pod finds its ServiceAccount's namespace (in-cluster configuration).
INCLUSTER_NAMESPACE_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"


@dataclass(frozen=True)
class ConfigMapQuery:
    """Which ConfigMaps one list+watch follows."""

    namespace: str
    label_selector: str = ""
    field_selector: str = ""

    def describe(self) -> str:
        selectors = [s for s in (self.field_selector, self.label_selector) if s]
        return f"{self.namespace}/configmaps?{','.join(selectors)}" if selectors else self.namespace

    def params(self) -> dict[str, str]:
        params = {}
        if self.label_selector:
            params["label_selector"] = self.label_selector
        if self.field_selector:
            params["field_selector"] = self.field_selector
        return params


@dataclass(frozen=True)
class Listing:
    """The ConfigMaps a list returned (JSON dicts) and the list's resourceVersion."""

    items: list[dict[str, Any]]
    resource_version: str


@dataclass(frozen=True)
class WatchEvent:
    """One ``ADDED``, ``MODIFIED``, ``DELETED`` or ``BOOKMARK`` event."""

    type: str
    object: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.object.get("metadata", {}).get("name", ""))

    @property
    def resource_version(self) -> str:
        return str(self.object.get("metadata", {}).get("resourceVersion", ""))


async def shared_core_api(*, host: str = "", ssl_ca_cert: str = "", verify_ssl: bool | None = None) -> Any:
    """KubeSpawner's shared ``CoreV1Api`` for the running event loop.

    Pass the spawner's ``k8s_api_host``, ``k8s_api_ssl_ca_cert`` and
    ``k8s_api_verify_ssl``: ``load_config`` is cached on these arguments, so
    the spawner has usually loaded the configuration already.
    """
    # KubeSpawner's clients, imported when the hub asks for them: the command
    # line reads ConfigMaps with a client of its own and never imports them.
    from kubespawner.clients import load_config, shared_client

    # load_config may read a kubeconfig and run credential plugins: not on the loop.
    await asyncio.to_thread(load_config, host=host, ssl_ca_cert=ssl_ca_cert, verify_ssl=verify_ssl)
    return shared_client("CoreV1Api")


def api_error_answer(error: BaseException) -> tuple[int | None, Any] | None:
    """The HTTP status and body of an error KubeSpawner's client raised (the
    client's ``ApiException``: the API server refused a request); None for
    any other error."""
    from kubernetes_asyncio.client.rest import ApiException  # loaded with KubeSpawner

    if isinstance(error, ApiException):
        return error.status, error.body
    return None


async def list_configmaps(api: Any, query: ConfigMapQuery) -> Listing:
    """List the ConfigMaps of ``query`` with a consistent (quorum) read."""
    what = f"list {query.describe()}"
    status, body = await _read(
        what,
        api.list_namespaced_config_map(
            query.namespace,
            **query.params(),
            _preload_content=False,
            _request_timeout=aiohttp.ClientTimeout(total=LIST_TIMEOUT, sock_connect=CONNECT_TIMEOUT),
        ),
    )
    if status != 200:
        raise _status_error(what, status, body)
    try:
        data = await _decode(body)
        items = data.get("items") or []
        resource_version = str(data["metadata"]["resourceVersion"])
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise KubeApiError(what, status=status, message="malformed list response") from e
    return Listing(items=[i for i in items if isinstance(i, dict)], resource_version=resource_version)


async def list_pods(api: Any, namespace: str, *, label_selector: str) -> list[dict[str, Any]]:
    """The pods of ``namespace`` that match ``label_selector``, as JSON dicts."""
    what = f"list {namespace}/pods?{label_selector}"
    status, body = await _read(
        what,
        api.list_namespaced_pod(
            namespace,
            label_selector=label_selector,
            _preload_content=False,
            _request_timeout=aiohttp.ClientTimeout(total=LIST_TIMEOUT, sock_connect=CONNECT_TIMEOUT),
        ),
    )
    if status != 200:
        raise _status_error(what, status, body)
    try:
        items = (await _decode(body)).get("items") or []
    except (ValueError, TypeError, AttributeError) as e:
        raise KubeApiError(what, status=status, message="malformed list response") from e
    return [item for item in items if isinstance(item, dict)]


async def watch_configmaps(
    api: Any, query: ConfigMapQuery, *, resource_version: str, timeout_seconds: int
) -> AsyncGenerator[WatchEvent, None]:
    """Watch ``query`` from ``resource_version``, with bookmarks.

    Ends normally when the server ends the watch after ``timeout_seconds``.
    Raises :class:`WatchExpired` on 410 Gone (the caller lists again) and
    :class:`KubeApiError` on anything else that goes wrong.
    """
    what = f"watch {query.describe()}"
    try:
        response = await api.list_namespaced_config_map(
            query.namespace,
            **query.params(),
            watch=True,
            allow_watch_bookmarks=True,
            resource_version=resource_version,
            timeout_seconds=timeout_seconds,
            _preload_content=False,
            # No total: the watch lasts timeout_seconds. A connection that stays
            # silent past that is dead (e.g. a network partition): give up on it.
            _request_timeout=aiohttp.ClientTimeout(
                sock_connect=CONNECT_TIMEOUT, sock_read=timeout_seconds + WATCH_READ_GRACE
            ),
        )
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as e:
        raise KubeApiError(what, message=_describe(e)) from e
    try:
        if response.status != 200:
            body = await _read_quietly(response)
            raise _status_error(what, response.status, body)
        while True:
            try:
                line = await response.content.readline()
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError) as e:
                raise KubeApiError(what, status=200, message=f"stream broken: {_describe(e)}") from e
            if not line:
                return  # the server ended the watch (timeout_seconds)
            if not line.strip():
                continue
            yield await _event(what, line)
    finally:
        # A watch ended early cannot go back to the connection pool.
        response.close()


async def _read(what: str, request: Awaitable[Any]) -> tuple[int, bytes]:
    """Send ``request`` (made with ``_preload_content=False``); its status and body."""
    try:
        response = await request
        async with response:
            return int(response.status), bytes(await response.read())
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as e:
        raise KubeApiError(what, message=_describe(e)) from e


async def _event(what: str, line: bytes) -> WatchEvent:
    try:
        data = await _decode(line)
        kind = str(data["type"])
        obj = data["object"]
        if not isinstance(obj, dict):
            raise TypeError("object is not a mapping")
    except (ValueError, KeyError, TypeError) as e:
        raise KubeApiError(what, status=200, message="malformed watch event") from e
    if kind == "ERROR":
        code = obj.get("code")
        cls = WatchExpired if code == 410 else KubeApiError
        raise cls(what, status=code if isinstance(code, int) else None, message=str(obj.get("message", "")))
    return WatchEvent(type=kind, object=obj)


async def _decode(raw: bytes) -> Any:
    if len(raw) > THREAD_DECODE_BYTES:
        return await asyncio.to_thread(json.loads, raw)
    return json.loads(raw)


async def _read_quietly(response: Any) -> bytes:
    try:
        body: bytes = await response.read()
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError):
        return b""
    return body


def _status_error(what: str, status: int, body: bytes) -> KubeApiError:
    message = ""
    try:
        data = json.loads(body[:65536])
        if isinstance(data, dict):
            message = str(data.get("message") or data.get("reason") or "")
    except ValueError:
        message = ""
    cls = WatchExpired if status == 410 else KubeApiError
    return cls(what, status=status, message=message)


def _describe(error: BaseException) -> str:
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


# -- a client of its own, for tools -------------------------------------------------


@dataclass(frozen=True)
class ClusterClient:
    """A ``CoreV1Api`` with its own configuration, and where it came from.

    ``namespace`` is the namespace of the kubeconfig's current context (or, in
    a cluster, of the pod's ServiceAccount); ``""`` when it names none.
    Call :meth:`close` when done.
    """

    api: Any
    namespace: str
    origin: str

    async def close(self) -> None:
        await self.api.api_client.close()


def set_default_kubeconfig(path: str) -> None:
    """Make ``path`` the kubeconfig the client loads when given none, as
    KubeSpawner's constructor does (offline spawners point it at a server
    nothing listens on, so that no credential plugin ever runs)."""
    from kubernetes_asyncio.config import kube_config

    kube_config.KUBE_CONFIG_DEFAULT_LOCATION = path


def _kubeconfig_path(kubeconfig: str | None) -> str | None:
    """The kubeconfig to use, as kubectl picks it: ``kubeconfig``, else
    ``$KUBECONFIG`` (a list of paths, one of which must exist), else
    ``~/.kube/config``; None for the in-cluster configuration (in a pod, when
    there is no kubeconfig). Raises :class:`KubeConfigError` when there is none."""
    # Read the environment now: kubernetes_asyncio's KUBE_CONFIG_DEFAULT_LOCATION
    # is fixed at import, and offline spawners repoint it.
    path = kubeconfig or os.environ.get("KUBECONFIG") or "~/.kube/config"
    paths = [os.path.expanduser(p) for p in path.split(os.pathsep) if p]
    if any(os.path.isfile(p) for p in paths):
        return path
    if not kubeconfig and not os.environ.get("KUBECONFIG") and os.environ.get("KUBERNETES_SERVICE_HOST"):
        return None
    raise KubeConfigError(f"no kubeconfig at {path}")


async def connect(kubeconfig: str | None = None) -> ClusterClient:
    """A new ``CoreV1Api`` from ``kubeconfig``, ``$KUBECONFIG``,
    ``~/.kube/config`` or the in-cluster configuration, in that order.

    Does not change KubeSpawner's shared client configuration. Loading a
    kubeconfig may run its credential plugins, as kubectl would. Raises
    :class:`KubeConfigError` when nothing can be loaded.
    """
    from kubernetes_asyncio import client, config

    path = await asyncio.to_thread(_kubeconfig_path, kubeconfig)
    configuration = client.Configuration()
    try:
        if path is None:
            await asyncio.to_thread(config.load_incluster_config, client_configuration=configuration)
            namespace = await asyncio.to_thread(_read_text, INCLUSTER_NAMESPACE_FILE)
            origin = "the in-cluster configuration"
        else:
            loader = await config.load_kube_config(
                config_file=path, client_configuration=configuration, persist_config=False
            )
            context = loader.current_context or {}
            namespace = str((context.get("context") or {}).get("namespace") or "")
            origin = f"kubeconfig {path}"
    except Exception as e:  # the loaders raise anything from ConfigException to KeyError
        where = f"kubeconfig {path}" if path is not None else "the in-cluster configuration"
        raise KubeConfigError(f"cannot load {where}: {shorten(_describe(e), MAX_API_MESSAGE)}") from e
    return ClusterClient(client.CoreV1Api(client.ApiClient(configuration)), namespace.strip(), origin)


def _read_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError:
        return ""


# -- server-side dry runs ------------------------------------------------------------


@dataclass(frozen=True)
class DryRunAnswer:
    """What the API server answered to a dry-run create: accepted (2xx), or
    rejected by validation or admission (4xx) with its ``reason`` (``Forbidden``,
    ``Invalid``, ...) and ``message`` (cut to 1024 characters)."""

    status: int
    reason: str = ""
    message: str = ""
    name: str = ""  # the pod's name as the server gave it (generateName)

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300


async def dry_run_create_pod(api: Any, namespace: str, pod: Mapping[str, Any]) -> DryRunAnswer:
    """Submit ``pod`` (a JSON dict) as ``POST /api/v1/namespaces/NS/pods?dryRun=All``.

    The API server validates it and runs every admission step (LimitRange,
    ResourceQuota, Pod Security, webhooks) without storing anything. Returns
    its verdict on the pod. Raises :class:`KubeApiError` when it gave none:
    no answer, credentials or RBAC refused the request itself (dry runs need
    the ``create`` verb on pods), the namespace does not exist, or a server
    error.
    """
    what = f"create pod in {namespace} (dry run)"
    status, body = await _read(
        what,
        api.create_namespaced_pod(
            namespace,
            dict(pod),
            dry_run="All",
            _preload_content=False,
            _request_timeout=aiohttp.ClientTimeout(total=LIST_TIMEOUT, sock_connect=CONNECT_TIMEOUT),
        ),
    )
    if 200 <= status < 300:
        return DryRunAnswer(status)
    reason, message, name = "", "", ""
    try:
        data = json.loads(body[:65536])
        if isinstance(data, dict):
            reason, message = str(data.get("reason") or ""), str(data.get("message") or "")
            details = data.get("details")
            name = str(details.get("name") or "") if isinstance(details, dict) else ""
    except ValueError:
        pass
    refused_request = (
        status in (401, 404)
        or status >= 500
        # RBAC's own wording: the request was not allowed, the pod was not judged
        or (status == 403 and "cannot create resource" in message)
    )
    if refused_request:
        raise KubeApiError(what, status=status, message=message)
    return DryRunAnswer(status, reason, shorten(message, MAX_REJECTION_MESSAGE), name)
