"""SPEC §8: what a pod records of how it was made, read back, and whether it is up to date."""

from __future__ import annotations

import json
from typing import Any

import pytest

from profilespawner.model import ProfileSet, SourceVersion
from profilespawner.parse import parse_document
from profilespawner.provenance import Freshness, Provenance, freshness, pod_annotations, read_provenance
from profilespawner.resolve import Resolution, resolve
from tests.support import content_version, rewrite

PROFILES = """\
profiles:
- {name: everyone}
- {name: Team, groups: [ds]}
- {name: GPU, images: ["*-gpu"], gpu: 1}
- {name: elsewhere, users: [nobody]}
sizes:
- {name: Small}
gpuTypes:
- {type: a100}
- {type: t4}
"""


@pytest.fixture
def profile_set() -> ProfileSet:
    parsed = parse_document(PROFILES, source="team.yaml").profile_set
    return ProfileSet.combine(
        [parsed.versioned("team.yaml", "sha256:0123456789abcdef"), ProfileSet().versioned("hub/cm", "42")]
    )


SOURCES = [
    {"source": "team.yaml", "version": "sha256:0123456789abcdef"},
    {"source": "hub/cm", "version": "42"},
]


@pytest.mark.parametrize(
    ("spawn", "expected"),
    [
        pytest.param(
            {"groups": [], "image": "minimal"},
            {"profilespawner/profiles": ["everyone"]},
            id="no-size",
        ),
        pytest.param(
            {"groups": ["ds"], "image": "minimal", "size": "Small"},
            {"profilespawner/profiles": ["everyone", "Team"], "profilespawner/size": "Small"},
            id="size",
        ),
        pytest.param(
            {"groups": [], "image": "x-gpu", "gpu_type": "t4"},
            {"profilespawner/profiles": ["everyone", "GPU"], "profilespawner/gpu-type": "t4"},
            id="gpu-type",
        ),
        pytest.param(
            {"groups": [], "image": "x-gpu"},
            {"profilespawner/profiles": ["everyone", "GPU"]},
            id="gpu-any-type",
        ),
        pytest.param(
            {"groups": [], "image": "minimal", "gpu_type": "t4"},
            {"profilespawner/profiles": ["everyone"]},
            id="gpu-type-without-gpu",
        ),
    ],
)
def test_the_record_of_a_resolution(profile_set: ProfileSet, spawn: dict[str, Any], expected: Any) -> None:
    annotations = pod_annotations(resolve(profile_set, user="alice", **spawn))
    decoded = {
        key: json.loads(value) if key in ("profilespawner/profiles", "profilespawner/sources") else value
        for key, value in annotations.items()
    }
    assert decoded == {**expected, "profilespawner/sources": SOURCES}


def test_no_profile_and_no_source_is_recorded_too() -> None:
    assert pod_annotations(
        Resolution(settings=resolve(ProfileSet(), user="a", groups=(), image="i").settings)
    ) == {
        "profilespawner/profiles": "[]",
        "profilespawner/sources": "[]",
    }


def test_budgets_are_recorded_when_there_are_some(profile_set: ProfileSet) -> None:
    resolution = resolve(profile_set, user="alice", groups=(), image="minimal")
    assert "profilespawner/budgets" not in pod_annotations(resolution)
    counted = Resolution(settings=resolution.settings, budgets=("ds-gpus", "all"))
    assert pod_annotations(counted)["profilespawner/budgets"] == '["ds-gpus","all"]'


def test_names_are_written_as_they_are_and_read_back(profile_set: ProfileSet) -> None:
    names = parse_document("profiles: [{name: 'Ünïcode \"quoted\"'}, {name: 'a,b'}]", source="f")
    resolution = resolve(names.profile_set.versioned("f", "sha256:00"), user="a", groups=(), image="i")
    annotations = pod_annotations(resolution)
    assert annotations["profilespawner/profiles"] == '["Ünïcode \\"quoted\\"","a,b"]'
    assert read_provenance(annotations) == Provenance(
        profiles=('Ünïcode "quoted"', "a,b"), sources=(SourceVersion("f", "sha256:00"),)
    )


def test_a_full_record_reads_back(profile_set: ProfileSet) -> None:
    resolution = resolve(
        profile_set, user="alice", groups=["ds"], image="x-gpu", size="Small", gpu_type="a100"
    )
    record = read_provenance({"hub.jupyter.org/username": "alice", **pod_annotations(resolution)})
    assert record == Provenance(
        profiles=("everyone", "Team", "GPU"),
        sources=(SourceVersion("team.yaml", "sha256:0123456789abcdef"), SourceVersion("hub/cm", "42")),
        size="Small",
        gpu_type="a100",
    )


