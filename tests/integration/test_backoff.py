"""The watch backs off until a watch has delivered or lived: requests to the
real API server stay under a stated bound when every watch fails at once.

The bound: the ConfigMap source waits a random time in [d/2, d] after a
failure, d starting at 0.5 s and doubling up to 30 s, and starts again from
0.5 s only after a healthy watch. Its attempts (one list, one watch each) are
therefore at least 0.25, 0.5, 1, 2, 4, 8, 15... s apart: at most 6 within the
first 15 s, and at most 1 per 15 s from the seventh on. The old loop reset the
delay after every successful list and made about 5 lists and 5 watches per
second per list+watch (and ran hot, without any pause, on a watch that always
answered 410).
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from tests.controlplane.harness import ControlPlane, write_kubeconfig
from tests.integration.helpers import LABELS, ConfigMaps, configmap_requests, profile_yaml, who

#: Attempts (one list, one watch each) one list+watch may make in WINDOW
#: seconds when every watch fails at once: see the module docstring.
WINDOW = 15.0
ATTEMPTS_IN_WINDOW = 6
#: The API server's own controllers list and watch configmaps of kube-system
#: now and then; the metric has no namespace label.
FOREIGN_REQUESTS = 3


async def requests_now(cp: ControlPlane) -> dict[str, float]:
    return configmap_requests(await asyncio.to_thread(cp.metrics))


async def test_with_watch_denied_by_rbac_the_request_rate_stays_bounded(
    control_plane: ControlPlane,
    namespace: str,
    configmaps: ConfigMaps,
    kubeconfig: Callable[[str | Path], None],
    hub: Any,
    log: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    rules = [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]  # no watch
    token = await asyncio.to_thread(control_plane.service_account_token, namespace, "hub", rules=rules)
    kubeconfig(control_plane.write_kubeconfig(tmp_path / "hub.kubeconfig", token=token, namespace=namespace))
    await configmaps.create("jupyter-singleuser-profiles", profile_yaml(("n", "named")))
    await configmaps.create("team", profile_yaml(("t", "team")), labels=LABELS)

    before = await requests_now(control_plane)
    spawner = hub()  # two list+watches: the named ConfigMap and the label selector
    loop = asyncio.get_running_loop()
    started = loop.time()
    # Listing works: spawns get the profiles, the watches are refused.
    assert await who(spawner) == [("jupyter-singleuser-profiles", "named"), ("team", "team")]
    await asyncio.sleep(WINDOW - (loop.time() - started))  # the measurement is the window
    after = await requests_now(control_plane)

    # A watch that RBAC refuses never reaches the handler that counts requests
    # (authorization comes first): the refused watches are counted in the log.
    lists = after["LIST"] - before["LIST"]
    refused = [r for r in log.records if "retrying in" in r.getMessage() and "HTTP 403" in r.getMessage()]
    assert 2 <= lists <= 2 * ATTEMPTS_IN_WINDOW + FOREIGN_REQUESTS, lists
    assert 2 <= len(refused) <= 2 * ATTEMPTS_IN_WINDOW, [r.getMessage() for r in refused]


class ExpiringWatchProxy:
    """Between the hub and the real API server: every request goes through,
    except that every watch gets 410 Gone at once (the ERROR event an API
    server sends for a resourceVersion it no longer has), as a misbehaving
    proxy or a broken watch cache would give."""

    def __init__(self, cp: ControlPlane) -> None:
        self.cp = cp
        self.watches = 0
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> str:
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
        return self.url

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.query.get("watch", "").lower() in ("true", "1"):
            self.watches += 1
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
            body = await answer.read()
            return web.Response(
                status=answer.status,
                body=body,
                headers={"Content-Type": answer.content_type or "application/json"},
            )


@pytest.fixture
async def expiring_proxy(control_plane: ControlPlane) -> AsyncIterator[ExpiringWatchProxy]:
    if not control_plane.ca_file:
        pytest.skip("the control plane has no CA file to reach it through a proxy")
    proxy = ExpiringWatchProxy(control_plane)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.close()


async def test_a_watch_that_always_expires_backs_off(
    control_plane: ControlPlane,
    namespace: str,
    configmaps: ConfigMaps,
    kubeconfig: Callable[[str | Path], None],
    hub: Any,
    expiring_proxy: ExpiringWatchProxy,
    tmp_path: Path,
) -> None:
    path = write_kubeconfig(
        tmp_path / "proxy.kubeconfig",
        server=expiring_proxy.url,
        ca_data=None,
        token=control_plane.admin_token,
        namespace=namespace,
    )
    kubeconfig(path)
    await configmaps.create("team", profile_yaml(("t", "team")), labels=LABELS)
    before = await requests_now(control_plane)
    spawner = hub(configmap_name="")  # one list+watch: the label selector
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await who(spawner) == [("team", "team")]  # the list went through
    await asyncio.sleep(WINDOW - (loop.time() - started))
    lists = (await requests_now(control_plane))["LIST"] - before["LIST"]
    assert 1 <= expiring_proxy.watches <= ATTEMPTS_IN_WINDOW, expiring_proxy.watches
    assert 1 <= lists <= ATTEMPTS_IN_WINDOW + FOREIGN_REQUESTS, lists
