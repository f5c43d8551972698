"""KubeSpawner 7.1's own pod tests, run through profilespawner.

Modelled on jupyterhub/kubespawner's tests/test_spawner.py and
tests/test_objects.py: the same settings and the same assertions, on four ways
to build the pod that ``KubeSpawner.start`` sends -- plain KubeSpawner (the
reference), ``ProfileKubeSpawner`` with no profile that applies, with
profiles, and plain KubeSpawner with ``apply_pod_profile`` as its
``modify_pod_hook``. What no profile sets keeps its object, its Python type
(KubeSpawner leaves plain dicts inside its models) and its value, keys the
client does not know included; what a profile adds looks like its neighbours.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from jupyterhub.utils import maybe_future
from kubernetes_asyncio.client.models import (
    V1Capabilities,
    V1Container,
    V1EnvFromSource,
    V1EnvVar,
    V1NodeSelectorTerm,
    V1Pod,
    V1PreferredSchedulingTerm,
    V1SecurityContext,
    V1Toleration,
    V1Volume,
    V1VolumeMount,
)
from kubespawner import KubeSpawner
from kubespawner.clients import shared_client

from profilespawner import ProfileKubeSpawner, apply_pod_profile
from profilespawner.kubemodel import to_json
from tests.support import content_version

PROFILES = """\
profiles:
- name: everyone
  env:
  - {name: TEAM, value: "{username}-team"}
  - name: TEAM_TOKEN
    valueFrom: {secretKeyRef: {name: team-token, key: token}}
  envFrom: [{secretRef: {name: team-env}}]
  resources: {requests: {cpu: 250m}, limits: {cpu: "1"}}
  node_tolerations: [{key: profile, operator: Exists, effect: NoSchedule}]
  node_selector: {disktype: ssd}
  node_affinity:
    requiredDuringSchedulingIgnoredDuringExecution:
      nodeSelectorTerms:
      - matchExpressions: [{key: profile-pool, operator: In, values: [p]}]
    preferredDuringSchedulingIgnoredDuringExecution:
    - weight: 5
      preference: {matchExpressions: [{key: profile-zone, operator: In, values: [z]}]}
  volumes:
  - name: team-data
    persistentVolumeClaim: {claimName: "team-{username}"}
    mountPath: /data
  labels: {team: everyone}
  annotations: {note: profile}
"""

#: A profile set whose only profile is for someone else.
NOBODY = """\
profiles:
- name: elsewhere
  users: [someone-else]
  env: [{name: NEVER, value: x}]
"""

WAYS = ("kubespawner", "no-profile", "profiles", "hook")
#: What the API server is told: neither ours nor KubeSpawner's models know it.
FUTURE = "fieldNewerThanThisClient"


@pytest.fixture(params=WAYS)
def way(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def applied(way: str) -> bool:
    """Whether the profiles apply to the pod of ``way``."""
    return way in ("profiles", "hook")


Spawn = Callable[..., Awaitable[Any]]


@pytest.fixture
def spawner_for(way: str, make_spawner: Any, write_yaml: Any) -> Callable[..., Any]:
    """``spawner_for(**KubeSpawner settings)``: a spawner that builds its pods ``way``."""
    files = {
        "kubespawner": [],
        "no-profile": [write_yaml(NOBODY, "nobody.yaml")],
        "profiles": [write_yaml(PROFILES)],
        "hook": [write_yaml(PROFILES)],
    }[way]

    def make(**config: Any) -> Any:
        if way == "hook":
            config.setdefault("modify_pod_hook", apply_pod_profile)
        spawner_class = ProfileKubeSpawner if way in ("no-profile", "profiles") else KubeSpawner
        return make_spawner(files, spawner_class=spawner_class, **config)

    return make


async def pod_of(spawner: Any) -> Any:
    """The pod ``KubeSpawner.start`` would send for ``spawner``."""
    await spawner.load_user_options()
    pod = await spawner.get_pod_manifest()
    if spawner.modify_pod_hook:  # as KubeSpawner.start does
        pod = await maybe_future(spawner.modify_pod_hook(spawner, pod))
    return pod


@pytest.fixture
def spawn(spawner_for: Callable[..., Any]) -> Spawn:
    """``await spawn(**KubeSpawner settings)``: the pod of a new spawner."""

    async def build(**config: Any) -> Any:
        return await pod_of(spawner_for(**config))

    return build


def sent(pod: Any) -> Any:
    """What KubeSpawner's API client sends for ``pod``."""
    return shared_client("CoreV1Api").api_client.sanitize_for_serialization(pod)


