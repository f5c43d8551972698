"""Which profiles apply: image patterns and who."""

from __future__ import annotations

import pytest

from profilespawner.match import (
    ImageRef,
    image_matches,
    image_reason,
    is_for,
    matching_profiles,
    normalized_name,
    who_reason,
)
from profilespawner.model import Profile, Who

SPARK = "quay.io/odh/s2i-spark-notebook:3.6"

IMAGE_CASES = [
    # pattern, image, matches
    ("s2i-spark-notebook:3.6", SPARK, True),
    ("s2i-spark-notebook", SPARK, True),
    ("s2i-spark-notebook:3.7", SPARK, False),
    ("s2i-spark", SPARK, False),
    ("spark-notebook", SPARK, False),
    ("s2i-*", SPARK, True),
    ("s2i-*:3.6", SPARK, True),
    ("s2i-*:3.?", SPARK, True),
    ("*:3.[0-6]", SPARK, True),
    ("*:3.[7-9]", SPARK, False),
    ("*", SPARK, True),
    ("quay.io/odh/s2i-spark-notebook", SPARK, True),
    ("quay.io/odh/s2i-spark-notebook:3.6", SPARK, True),
    ("docker.io/odh/s2i-spark-notebook", SPARK, False),
    ("quay.io/*", SPARK, True),
    ("quay.io/*:3.6", SPARK, True),
    ("odh/s2i-spark-notebook", SPARK, False),
    ("*/s2i-spark-notebook", SPARK, True),
    # no tag counts as :latest
    ("minimal-notebook:latest", "jupyter/minimal-notebook", True),
    ("minimal-notebook", "jupyter/minimal-notebook", True),
    ("minimal-notebook:2024", "jupyter/minimal-notebook", False),
    # a registry port is not a tag
    ("notebook", "registry.local:5000/team/notebook", True),
    ("notebook:latest", "registry.local:5000/team/notebook", True),
    ("registry.local:5000/team/notebook", "registry.local:5000/team/notebook:v1", True),
    ("registry.local:5000/*", "registry.local:5000/team/notebook:v1", True),
    # digests
    ("notebook", "quay.io/x/notebook@sha256:abc", True),
    ("notebook@sha256:abc", "quay.io/x/notebook@sha256:abc", True),
    ("notebook@sha256:def", "quay.io/x/notebook@sha256:abc", False),
    ("notebook:v1", "quay.io/x/notebook:v1@sha256:abc", True),
    ("notebook:v1@sha256:abc", "quay.io/x/notebook:v1@sha256:abc", True),
    ("notebook:latest", "quay.io/x/notebook@sha256:abc", False),
    # case-sensitive, like registries
    ("Notebook", "quay.io/x/notebook", False),
    # Docker Hub names, normalized as container runtimes do (SPEC §4)
    ("jupyter/minimal-notebook", "docker.io/jupyter/minimal-notebook:2024", True),
    ("jupyter/minimal-notebook", "index.docker.io/jupyter/minimal-notebook", True),
    ("docker.io/jupyter/minimal-notebook", "jupyter/minimal-notebook", True),
    ("index.docker.io/jupyter/minimal-notebook:2024", "jupyter/minimal-notebook:2024", True),
    ("registry-1.docker.io/jupyter/*", "jupyter/minimal-notebook", True),
    ("jupyter/*", "docker.io/jupyter/minimal-notebook", True),
    ("jupyter/*", "quay.io/jupyter/minimal-notebook", False),
    ("docker.io/library/python:3.12", "python:3.12", True),
    ("docker.io/python", "python", True),
    ("library/python", "docker.io/library/python", True),
    ("python", "docker.io/library/python:3.12", True),  # no '/': the last component
    ("docker.io/*", "python", True),
    ("docker.io/*", "quay.io/x/python", False),
    ("localhost/team/notebook", "localhost/team/notebook", True),
    ("team/notebook", "localhost/team/notebook", False),  # localhost is a registry
    ("team/notebook", "registry.local:5000/team/notebook", False),
    # a pattern whose first component is a wildcard is not normalized: any registry
    ("*/minimal-notebook", "jupyter/minimal-notebook", True),
    ("*/jupyter/minimal-notebook", "quay.io/jupyter/minimal-notebook", True),
    ("*/jupyter/minimal-notebook", "jupyter/minimal-notebook", True),
    ("j*/minimal-notebook", "jupyter/minimal-notebook", False),  # 'docker.io/jupyter/...' vs 'j*/...'
]


