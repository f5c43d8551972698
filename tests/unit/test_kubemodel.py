"""Between the client's models and JSON: shapes checked against the same tables,
a value that does not fit passed on as it is (the API server judges it), and
fields read, written and built alike on a model and on its JSON."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes_asyncio.client.models import (
    V1Container,
    V1EnvVar,
    V1NodeSelectorTerm,
    V1ObjectMeta,
    V1Pod,
    V1PodSpec,
    V1Volume,
    V1VolumeMount,
)

from profilespawner.kubemodel import (
    build,
    copy_tree,
    field,
    from_json,
    shape_problems,
    to_json,
    volume_source_type,
    with_fields,
)


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


# -- one pod, two forms: fields read and written by their JSON names ------------------


def test_a_field_reads_the_same_from_a_model_and_from_its_json() -> None:
    container = V1Container(name="notebook", volume_mounts=[V1VolumeMount(name="v", mount_path="/v")])
    assert field(container, "volumeMounts") is container.volume_mounts
    assert field(to_json(container), "volumeMounts") == [{"name": "v", "mountPath": "/v"}]
    assert field(container, "envFrom") is None and field({}, "envFrom") is None
    assert field(container, "noSuchField") is None


@pytest.mark.parametrize("form", ["model", "json"])
def test_with_fields_copies_on_write(form: str) -> None:
    model = V1Container(name="notebook", image="img", env=[V1EnvVar(name="A", value="1")])
    container = model if form == "model" else to_json(model)
    before = to_json(container)
    env = [*field(container, "env"), V1EnvVar(name="B", value="2")]
    changed = with_fields(container, {"env": env, "image": None})
    assert to_json(container) == before  # the original is left as it is
    assert changed is not container and field(changed, "env") is env
    assert field(changed, "image") is None and field(changed, "name") == "notebook"
    assert with_fields(container, {"env": field(container, "env"), "workingDir": None}) is container


def test_with_fields_refuses_a_field_the_model_lacks() -> None:
    with pytest.raises(KeyError, match="V1Container has no field 'noSuchField'"):
        with_fields(V1Container(name="n"), {"noSuchField": 1})


def test_what_is_built_takes_the_form_of_its_neighbours() -> None:
    secret_env = {"name": "A", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}
    # among models (or in an empty list of a model): the model, JSON inside, as get_k8s_model builds it
    built = build(V1Container(name="n", env=[]), "env", secret_env)
    assert type(built) is V1EnvVar and built.value_from == {"secretKeyRef": {"name": "s", "key": "k"}}
    volume = build(V1PodSpec(containers=[]), "volumes", {"name": "v", "emptyDir": {"sizeLimit": "1Gi"}})
    assert type(volume) is V1Volume and volume.empty_dir == {"sizeLimit": "1Gi"}
    assert type(build(V1Pod(), "metadata", {})) is V1ObjectMeta
    # among dicts, or under a dict, or where asked: a dict
    assert build(V1Container(name="n"), "env", secret_env, [{"name": "B", "value": "1"}]) == secret_env
    assert build({"name": "n"}, "env", secret_env) == secret_env
    requirement = {"key": "k", "operator": "Exists"}
    assert build(V1NodeSelectorTerm(), "matchExpressions", requirement, model=False) == requirement


def test_a_key_the_model_lacks_keeps_the_whole_value_json() -> None:
    # as with a volume source newer than the installed kubernetes_asyncio: a
    # model would drop the key, and the API server would default the volume
    data = {"name": "v", "sourceNewerThanThisClient": {"reference": "r"}}
    built = build(V1PodSpec(containers=[]), "volumes", data)
    assert built == data and type(built) is dict


def test_what_is_built_shares_nothing_with_its_data() -> None:
    data = {"name": "v", "persistentVolumeClaim": {"claimName": "c"}}
    for built in (build(V1PodSpec(containers=[]), "volumes", data), build({}, "volumes", data)):
        claim = field(built, "persistentVolumeClaim")
        claim["claimName"] = "changed"
    assert data == {"name": "v", "persistentVolumeClaim": {"claimName": "c"}}


def test_copy_tree_copies_models_and_json_down_to_the_leaves() -> None:
    term = V1NodeSelectorTerm(match_expressions=[{"key": "k", "operator": "In", "values": ["a"]}])
    copied = copy_tree(term)
    copied.match_expressions[0]["values"].append("b")
    assert type(copied) is V1NodeSelectorTerm and term.match_expressions[0]["values"] == ["a"]
