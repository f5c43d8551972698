"""SPEC §5: how profiles and a size combine (later wins), and the record of who set what."""

from __future__ import annotations

from collections.abc import Sequence

from profilespawner.merge import Layer, Merged, Origin, Setter, add_tolerations, merge
from profilespawner.model import PodSettings


def profile(n: int) -> Setter:
    return Setter("profile", f"p{n}", "test.yaml", n)


def layers(*settings: PodSettings) -> list[Layer]:
    """One profile per settings, p0, p1, ... in that order."""
    return [Layer(profile(n), s) for n, s in enumerate(settings)]


def merge_settings(settings: Sequence[PodSettings]) -> PodSettings:
    return merge(layers(*settings)).settings


def test_env_by_name_later_value_first_position() -> None:
    merged = merge_settings(
        [
            PodSettings(env=({"name": "A", "value": "1"}, {"name": "B", "value": "1"})),
            PodSettings(
                env=(
                    {"name": "C", "value": "2"},
                    {"name": "A", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
                )
            ),
        ]
    )
    assert merged.env == (
        {"name": "A", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
        {"name": "B", "value": "1"},
        {"name": "C", "value": "2"},
    )


def test_env_from_and_tolerations_concatenate_without_exact_duplicates() -> None:
    t1 = {"key": "a", "operator": "Exists"}
    t2 = {"key": "b", "operator": "Exists"}
    merged = merge_settings(
        [
            PodSettings(env_from=({"secretRef": {"name": "s"}},), tolerations=(t1,)),
            PodSettings(
                env_from=({"secretRef": {"name": "s"}}, {"configMapRef": {"name": "c"}}), tolerations=(t2, t1)
            ),
        ]
    )
    assert merged.env_from == ({"secretRef": {"name": "s"}}, {"configMapRef": {"name": "c"}})
    assert merged.tolerations == (t1, t2)


def test_tolerations_are_duplicates_by_meaning_not_by_spelling() -> None:
    """An omitted operator is Equal: two profiles writing the same toleration two ways give one."""
    implicit = {"key": "pool", "value": "gpu", "effect": "NoSchedule"}
    explicit = {"key": "pool", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}
    other = {"key": "pool", "operator": "Exists", "effect": "NoSchedule"}
    merged = merge_settings(
        [PodSettings(tolerations=(implicit,)), PodSettings(tolerations=(explicit, other))]
    )
    assert merged.tolerations == (implicit, other)


def test_resources_per_kind_and_name() -> None:
    merged = merge_settings(
        [
            PodSettings(resources={"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "2"}}),
            PodSettings(resources={"requests": {"cpu": "500m"}, "limits": {"memory": "4Gi"}}),
        ]
    )
    assert merged.resources == {
        "requests": {"cpu": "500m", "memory": "1Gi"},
        "limits": {"cpu": "2", "memory": "4Gi"},
    }


def test_gpu_replaced_zero_included_none_keeps() -> None:
    assert merge_settings([PodSettings(gpu=2), PodSettings(gpu=0)]).gpu == 0
    assert merge_settings([PodSettings(gpu=2), PodSettings()]).gpu == 2
    assert merge_settings([PodSettings(), PodSettings()]).gpu is None


def test_maps_per_key_and_affinity_per_top_level_key() -> None:
    required = {"nodeSelectorTerms": [{"matchExpressions": [{"key": "a", "operator": "Exists"}]}]}
    preferred = [{"weight": 1, "preference": {}}]
    merged = merge_settings(
        [
            PodSettings(
                node_selector={"a": "1", "b": "1"},
                labels={"x": "1"},
                annotations={"n": "1"},
                node_affinity={"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": []}},
            ),
            PodSettings(
                node_selector={"b": "2"},
                labels={"y": "2"},
                annotations={"n": "2"},
                node_affinity={
                    "requiredDuringSchedulingIgnoredDuringExecution": required,
                    "preferredDuringSchedulingIgnoredDuringExecution": preferred,
                },
            ),
        ]
    )
    assert merged.node_selector == {"a": "1", "b": "2"}
    assert merged.labels == {"x": "1", "y": "2"}
    assert merged.annotations == {"n": "2"}
    assert merged.node_affinity == {
        "requiredDuringSchedulingIgnoredDuringExecution": required,
        "preferredDuringSchedulingIgnoredDuringExecution": preferred,
    }


def test_volumes_by_name() -> None:
    merged = merge_settings(
        [
            PodSettings(
                volumes=(
                    {"name": "a", "emptyDir": {}, "mountPath": "/a"},
                    {"name": "b", "emptyDir": {}, "mountPath": "/b"},
                )
            ),
            PodSettings(volumes=({"name": "a", "secret": {"secretName": "s"}, "mountPath": "/s"},)),
        ]
    )
    assert merged.volumes == (
        {"name": "a", "secret": {"secretName": "s"}, "mountPath": "/s"},
        {"name": "b", "emptyDir": {}, "mountPath": "/b"},
    )


def test_merge_of_nothing_is_empty() -> None:
    assert merge_settings([]) == PodSettings()


# -- the record ------------------------------------------------------------------------


def origins(merged: Merged, field: str) -> list[tuple[object, str, list[str], list[str]]]:
    """(key, set by, replaced, repeated) of a field, by profile name."""
    return [
        (o.key, o.set_by.name, [s.name for s in o.replaced], [s.name for s in o.repeated])
        for o in merged.record.of(field)
    ]


def test_the_record_names_who_set_each_key_and_whom_it_replaced() -> None:
    merged = merge(
        layers(
            PodSettings(env=({"name": "A", "value": "0"},), resources={"requests": {"cpu": "1"}}, gpu=1),
            PodSettings(labels={"x": "1"}, node_selector={"disk": "ssd"}),
            PodSettings(
                env=({"name": "B", "value": "2"}, {"name": "A", "value": "2"}),
                resources={"requests": {"cpu": "2"}, "limits": {"cpu": "4"}},
                gpu=0,
                labels={"x": "2"},
                volumes=({"name": "v", "emptyDir": {}, "mountPath": "/v"},),
                annotations={"a": "1"},
                node_affinity={"preferredDuringSchedulingIgnoredDuringExecution": []},
            ),
        )
    )
    assert origins(merged, "env") == [("A", "p2", ["p0"], []), ("B", "p2", [], [])]
    assert origins(merged, "resources") == [("requests.cpu", "p2", ["p0"], []), ("limits.cpu", "p2", [], [])]
    assert origins(merged, "gpu") == [("", "p2", ["p0"], [])]
    assert origins(merged, "labels") == [("x", "p2", ["p1"], [])]
    assert origins(merged, "node_selector") == [("disk", "p1", [], [])]
    assert origins(merged, "volumes") == [("v", "p2", [], [])]
    assert origins(merged, "annotations") == [("a", "p2", [], [])]
    assert origins(merged, "node_affinity") == [
        ("preferredDuringSchedulingIgnoredDuringExecution", "p2", [], [])
    ]
    # every item of the result has exactly one origin, in the result's order
    assert [o.key for o in merged.record.of("env")] == [v["name"] for v in merged.settings.env]
    assert merged.record.get("env", "A") == Origin("env", "A", profile(2), replaced=(profile(0),))
    assert merged.record.get("env", "C") is None


def test_the_record_of_concatenated_fields_keeps_the_first_and_names_the_repeats() -> None:
    implicit = {"key": "pool", "value": "gpu"}
    explicit = {"key": "pool", "operator": "Equal", "value": "gpu"}
    secret = {"secretRef": {"name": "s"}}
    merged = merge(
        layers(
            PodSettings(tolerations=(implicit,), env_from=(secret,)),
            PodSettings(env_from=({"configMapRef": {"name": "c"}},)),
            PodSettings(tolerations=(explicit,), env_from=(secret,)),
        )
    )
    assert origins(merged, "node_tolerations") == [(0, "p0", [], ["p2"])]
    assert origins(merged, "envFrom") == [(0, "p0", [], ["p2"]), (1, "p1", [], [])]
    assert merged.settings.tolerations == (implicit,)


def test_added_tolerations_continue_the_record() -> None:
    """The GPU types' tolerations: the new ones are added, a repeat is recorded on the one already there."""
    zone = {"key": "zone", "operator": "Exists"}
    gpu = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
    merged = merge(layers(PodSettings(tolerations=(zone,))))
    a100 = Setter("gpuType", "a100", "test.yaml")
    t4 = Setter("gpuType", "t4", "test.yaml")
    added, record = add_tolerations(
        merged, [(a100, (gpu, {"key": "zone", "operator": "Exists", "value": ""})), (t4, (gpu,))]
    )
    assert added == (gpu,)
    assert [(o.key, o.set_by, o.repeated) for o in record.of("node_tolerations")] == [
        (0, profile(0), (a100,)),
        (1, a100, (t4,)),
    ]
    assert record.of("env") == merged.record.of("env")


def test_setters_say_what_a_layer_is() -> None:
    assert Setter("size", "Custom", "f.yaml", via="range") != Setter("size", "Custom", "f.yaml")
    assert merge([]).record.origins == ()