# -- tests/test_spawner.py ----------------------------------------------------------

VOLUMES = {
    "02-group-beta": {"name": "volumes-beta", "persistentVolumeClaim": {"claimName": "beta-claim"}},
    "01-group-alpha": {"name": "volumes-alpha", "persistentVolumeClaim": {"claimName": "alpha-claim"}},
}
VOLUME_MOUNTS = {
    "02-group-beta": {"name": "volume-mounts-beta", "mountPath": "/beta/"},
    "01-group-alpha": {"name": "volume-mounts-alpha", "mountPath": "/alpha/"},
}


@pytest.mark.parametrize("given_as", ["dict", "list"])
async def test_volumes(spawn: Spawn, applied: bool, given_as: str) -> None:
    volumes = VOLUMES if given_as == "dict" else [VOLUMES["01-group-alpha"], VOLUMES["02-group-beta"]]
    manifest = await spawn(volumes=volumes)

    assert isinstance(manifest.spec.volumes, list)
    assert manifest.spec.volumes[0].name == "volumes-alpha"
    assert manifest.spec.volumes[0].persistent_volume_claim["claimName"] == "alpha-claim"
    assert manifest.spec.volumes[1].name == "volumes-beta"
    assert manifest.spec.volumes[1].persistent_volume_claim["claimName"] == "beta-claim"
    if applied:
        (added,) = manifest.spec.volumes[2:]
        assert type(added) is V1Volume and added.persistent_volume_claim == {"claimName": "team-alice"}
    else:
        assert len(manifest.spec.volumes) == 2


@pytest.mark.parametrize("given_as", ["dict", "list"])
async def test_volume_mounts(spawn: Spawn, applied: bool, given_as: str) -> None:
    mounts = (
        VOLUME_MOUNTS
        if given_as == "dict"
        else [VOLUME_MOUNTS["01-group-alpha"], VOLUME_MOUNTS["02-group-beta"]]
    )
    manifest = await spawn(volume_mounts=mounts)

    notebook = manifest.spec.containers[0]
    assert isinstance(notebook.volume_mounts, list)
    assert notebook.volume_mounts[0].name == "volume-mounts-alpha"
    assert notebook.volume_mounts[0].mount_path == "/alpha/"
    assert notebook.volume_mounts[1].name == "volume-mounts-beta"
    assert notebook.volume_mounts[1].mount_path == "/beta/"
    added = notebook.volume_mounts[2:]
    assert [(type(m), m.name, m.mount_path) for m in added] == (
        [(V1VolumeMount, "team-data", "/data")] if applied else []
    )


@pytest.mark.parametrize("given_as", ["dict", "list"])
async def test_extra_containers(spawn: Spawn, given_as: str) -> None:
    containers = {
        "02-group-beta": {"name": "extra-containers-beta", "image": "busybox"},
        "01-group-alpha": {"name": "extra-containers-alpha", "image": "busybox"},
    }
    manifest = await spawn(
        extra_containers=containers if given_as == "dict" else sorted(containers.values(), key=str)
    )

    assert isinstance(manifest.spec.containers, list)
    assert len(manifest.spec.containers) == 3  # 1 for the notebook container, 2 for extra_containers
    assert manifest.spec.containers[1].name == "extra-containers-alpha"
    assert manifest.spec.containers[2].name == "extra-containers-beta"


TOLERATIONS = {
    "01-group-alpha": {"key": "key1", "operator": "Equal", "value": "value1", "effect": "NoSchedule"},
    "02-group-beta": {"key": "key2", "operator": "Exists", "effect": "NoExecute"},
}


@pytest.mark.parametrize("given_as", ["dict", "list"])
async def test_tolerations(spawn: Spawn, applied: bool, given_as: str) -> None:
    manifest = await spawn(tolerations=TOLERATIONS if given_as == "dict" else list(TOLERATIONS.values()))

    assert isinstance(manifest.spec.tolerations, list)
    assert len(manifest.spec.tolerations) == (3 if applied else 2)
    assert manifest.spec.tolerations[0].key == "key1"
    assert manifest.spec.tolerations[0].operator == "Equal"
    assert manifest.spec.tolerations[0].value == "value1"
    assert manifest.spec.tolerations[0].effect == "NoSchedule"
    assert manifest.spec.tolerations[1].key == "key2"
    assert manifest.spec.tolerations[1].operator == "Exists"
    assert manifest.spec.tolerations[1].effect == "NoExecute"
    if applied:
        assert manifest.spec.tolerations[2] == V1Toleration(
            key="profile", operator="Exists", effect="NoSchedule"
        )