@pytest.mark.parametrize(
    "annotations",
    [
        None,
        {},
        {"hub.jupyter.org/username": "alice"},
        {"profilespawner/profiles": "[]"},  # no sources
        {"profilespawner/sources": "[]"},  # no profiles
        {"profilespawner/profiles": "not json", "profilespawner/sources": "[]"},
        {"profilespawner/profiles": '{"a": 1}', "profilespawner/sources": "[]"},
        {"profilespawner/profiles": "[1]", "profilespawner/sources": "[]"},
        {"profilespawner/profiles": "[]", "profilespawner/sources": '[{"source": "a"}]'},
        {"profilespawner/profiles": "[]", "profilespawner/sources": '[{"source": "a", "version": 1}]'},
        {"profilespawner/profiles": "[]", "profilespawner/sources": '["a"]'},
    ],
    ids=[
        "none",
        "empty",
        "kubespawners-only",
        "no-sources",
        "no-profiles",
        "not-json",
        "not-a-list",
        "not-names",
        "no-version",
        "version-not-a-string",
        "source-not-an-object",
    ],
)
def test_a_pod_without_a_well_formed_record_has_none(annotations: Any) -> None:
    assert read_provenance(annotations) is None


RECORDED = (
    SourceVersion("/etc/p.yaml", "sha256:aa"),
    SourceVersion("hub/a", "10"),
    SourceVersion("hub/b", "20"),
)


@pytest.mark.parametrize(
    ("in_use", "expected", "up_to_date"),
    [
        pytest.param(
            {"/etc/p.yaml": "sha256:aa", "hub/a": "10", "hub/b": "20"}, Freshness(), True, id="same"
        ),
        pytest.param(
            {"/etc/p.yaml": "sha256:aa", "hub/a": "11", "hub/b": "20"},
            Freshness(changed=("hub/a",)),
            False,
            id="configmap-edited",
        ),
        pytest.param(
            {"/etc/p.yaml": "sha256:bb", "hub/a": "10", "hub/b": "20"},
            Freshness(changed=("/etc/p.yaml",)),
            False,
            id="file-edited",
        ),
        pytest.param(
            {"/etc/p.yaml": "sha256:aa", "hub/a": "10"},
            Freshness(gone=("hub/b",)),
            False,
            id="configmap-gone",
        ),
        pytest.param(
            {"/etc/p.yaml": "sha256:aa", "hub/a": "10", "hub/aa": "5", "hub/b": "20"},
            Freshness(added=("hub/aa",)),
            False,
            id="configmap-added",
        ),
        pytest.param(
            {"/etc/p.yaml": "sha256:aa", "hub/a": None, "hub/b": "20"},
            Freshness(unknown=("hub/a",)),
            None,
            id="rejected-now",
        ),
        pytest.param(
            {"/etc/p.yaml": "sha256:aa", "hub/a": "10", "hub/b": "20", "hub/new": None},
            Freshness(unknown=("hub/new",)),
            None,
            id="rejected-new-one",
        ),
        pytest.param(
            {"/etc/p.yaml": "sha256:aa", "hub/a": None, "hub/b": "21"},
            Freshness(changed=("hub/b",), unknown=("hub/a",)),
            False,
            id="stale-wins-over-unknown",
        ),
        pytest.param({}, Freshness(gone=("/etc/p.yaml", "hub/a", "hub/b")), False, id="all-gone"),
    ],
)
def test_freshness(in_use: dict[str, str | None], expected: Freshness, up_to_date: bool | None) -> None:
    result = freshness(RECORDED, in_use)
    assert result == expected
    assert result.up_to_date is up_to_date


def test_a_pod_of_no_source_is_up_to_date_until_one_appears() -> None:
    assert freshness((), {}).up_to_date is True
    assert freshness((), {"hub/a": "1"}) == Freshness(added=("hub/a",))


async def test_the_pod_records_the_versions_it_was_resolved_from(
    make_spawner: Any, write_yaml: Any, pod_for: Any
) -> None:
    """The spawn applies what load_user_options checked; its record is of that
    profile set, even when a source changes before the pod is built."""
    path = write_yaml("profiles: [{name: before}]")
    before = content_version(path)
    spawner = make_spawner([path])
    await spawner.load_user_options()
    rewrite(path, "profiles: [{name: after}]")
    pod = await spawner.get_pod_manifest()
    record = read_provenance(pod.metadata.annotations)
    assert record is not None
    assert record.profiles == ("before",)
    assert record.sources == (SourceVersion(path, before),)

    again = await pod_for(spawner)
    record = read_provenance(again["metadata"]["annotations"])
    assert record is not None and record.profiles == ("after",)
    assert record.sources == (SourceVersion(path, content_version(path)),)
