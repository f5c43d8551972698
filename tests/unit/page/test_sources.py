"""What the page lists of the sources: ``SingleuserProfiles.source_statuses``
(files here; ConfigMaps in tests/integration/test_page.py), from the books the
sources keep, without reading anything again."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from profilespawner import SingleuserProfiles
from profilespawner.sources.book import SourceStatus
from tests.support import content_version, rewrite


async def test_files_valid_rejected_and_missing(write_yaml: Callable[..., str], tmp_path: Path) -> None:
    good = write_yaml("profiles: [{name: a}]", "good.yaml")
    bad = write_yaml("profiles: [{name: b}]", "bad.yaml")
    missing = str(tmp_path / "missing.yaml")
    profiles = SingleuserProfiles(files=[good, bad, missing], configmap_name="", label_selector="")
    before = time.time()
    await profiles.load_profiles()
    valid_version = content_version(bad)
    rewrite(bad, "profiles: [{name: b, resouces: {}}]")
    await profiles.load_profiles()
    statuses = profiles.source_statuses()
    assert [(s.source, s.state) for s in statuses] == [
        (good, "valid"),
        (bad, "rejected"),
        (missing, "missing"),
    ]
    assert statuses[0].version == statuses[0].in_use == content_version(good)
    assert statuses[1].version == content_version(bad) != valid_version
    assert statuses[1].in_use == valid_version, "the last valid version stays in use"
    assert "unknown key 'resouces'" in statuses[1].error
    assert statuses[1].error.startswith(bad)
    assert all(s.since is not None and s.since >= before for s in statuses[:2])
    assert statuses[2] == SourceStatus(missing, "missing")


async def test_configmaps_not_read_before_the_first_spawn() -> None:
    profiles = SingleuserProfiles(files=[])
    await profiles.load_profiles()
    assert profiles.source_statuses() == [
        SourceStatus("ConfigMaps", "not read yet", error="read from the first spawn on")
    ]
    assert SingleuserProfiles(files=[], configmap_name="", label_selector="").source_statuses() == []
