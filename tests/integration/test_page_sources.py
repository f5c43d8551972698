"""What the profiles page lists of the ConfigMaps (``SingleuserProfiles.source_statuses``)
against the real API server: valid, rejected with the last valid version still
in use, the named one missing, a deleted one gone -- read from the watch's
cache, with no request of its own."""

from __future__ import annotations

from typing import Any

from tests.integration.helpers import LABELS, ConfigMaps, eventually, profile_yaml


async def test_configmap_states_as_the_page_lists_them(
    hub: Any, configmaps: ConfigMaps, namespace: str
) -> None:
    await configmaps.create("team-a", profile_yaml(("a", "one")), labels=LABELS)
    spawner = hub()
    profiles = spawner.singleuser_profiles
    await profiles.load_profiles(spawner)

    def states() -> list[tuple[str, str]]:
        return [(s.source, s.state) for s in profiles.source_statuses()]

    async def current() -> list[tuple[str, str]]:
        return states()

    assert states() == [
        (f"{namespace}/jupyter-singleuser-profiles", "missing"),
        (f"{namespace}/team-a", "valid"),
    ]
    valid = profiles.source_statuses()[1]
    assert valid.version == valid.in_use and valid.version

    await configmaps.edit("team-a", "profiles:\n- name: a\n  resouces: {}\n")
    await eventually(current, lambda s: (f"{namespace}/team-a", "rejected") in s)
    rejected = profiles.source_statuses()[1]
    assert rejected.in_use == valid.version, "the last valid version stays in use"
    assert rejected.version != valid.version
    assert rejected.error.startswith(f"{namespace}/team-a")
    assert "unknown key 'resouces'" in rejected.error

    await configmaps.create("jupyter-singleuser-profiles", profile_yaml(("n", "named")))
    await configmaps.delete("team-a")
    await eventually(current, lambda s: s == [(f"{namespace}/jupyter-singleuser-profiles", "valid")])
