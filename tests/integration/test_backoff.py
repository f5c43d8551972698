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
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.controlplane.harness import ControlPlane
from tests.integration.helpers import LABELS, ApiProxy, ConfigMaps, profile_yaml, who

#: Attempts (one list, one watch each) one list+watch may make in WINDOW
#: seconds when every watch fails at once: see the module docstring.
WINDOW = 15.0
ATTEMPTS_IN_WINDOW = 6


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
    await configmaps.create("jupyter-singleuser-profiles", profile_yaml(("n", "named")))
    await configmaps.create("team", profile_yaml(("t", "team")), labels=LABELS)

    async with ApiProxy(control_plane) as proxy:
        kubeconfig(proxy.write_kubeconfig(tmp_path / "hub.kubeconfig", token=token, namespace=namespace))
        spawner = hub()  # two list+watches: the named ConfigMap and the label selector
        loop = asyncio.get_running_loop()
        started = loop.time()
        # Listing works: spawns get the profiles, the watches are refused.
        assert await who(spawner) == [("jupyter-singleuser-profiles", "named"), ("team", "team")]
        await asyncio.sleep(WINDOW - (loop.time() - started))  # the measurement is the window
        lists, watches = proxy.configmaps["LIST"], proxy.configmaps["WATCH"]

    refused = [r for r in log.records if "retrying in" in r.getMessage() and "HTTP 403" in r.getMessage()]
    assert 2 <= lists <= 2 * ATTEMPTS_IN_WINDOW, lists
    assert 2 <= watches <= 2 * ATTEMPTS_IN_WINDOW, watches
    assert 2 <= len(refused) <= 2 * ATTEMPTS_IN_WINDOW, [r.getMessage() for r in refused]


@pytest.fixture
async def expiring_proxy(control_plane: ControlPlane) -> AsyncIterator[ApiProxy]:
    async with ApiProxy(control_plane, expire_watches=True) as proxy:
        yield proxy


async def test_a_watch_that_always_expires_backs_off(
    namespace: str,
    configmaps: ConfigMaps,
    kubeconfig: Callable[[str | Path], None],
    hub: Any,
    expiring_proxy: ApiProxy,
    tmp_path: Path,
) -> None:
    kubeconfig(expiring_proxy.write_kubeconfig(tmp_path / "proxy.kubeconfig", namespace=namespace))
    await configmaps.create("team", profile_yaml(("t", "team")), labels=LABELS)
    spawner = hub(configmap_name="")  # one list+watch: the label selector
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await who(spawner) == [("team", "team")]  # the list went through
    await asyncio.sleep(WINDOW - (loop.time() - started))
    lists, watches = expiring_proxy.configmaps["LIST"], expiring_proxy.configmaps["WATCH"]
    assert 1 <= watches <= ATTEMPTS_IN_WINDOW, watches
    assert 1 <= lists <= ATTEMPTS_IN_WINDOW, lists