NODE_AFFINITY_PREFERRED = [
    {
        "weight": 1,
        "preference": {
            "matchExpressions": [{"key": "key1", "operator": "In", "values": ["value1", "value2"]}]
        },
    },
    {"weight": 2, "preference": {"matchExpressions": [{"key": "key2", "operator": "Exists"}]}},
]
PROFILE_PREFERENCE = {"matchExpressions": [{"key": "profile-zone", "operator": "In", "values": ["z"]}]}


async def test_node_affinity_preferred(spawn: Spawn, applied: bool) -> None:
    manifest = await spawn(node_affinity_preferred=NODE_AFFINITY_PREFERRED)
    spec = manifest.spec.affinity.node_affinity.preferred_during_scheduling_ignored_during_execution

    assert isinstance(spec, list)
    assert len(spec) == (3 if applied else 2)
    assert spec[0].weight == 1
    assert spec[0].preference == NODE_AFFINITY_PREFERRED[0]["preference"]
    assert spec[1].weight == 2
    assert spec[1].preference == NODE_AFFINITY_PREFERRED[1]["preference"]
    if applied:
        assert type(spec[2]) is V1PreferredSchedulingTerm
        assert (spec[2].weight, spec[2].preference) == (5, PROFILE_PREFERENCE)


NODE_AFFINITY_REQUIRED = {
    "02-group-beta": {"matchExpressions": [{"key": "security", "operator": "In", "values": ["S2"]}]},
    "01-group-alpha": {"matchExpressions": [{"key": "security", "operator": "In", "values": ["S1"]}]},
}
PROFILE_REQUIREMENT = {"key": "profile-pool", "operator": "In", "values": ["p"]}


async def test_node_affinity_required(spawn: Spawn, applied: bool) -> None:
    manifest = await spawn(node_affinity_required=NODE_AFFINITY_REQUIRED)
    spec = manifest.spec.affinity.node_affinity.required_during_scheduling_ignored_during_execution
    terms = spec.node_selector_terms

    assert len(terms) == 2
    # both must hold: the profile's requirement joins each of KubeSpawner's terms, as a dict
    ours = [PROFILE_REQUIREMENT] if applied else []
    assert terms[0].match_expressions == [
        *NODE_AFFINITY_REQUIRED["01-group-alpha"]["matchExpressions"],
        *ours,
    ]
    assert terms[1].match_expressions == [*NODE_AFFINITY_REQUIRED["02-group-beta"]["matchExpressions"], *ours]
    assert {type(term) for term in terms} == {V1NodeSelectorTerm}


POD_AFFINITY_TERM = {
    "labelSelector": {"matchExpressions": [{"key": "security", "operator": "In", "values": ["S1"]}]},
    "topologyKey": "topology.kubernetes.io/zone",
}


@pytest.mark.parametrize("kind", ["pod_affinity", "pod_anti_affinity"])
async def test_pod_affinity_and_anti_affinity(spawn: Spawn, kind: str) -> None:
    manifest = await spawn(
        **{f"{kind}_preferred": [{"weight": 1, "podAffinityTerm": POD_AFFINITY_TERM}]},
        **{f"{kind}_required": [POD_AFFINITY_TERM]},
    )
    affinity = getattr(manifest.spec.affinity, kind)
    preferred = affinity.preferred_during_scheduling_ignored_during_execution
    required = affinity.required_during_scheduling_ignored_during_execution

    assert isinstance(preferred, list)
    assert len(preferred) == 1
    assert preferred[0].weight == 1
    assert preferred[0].pod_affinity_term == POD_AFFINITY_TERM
    assert required[0].label_selector == POD_AFFINITY_TERM["labelSelector"]
    assert required[0].topology_key == POD_AFFINITY_TERM["topologyKey"]


