"""Helpers for the integration tests: edit ConfigMaps through the API, poll a
spawn's profiles against a deadline, read the API server's metrics, and the
Roles the docs give."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest
from aiohttp import web
from ruamel.yaml import YAML

from tests.controlplane.harness import ControlPlane, write_kubeconfig

ROOT = Path(__file__).resolve().parents[2]
JSP07 = ROOT / "tests" / "unit" / "data" / "jsp07" / "example-configmap.yaml"
RBAC_DOC = ROOT / "docs" / "rbac.md"
CLI_DOC = ROOT / "docs" / "cli.md"
KEY = "jupyterhub-singleuser-profiles.yaml"
LABELS = {"jupyterhub": "singleuser-profiles"}
CHANGE_DEADLINE = 2.0  # seconds for a change to reach the next spawn
RECOVERY_DEADLINE = 60.0  # seconds to get back after an API server restart

T = TypeVar("T")


# -- helpers ---------------------------------------------------------------------


def profile_yaml(*profiles: tuple[str, str]) -> str:
    """Profiles named ``name`` setting ``WHO=value``: enough to see who won."""
    lines = ["profiles:"]
    for name, value in profiles:
        lines += [f"- name: {name}", f"  env: [{{name: WHO, value: {json.dumps(value)}}}]"]
    return "\n".join(lines) + "\n"


class ConfigMaps:
    """Create, edit, relabel and delete ConfigMaps through the API (admin token)."""

    def __init__(self, cp: ControlPlane, namespace: str) -> None:
        self.cp = cp
        self.namespace = namespace
        self.base = f"/api/v1/namespaces/{namespace}/configmaps"

    async def _call(self, method: str, path: str, body: Any = None, ok: tuple[int, ...] = (200, 201)) -> Any:
        kwargs: dict[str, Any] = {}
        if method == "PATCH":
            kwargs["content_type"] = "application/merge-patch+json"
        status, answer = await asyncio.to_thread(self.cp.request, method, path, body, **kwargs)
        assert status in ok, (method, path, status, answer)
        return answer

    async def create(
        self, name: str, text: str | None = None, *, labels: dict[str, str] | None = None, **fields: Any
    ) -> dict[str, Any]:
        body = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name, "labels": labels or {}},
            **({"data": {KEY: text}} if text is not None else {}),
            **fields,
        }
        answer: dict[str, Any] = await self._call("POST", self.base, body)
        return answer

    async def create_manifest(self, manifest: dict[str, Any]) -> None:
        await self._call("POST", self.base, manifest)

    async def edit(self, name: str, text: str) -> None:
        await self._call("PATCH", f"{self.base}/{name}", {"data": {KEY: text}})

    async def replace(self, name: str, text: str | None = None, **fields: Any) -> None:
        """Replace the whole ConfigMap (its labels are kept)."""
        current = await self._call("GET", f"{self.base}/{name}")
        body = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name, "labels": current["metadata"].get("labels", {})},
            **({"data": {KEY: text}} if text is not None else {}),
            **fields,
        }
        await self._call("PUT", f"{self.base}/{name}", body)

    async def label(self, name: str, labels: dict[str, str | None]) -> None:
        await self._call("PATCH", f"{self.base}/{name}", {"metadata": {"labels": labels}})

    async def delete(self, name: str) -> None:
        await self._call("DELETE", f"{self.base}/{name}")


async def eventually(
    probe: Callable[[], Awaitable[T]], check: Callable[[T], bool], *, timeout: float = CHANGE_DEADLINE
) -> T:
    """Poll ``probe`` until ``check`` holds; fail after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await probe()
        if check(value):
            return value
        if loop.time() > deadline:
            raise AssertionError(f"not within {timeout} s; last value: {value!r}")
        await asyncio.sleep(0.02)


def file_spawner(
    way: str, *, namespace: str, profiles: Path, user: Any, settings: dict[str, Any] | None = None
) -> Any:
    """A spawner of ``user`` in ``namespace`` whose profiles come from the file
    ``profiles`` alone: ``way`` "subclass" (ProfileKubeSpawner) or "hook"
    (KubeSpawner with ``apply_pod_profile``), with KubeSpawner ``settings``."""
    from kubespawner import KubeSpawner
    from traitlets.config import Config

    from profilespawner import ProfileKubeSpawner, apply_pod_profile

    config = Config()
    config.KubeSpawner.namespace = namespace
    config.SingleuserProfiles.files = [str(profiles)]
    config.SingleuserProfiles.configmap_name = ""
    config.SingleuserProfiles.label_selector = ""
    if way == "hook":
        config.KubeSpawner.modify_pod_hook = apply_pod_profile
    for name, value in (settings or {}).items():
        setattr(config.KubeSpawner, name, value)
    spawner_class = ProfileKubeSpawner if way == "subclass" else KubeSpawner
    return spawner_class(_mock=True, user=user, config=config)


