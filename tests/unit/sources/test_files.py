"""Profile files (:mod:`profilespawner.sources.files`) as the hub reads them: in the
listed order, re-read when they change, the last valid version kept, a missing
file nothing, a huge one refused without reading it."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import pytest

from profilespawner import SingleuserProfiles
from profilespawner.model import SourceVersion
from profilespawner.sources.files import FileSource
from tests.support import content_version, rewrite


def names(profile_set: Any) -> list[str]:
    return [p.name for p in profile_set.profiles]


async def test_files_in_listed_order(write_yaml: Any) -> None:
    first = write_yaml(
        "profiles: [{name: one}]\nsizes: [{name: S, env: [{name: A, value: first}]}]", "a.yaml"
    )
    second = write_yaml(
        "profiles: [{name: two}]\nsizes: [{name: S, env: [{name: A, value: second}]}]", "b.yaml"
    )
    profiles = SingleuserProfiles(files=[second, first], configmap_name="", label_selector="")
    loaded = await profiles.load_profiles()
    assert names(loaded) == ["two", "one"]
    assert loaded.sizes["S"].settings.env[0]["value"] == "first"


async def test_file_changes_apply_and_a_bad_edit_keeps_the_last_valid_version(
    write_yaml: Any, caplog: pytest.LogCaptureFixture
) -> None:

    good = write_yaml("profiles: [{name: v1}]", "a.yaml")
    other = write_yaml("profiles: [{name: other}]", "b.yaml")
    profiles = SingleuserProfiles(files=[good, other], configmap_name="", label_selector="")
    assert names(await profiles.load_profiles()) == ["v1", "other"]

    def rewrite(text: str, bump: int) -> None:
        Path(good).write_text(text)
        st = os.stat(good)
        os.utime(good, ns=(st.st_atime_ns, st.st_mtime_ns + bump))  # a new mtime even on coarse clocks

    rewrite("profiles: [{name: v2}]", 1_000_000)
    assert names(await profiles.load_profiles()) == ["v2", "other"]

    caplog.clear()
    rewrite("profiles: [{name: v3, resouces: {}}]\n# s3cr3t-value", 2_000_000)
    for _ in range(3):
        assert names(await profiles.load_profiles()) == ["v2", "other"]
    rejected = [r for r in caplog.records if "Rejected" in r.getMessage()]
    assert len(rejected) == 1, "logged once per change"
    assert rejected[0].levelname == "ERROR"
    assert "unknown key 'resouces'" in rejected[0].getMessage()
    assert "keeping its last valid version" in rejected[0].getMessage()
    assert all("s3cr3t" not in r.getMessage() for r in caplog.records)

    rewrite("profiles: [{name: v4}]", 3_000_000)
    assert names(await profiles.load_profiles()) == ["v4", "other"]

    os.remove(good)
    assert names(await profiles.load_profiles()) == ["other"]


async def test_a_bad_file_without_a_valid_version_does_not_stop_the_others(
    pod_for: Any, write_yaml: Any, make_spawner: Any, spawn_profiles: str
) -> None:
    bad = write_yaml("profiles: [{name: x, gpu: lots}]", "bad.yaml")
    good = spawn_profiles
    spawner = make_spawner([bad, good], user_options={"size": "Small"})
    pod = await pod_for(spawner)
    env = {v["name"]: v.get("value") for v in pod["spec"]["containers"][0]["env"]}
    assert env["TEAM"] == "everyone" and env["SIZE"] == "small"


async def test_a_huge_file_is_refused_without_reading_it_all(
    tmp_path: Path, write_yaml: Any, caplog: pytest.LogCaptureFixture
) -> None:
    import tracemalloc

    huge = tmp_path / "huge.yaml"
    huge.touch()
    os.truncate(huge, 2**30)  # a GiB (sparse)
    good = write_yaml("profiles: [{name: good}]", "good.yaml")
    profiles = SingleuserProfiles(files=[str(huge), good], configmap_name="", label_selector="")
    tracemalloc.start()
    try:
        assert names(await profiles.load_profiles()) == ["good"]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 32 * 2**20
    (rejected,) = [r for r in caplog.records if "Rejected profile source" in r.getMessage()]
    assert f"{huge}: the document is larger than 4 MiB" in rejected.getMessage()


async def test_a_missing_file_is_not_an_error(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG", logger="profilespawner")
    profiles = SingleuserProfiles(files=[str(tmp_path / "nope.yaml")], configmap_name="", label_selector="")
    assert names(await profiles.load_profiles()) == []
    assert names(await profiles.load_profiles()) == []
    debug = [r for r in caplog.records if "does not exist" in r.getMessage()]
    assert len(debug) == 1 and debug[0].levelname == "DEBUG"
    (tmp_path / "nope.yaml").write_text("profiles: [{name: now}]")
    assert names(await profiles.load_profiles()) == ["now"]


async def test_each_file_is_a_source_versioned_by_the_content_in_use(
    write_yaml: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """SPEC §8: one entry per file, ``sha256:`` and 16 hex digits of what was
    read; after a rejected edit, the version of the last valid content."""
    caplog.set_level("INFO", logger="profilespawner")
    first = write_yaml("profiles: [{name: one}]", "a.yaml")
    second = write_yaml("sizes: [{name: S}]", "b.yaml")
    missing = str(tmp_path / "missing.yaml")
    profiles = SingleuserProfiles(files=[first, missing, second], configmap_name="", label_selector="")
    valid = content_version(first)
    assert (await profiles.load_profiles()).sources == (
        SourceVersion(first, valid),
        SourceVersion(second, content_version(second)),
    )
    assert f"Loaded profile source {first} (version {valid}): 1 profile," in caplog.text

    rewrite(first, "profiles: [{name: one, gpu: lots}]")
    loaded = await profiles.load_profiles()
    assert names(loaded) == ["one"]
    assert loaded.sources[0] == SourceVersion(first, valid)
    assert content_version(first) != valid


MANIFESTS = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: kube-root-ca.crt}
data: {ca.crt: x}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: team}
data:
  jupyterhub-singleuser-profiles.yaml: |
    profiles:
    - {name: a, env: [{name: A}]}
    - {name: a}
"""


