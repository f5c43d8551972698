"""Resolving one spawn: profiles in order, then the size, then GPU types; SPEC §4 and §7."""

from __future__ import annotations

import contextlib
import gc
import textwrap
import weakref

import pytest

from profilespawner.errors import MountConflictError, UserOptionError
from profilespawner.merge import Origin, Setter
from profilespawner.model import ProfileSet
from profilespawner.parse import parse_document
from profilespawner.resolve import ResolutionCache, allowed_sizes, may_get_gpu, resolve

DOC = textwrap.dedent(
    """\
    profiles:
    - name: globals
      env: [{name: A, value: globals}]
      resources: {requests: {cpu: 500m}, limits: {cpu: "1"}}
    - name: spark
      images: [s2i-spark-notebook]
      env: [{name: A, value: spark}]
    - name: gpu-team
      groups: [gpu]
      gpu: 1
    sizes:
    - name: Small
      resources: {requests: {cpu: "1"}, limits: {cpu: "2"}}
    - name: Huge
      groups: [power]
      resources: {limits: {cpu: "16"}}
      gpu: 0
    gpuTypes:
    - type: a100
      node_tolerations: [{key: a100, operator: Exists}]
    - type: t4
      node_tolerations: [{key: t4, operator: Exists}]
    """
)


PROFILE_NAMES = ("globals", "spark", "gpu-team")


@pytest.fixture
def profile_set() -> ProfileSet:
    return parse_document(DOC, source="doc").profile_set


def test_profiles_then_size(profile_set: ProfileSet) -> None:
    r = resolve(profile_set, user="bob", groups=[], image="quay.io/x/s2i-spark-notebook:3.6", size="Small")
    assert [p.name for p in r.profiles] == ["globals", "spark"]
    assert r.size is not None and r.size.name == "Small"
    assert r.settings.env == ({"name": "A", "value": "spark"},)
    assert r.settings.resources == {"requests": {"cpu": "1"}, "limits": {"cpu": "2"}}
    assert r.describe() == "profiles 'globals', 'spark'; size 'Small'"


@pytest.mark.parametrize("size", [None, "", "Default"])
def test_no_size(profile_set: ProfileSet, size: str | None) -> None:
    r = resolve(profile_set, user="bob", groups=[], image="x", size=size)
    assert r.size is None
    assert r.settings.resources["limits"] == {"cpu": "1"}


@pytest.mark.parametrize(
    ("size", "groups"),
    [("Medium", []), ("Huge", []), ("small", []), (["Small"], []), (12, []), ("x" * 10_000, ["gpu"])],
)
def test_unknown_or_forbidden_size_names_the_allowed_ones(
    profile_set: ProfileSet, size: object, groups: list[str]
) -> None:
    with pytest.raises(UserOptionError) as info:
        resolve(profile_set, user="bob", groups=groups, image="x", size=size)
    message = str(info.value)
    assert "choose one of: 'Default', 'Small'" in message
    assert "Huge" not in message.split("choose one of")[1]
    assert info.value.allowed == ("Small",)
    assert len(message) < 300


def test_size_restricted_to_a_group(profile_set: ProfileSet) -> None:
    assert [s.name for s in allowed_sizes(profile_set, user="bob", groups=["power"])] == ["Small", "Huge"]
    r = resolve(profile_set, user="bob", groups=["power", "gpu"], image="x", size="Huge")
    assert r.settings.gpu == 0
    assert r.gpu_tolerations == ()


def test_gpu_takes_every_gpu_type_or_the_chosen_one(profile_set: ProfileSet) -> None:
    r = resolve(profile_set, user="bob", groups=["gpu"], image="x")
    assert r.settings.gpu == 1
    assert r.gpu_tolerations == ({"key": "a100", "operator": "Exists"}, {"key": "t4", "operator": "Exists"})
    r = resolve(profile_set, user="bob", groups=["gpu"], image="x", gpu_type="t4")
    assert r.gpu_tolerations == ({"key": "t4", "operator": "Exists"},)