async def test_get_pod_manifest_tolerates_mixed_input(spawn: Spawn) -> None:
    dict_model = {"name": "mock_name_1", "image": "mock_image_1", "command": ["mock_command_1"]}
    object_model = V1Container(
        name="mock_name_2",
        image="mock_image_2",
        command=["mock_command_2"],
        security_context=V1SecurityContext(
            privileged=True, run_as_user=0, capabilities=V1Capabilities(add=["NET_ADMIN"])
        ),
    )
    manifest = await spawn(init_containers=[dict_model, object_model])

    assert isinstance(manifest, V1Pod)
    assert isinstance(manifest.spec.init_containers[0], V1Container)
    assert isinstance(manifest.spec.init_containers[1], V1Container)
    assert manifest.spec.init_containers[1].security_context.capabilities.add == ["NET_ADMIN"]


async def test_jupyterhub_supplied_env(spawn: Spawn, applied: bool) -> None:
    manifest = await spawn(
        environment={
            "HELLO": "It's {unescaped_username}",
            "VAR3": {"valueFrom": {"secretKeyRef": {"name": "VAR3-SECRET", "key": "VAR3-KEY"}}},
        }
    )
    env = manifest.spec.containers[0].env

    assert V1EnvVar("HELLO", "It's alice") in env
    assert {type(var) for var in env} == {V1EnvVar}
    var3 = next(var for var in env if var.name == "VAR3")
    assert var3.value_from == {"secretKeyRef": {"name": "VAR3-SECRET", "key": "VAR3-KEY"}}
    if applied:  # the profile's, built as KubeSpawner built VAR3
        assert V1EnvVar("TEAM", "alice-team") in env
        token = next(var for var in env if var.name == "TEAM_TOKEN")
        assert token.value_from == {"secretKeyRef": {"name": "team-token", "key": "token"}}


# -- tests/test_objects.py ----------------------------------------------------------


async def test_make_pod_with_extra_container_config(spawn: Spawn, applied: bool) -> None:
    manifest = await spawn(extra_container_config={"envFrom": [{"configMapRef": {"name": "special-config"}}]})

    assert sent(manifest)["spec"]["containers"][0]["envFrom"] == [
        {"configMapRef": {"name": "special-config"}},
        *([{"secretRef": {"name": "team-env"}}] if applied else []),
    ]
    # KubeSpawner keeps extra_container_config's items as dicts; the profile's join them as dicts
    assert {type(item) for item in manifest.spec.containers[0].env_from} == {dict}


async def test_env_from_without_extra_container_config_is_built_as_models(
    spawn: Spawn, applied: bool
) -> None:
    manifest = await spawn()
    env_from = manifest.spec.containers[0].env_from
    if applied:
        assert [type(item) for item in env_from] == [V1EnvFromSource]
        assert env_from[0].secret_ref == {"name": "team-env"}
    else:
        assert env_from is None


async def test_make_pod_with_extra_pod_config(spawn: Spawn, applied: bool) -> None:
    manifest = await spawn(
        tolerations=[{"key": "wrong_toleration", "operator": "Equal", "value": "wrong_value"}],
        extra_pod_config={
            "dns_policy": "ClusterFirstWithHostNet",
            "restartPolicy": "Always",
            "tolerations": [{"key": "correct_toleration", "operator": "Equal", "value": "correct_value"}],
        },
    )
    spec = sent(manifest)["spec"]

    assert spec["dnsPolicy"] == "ClusterFirstWithHostNet"
    assert spec["restartPolicy"] == "Always"
    assert spec["tolerations"] == [
        {"key": "correct_toleration", "operator": "Equal", "value": "correct_value"},
        *([{"key": "profile", "operator": "Exists", "effect": "NoSchedule"}] if applied else []),
    ]
    assert {type(t) for t in manifest.spec.tolerations} == {dict}


# -- beyond KubeSpawner's tests: what the issue asks ----------------------------------


