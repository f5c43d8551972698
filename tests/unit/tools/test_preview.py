"""profilespawner.tools.preview: the pod a user would get, built as the hub builds it."""

from __future__ import annotations

from collections.abc import Callable

from profilespawner import SingleuserProfiles
from profilespawner.parse import parse_document
from profilespawner.tools.preview import preview_spawn
from tests.support import notebook


async def test_preview_takes_profile_sets_after_the_files(write_yaml: Callable[..., str]) -> None:
    """ConfigMaps the CLI read come after the files, as in the hub; the shared instance is dropped."""
    files = [write_yaml("profiles:\n- {name: f, env: [{name: WHO, value: file}]}\n")]
    later = parse_document(
        "profiles:\n- {name: c, env: [{name: WHO, value: configmap}]}\n", source="ns/cm"
    ).profile_set
    preview = await preview_spawn(files, user="a", profile_sets=[later])
    env = {v["name"]: v.get("value") for v in notebook(preview.pod)["env"]}
    assert env["WHO"] == "configmap"
    assert [v.source for v in preview.explanation.verdicts] == [f"{files[0]} #1", "ns/cm #1"]
    assert not SingleuserProfiles.initialized()
    alone = await preview_spawn(files, user="a")  # nothing left over from the previous call
    assert {v["name"]: v.get("value") for v in notebook(alone.pod)["env"]}["WHO"] == "file"