@pytest.mark.parametrize("gpu_type", ["h100", ["t4"], 3])
def test_unknown_gpu_type_fails_even_without_gpu(profile_set: ProfileSet, gpu_type: object) -> None:
    with pytest.raises(UserOptionError, match="choose one of: 'a100', 't4'"):
        resolve(profile_set, user="bob", groups=[], image="x", gpu_type=gpu_type)


def test_no_gpu_no_tolerations(profile_set: ProfileSet) -> None:
    assert resolve(profile_set, user="bob", groups=[], image="x", gpu_type="t4").gpu_tolerations == ()


def test_combined_sets_later_size_replaces_earlier() -> None:
    first = parse_document("sizes: [{name: S, resources: {limits: {cpu: '1'}}}]", source="a").profile_set
    second = parse_document("sizes: [{name: S, groups: [x]}, {name: M}]", source="b").profile_set
    combined = ProfileSet.combine([first, second])
    assert [s.name for s in allowed_sizes(combined, user="u", groups=[])] == ["M"]
    assert combined.sizes["S"].source == "b"


def test_may_get_gpu(profile_set: ProfileSet) -> None:
    assert may_get_gpu(profile_set, user="bob", groups=["gpu"])  # the gpu-team profile
    assert not may_get_gpu(profile_set, user="bob", groups=[])
    assert not may_get_gpu(profile_set, user="bob", groups=["power"])  # Huge sets gpu: 0


def test_the_record_names_the_profiles_the_size_and_the_gpu_types(profile_set: ProfileSet) -> None:
    r = resolve(
        profile_set, user="bob", groups=["gpu"], image="x/s2i-spark-notebook:1", size="Small", gpu_type="t4"
    )
    globals_, spark, gpu_team = (Setter("profile", name, "doc", i) for i, name in enumerate(PROFILE_NAMES))
    small = Setter("size", "Small", "doc")
    assert r.record.get("env", "A") == Origin("env", "A", spark, replaced=(globals_,))
    assert r.record.get("resources", "requests.cpu") == Origin(
        "resources", "requests.cpu", small, replaced=(globals_,)
    )
    assert r.record.get("gpu", "") == Origin("gpu", "", gpu_team)
    assert r.record.of("node_tolerations") == (Origin("node_tolerations", 0, Setter("gpuType", "t4", "doc")),)
    assert (r.gpu_types, r.gpu_type) == (("t4",), "t4")


def test_without_a_choice_every_gpu_type_and_no_chosen_one(profile_set: ProfileSet) -> None:
    r = resolve(profile_set, user="bob", groups=["gpu"], image="x")
    assert (r.gpu_types, r.gpu_type) == (("a100", "t4"), None)
    assert [o.set_by.name for o in r.record.of("node_tolerations")] == ["a100", "t4"]
    chosen_without_gpu = resolve(profile_set, user="bob", groups=[], image="x", gpu_type="t4")
    assert (chosen_without_gpu.gpu_types, chosen_without_gpu.gpu_type) == ((), None)


MOUNTS = textwrap.dedent(
    """\
    profiles:
    - name: team-data
      volumes: [{name: team, persistentVolumeClaim: {claimName: team}, mountPath: /data}]
    - name: own-data
      users: [alice]
      volumes: [{name: own, persistentVolumeClaim: {claimName: own}, mountPath: /data}]
    - name: same-name
      users: [bob]
      volumes: [{name: team, emptyDir: {}, mountPath: /data}]
    sizes:
    - name: Scratch
      volumes: [{name: scratch, emptyDir: {}, mountPath: /data}]
    - name: Other
      volumes: [{name: scratch, emptyDir: {}, mountPath: /scratch}]
    """
)


@pytest.mark.parametrize(
    ("user", "size", "message"),
    [
        ("alice", None, "volumes: volume 'team' (profile 'team-data') and volume 'own' (profile 'own-data') "
         "are mounted at one path, which Kubernetes refuses; give one of them another mountPath"),
        ("carol", "Scratch", "volumes: volume 'team' (profile 'team-data') and volume 'scratch' "
         "(size 'Scratch') are mounted at one path"),
    ],
)  # fmt: skip
def test_two_volumes_the_merge_mounts_at_one_path_refuse_the_spawn(
    user: str, size: str | None, message: str
) -> None:
    profile_set = parse_document(MOUNTS, source="doc").profile_set
    with pytest.raises(MountConflictError) as info:
        resolve(profile_set, user=user, groups=[], image="x", size=size)
    assert str(info.value).startswith(message)