async def test_fields_the_client_does_not_know_reach_the_api_server(spawn: Spawn, applied: bool) -> None:
    manifest = await spawn(
        # ``mode`` of an emptyDir is Kubernetes 1.37's (alpha), unknown to the client
        volumes=[{"name": "scratch", "emptyDir": {"medium": "Memory", "mode": 448}}],
        volume_mounts=[{"name": "scratch", "mountPath": "/scratch"}],
        extra_pod_config={"dnsConfig": {"options": [{"name": "ndots", "value": "2"}], FUTURE: 1}},
        extra_container_config={"securityContext": {"allowPrivilegeEscalation": False, FUTURE: True}},
        node_affinity_required=[
            {"matchExpressions": [{"key": "pool", "operator": "In", "values": ["a"], FUTURE: "x"}]}
        ],
    )
    spec = sent(manifest)["spec"]

    assert spec["volumes"][0] == {"name": "scratch", "emptyDir": {"medium": "Memory", "mode": 448}}
    assert spec["dnsConfig"] == {"options": [{"name": "ndots", "value": "2"}], FUTURE: 1}
    assert spec["containers"][0]["securityContext"] == {"allowPrivilegeEscalation": False, FUTURE: True}
    (term,) = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"
    ]
    # KubeSpawner's requirement (a dict in its term), ANDed with the profile's
    assert term["matchExpressions"] == [
        {"key": "pool", "operator": "In", "values": ["a"], FUTURE: "x"},
        *([PROFILE_REQUIREMENT] if applied else []),
    ]


async def test_only_what_a_profile_sets_differs_from_kubespawners_pod(
    spawn: Spawn, applied: bool, make_spawner: Any
) -> None:
    config = {
        "volumes": [{"name": "scratch", "emptyDir": {}}],
        "volume_mounts": [{"name": "scratch", "mountPath": "/scratch"}],
        "pod_affinity_required": [POD_AFFINITY_TERM],
        "extra_pod_config": {"dnsConfig": {"options": [{"name": "ndots", "value": "2"}]}},
        "extra_containers": [{"name": "sidecar", "image": "busybox"}],
        "cpu_limit": 2.0,
    }
    reference = make_spawner([], spawner_class=KubeSpawner, **config)
    theirs = await reference.get_pod_manifest()
    ours = await spawn(**config)

    assert types(ours.spec.affinity.pod_affinity) == types(theirs.spec.affinity.pod_affinity)
    assert types(ours.spec.dns_config) == types(theirs.spec.dns_config) == "dict"
    assert types(ours.spec.containers[1]) == types(theirs.spec.containers[1])
    set_by_profiles = {"containers", "tolerations", "nodeSelector", "affinity", "volumes"}
    ours_json, theirs_json = sent(ours), sent(theirs)
    for key in set(ours_json["spec"]) | set(theirs_json["spec"]):
        if key not in set_by_profiles or not applied:
            assert ours_json["spec"].get(key) == theirs_json["spec"].get(key), key
    assert ours_json["spec"]["containers"][1:] == theirs_json["spec"]["containers"][1:]
    assert ours_json["spec"]["affinity"]["podAffinity"] == theirs_json["spec"]["affinity"]["podAffinity"]
    notebook, their_notebook = ours_json["spec"]["containers"][0], theirs_json["spec"]["containers"][0]
    for key in set(notebook) | set(their_notebook):
        if key not in {"env", "envFrom", "resources", "volumeMounts"} or not applied:
            assert notebook.get(key) == their_notebook.get(key), key
    if applied:
        assert notebook["resources"] == {
            "limits": {"cpu": "1"},
            "requests": {"cpu": "250m"},
        }
    assert ours_json["metadata"]["name"] == theirs_json["metadata"]["name"]


def types(obj: Any) -> Any:
    """The Python types of ``obj`` and of everything in it."""
    if isinstance(obj, dict):
        return "dict"
    if isinstance(obj, list):
        return [types(item) for item in obj]
    if hasattr(type(obj), "openapi_types"):
        return {
            "": type(obj).__name__,
            **{a: types(getattr(obj, a)) for a in obj.openapi_types if getattr(obj, a) is not None},
        }
    return type(obj).__name__


async def test_kubespawners_configuration_is_never_changed(spawner_for: Callable[..., Any]) -> None:
    # KubeSpawner puts some of its settings into every pod as they are (its
    # node_selector dict), copies others; a spawner spawns again and again.
    spawner = spawner_for(
        node_selector={"pool": "users"},
        volumes=[{"name": "scratch", "emptyDir": {}}],
        tolerations=[{"key": "dedicated", "operator": "Exists"}],
        node_affinity_required=[{"matchExpressions": [{"key": "pool", "operator": "Exists"}]}],
        extra_pod_config={"dnsConfig": {"options": [{"name": "ndots", "value": "2"}]}},
        extra_container_config={"envFrom": [{"configMapRef": {"name": "c"}}]},
        extra_labels={"hub": "x"},
        environment={"TOKEN": {"valueFrom": {"secretKeyRef": {"name": "t", "key": "k"}}}},
    )
    names = ("node_selector", "volumes", "tolerations", "node_affinity_required", "extra_pod_config")
    names += ("extra_container_config", "extra_labels", "environment")
    before = {name: copy.deepcopy(getattr(spawner, name)) for name in names}
    first = sent(await pod_of(spawner))
    assert sent(await pod_of(spawner)) == first
    assert {name: getattr(spawner, name) for name in names} == before


