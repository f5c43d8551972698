"""A watch that resumes from a compacted resourceVersion gets 410 Gone, lists
again and catches up: on a control plane of its own, whose API server serves
watches straight from etcd (``--watch-cache=false``), so that compacting etcd
expires the resourceVersion at once."""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from profilespawner.sources.configmaps import ConfigMapSource
from profilespawner.sources.kubeapi import shared_core_api
from tests.controlplane.harness import BUILD_HINT, ControlPlane, find_binaries
from tests.integration.helpers import KEY, LABELS, RECOVERY_DEADLINE, ConfigMaps, eventually, profile_yaml
from tests.support import unavailable


@pytest.fixture(scope="module")
def uncached_control_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    binaries = find_binaries()
    if binaries is None:
        unavailable(f"the control plane is not built: {BUILD_HINT}")
    # etcd and the API server are all this needs: no scheduler, no controllers.
    with ControlPlane(
        tmp_path_factory.mktemp("uncached"),
        binaries=binaries,
        extra_apiserver_args=["--watch-cache=false"],
        components=(),
    ) as cp:
        yield cp


def compact_etcd(cp: ControlPlane) -> None:
    """Compact etcd up to its current revision, through its JSON gateway."""

    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(
            cp.etcd_url + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            result: dict[str, Any] = json.load(answer)
            return result

    revision = post("/v3/kv/range", {"key": "AA=="})["header"]["revision"]
    post("/v3/kv/compaction", {"revision": revision, "physical": True})


async def test_a_watch_from_a_compacted_resource_version_lists_again(
    uncached_control_plane: ControlPlane,
    kubeconfig: Callable[[str | Path], None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    import asyncio

    cp = uncached_control_plane
    caplog.set_level(logging.INFO, logger="profilespawner")
    namespace = "watch-expired"
    await asyncio.to_thread(cp.create_namespace, namespace)
    configmaps = ConfigMaps(cp, namespace)
    await configmaps.create("team-a", profile_yaml(("a", "1")), labels=LABELS)
    status, listing = await asyncio.to_thread(cp.request, "GET", f"/api/v1/namespaces/{namespace}/configmaps")
    assert status == 200
    old_version = listing["metadata"]["resourceVersion"]
    await configmaps.edit("team-a", profile_yaml(("a", "2")))
    await configmaps.create("unrelated", "profiles: []\n")  # so the compaction passes the edit
    await asyncio.to_thread(compact_etcd, cp)

    kubeconfig(cp.kubeconfig_path)
    source = ConfigMapSource(
        await shared_core_api(),
        namespace=namespace,
        configmap_name="",
        label_selector="jupyterhub=singleuser-profiles",
        key=KEY,
        log=logging.getLogger("profilespawner"),
        default_mount_path="/home/jovyan",
    )
    # As after a long disconnection: the watch resumes from a resourceVersion
    # that etcd has compacted away since.
    (follower,) = source._followers
    follower.resource_version = old_version
    source.start()
    try:

        async def values() -> list[str]:
            sets = await source.profile_sets()
            return [e["value"] for s in sets for p in s.profiles for e in p.settings.env]

        assert await eventually(values, lambda v: v == ["2"], timeout=RECOVERY_DEADLINE) == ["2"]
        expired = [
            r for r in caplog.records if "expired" in r.getMessage() and "listing again" in r.getMessage()
        ]
        assert len(expired) == 1, [r.getMessage() for r in caplog.records]
        await configmaps.edit("team-a", profile_yaml(("a", "3")))
        assert await eventually(values, lambda v: v == ["3"]) == ["3"]
    finally:
        await source.close()