@pytest.mark.parametrize(("user", "size"), [("bob", None), ("carol", "Other"), ("carol", None)])
def test_a_volume_replaced_by_name_or_mounted_elsewhere_is_no_conflict(user: str, size: str | None) -> None:
    profile_set = parse_document(MOUNTS, source="doc").profile_set
    resolution = resolve(profile_set, user=user, groups=[], image="x", size=size)
    paths = [v["mountPath"] for v in resolution.settings.volumes]
    assert len(paths) == len(set(paths))


# -- the cache ------------------------------------------------------------------


@pytest.fixture
def doc_set() -> ProfileSet:
    return parse_document(DOC, source="test").profile_set


def test_the_cache_serves_a_spawn_seen_before_until_the_set_changes(doc_set: ProfileSet) -> None:
    cache = ResolutionCache()
    spawn = {"user": "ann", "groups": ["gpu", "x"], "image": "s2i-spark-notebook:3", "size": "Small"}
    first = cache.resolve(doc_set, **spawn)
    assert first == resolve(doc_set, **spawn)
    assert cache.resolve(doc_set, **{**spawn, "groups": ["x", "gpu", "gpu"]}) is first, "groups are a set"
    assert cache.resolve(doc_set, **{**spawn, "image": "other:1"}) is not first
    edited = parse_document(DOC.replace("value: spark", "value: edited"), source="test").profile_set
    again = cache.resolve(edited, **spawn)
    assert again.settings.env[0]["value"] == "edited"
    assert len(cache) == 1, "a new set empties the cache"


def test_the_cache_is_bounded_and_keeps_the_most_recently_used(doc_set: ProfileSet) -> None:
    cache = ResolutionCache(maxsize=2)
    a, b, c = ({"user": u, "groups": [], "image": "i"} for u in ("a", "b", "c"))
    kept = cache.resolve(doc_set, **a)
    cache.resolve(doc_set, **b)
    assert cache.resolve(doc_set, **a) is kept  # a is now the most recent
    cache.resolve(doc_set, **c)  # b goes
    assert len(cache) == 2
    assert cache.resolve(doc_set, **a) is kept
    assert ResolutionCache(maxsize=0).resolve(doc_set, **a) == kept


@pytest.mark.parametrize(
    ("cached", "other"),
    [({"cpu": 1}, {"cpu": True}), ({"cpu": 1}, {"cpu": 1.0}), ({"size": "Small"}, {"size": None})],
)
def test_choices_of_another_type_are_another_spawn(
    doc_set: ProfileSet, cached: dict[str, object], other: dict[str, object]
) -> None:
    cache = ResolutionCache()
    spawn = {"user": "ann", "groups": [], "image": "i"}
    with contextlib.suppress(UserOptionError):
        cache.resolve(doc_set, **spawn, **cached)
    try:
        expected: object = resolve(doc_set, **spawn, **other)
    except UserOptionError as e:
        expected = str(e)
    try:
        got: object = cache.resolve(doc_set, **spawn, **other)
    except UserOptionError as e:
        got = str(e)
    assert got == expected


def test_refusals_and_choices_that_are_not_plain_values_are_not_cached(doc_set: ProfileSet) -> None:
    cache = ResolutionCache()
    spawn = {"user": "ann", "groups": [], "image": "i"}
    with pytest.raises(UserOptionError):
        cache.resolve(doc_set, **spawn, size="Huge")
    with pytest.raises(UserOptionError):
        cache.resolve(doc_set, **spawn, size=["Small"])
    assert len(cache) == 0


def test_a_profile_set_left_behind_is_freed() -> None:
    cache = ResolutionCache()
    doc_set = parse_document(DOC, source="test").profile_set
    cache.resolve(doc_set, user="ann", groups=[], image="i")
    gone = weakref.ref(doc_set.profiles[0])
    del doc_set
    cache.resolve(parse_document(DOC, source="test").profile_set, user="ann", groups=[], image="i")
    gc.collect()
    assert gone() is None, "neither the cache nor the matcher's index keeps an old set alive"
