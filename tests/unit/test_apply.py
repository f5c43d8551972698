"""SPEC §6: how the merged profile lands on the pod -- the JSON pod and KubeSpawner's
own V1Pod alike, the latter kept as KubeSpawner built it; golden manifests of whole spawns."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pytest
from kubernetes_asyncio.client.models import (
    V1EnvFromSource,
    V1EnvVar,
    V1NodeSelectorTerm,
    V1ResourceRequirements,
    V1Toleration,
    V1Volume,
    V1VolumeMount,
)
from kubespawner import KubeSpawner
from ruamel.yaml import YAML

from profilespawner.apply import apply_resolution
from profilespawner.errors import MountConflictError, ProfileSpawnError, ResourceConflictError
from profilespawner.kubemodel import from_json, to_json
from profilespawner.model import PodSettings, Profile
from profilespawner.parse import parse_document
from profilespawner.resolve import Resolution, resolve
from profilespawner.tools.offline import offline_spawner

GOLDEN = Path(__file__).parent / "golden"
GOLDEN_CASES = sorted(p.name for p in GOLDEN.iterdir() if p.is_dir())
UPDATE = os.environ.get("PROFILESPAWNER_UPDATE_GOLDEN") == "1"


def dump(data: Any) -> str:
    out = io.StringIO()
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.dump(data, out)
    return out.getvalue()


def load(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text())


def expand(text: str) -> str:
    return text.replace("{username}", "alice")


def base_pod(**container: Any) -> dict[str, Any]:
    notebook = {
        "name": "notebook",
        "image": "img",
        "env": [
            {"name": "JUPYTERHUB_USER", "value": "alice"},
            {"name": "MEM_LIMIT", "value": "1073741824"},
            {"name": "CPU_LIMIT", "value": "1.0"},
            {"name": "S3", "value": "kubespawner"},
        ],
        "resources": {"limits": {"memory": 1073741824, "cpu": 1.0}},
        "volumeMounts": [{"name": "home", "mountPath": "/home/jovyan"}],
    }
    notebook.update(container)
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "jupyter-alice", "labels": {"component": "singleuser-server"}},
        "spec": {
            "containers": [{"name": "sidecar", "image": "side"}, notebook],
            "volumes": [{"name": "home", "persistentVolumeClaim": {"claimName": "claim-alice"}}],
        },
    }


def apply(pod: dict[str, Any], settings: PodSettings, **kwargs: Any) -> dict[str, Any]:
    return apply_resolution(pod, Resolution(settings=settings, **kwargs), expand=expand)


def notebook(pod: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in pod["spec"]["containers"] if c["name"] == "notebook")


def env_of(pod: dict[str, Any]) -> dict[str, Any]:
    return {v["name"]: v.get("value", v.get("valueFrom")) for v in notebook(pod)["env"]}


def test_env_replaces_by_name_in_place_and_appends_the_rest() -> None:
    pod = apply(
        base_pod(),
        PodSettings(
            env=(
                {"name": "NEW", "value": "{username}!"},
                {"name": "S3", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
            )
        ),
    )
    names = [v["name"] for v in notebook(pod)["env"]]
    assert names == ["JUPYTERHUB_USER", "MEM_LIMIT", "CPU_LIMIT", "S3", "NEW"]
    assert env_of(pod)["NEW"] == "alice!"
    assert env_of(pod)["S3"] == {"secretKeyRef": {"name": "s", "key": "k"}}


def test_only_the_notebook_container_changes_and_the_input_is_untouched() -> None:
    original = base_pod()
    pod = apply(original, PodSettings(env=({"name": "X", "value": "1"},)))
    assert pod["spec"]["containers"][0] == {"name": "sidecar", "image": "side"}
    assert original == base_pod()


def test_resources_replace_per_key_and_resource_env_follows() -> None:
    pod = apply(
        base_pod(),
        PodSettings(resources={"requests": {"memory": "512Mi", "cpu": "250m"}, "limits": {"memory": "2Gi"}}),
    )
    assert notebook(pod)["resources"] == {
        "limits": {"memory": "2Gi", "cpu": 1.0},
        "requests": {"memory": "512Mi", "cpu": "250m"},
    }
    env = env_of(pod)
    assert env["MEM_LIMIT"] == str(2 * 1024**3)
    assert env["MEM_GUARANTEE"] == str(512 * 1024**2)
    assert env["CPU_LIMIT"] == "1.0"
    assert env["CPU_GUARANTEE"] == "0.25"


def test_request_above_limit_after_merging_with_kubespawner_fails() -> None:
    with pytest.raises(ResourceConflictError, match="the request of 'memory' ends up above its limit"):
        apply(base_pod(), PodSettings(resources={"requests": {"memory": "2Gi"}}))


def test_gpu_sets_request_and_limit_and_gpu_zero_removes_kubespawners() -> None:
    pod = apply(base_pod(), PodSettings(gpu=2), gpu_tolerations=({"key": "gpu", "operator": "Exists"},))
    assert notebook(pod)["resources"]["limits"]["nvidia.com/gpu"] == "2"
    assert notebook(pod)["resources"]["requests"]["nvidia.com/gpu"] == "2"
    assert pod["spec"]["tolerations"] == [{"key": "gpu", "operator": "Exists"}]
    with_extra = base_pod(resources={"limits": {"nvidia.com/gpu": "1"}, "requests": {"nvidia.com/gpu": "1"}})
    pod = apply(with_extra, PodSettings(gpu=0))
    assert notebook(pod)["resources"] == {}
    assert "MEM_LIMIT" not in env_of(pod) and "CPU_LIMIT" not in env_of(pod)


def test_resource_env_removed_when_the_resource_ends_up_unset() -> None:
    pod = base_pod(resources={})
    assert "MEM_LIMIT" not in env_of(apply(pod, PodSettings(labels={"team": "x"})))


def test_tolerations_selector_labels_annotations_merge_into_the_pod() -> None:
    pod = base_pod()
    pod["spec"]["tolerations"] = [{"key": "a", "operator": "Exists"}]
    pod["spec"]["nodeSelector"] = {"pool": "users", "disk": "hdd"}
    pod = apply(
        pod,
        PodSettings(
            tolerations=({"key": "a", "operator": "Exists"}, {"key": "b", "operator": "Exists"}),
            node_selector={"disk": "ssd"},
            labels={"team": "x"},
            annotations={"note": "y"},
        ),
    )
    assert pod["spec"]["tolerations"] == [
        {"key": "a", "operator": "Exists"},
        {"key": "b", "operator": "Exists"},
    ]
    assert pod["spec"]["nodeSelector"] == {"pool": "users", "disk": "ssd"}
    assert pod["metadata"]["labels"] == {"component": "singleuser-server", "team": "x"}
    assert pod["metadata"]["annotations"] == {
        "note": "y",
        "profilespawner/profiles": "[]",
        "profilespawner/sources": "[]",
    }


def test_the_record_is_the_only_annotation_under_its_prefix() -> None:
    """KubeSpawner's extra_annotations may use the prefix (no profile may):
    they never pass for the record."""
    pod = base_pod()
    pod["metadata"]["annotations"] = {
        "note": "kubespawner",
        "profilespawner/size": "Huge",
        "profilespawner/profiles": '["forged"]',
    }
    pod = apply(pod, PodSettings(annotations={"team": "x"}))
    assert pod["metadata"]["annotations"] == {
        "note": "kubespawner",
        "team": "x",
        "profilespawner/profiles": "[]",
        "profilespawner/sources": "[]",
    }


def test_a_toleration_kubespawner_gives_already_is_not_added_again() -> None:
    """By meaning: KubeSpawner's own spelling of the toleration stays, the profile's is dropped."""
    pod = base_pod()
    pod["spec"]["tolerations"] = [{"key": "hub.jupyter.org/dedicated", "operator": "Equal", "value": "user"}]
    pod = apply(
        pod,
        PodSettings(tolerations=({"key": "hub.jupyter.org/dedicated", "value": "user"},)),
        gpu_tolerations=({"key": "hub.jupyter.org/dedicated", "value": "user", "effect": ""},),
    )
    assert pod["spec"]["tolerations"] == [
        {"key": "hub.jupyter.org/dedicated", "operator": "Equal", "value": "user"}
    ]


def test_required_node_affinity_is_anded_with_the_pods() -> None:
    pod = base_pod()
    ours = {"matchExpressions": [{"key": "gpu", "operator": "Exists"}]}
    pod["spec"]["affinity"] = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "pool", "operator": "In", "values": ["a"]}]},
                    {"matchExpressions": [{"key": "pool", "operator": "In", "values": ["b"]}]},
                ]
            }
        },
        "podAffinity": {"x": 1},
    }
    affinity = {
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [ours]},
        "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 5, "preference": ours}],
    }
    result = apply(pod, PodSettings(node_affinity=affinity))
    node_affinity = result["spec"]["affinity"]["nodeAffinity"]
    terms = node_affinity["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert terms == [
        {
            "matchExpressions": [
                {"key": "pool", "operator": "In", "values": ["a"]},
                {"key": "gpu", "operator": "Exists"},
            ]
        },
        {
            "matchExpressions": [
                {"key": "pool", "operator": "In", "values": ["b"]},
                {"key": "gpu", "operator": "Exists"},
            ]
        },
    ]
    assert node_affinity["preferredDuringSchedulingIgnoredDuringExecution"] == [
        {"weight": 5, "preference": ours}
    ]
    assert result["spec"]["affinity"]["podAffinity"] == {"x": 1}


@pytest.mark.parametrize("form", ["json", "model"])
def test_anding_several_terms_with_several_is_idempotent(form: str) -> None:
    def term(*keys: str) -> dict[str, Any]:
        return {"matchExpressions": [{"key": k, "operator": "Exists"} for k in keys]}

    pod = base_pod()
    pod["spec"]["affinity"] = {
        "nodeAffinity": {_REQUIRED: {"nodeSelectorTerms": [term("a"), term("b"), term("a", "b", "c")]}}
    }
    settings = PodSettings(node_affinity={_REQUIRED: {"nodeSelectorTerms": [term("c"), term("d")]}})
    once = apply(pod if form == "json" else from_json(pod, "V1Pod"), settings)
    # (a or b or abc) and (c or d): abc+c and abc+d are implied by a+c and a+d, dropped
    assert to_json(once)["spec"]["affinity"]["nodeAffinity"][_REQUIRED]["nodeSelectorTerms"] == [
        term("a", "c"),
        term("a", "d"),
        term("b", "c"),
        term("b", "d"),
    ]
    # applied again, ac+d is implied by ac: the same terms
    assert to_json(apply(once, settings)) == to_json(once)


_REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"


def test_volumes_append_with_mounts_and_replace_kubespawners_of_the_same_name() -> None:
    pod = apply(
        base_pod(),
        PodSettings(
            volumes=(
                {
                    "name": "data",
                    "persistentVolumeClaim": {"claimName": "d-{username}"},
                    "mountPath": "/data",
                    "readOnly": True,
                    "subPath": "x",
                },
                {"name": "home", "emptyDir": {}, "mountPath": "/home/jovyan/scratch"},
            )
        ),
    )
    assert pod["spec"]["volumes"] == [
        {"name": "data", "persistentVolumeClaim": {"claimName": "d-alice"}},
        {"name": "home", "emptyDir": {}},
    ]
    assert notebook(pod)["volumeMounts"] == [
        {"name": "data", "mountPath": "/data", "readOnly": True, "subPath": "x"},
        {"name": "home", "mountPath": "/home/jovyan/scratch"},
    ]


def test_env_from_is_appended_without_duplicates() -> None:
    pod = base_pod(envFrom=[{"secretRef": {"name": "a"}}])
    pod = apply(pod, PodSettings(env_from=({"secretRef": {"name": "a"}}, {"configMapRef": {"name": "b"}})))
    assert notebook(pod)["envFrom"] == [{"secretRef": {"name": "a"}}, {"configMapRef": {"name": "b"}}]


def test_a_pod_without_a_notebook_container_is_an_error() -> None:
    pod = base_pod()
    pod["spec"]["containers"] = pod["spec"]["containers"][:1]
    with pytest.raises(ProfileSpawnError, match="no container named 'notebook'"):
        apply(pod, PodSettings(labels={"team": "x"}))


EVERYTHING = PodSettings(
    env=({"name": "S3", "value": "x"}, {"name": "N", "value": "{username}"}),
    env_from=({"secretRef": {"name": "a"}},),
    resources={"requests": {"cpu": "100m"}, "limits": {"memory": "2Gi"}},
    gpu=1,
    tolerations=({"key": "t", "operator": "Exists"},),
    node_affinity={
        "requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [{"key": "k", "operator": "Exists"}]}]
        }
    },
    node_selector={"a": "b"},
    volumes=(
        {"name": "v", "emptyDir": {}, "mountPath": "/v"},
        {"name": "home", "emptyDir": {}, "mountPath": "/h"},
    ),
    labels={"l": "v"},
    annotations={"a": "v"},
)


def test_applying_twice_is_the_same_as_once() -> None:
    once = apply(base_pod(), EVERYTHING, gpu_tolerations=({"key": "g", "operator": "Exists"},))
    twice = apply(once, EVERYTHING, gpu_tolerations=({"key": "g", "operator": "Exists"},))
    assert twice == once


# -- on KubeSpawner's own V1Pod: the same rules, the pod kept as built -------------

GPU_TOLERATION = ({"key": "g", "operator": "Exists"},)

#: KubeSpawner settings that leave plain dicts (and a key no client knows) inside its models.
KUBESPAWNER = {
    "cpu_limit": 2.0,
    "mem_limit": "2G",
    "environment": {"S3": "kubespawner", "TOKEN": {"valueFrom": {"secretKeyRef": {"name": "t", "key": "k"}}}},
    "volumes": [{"name": "scratch", "emptyDir": {"medium": "Memory"}}],
    "volume_mounts": [{"name": "scratch", "mountPath": "/scratch"}],
    "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "user", "effect": "NoSchedule"}],
    "node_selector": {"pool": "users"},
    "node_affinity_required": [{"matchExpressions": [{"key": "pool", "operator": "In", "values": ["a"]}]}],
    "node_affinity_preferred": [
        {"weight": 1, "preference": {"matchExpressions": [{"key": "zone", "operator": "Exists"}]}}
    ],
    "pod_affinity_required": [{"labelSelector": {"matchLabels": {"a": "b"}}, "topologyKey": "zone"}],
    "extra_pod_config": {"dnsConfig": {"options": [{"name": "ndots", "value": "2"}], "keyNoClientKnows": 1}},
    "extra_containers": [{"name": "sidecar", "image": "side"}],
}


async def kubespawner_pod(make_spawner: Any, **config: Any) -> Any:
    spawner = make_spawner([], spawner_class=KubeSpawner, **{**KUBESPAWNER, **config})
    return await spawner.get_pod_manifest()


def apply_on(pod: Any, settings: PodSettings = EVERYTHING) -> Any:
    return apply_resolution(pod, Resolution(settings=settings, gpu_tolerations=GPU_TOLERATION), expand=expand)


@pytest.mark.parametrize("form", ["model", "json"])
async def test_a_resolution_that_sets_nothing_changes_only_the_annotations(
    form: str, make_spawner: Any
) -> None:
    """SPEC §8 wants the record on every pod, even one no profile changes:
    ``metadata.annotations`` is new, every other object is the very one
    KubeSpawner built."""
    pod = await kubespawner_pod(make_spawner)
    if form == "json":
        pod = to_json(pod)
    before = to_json(pod)
    profile = Profile(name="empty", source="s", index=0)
    resolution = Resolution(settings=PodSettings(), profiles=(profile,))
    result = apply_resolution(pod, resolution, expand=expand)

    assert to_json(pod) == before
    after = to_json(result)
    assert after["metadata"].pop("annotations") == {
        **before["metadata"].pop("annotations"),
        "profilespawner/profiles": '["empty"]',
        "profilespawner/sources": "[]",
    }
    assert after == before
    get = (lambda obj, key: obj[key]) if form == "json" else getattr
    assert get(result, "spec") is get(pod, "spec")
    meta, old_meta = get(result, "metadata"), get(pod, "metadata")
    assert get(meta, "labels") is get(old_meta, "labels")
    # applying again gives back the very pod: the record is there already
    assert apply_resolution(result, resolution, expand=expand) is result


@pytest.mark.parametrize(
    "settings",
    [
        EVERYTHING,
        PodSettings(env=({"name": "S3", "value": "{username}"},)),
        PodSettings(gpu=0, tolerations=({"key": "dedicated", "operator": "Exists"},)),
        PodSettings(
            node_affinity={
                "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 2, "preference": {}}]
            }
        ),
        PodSettings(labels={"team": "x"}),
    ],
    ids=["everything", "env", "gpu-0-and-toleration", "preferred-affinity", "labels"],
)
async def test_one_set_of_rules_the_model_and_its_json_give_the_same_pod(
    settings: PodSettings, make_spawner: Any
) -> None:
    pod = await kubespawner_pod(make_spawner)
    assert to_json(apply_on(pod, settings)) == apply_on(to_json(pod), settings)


async def test_the_pod_passed_in_is_left_as_it_is_and_what_no_profile_sets_is_shared(
    make_spawner: Any,
) -> None:
    pod = await kubespawner_pod(make_spawner)
    before = to_json(pod)
    result = apply_on(pod)
    assert to_json(pod) == before
    notebook, sidecar = pod.spec.containers
    result_notebook, result_sidecar = result.spec.containers
    assert result is not pod and result_notebook is not notebook
    # the very objects KubeSpawner built, with their types
    assert result_sidecar is sidecar
    assert result.spec.volumes[0] is pod.spec.volumes[0]  # a V1Volume holding a dict
    assert result.spec.affinity.pod_affinity is pod.spec.affinity.pod_affinity
    assert result.spec.dns_config is pod.spec.dns_config  # extra_pod_config's dict
    assert result.spec.tolerations[0] is pod.spec.tolerations[0]
    assert result.spec.security_context is pod.spec.security_context
    assert result.metadata.name == pod.metadata.name and result.metadata.labels is not pod.metadata.labels
    assert result_notebook.ports is notebook.ports
    assert result_notebook.volume_mounts[0] is notebook.volume_mounts[0]
    kept = {var.name: var for var in result_notebook.env}
    assert all(kept[var.name] is var for var in notebook.env if var.name.startswith("JUPYTERHUB_"))
    assert kept["TOKEN"] is next(var for var in notebook.env if var.name == "TOKEN")
    assert result.spec.dns_config == {"options": [{"name": "ndots", "value": "2"}], "keyNoClientKnows": 1}


async def test_what_a_profile_adds_looks_like_what_kubespawner_builds(make_spawner: Any) -> None:
    result = apply_on(await kubespawner_pod(make_spawner))
    notebook = result.spec.containers[0]
    env = {var.name: var for var in notebook.env}
    assert {type(var) for var in notebook.env} == {V1EnvVar}
    assert env["N"].value == "alice" and env["S3"].value == "x"
    assert {type(v) for v in result.spec.volumes} == {V1Volume}
    assert result.spec.volumes[-1].empty_dir == {}  # inside the model, JSON: as KubeSpawner's volumes
    assert {type(m) for m in notebook.volume_mounts} == {V1VolumeMount}
    assert {type(t) for t in result.spec.tolerations} == {V1Toleration}
    assert [type(e) for e in notebook.env_from] == [V1EnvFromSource]
    assert notebook.env_from[0].secret_ref == {"name": "a"}
    assert type(notebook.resources) is V1ResourceRequirements
    required = result.spec.affinity.node_affinity.required_during_scheduling_ignored_during_execution
    (term,) = required.node_selector_terms
    assert type(term) is V1NodeSelectorTerm
    assert term.match_expressions == [
        {"key": "pool", "operator": "In", "values": ["a"]},
        {"key": "k", "operator": "Exists"},
    ]
    preferred = result.spec.affinity.node_affinity.preferred_during_scheduling_ignored_during_execution
    assert preferred[0].preference == {"matchExpressions": [{"key": "zone", "operator": "Exists"}]}


async def test_added_items_are_dicts_where_kubespawner_holds_dicts(make_spawner: Any) -> None:
    pod = await kubespawner_pod(
        make_spawner,
        extra_pod_config={"tolerations": [{"key": "from-extra-pod-config", "operator": "Exists"}]},
        extra_container_config={"envFrom": [{"configMapRef": {"name": "special-config"}}]},
    )
    result = apply_on(pod)
    assert result.spec.tolerations == [
        {"key": "from-extra-pod-config", "operator": "Exists"},
        {"key": "t", "operator": "Exists"},
        {"key": "g", "operator": "Exists"},
    ]
    assert result.spec.containers[0].env_from == [
        {"configMapRef": {"name": "special-config"}},
        {"secretRef": {"name": "a"}},
    ]


async def test_applying_twice_on_the_model_is_the_same_as_once(make_spawner: Any) -> None:
    once = apply_on(await kubespawner_pod(make_spawner))
    assert to_json(apply_on(once)) == to_json(once)


async def test_kubespawners_node_selector_is_never_changed_in_place(make_spawner: Any) -> None:
    spawner = make_spawner([], spawner_class=KubeSpawner, node_selector={"pool": "users"})
    pod = await spawner.get_pod_manifest()
    assert pod.spec.node_selector is spawner.node_selector  # KubeSpawner hands out its own dict
    result = apply_on(pod, PodSettings(node_selector={"disk": "ssd"}))
    assert result.spec.node_selector == {"pool": "users", "disk": "ssd"}
    assert spawner.node_selector == {"pool": "users"}


@pytest.mark.parametrize("form", ["model", "json"])
async def test_a_volume_source_this_client_does_not_know_reaches_the_pod_whole(
    form: str, make_spawner: Any
) -> None:
    # ``image`` is newer than the oldest kubernetes_asyncio we support (tox -e min);
    # the other source no client knows. A model would drop them, and the API
    # server would make each an emptyDir.
    pod = await kubespawner_pod(make_spawner)
    volumes = (
        {"name": "tools", "image": {"reference": "quay.io/tools:1"}, "mountPath": "/tools"},
        {"name": "future", "sourceNoClientKnows": {"x": 1}, "mountPath": "/future"},
    )
    result = apply_on(pod if form == "model" else to_json(pod), PodSettings(volumes=volumes))
    assert to_json(result)["spec"]["volumes"][-2:] == [
        {"name": "tools", "image": {"reference": "quay.io/tools:1"}},
        {"name": "future", "sourceNoClientKnows": {"x": 1}},
    ]


# -- golden manifests: a real KubeSpawner pod, whole spawns ----------------------


def without_versions(pod: dict[str, Any]) -> dict[str, Any]:
    """The pod without the annotations that change with each JupyterHub/KubeSpawner release."""
    annotations = pod["metadata"].get("annotations", {})
    for key in ("hub.jupyter.org/jupyterhub-version", "hub.jupyter.org/kubespawner-version"):
        annotations.pop(key, None)
    return pod


def as_installed_hub_builds_it(golden: dict[str, Any], spawner: Any) -> dict[str, Any]:
    """The golden pod less the ``JUPYTERHUB_*`` variables the installed JupyterHub
    does not set: JupyterHub adds some in new releases (4.1:
    ``JUPYTERHUB_PUBLIC_URL``, ...), the golden files hold the current release's,
    and ``tox -e min`` runs the oldest JupyterHub setup.cfg allows. Profiles may
    not set such names, so this drops nothing a profile put there; with the
    current JupyterHub it drops nothing at all."""
    hub_env = set(KubeSpawner.get_env(spawner))
    for container in golden["spec"]["containers"]:
        container["env"] = [
            var
            for var in container.get("env", [])
            if not var["name"].startswith("JUPYTERHUB_") or var["name"] in hub_env
        ]
    return golden


@pytest.mark.parametrize("case", GOLDEN_CASES)
async def test_golden_pod(case: str, make_spawner: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = GOLDEN / case
    spec = load(folder / "case.yaml")
    # A relative path, so that the pod's record of its sources is the same in every checkout.
    monkeypatch.chdir(folder)
    spawner = make_spawner(
        ["profiles.yaml"],
        user=spec["user"],
        groups=spec["groups"],
        image=spec["image"],
        user_options=spec["user_options"],
        **spec["kubespawner"],
    )
    await spawner.load_user_options()
    pod = without_versions(to_json(await spawner.get_pod_manifest()))
    expected_path = folder / "pod.yaml"
    if UPDATE or not expected_path.exists():
        expected_path.write_text(
            f"# generated by tests/unit/test_apply.py from {case}/profiles.yaml and case.yaml\n" + dump(pod)
        )
        if not UPDATE:
            pytest.fail(f"wrote the missing golden file {expected_path}; check it and commit it")
    assert pod == as_installed_hub_builds_it(load(expected_path), spawner)


def test_a_profile_volume_at_the_path_of_one_of_kubespawners_is_refused() -> None:
    profile_set = parse_document(
        "profiles: [{name: team, volumes: [{name: data, emptyDir: {}, mountPath: /home/jovyan}]}]",
        source="doc",
    ).profile_set
    resolution = resolve(profile_set, user="alice", groups=[], image="img")
    with pytest.raises(MountConflictError) as info:
        apply_resolution(base_pod(), resolution, expand=expand)
    assert str(info.value) == (
        "volumes: volume 'data' (profile 'team') is mounted at the path of KubeSpawner's volume 'home', "
        "which Kubernetes refuses; give it another mountPath"
    )
    # replacing KubeSpawner's volume by its name is no conflict: the profile's mount replaces its mount
    replaced = apply(
        base_pod(), PodSettings(volumes=({"name": "home", "emptyDir": {}, "mountPath": "/home/jovyan"},))
    )
    assert notebook(replaced)["volumeMounts"] == [{"name": "home", "mountPath": "/home/jovyan"}]


@pytest.mark.parametrize("user", ["ann", "x" * 60, "ann-", "nul\0name"])
async def test_the_texts_of_a_resolution_expand_as_kubespawner_expands_each(user: str) -> None:
    # expanded in one call of KubeSpawner's expansion (apply.py), with its
    # trailing '-' rule per text: "pre-{servername}" is "pre" for the default server
    texts = [
        "{servername}-",
        "pre-{servername}",
        "{username}",
        "{{literal}}-{user_server}",
        "claim-{username}",
    ]
    settings = PodSettings(
        env=tuple({"name": f"V{i}", "value": text} for i, text in enumerate(texts)),
        volumes=(
            {"name": "home", "mountPath": "/h", "persistentVolumeClaim": {"claimName": "c-{servername}"}},
        ),
    )
    spawner = offline_spawner(KubeSpawner, user=user)
    pod = apply_resolution(
        {"spec": {"containers": [{"name": "notebook"}]}},
        Resolution(settings=settings),
        expand=spawner._expand_user_properties,
    )
    container = pod["spec"]["containers"][0]
    assert [var["value"] for var in container["env"]] == [spawner._expand_user_properties(t) for t in texts]
    claim = pod["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"]
    assert claim == spawner._expand_user_properties("c-{servername}")