async def test_a_hook_that_edits_the_pod_changes_nothing_for_the_next_spawn(way: str, spawn: Spawn) -> None:
    async def editing_hook(spawner: Any, pod: Any) -> Any:
        if way != "kubespawner":
            pod = await apply_pod_profile(spawner, pod)
        notebook = pod.spec.containers[0]
        for var in notebook.env:
            var.value = "edited" if var.value is not None else None
            if isinstance(var.value_from, dict):
                var.value_from["secretKeyRef"]["name"] = "edited"
        for item in notebook.env_from or []:
            item.secret_ref["name"] = "edited"
        for volume in pod.spec.volumes:
            if isinstance(volume.persistent_volume_claim, dict):
                volume.persistent_volume_claim["claimName"] = "edited"
        for toleration in pod.spec.tolerations or []:
            toleration.key = "edited"
        node_affinity = pod.spec.affinity.node_affinity if pod.spec.affinity else None
        if node_affinity and node_affinity.required_during_scheduling_ignored_during_execution:
            for term in node_affinity.required_during_scheduling_ignored_during_execution.node_selector_terms:
                for requirement in term.match_expressions:
                    requirement["values"] = ["edited"]
        (pod.spec.node_selector or {})["disktype"] = "edited"
        pod.metadata.labels["team"] = "edited"
        return pod

    config = {
        "node_selector": {"pool": "users"},
        "volumes": [{"name": "v", "persistentVolumeClaim": {"claimName": "c"}}],
        "node_affinity_required": [{"matchExpressions": [{"key": "pool", "operator": "Exists"}]}],
    }
    clean = sent(await spawn(**config))
    edited = sent(await spawn(**config, modify_pod_hook=editing_hook))
    assert "edited" in json.dumps(edited)
    assert sent(await spawn(**config)) == clean


def only_the_annotations_differ(sent: Any, built: Any, source: str) -> None:
    """``sent`` is ``built`` with the record of SPEC §8 added to its annotations
    (``source``, the only profile file): every other object is the very one
    KubeSpawner built."""
    version = content_version(source)
    assert sent.spec is built.spec
    assert sent.metadata.labels is built.metadata.labels
    assert sent.metadata.annotations == {
        **built.metadata.annotations,
        "profilespawner/profiles": "[]",
        "profilespawner/sources": json.dumps([{"source": source, "version": version}], separators=(",", ":")),
    }
    sent_json, built_json = to_json(sent), to_json(built)
    sent_json["metadata"].pop("annotations")
    built_json["metadata"].pop("annotations")
    assert sent_json == built_json


async def test_with_no_profile_that_applies_kubespawners_pod_is_sent_as_built_and_recorded(
    make_spawner: Any, write_yaml: Any
) -> None:
    """SPEC §8 wins over keeping the very pod object: the record goes on every
    pod; it is the only change."""
    files = [write_yaml(NOBODY)]

    class Recorder(KubeSpawner):  # type: ignore[misc]
        built: Any = None

        async def get_pod_manifest(self) -> Any:
            self.built = await super().get_pod_manifest()
            return self.built

    class Observed(ProfileKubeSpawner, Recorder):  # ProfileKubeSpawner's super() is the Recorder
        pass

    spawner = make_spawner(files, spawner_class=Observed)
    await spawner.load_user_options()
    only_the_annotations_differ(await spawner.get_pod_manifest(), spawner.built, files[0])

    plain = make_spawner(files, spawner_class=KubeSpawner)
    pod = await plain.get_pod_manifest()
    only_the_annotations_differ(await apply_pod_profile(plain, pod), pod, files[0])


async def test_the_hook_leaves_the_pod_it_is_given_as_it_is(make_spawner: Any, write_yaml: Any) -> None:
    plain = make_spawner([write_yaml(PROFILES)], spawner_class=KubeSpawner)
    pod = await plain.get_pod_manifest()
    before = to_json(pod)
    result = await apply_pod_profile(plain, pod)
    assert to_json(pod) == before
    assert to_json(result) != before