async def test_a_file_of_configmap_manifests_is_one_source_warned_about_once_per_version(
    write_yaml: Any, caplog: pytest.LogCaptureFixture
) -> None:
    path = write_yaml(MANIFESTS, "configmaps.yaml")
    profiles = SingleuserProfiles(files=[path], configmap_name="", label_selector="")
    with caplog.at_level(logging.DEBUG, logger="profilespawner"):
        for _ in range(3):
            assert names(await profiles.load_profiles()) == ["a", "a"]
    messages = [(r.levelname, r.getMessage()) for r in caplog.records if r.name.startswith("profilespawner")]
    source = f"{path} (ConfigMap 'team')"
    assert ("DEBUG", f"Profile file {path}: ConfigMap 'kube-root-ca.crt' has no key "
            "'jupyterhub-singleuser-profiles.yaml'; skipping it") in messages  # fmt: skip
    warnings = [m for level, m in messages if level == "WARNING"]
    assert sorted(warnings) == [
        f"{source}: profile 'a' (#1): env[0]: variable 'A' has neither 'value' nor 'valueFrom': it is set to "
        "the empty string",
        f"{source}: profile 'a' (#2): name: 'a' is also the name of profile #1: both apply, and where both "
        "set a field this later one wins; give each profile a name of its own",
    ]
    assert [m for _, m in messages if m.startswith("Loaded profile source")] == [
        f"Loaded profile source {path} (version {content_version(path)}): 2 profiles, 0 sizes, 0 GPU types"
    ]


async def test_files_are_checked_at_most_once_per_interval(write_yaml: Any) -> None:
    path = write_yaml("profiles: [{name: v1}]")
    now = [100.0]
    source = FileSource(
        [path],
        default_mount_path="/home",
        log=logging.getLogger("t"),
        check_interval=1.0,
        clock=lambda: now[0],
    )
    assert [names(s) for s in await source.profile_sets()] == [["v1"]]

    rewrite(path, "profiles: [{name: v2}]")
    now[0] += 0.999
    assert [names(s) for s in await source.profile_sets()] == [["v1"]], (
        "within the interval: the last check's"
    )
    now[0] += 0.001
    assert [names(s) for s in await source.profile_sets()] == [["v2"]], "an interval after the check: seen"

    os.remove(path)
    assert [names(s) for s in await source.profile_sets()] == [["v2"]]
    now[0] += 1.0
    assert await source.profile_sets() == []


def test_the_hub_checks_files_once_a_second_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.undo()  # the suite's own setting (tests/conftest.py) off: the hub's default
    assert SingleuserProfiles(configmap_name="", label_selector="").file_check_interval == 1.0
    assert SingleuserProfiles(file_check_interval=0.25)._files.check_interval == 0.25
