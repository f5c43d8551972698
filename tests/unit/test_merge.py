"""SPEC §5: how profiles and a size combine (later wins)."""

from __future__ import annotations

from profilespawner.merge import merge_settings
from profilespawner.model import PodSettings


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