@pytest.mark.parametrize(
    ("name", "normalized"),
    [
        ("python", "docker.io/library/python"),
        ("jupyter/minimal-notebook", "docker.io/jupyter/minimal-notebook"),
        ("docker.io/python", "docker.io/library/python"),
        ("index.docker.io/jupyter/base", "docker.io/jupyter/base"),
        ("docker.io/library/python", "docker.io/library/python"),
        ("quay.io/jupyter/base", "quay.io/jupyter/base"),
        ("localhost/base", "localhost/base"),
        ("registry:5000/base", "registry:5000/base"),
        ("a/b/c", "docker.io/a/b/c"),
    ],
)
def test_docker_hub_names_normalized(name: str, normalized: str) -> None:
    assert normalized_name(name) == normalized


@pytest.mark.parametrize(("pattern", "image", "matches"), IMAGE_CASES)
def test_image_patterns(pattern: str, image: str, matches: bool) -> None:
    assert image_matches(pattern, image) is matches


@pytest.mark.parametrize(
    ("reference", "parts"),
    [
        ("a", ("a", "", "")),
        ("a:b", ("a", "b", "")),
        ("h:1/a", ("h:1/a", "", "")),
        ("h:1/a:b@sha256:c", ("h:1/a", "b", "sha256:c")),
    ],
)
def test_image_ref_parse(reference: str, parts: tuple[str, str, str]) -> None:
    ref = ImageRef.parse(reference)
    assert (ref.name, ref.tag, ref.digest) == parts
    assert ref.render() == reference


@pytest.mark.parametrize(
    ("who", "user", "groups", "applies", "reason"),
    [
        (Who(), "alice", [], True, "everyone (no users or groups listed)"),
        (Who(users=("*",)), "alice", [], True, "everyone (users: '*')"),
        (Who(users=("*",), groups=("g",)), "alice", [], True, "everyone (users: '*')"),
        (Who(users=("alice",)), "alice", [], True, "user 'alice' is listed"),
        (Who(users=("alice",)), "bob", ["alice"], False, "only for users 'alice'"),
        (Who(groups=("ds",)), "bob", ["ds", "x"], True, "member of group 'ds'"),
        (Who(groups=("ds",)), "bob", ["x"], False, "only for groups 'ds'"),
        (Who(users=("alice",), groups=("ds",)), "bob", ["ds"], True, "member of group 'ds'"),
        (Who(users=("alice",), groups=("ds",)), "carol", [], False, "only for users 'alice'; groups 'ds'"),
    ],
)
def test_who(who: Who, user: str, groups: list[str], applies: bool, reason: str) -> None:
    assert is_for(who, user, groups) is applies
    assert who_reason(who, user, groups) == (applies, reason)


@pytest.mark.parametrize(
    ("patterns", "image", "reason"),
    [
        ((), SPARK, (True, "every image (no images listed)")),
        (("minimal", "s2i-spark-notebook"), SPARK, (True, "pattern 's2i-spark-notebook' matches")),
        (("minimal", "*-gpu"), SPARK, (False, "no pattern matches ('minimal', '*-gpu')")),
    ],
)
def test_image_reason_says_the_rule_in_words(
    patterns: tuple[str, ...], image: str, reason: tuple[bool, str]
) -> None:
    assert image_reason(patterns, image) == reason
    assert reason[0] is (not patterns or any(image_matches(p, image) for p in patterns))


def test_matching_profiles_keeps_precedence_order() -> None:
    profiles = [
        Profile(name="globals", source="s", index=0),
        Profile(name="spark", source="s", index=1, images=("s2i-spark-notebook",)),
        Profile(name="alice-only", source="s", index=2, who=Who(users=("alice",))),
        Profile(name="ds", source="s", index=3, who=Who(groups=("ds",)), images=("other", "*spark*")),
    ]
    got = matching_profiles(profiles, user="bob", groups=["ds"], image=SPARK)
    assert [p.name for p in got] == ["globals", "spark", "ds"]
    got = matching_profiles(profiles, user="alice", groups=[], image="minimal:1")
    assert [p.name for p in got] == ["globals", "alice-only"]


def test_an_index_answers_for_every_image_it_has_seen_and_more() -> None:
    """The index remembers per image which profiles' ``images`` select it; the
    answer is the same as matching each profile's patterns, for any number of
    images (it forgets the oldest beyond its bound)."""
    from profilespawner.match import set_index
    from profilespawner.model import ProfileSet

    profiles = tuple(
        Profile(name=f"p{i}", source="s", index=i, images=(f"team-{i % 7}/*", f"*:v{i % 3}") if i % 2 else ())
        for i in range(40)
    )
    profile_set = ProfileSet(profiles=profiles)
    index = set_index(profile_set)
    images = [f"team-{t}/nb:v{v}" for t in range(9) for v in range(9)]  # 81: beyond the bound
    for image in [*images, *reversed(images)]:
        expected = [
            p.name for p in profiles if not p.images or any(image_matches(x, image) for x in p.images)
        ]
        found = matching_profiles(profiles, user="u", groups=[], image=image, index=index)
        assert [p.name for p in found] == expected, image
    assert len(index.by_image) <= 64
