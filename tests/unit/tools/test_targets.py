"""profilespawner.tools.targets: the spawns ``validate --server-dry-run`` tries."""

from __future__ import annotations

import textwrap

import pytest

from profilespawner.model import ProfileSet
from profilespawner.parse import parse_document
from profilespawner.tools.targets import (
    Combination,
    Identity,
    combinations,
    identities,
    range_points,
    untested_patterns,
)


def profile_set(text: str) -> ProfileSet:
    return parse_document(textwrap.dedent(text), source="t.yaml").profile_set


SET = profile_set("""\
    profiles:
    - name: everyone
      env: [{name: A, value: "1"}]
    - name: team
      groups: [ds, ml]
      users: [alice]
    - name: star
      users: ["*", bob]
    - name: gpu
      images: ["*-gpu-notebook", "quay.io/odh/spark:3*"]
    sizes:
    - name: Small
    - name: Large
      groups: [ds]
      users: [carol]
    """)


def test_identities_anyone_then_users_then_groups_in_order_of_mention() -> None:
    assert identities(SET) == [
        Identity("anyone"),
        Identity("alice", listed=True),
        Identity("bob", listed=True),
        Identity("carol", listed=True),
        Identity("anyone", ("ds",)),
        Identity("anyone", ("ml",)),
    ]


def test_the_stand_in_user_is_nobody_listed() -> None:
    listed = profile_set("profiles:\n- {name: a, users: [anyone, anyone-2]}\n")
    assert identities(listed)[0] == Identity("anyone-3")


def test_nothing_listed_is_one_anonymous_user() -> None:
    assert identities(ProfileSet()) == [Identity("anyone")]
    assert combinations(ProfileSet()) == [Combination(Identity("anyone"))]


def test_combinations_try_each_image_and_each_size_the_identity_may_pick() -> None:
    combos = combinations(SET, images=["x/s2i-tf-gpu-notebook:1", "x/s2i-tf-gpu-notebook:1", "y:2"])
    by_identity: dict[Identity, list[tuple[str | None, str | None]]] = {}
    for c in combos:
        by_identity.setdefault(c.identity, []).append((c.image, c.size))
    images = [None, "x/s2i-tf-gpu-notebook:1", "y:2"]  # the configured one first, duplicates once
    everyone_sizes = [None, "Small"]
    large_sizes = [None, "Small", "Large"]
    assert by_identity[Identity("anyone")] == [(i, s) for i in images for s in everyone_sizes]
    assert by_identity[Identity("carol", listed=True)] == [(i, s) for i in images for s in large_sizes]
    assert by_identity[Identity("anyone", ("ds",))] == [(i, s) for i in images for s in large_sizes]
    assert by_identity[Identity("anyone", ("ml",))] == [(i, s) for i in images for s in everyone_sizes]
    assert len(combos) == 3 * (2 + 2 + 2 + 3 + 3 + 2)


@pytest.mark.parametrize(
    ("images", "untested"),
    [
        ([], ["*-gpu-notebook", "quay.io/odh/spark:3*"]),
        (["quay.io/x/s2i-gpu-notebook:1"], ["quay.io/odh/spark:3*"]),
        (["quay.io/odh/spark:3.1", "a-gpu-notebook"], []),
        (["quay.io/odh/spark:2.4"], ["*-gpu-notebook", "quay.io/odh/spark:3*"]),
    ],
)
def test_untested_patterns(images: list[str], untested: list[str]) -> None:
    assert [pattern for _, pattern in untested_patterns(SET, images)] == untested


@pytest.mark.parametrize(
    ("combination", "text"),
    [
        (Combination(Identity("anyone")), "any user (as 'anyone'), image 'img:1', no size"),
        (
            Combination(Identity("alice", listed=True), "x:2", "Large"),
            "user 'alice', image 'x:2', size 'Large'",
        ),
        (
            Combination(Identity("anyone", ("ds",)), None, "Small"),
            "group 'ds' (as user 'anyone'), image 'img:1', size 'Small'",
        ),
        (
            Combination(Identity("anyone"), None, "Custom", (("cpu", "1"), ("gpu", "0")), "its min"),
            "any user (as 'anyone'), image 'img:1', size 'Custom' at its min (cpu 1, gpu 0)",
        ),
    ],
)
def test_describe(combination: Combination, text: str) -> None:
    assert combination.describe("img:1") == text


def test_describe_without_the_configured_image() -> None:
    text = "any user (as 'anyone'), the configured image, no size"
    assert Combination(Identity("anyone")).describe() == text


RANGED = profile_set("""\
    sizes:
    - name: Custom
      ranges:
        cpu: {min: "1", max: "16", default: "2"}
        memory: {min: 2Gi, max: 64Gi, default: 8Gi}
        gpu: {min: 0, max: 4}
    - name: Fixed
    - name: Memory
      ranges:
        memory: {min: 1Gi, max: 1Gi}
    """)


def test_a_size_with_ranges_is_tried_at_its_min_default_and_max() -> None:
    assert range_points(RANGED.sizes["Custom"]) == [
        ("its min", (("cpu", "1"), ("memory", "2Gi"), ("gpu", "0"))),
        ("its default", (("cpu", "2"), ("memory", "8Gi"), ("gpu", "0"))),
        ("its max", (("cpu", "16"), ("memory", "64Gi"), ("gpu", "4"))),
    ]
    # the same values are tried once
    assert range_points(RANGED.sizes["Memory"]) == [("its min and default and max", (("memory", "1Gi"),))]
    assert range_points(RANGED.sizes["Fixed"]) == []


def test_the_values_given_are_tried_for_the_sizes_with_such_a_range() -> None:
    given = {"cpu": "3", "gpu": "4"}
    assert range_points(RANGED.sizes["Custom"], given)[-1] == (
        "the values given",
        (("cpu", "3"), ("memory", "8Gi"), ("gpu", "4")),  # memory at its default
    )
    assert len(range_points(RANGED.sizes["Memory"], given)) == 1  # no cpu or gpu range: not tried
    at_max = range_points(RANGED.sizes["Custom"], {"cpu": "16", "memory": "64Gi", "gpu": "4"})
    assert at_max[-1][0] == "its max and the values given"


def test_combinations_of_a_size_with_ranges() -> None:
    combos = combinations(RANGED, range_values={"cpu": "3"})
    assert [(c.size, c.point) for c in combos] == [
        (None, ""),
        ("Custom", "its min"),
        ("Custom", "its default"),
        ("Custom", "its max"),
        ("Custom", "the values given"),
        ("Fixed", ""),
        ("Memory", "its min and default and max"),
    ]
