"""Faults on the real control plane: the profile cache survives them.

A restart of etcd, and a ConfigMap rewritten ten times a second under 200
concurrent spawns, each of which must see one whole version.
"""

from __future__ import annotations

import asyncio
from typing import Any

from tests.controlplane.harness import ControlPlane
from tests.integration.helpers import LABELS, RECOVERY_DEADLINE, ConfigMaps, eventually, profile_yaml, who


def pair_yaml(version: int) -> str:
    """A and B always carry the same version: a spawn that mixes two versions shows."""
    return (
        "profiles:\n- name: pair\n  env:\n"
        f"  - {{name: A, value: 'v{version}'}}\n  - {{name: B, value: 'v{version}'}}\n"
    )


async def test_etcd_restart_is_survived(
    restartable_control_plane: ControlPlane, hub: Any, configmaps: ConfigMaps
) -> None:
    await configmaps.create("team-a", profile_yaml(("a", "before")), labels=LABELS)
    spawner = hub()
    assert await who(spawner) == [("team-a", "before")]

    restart = asyncio.create_task(asyncio.to_thread(restartable_control_plane.restart_etcd))
    while not restart.done():  # spawns in between are served from the cache
        assert await who(spawner) == [("team-a", "before")]
        await asyncio.sleep(0.1)
    await restart

    await configmaps.edit("team-a", profile_yaml(("a", "after")))
    await eventually(lambda: who(spawner), lambda w: w == [("team-a", "after")], timeout=RECOVERY_DEADLINE)


async def test_every_spawn_sees_one_whole_version_while_a_configmap_is_rewritten(
    hub: Any, configmaps: ConfigMaps
) -> None:
    await configmaps.create("pair", pair_yaml(0), labels=LABELS)
    spawner = hub()
    profiles = spawner.singleuser_profiles

    async def spawn() -> tuple[str | None, str | None]:
        resolution = await profiles.resolve(spawner)
        env = {e["name"]: e["value"] for e in resolution.settings.env}
        return env.get("A"), env.get("B")

    # warm: the source has listed the ConfigMap; every spawn below sees a version of it
    assert await eventually(spawn, lambda ab: ab == ("v0", "v0")) == ("v0", "v0")

    async def writer() -> int:
        version = 0
        for _ in range(30):  # ten times a second for three seconds
            version += 1
            await configmaps.edit("pair", pair_yaml(version))
            await asyncio.sleep(0.1)
        return version

    writing = asyncio.create_task(writer())
    seen: list[tuple[str | None, str | None]] = []
    for _ in range(20):  # 200 spawns, in waves of 10, while the writer runs
        seen += await asyncio.gather(*(spawn() for _ in range(10)))
        await asyncio.sleep(0.12)
    last = await writing
    assert len(seen) == 200
    assert all(a is not None and a == b for a, b in seen), [s for s in seen if s[0] != s[1] or not s[0]][:5]
    assert len({a for a, _ in seen}) > 3, "the versions should have moved during the run"
    final = await eventually(spawn, lambda ab: ab == (f"v{last}", f"v{last}"))
    assert final == (f"v{last}", f"v{last}")
