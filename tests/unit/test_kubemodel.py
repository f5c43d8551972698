"""Between the client's models and JSON: shapes checked against the same tables,
and a value that does not fit passed on as it is (the API server judges it)."""

from __future__ import annotations

from typing import Any

import pytest

from profilespawner.kubemodel import from_json, shape_problems, to_json, volume_source_type


def test_a_pod_survives_the_round_trip() -> None:
    pod = {
        "metadata": {"name": "p", "labels": {"a": "b"}},
        "spec": {
            "containers": [{"name": "notebook", "env": [{"name": "A", "value": "1"}]}],
            "volumes": [{"name": "v", "csi": {"driver": "d", "volumeAttributes": {"k": "v"}}}],
        },
    }
    assert to_json(from_json(pod, "V1Pod")) == pod


@pytest.mark.parametrize(
    "source",
    [
        {"csi": {"driver": "d", "volumeAttributes": [1]}},  # a dict expected
        {"projected": {"sources": [1, 2]}},  # models expected
        {"ephemeral": {"volumeClaimTemplate": 5}},
        {"downwardAPI": {"items": {"path": "p"}}},  # a list expected
    ],
)
def test_a_value_of_another_shape_is_passed_on_not_a_crash(source: dict[str, Any]) -> None:
    volume = {"name": "v", **source}
    built = from_json({"spec": {"containers": [], "volumes": [volume]}}, "V1Pod")
    assert to_json(built)["spec"]["volumes"] == [volume]


def test_shapes_are_checked_against_the_model() -> None:
    assert volume_source_type("csi") == "V1CSIVolumeSource"
    assert volume_source_type("no-such-source") is None
    source = {"driver": 1.5, "readOnly": "yes", "volumeAttributes": {"a": ["x"]}, "newField": [1]}
    assert shape_problems(source, "V1CSIVolumeSource") == [
        (["readOnly"], "must be true or false"),
        (["volumeAttributes", "a"], "must be a string"),
    ]
    assert shape_problems({"sources": [{"secret": {"items": {}}}]}, "V1ProjectedVolumeSource") == [
        (["sources", 0, "secret", "items"], "must be a list")
    ]
    assert shape_problems(True, "V1CSIVolumeSource") == [([], "must be a mapping")]