_CONFIGMAPS = re.compile(r"^/api/v1/(?:namespaces/[^/]+/)?configmaps(?P<one>/[^/]+)?$")


class ApiProxy:
    """Between a hub and the real API server: every request goes through, and
    the hub's own requests for ConfigMaps are counted per verb in
    ``configmaps`` (the API server's metric counts everyone's: its
    controllers list ConfigMaps too, e.g. for each namespace deleted). With
    ``expire_watches`` every watch gets 410 Gone at once (the ERROR event an
    API server sends for a resourceVersion it no longer has), as a
    misbehaving proxy or a broken watch cache would give."""

    def __init__(self, cp: ControlPlane, *, expire_watches: bool = False) -> None:
        self.cp = cp
        self.expire_watches = expire_watches
        self.configmaps = {"LIST": 0, "GET": 0, "WATCH": 0}
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> ApiProxy:
        if not self.cp.ca_file:
            pytest.skip("the control plane has no CA file to reach it through a proxy")
        context = ssl.create_default_context(cafile=str(self.cp.ca_file))
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context))
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    def write_kubeconfig(self, path: Path, *, namespace: str, token: str | None = None) -> Path:
        """A kubeconfig that reaches the API server through this proxy."""
        write_kubeconfig(
            path, server=self.url, ca_data=None, token=token or self.cp.admin_token, namespace=namespace
        )
        return path

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        watch = request.query.get("watch", "").lower() in ("true", "1")
        found = _CONFIGMAPS.match(request.path)
        if found and request.method == "GET":
            self.configmaps["WATCH" if watch else "GET" if found["one"] else "LIST"] += 1
        if watch and self.expire_watches:
            gone = {
                "type": "ERROR",
                "object": {"kind": "Status", "status": "Failure", "reason": "Expired", "code": 410,
                           "message": "too old resource version"},
            }  # fmt: skip
            response = web.StreamResponse(headers={"Content-Type": "application/json"})
            await response.prepare(request)
            await response.write(json.dumps(gone).encode() + b"\n")
            await response.write_eof()
            return response
        assert self._session is not None
        headers = {
            k: v
            for k, v in request.headers.items()
            if k.lower() in ("authorization", "accept", "content-type")
        }
        async with self._session.request(
            request.method, self.cp.server_url + request.path_qs, headers=headers, data=await request.read()
        ) as answer:
            if not watch:
                body = await answer.read()
                return web.Response(
                    status=answer.status,
                    body=body,
                    headers={"Content-Type": answer.content_type or "application/json"},
                )
            # a watch streams its events as they come
            response = web.StreamResponse(
                status=answer.status, headers={"Content-Type": answer.content_type or "application/json"}
            )
            await response.prepare(request)
            async for chunk in answer.content.iter_any():
                await response.write(chunk)
            await response.write_eof()
            return response


def documented_roles() -> list[list[dict[str, Any]]]:
    """The ``rules`` of every Role (or bare rules list) in docs/rbac.md's YAML blocks."""
    found = []
    for block in re.findall(r"```yaml\n(.*?)```", RBAC_DOC.read_text(), flags=re.S):
        for doc in YAML(typ="safe").load_all(block):
            if isinstance(doc, dict) and (doc.get("kind") == "Role" or set(doc) == {"rules"}):
                found.append(doc["rules"])
    return found


def cli_role() -> list[dict[str, Any]]:
    """The rules of the Role docs/cli.md gives for the command's cluster options."""
    for block in re.findall(r"```yaml\n(.*?)```", CLI_DOC.read_text(), flags=re.S):
        for doc in YAML(typ="safe").load_all(block):
            if isinstance(doc, dict) and doc.get("kind") == "Role":
                rules: list[dict[str, Any]] = doc["rules"]
                return rules
    raise AssertionError("docs/cli.md shows no Role")


async def who(spawner: Any) -> list[tuple[str, str]]:
    """(profile source, WHO) of every profile that applies, in order."""
    resolution = await spawner.singleuser_profiles.resolve(spawner)
    return [
        (p.source.rsplit("/", 1)[-1], e["value"])
        for p in resolution.profiles
        for e in p.settings.env
        if e["name"] == "WHO"
    ]


async def winner(spawner: Any) -> str | None:
    """The value of WHO after merging: the last source wins."""
    resolution = await spawner.singleuser_profiles.resolve(spawner)
    values = [e["value"] for e in resolution.settings.env if e["name"] == "WHO"]
    return values[0] if values else None


async def now(value: T) -> T:
    """``value``, to poll state with :func:`eventually`."""
    return value


def messages(caplog: pytest.LogCaptureFixture, fragment: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if fragment in r.getMessage()]


async def logged(caplog: pytest.LogCaptureFixture, fragment: str) -> list[logging.LogRecord]:
    """:func:`messages`, to poll with :func:`eventually`."""
    return messages(caplog, fragment)
