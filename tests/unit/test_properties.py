"""Properties over generated profile sets: only ProfileError escapes, results are
deterministic, and the precedence rules of SPEC §5 hold whatever the input; and
the fuzz layer: hostile documents are a ProfileError or a valid set, never a
crash, a value in a message or unbounded memory."""

from __future__ import annotations

import dataclasses
import datetime
import io
import json
import math
import os
import tracemalloc
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from kubespawner.objects import make_pod
from ruamel.yaml import YAML

from profilespawner import k8srules, placeholders
from profilespawner.apply import apply_resolution
from profilespawner.errors import PlaceholderError, ProfileError, ProfileSpawnError, ValidatorBugError
from profilespawner.kubemodel import from_json, to_json
from profilespawner.model import ProfileSet
from profilespawner.parse import parse_document
from profilespawner.placeholders import PLACEHOLDERS
from profilespawner.resolve import ResolutionCache, resolve
from profilespawner.tools.explain import explain

USERS = ["alice", "bob", "carol"]
GROUPS = ["ds", "ml", "ops"]
IMAGES = ["quay.io/odh/s2i-spark-notebook:3.6", "jupyter/minimal-notebook", "reg:5000/team/gpu-nb@sha256:ab"]
PATTERNS = ["s2i-spark-notebook", "*notebook:3.*", "minimal-notebook:latest", "reg:5000/*", "gpu-nb", "*"]
ENV_NAMES = ["A", "B", "C", "S3_URL", "TOKEN"]
CPU = ["100m", "250m", "500m", "1", "2", "4"]
MEMORY = ["128Mi", "512Mi", "1Gi", "2Gi", "4G"]

names = st.sampled_from
env_var = st.builds(
    lambda name, value, secret: (
        {"name": name, "valueFrom": {"secretKeyRef": {"name": "s", "key": value}}}
        if secret
        else {"name": name, "value": value}
    ),
    names(ENV_NAMES),
    st.text(alphabet="abc{}xyz-", max_size=6).filter(lambda v: "{" not in v and "}" not in v),
    st.booleans(),
)


def unique_env(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for item in items:
        seen.setdefault(item["name"], item)
    return list(seen.values())


resources = st.fixed_dictionaries(
    {},
    optional={
        "requests": st.dictionaries(names(["cpu", "memory"]), st.none(), max_size=2),
        "limits": st.dictionaries(names(["cpu", "memory"]), st.none(), max_size=2),
    },
)


@st.composite
def resource_block(draw: Any) -> dict[str, Any]:
    block: dict[str, Any] = {}
    for kind in draw(st.sets(names(["requests", "limits"]))):
        keys = draw(st.sets(names(["cpu", "memory"]), min_size=1))
        block[kind] = {k: draw(names(CPU if k == "cpu" else MEMORY)) for k in keys}
    # a single block may not ask more than it allows
    for k, request in list(block.get("requests", {}).items()):
        if k in block.get("limits", {}):
            block["limits"][k] = request
    return block


settings_fields = {
    "env": st.lists(env_var, max_size=4).map(unique_env),
    "resources": resource_block(),
    "gpu": st.integers(min_value=0, max_value=3),
    "node_tolerations": st.lists(
        st.one_of(
            st.builds(lambda k: {"key": k, "operator": "Exists"}, names(["a", "b", "c"])),
            # one toleration, spelt with and without the default operator
            st.sampled_from([{"key": "a", "value": "v"}, {"key": "a", "operator": "Equal", "value": "v"}]),
        ),
        max_size=2,
    ),
    "node_selector": st.dictionaries(names(["zone", "disk"]), names(["a", "b"]), max_size=2),
    "labels": st.dictionaries(names(["team", "tier"]), names(["x", "y"]), max_size=2),
    "envFrom": st.lists(st.builds(lambda n: {"secretRef": {"name": n}}, names(["s1", "s2"])), max_size=2),
    "volumes": st.lists(
        st.builds(
            lambda n: {"name": n, "persistentVolumeClaim": {"claimName": f"{n}-{{username}}"}},
            names(["home", "data", "scratch"]),
        ),
        max_size=2,
        unique_by=lambda v: v["name"],
    ),
    "node_affinity": st.fixed_dictionaries(
        {},
        optional={
            "requiredDuringSchedulingIgnoredDuringExecution": st.builds(
                lambda keys: {
                    "nodeSelectorTerms": [
                        {"matchExpressions": [{"key": k, "operator": "Exists"}]} for k in keys
                    ]
                },
                st.lists(names(["pool", "zone", "gpu"]), min_size=1, max_size=2),
            ),
            "preferredDuringSchedulingIgnoredDuringExecution": st.lists(
                st.builds(
                    lambda k, w: {
                        "weight": w,
                        "preference": {"matchExpressions": [{"key": k, "operator": "Exists"}]},
                    },
                    names(["pool", "zone"]),
                    st.integers(min_value=1, max_value=3),
                ),
                max_size=2,
            ),
        },
    ),
}

profile = st.builds(
    lambda name, fields, who: {"name": name, **fields, **who},
    st.text(alphabet="abcdef", min_size=1, max_size=4),
    st.fixed_dictionaries({}, optional={**settings_fields, "images": st.lists(names(PATTERNS), max_size=2)}),
    st.fixed_dictionaries(
        {},
        optional={
            "users": st.lists(names([*USERS, "*"]), max_size=2),
            "groups": st.lists(names(GROUPS), max_size=2),
        },
    ),
)
size = st.builds(
    lambda name, fields, groups: {"name": name, **fields, **({"groups": groups} if groups else {})},
    names(["S", "M", "L"]),
    st.fixed_dictionaries({}, optional=settings_fields),
    st.lists(names(GROUPS), max_size=1),
)
document = st.fixed_dictionaries(
    {"profiles": st.lists(profile, max_size=6)},
    optional={
        "sizes": st.lists(size, max_size=3),
        "gpuTypes": st.lists(
            st.builds(
                lambda t: {"type": t, "node_tolerations": [{"key": t, "operator": "Exists"}]},
                names(["t4", "a100"]),
            ),
            max_size=2,
        ),
    },
)
spawn = st.fixed_dictionaries(
    {
        "user": names(USERS),
        "groups": st.lists(names(GROUPS), max_size=2),
        "image": names(IMAGES),
        "size": st.one_of(st.none(), names(["", "Default", "S", "M", "L", "XL"])),
        "gpu_type": st.one_of(st.none(), names(["t4", "a100", "h100"])),
    }
)


def to_yaml(data: Any) -> str:
    out = io.StringIO()
    YAML(typ="safe", pure=True).dump(data, out)
    return out.getvalue()


def load(doc: dict[str, Any]) -> ProfileSet:
    return parse_document(to_yaml(doc), source="generated").profile_set


def base_pod() -> dict[str, Any]:
    return {
        "metadata": {"labels": {"component": "singleuser-server"}},
        "spec": {
            "containers": [
                {
                    "name": "notebook",
                    "env": [{"name": "A", "value": "kubespawner"}, {"name": "MEM_LIMIT", "value": "1"}],
                    "resources": {"limits": {"memory": "1Gi"}},
                }
            ]
        },
    }


def run(profile_set: ProfileSet, params: dict[str, Any]) -> Any:
    try:
        resolution = resolve(profile_set, **params)
        return apply_resolution(base_pod(), resolution, expand=str), resolution
    except ProfileError as e:
        return type(e), str(e)


PROPERTY_SETTINGS = settings(
    max_examples=int(os.environ.get("PROFILESPAWNER_HYPOTHESIS_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@PROPERTY_SETTINGS
@given(document, spawn)
def test_only_profile_errors_escape_and_results_are_deterministic(
    doc: dict[str, Any], params: dict[str, Any]
) -> None:
    try:
        profile_set = load(doc)
    except ProfileError:
        return  # a generated document may break a rule (e.g. request above limit across sizes)
    first = run(profile_set, params)
    assert run(load(doc), params) == first


@PROPERTY_SETTINGS
@given(document, spawn)
def test_later_layers_win_per_spec(doc: dict[str, Any], params: dict[str, Any]) -> None:
    try:
        profile_set = load(doc)
        resolution = resolve(profile_set, **params)
    except ProfileError:
        return
    layers = [p.settings for p in resolution.profiles] + (
        [resolution.size.settings] if resolution.size else []
    )
    merged = resolution.settings
    # env: the last layer that names a variable gives its value; first position kept
    expected_env: dict[str, Any] = {}
    for layer in layers:
        for var in layer.env:
            expected_env[var["name"]] = var
    assert {v["name"]: v for v in merged.env} == expected_env
    order: list[str] = []
    for layer in layers:
        order += [v["name"] for v in layer.env if v["name"] not in order]
    assert [v["name"] for v in merged.env] == order
    # resources per (kind, name); gpu replaced by the last layer that sets it
    for kind in ("requests", "limits"):
        for name in ("cpu", "memory"):
            setters = [
                layer.resources[kind][name] for layer in layers if name in layer.resources.get(kind, {})
            ]
            assert merged.resources.get(kind, {}).get(name) == (setters[-1] if setters else None)
    gpus = [layer.gpu for layer in layers if layer.gpu is not None]
    assert merged.gpu == (gpus[-1] if gpus else None)
    # maps per key
    for attr in ("node_selector", "labels"):
        expected: dict[str, str] = {}
        for layer in layers:
            expected.update(getattr(layer, attr))
        assert dict(getattr(merged, attr)) == expected

    try:
        pod = apply_resolution(base_pod(), resolution, expand=str)
    except ProfileError:
        return
    env = {v["name"]: v for v in pod["spec"]["containers"][0]["env"]}
    for name, var in expected_env.items():
        assert env[name] == var
    if not merged.gpu:
        assert resolution.gpu_tolerations == ()


def kubespawner_pod(**resources: Any) -> Any:
    """A V1Pod as KubeSpawner 7's ``make_pod`` builds it: models, plain dicts inside."""
    return make_pod(
        name="jupyter-alice",
        cmd=["jupyterhub-singleuser"],
        port=8888,
        image="img",
        env={
            "A": "kubespawner",
            "MEM_LIMIT": "1073741824",
            "S": {"valueFrom": {"fieldRef": {"fieldPath": "x"}}},
        },
        **(resources or {"mem_limit": "1Gi"}),
        volumes=[{"name": "home", "persistentVolumeClaim": {"claimName": "claim-alice"}}],
        volume_mounts=[{"name": "home", "mountPath": "/home/jovyan"}],
        tolerations=[{"key": "a", "operator": "Exists"}],
        node_selector={"zone": "a"},
        node_affinity_required=[
            {"matchExpressions": [{"key": "pool", "operator": "In", "values": ["p"]}]},
            {"matchExpressions": [{"key": "spare", "operator": "Exists"}]},
        ],
        extra_pod_config={"dnsConfig": {"options": [{"name": "ndots", "value": "2"}], "notInTheClient": 1}},
    )


def applied(resolver: Callable[..., Any], profile_set: ProfileSet, params: dict[str, Any]) -> Any:
    """The pod a spawn gets (KubeSpawner's model, as JSON), or its refusal."""
    try:
        resolution = resolver(profile_set, **params)
        return to_json(apply_resolution(kubespawner_pod(), resolution, expand=str.upper))
    except ProfileError as e:
        return type(e), str(e)


spawn_with_choices = st.builds(
    lambda params, cpu: {**params, **({"cpu": cpu} if cpu is not None else {})},
    spawn,
    st.one_of(st.none(), names(["1", "2", 2, 2.0, True, "x"]), st.lists(st.integers(), max_size=1)),
)
#: A source edit (a new document: a new profile set, maybe with the same
#: content) or a spawn, in any order.
steps = st.lists(
    st.one_of(st.tuples(st.just("edit"), document), st.tuples(st.just("spawn"), spawn_with_choices)),
    min_size=1,
    max_size=12,
)


@PROPERTY_SETTINGS
@given(document, steps, st.integers(min_value=0, max_value=3))
def test_cached_resolutions_give_the_pods_of_uncached_ones(
    first: dict[str, Any], sequence: list[tuple[str, Any]], maxsize: int
) -> None:
    cache = ResolutionCache(maxsize)
    docs = [first, *(doc for kind, doc in sequence if kind == "edit")]
    sets = {}
    for i, doc in enumerate(docs):
        # every version gives every spawn something of its own: a stale pod shows
        marked = {
            **doc,
            "profiles": [{"name": "v", "env": [{"name": "V", "value": str(i)}]}, *doc["profiles"]],
        }
        try:
            sets[i] = load(marked)
        except ProfileError:
            sets[i] = sets.get(i - 1, ProfileSet())  # the last valid version stays
    current = 0
    for kind, item in [*sequence, *(("spawn", params) for kind, params in sequence if kind == "spawn")]:
        if kind == "edit":
            current = min(current + 1, len(docs) - 1)
            continue
        profile_set = sets[current]
        # twice: filling the cache, then (within its bound) served from it
        for _ in range(2):
            assert applied(cache.resolve, profile_set, item) == applied(resolve, profile_set, item)
    assert len(cache) <= maxsize


#: KubeSpawner's own resource settings (``mem_limit``, ...), some beyond what
#: profilespawner reads (left as KubeSpawner wrote them).
kubespawner_resources = st.fixed_dictionaries(
    {},
    optional={
        "mem_limit": names(["1Gi", "2G", "lots"]),
        "mem_guarantee": names(["512Mi", "1Gi"]),
        "cpu_limit": names([1.0, 2.0, "lots"]),
        "cpu_guarantee": names([0.5, 1.0]),
    },
)


@PROPERTY_SETTINGS
@given(document, spawn, st.lists(st.tuples(kubespawner_resources, st.booleans()), min_size=1, max_size=6))
def test_a_resolution_applied_again_gives_each_pod_what_a_fresh_one_would(
    doc: dict[str, Any], params: dict[str, Any], pods: list[tuple[dict[str, Any], bool]]
) -> None:
    """What a resolution remembers from pod to pod (a cached one is applied at
    every spawn of a user) never leaks into the next pod: each of a series of
    KubeSpawner pods, with other resource settings, as a model or as JSON,
    gets what a resolution applied for the first time gives it -- and what a
    pod's user changes in it in place afterwards changes no later pod."""
    try:
        resolution = resolve(load(doc), **params)
    except ProfileError:
        return

    def outcome(resolution: Any, resources: dict[str, Any], as_json: bool) -> Any:
        pod = kubespawner_pod(**resources)
        try:
            result = apply_resolution(to_json(pod) if as_json else pod, resolution, expand=str.upper)
        except ProfileError as e:
            return type(e), str(e)
        data = to_json(result)
        # a modify_pod_hook after ours, changing the pod in place
        for container in result["spec"]["containers"] if as_json else result.spec.containers:
            for var in (container["env"] if as_json else container.env) or []:
                if as_json:
                    var["value"] = "changed"
                else:
                    var.value = "changed"
        return data

    for resources, as_json in pods:
        fresh = dataclasses.replace(resolution)  # the same value, nothing remembered
        assert outcome(resolution, resources, as_json) == outcome(fresh, resources, as_json)


@PROPERTY_SETTINGS
@given(document, spawn)
def test_on_kubespawners_model_and_on_its_json_the_same_pod(
    doc: dict[str, Any], params: dict[str, Any]
) -> None:
    try:
        resolution = resolve(load(doc), **params)
    except ProfileError:
        return
    pod = kubespawner_pod()
    before = to_json(pod)
    try:
        expected = apply_resolution(to_json(pod), resolution, expand=str)
    except ProfileError as e:
        with pytest.raises(type(e)):
            apply_resolution(pod, resolution, expand=str)
        return
    result = apply_resolution(pod, resolution, expand=str)
    assert to_json(result) == expected
    assert to_json(pod) == before  # copy-on-write
    assert to_json(apply_resolution(result, resolution, expand=str)) == expected  # idempotent
    assert result.spec.dns_config["notInTheClient"] == 1


@PROPERTY_SETTINGS
@given(document, spawn)
@example(  # two profiles with one toleration, spelt two ways: the pod gets one (issue 18)
    {
        "profiles": [
            {"name": "a", "node_tolerations": [{"key": "a", "value": "v"}]},
            {"name": "b", "node_tolerations": [{"key": "a", "operator": "Equal", "value": "v"}]},
        ]
    },
    {"user": "alice", "groups": [], "image": IMAGES[0], "size": None, "gpu_type": None},
)
def test_explain_tells_what_the_pod_got(doc: dict[str, Any], params: dict[str, Any]) -> None:
    """Explain, from the merge's record alone (no pod given), names every item the
    profiles gave the pod, each once: the record cannot count differently from the pod."""
    try:
        profile_set = load(doc)
        resolution = resolve(profile_set, **params)
        pod = apply_resolution(base_pod(), resolution, expand=str)
    except ProfileError:
        return
    explanation = explain(profile_set, **params)
    container = pod["spec"]["containers"][0]
    base = base_pod()
    assert len(explanation.of("node_tolerations")) == len(pod["spec"].get("tolerations") or [])
    resource_keys = {
        f"{kind}.{name}" for kind, values in container.get("resources", {}).items() for name in values
    }
    kubespawners = {f"limits.{name}" for name in base["spec"]["containers"][0]["resources"]["limits"]}
    assert {o.key for o in explanation.of("resources")} | kubespawners == resource_keys
    assert [o.key for o in explanation.of("node_selector")] == list(pod["spec"].get("nodeSelector") or {})
    assert {o.key for o in explanation.of("labels")} == set(pod["metadata"]["labels"]) - set(
        base["metadata"]["labels"]
    )
    env = {v["name"]: v for v in container["env"]}
    assert all(env[o.key] == v for o, v in zip(explanation.of("env"), resolution.settings.env, strict=True))


# -- hostile input: the fuzz layer -----------------------------------------------------
#
# Documents an attacker who may create a labelled ConfigMap, or a careless
# administrator, could write: keys that are not strings, extreme and malformed
# quantities, placeholders with specs, conversions, attributes and indexes in
# every field that expands, deep nesting, long names, YAML tags, and random
# edits of the text. The only outcomes allowed are a valid profile set or a
# ProfileError naming the source -- never another exception (a
# ValidatorBugError fails the test too: it is the safety net, not an outcome),
# never a message holding a value (every value written carries MARK), bounded
# memory. Valid results are spawned with KubeSpawner's own expansion.

#: Carried by every value the fuzz writes: a message that holds it quotes a value.
MARK = "QZXV"
SOURCE = "ns/fuzzed"
#: Peak memory of parsing (and spawning) one fuzzed document: they are a few
#: hundred kilobytes at most, and a placeholder width asking 200 MB must not get it.
PEAK_BYTES = 64 * 2**20


def examples(default: int) -> int:
    """Examples per property: ``default`` in CI, scaled by PROFILESPAWNER_HYPOTHESIS_SCALE."""
    return max(1, int(default * float(os.environ.get("PROFILESPAWNER_HYPOTHESIS_SCALE", "1"))))


def fuzz_settings(default: int) -> Any:
    return settings(
        max_examples=examples(default),
        # A bound on pathologies (a quadratic scanner took minutes), far above
        # the tens of milliseconds an example takes; speed lives in benchmarks/.
        deadline=timedelta(seconds=20),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        print_blob=True,
    )


class Raw(str):
    """YAML text emitted as it is: tags, timestamps, anchors."""


def emit(node: Any) -> str:
    """``node`` as YAML flow text; unlike a YAML dumper it writes any key type."""
    if isinstance(node, Raw):
        return str(node)
    if isinstance(node, dict):
        return "{" + ", ".join(f"? {emit(k)} : {emit(v)}" for k, v in node.items()) + "}"
    if isinstance(node, list):
        return "[" + ", ".join(emit(item) for item in node) + "]"
    if isinstance(node, str):
        return json.dumps(node)  # JSON's escapes are YAML's; \ud800 included
    if isinstance(node, bool) or node is None:
        return {True: "true", False: "false", None: "null"}[node]
    if isinstance(node, int):
        return hex(node) if abs(node) > 10**4000 else str(node)  # str() stops at 4300 digits
    if isinstance(node, float):
        return (
            ".nan"
            if math.isnan(node)
            else (repr(node) if math.isfinite(node) else ("" if node > 0 else "-") + ".inf")
        )
    if isinstance(node, datetime.date):
        return node.isoformat()
    raise TypeError(type(node))


def marked(text: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.builds(lambda head, tail: head + MARK + tail, text, text)


plain_text = st.text(
    alphabet=st.one_of(st.characters(codec="utf-8"), st.sampled_from("{}[]:!.,-'\"\\\n\t ")), max_size=12
)
long_text = st.one_of(plain_text, st.integers(100, 20_000).map(lambda n: "x" * n))
value = marked(plain_text)

placeholder = st.builds(
    lambda name, access, conversion, spec: "{" + name + access + conversion + spec + "}",
    st.sampled_from([*sorted(PLACEHOLDERS)[:4], "username", "userid", "", "0", "user", MARK + "x"]),
    st.sampled_from(["", "", "", ".upper", "[0]", "[99]", ".__class__"]),
    st.sampled_from(["", "", "", "!r", "!s", "!x"]),
    st.sampled_from(["", "", "", ":", ":d", ":>200000000", ":x<99999999", ":{userid}", ":>{username}"]),
)
placeholder_text = st.lists(
    st.one_of(placeholder, value, st.sampled_from(["{{", "}}", "{", "}", "-", "{username}"])), max_size=5
).map("".join)

quantity = st.one_of(
    st.sampled_from(["500m", "1", "1.5Gi", "2", "0", "1e3", "100n"]),
    st.builds(
        lambda sign, digits, suffix: sign + digits + suffix,
        st.sampled_from(["", "-", "+"]),
        st.from_regex(r"\A[0-9]{0,40}(\.[0-9]{0,40})?\Z"),
        st.one_of(
            st.sampled_from(["", "m", "Ki", "Gi", "Ei", "E", "n", "k", "G", "gi", "GB", " ", "e", "e+"]),
            st.integers(-(10**15), 10**15).map(lambda e: f"e{e}"),
            st.integers(1, 6000).map(lambda n: "e" + "9" * n),
        ),
    ),
    marked(plain_text),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([Raw("1e99999999999"), Raw("'1e99999999999'"), Raw("!!int 1"), Raw("!!float inf")]),
)

hostile_key = st.one_of(
    st.integers(-(2**70), 2**70),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False),
    st.dates(),
    long_text,
)
scalar = st.one_of(
    value,
    st.integers(-(2**70), 2**70),
    st.floats(),
    st.booleans(),
    st.none(),
    st.dates(),
    st.sampled_from(
        [
            Raw("2024-02-30"),
            Raw("!!binary aGVsbG8="),
            Raw("!!int " + MARK),
            Raw("!!float " + MARK),
            Raw("!!timestamp " + MARK),
            Raw("!!set {" + MARK + "}"),
            Raw("!!pairs [{k: " + MARK + "}]"),
            Raw('"\\ud800' + MARK + '"'),
            Raw("1" * 5000),
        ]
    ),
)


def keyed(keys: st.SearchStrategy[Any], values: st.SearchStrategy[Any], max_size: int = 3) -> Any:
    """Mappings whose keys are mostly ``keys``, sometimes hostile."""
    return st.dictionaries(st.one_of(keys, keys, hostile_key), values, max_size=max_size)


def nested(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``inner``, sometimes inside up to 130 levels of lists and mappings."""

    def wrap(node: Any, depth: int, as_list: bool) -> Any:
        for _ in range(depth):
            node = [node] if as_list else {"k": node}
        return node

    return st.one_of(inner, st.builds(wrap, inner, st.integers(1, 130), st.booleans()))


names_ = st.one_of(st.sampled_from(["a", "team", "Small", "t4"]), long_text)
env_names = st.one_of(st.sampled_from(["A", "TOKEN", "JPY_X", "A=B", "S3_URL"]), plain_text)
label_keys = st.one_of(
    st.sampled_from(["team", "kubernetes.io/arch", "hub.jupyter.org/x", "a b"]), plain_text
)
resource_names = st.sampled_from(["cpu", "memory", "nvidia.com/gpu", "bad name", "ephemeral-storage"])

hostile_fields = {
    "name": names_,
    "env": st.one_of(
        st.lists(
            st.fixed_dictionaries(
                {"name": env_names},
                optional={
                    "value": st.one_of(placeholder_text, scalar),
                    "valueFrom": st.one_of(
                        st.just({"secretKeyRef": {"name": "s", "key": MARK}}),
                        st.builds(
                            lambda d: {"resourceFieldRef": {"resource": "limits.cpu", "divisor": d}}, quantity
                        ),
                        keyed(st.sampled_from(["fieldRef", "x"]), scalar),
                    ),
                },
            ),
            max_size=3,
        ),
        keyed(env_names, st.one_of(placeholder_text, scalar)),
    ),
    "resources": st.one_of(
        st.fixed_dictionaries(
            {},
            optional={"requests": keyed(resource_names, quantity), "limits": keyed(resource_names, quantity)},
        ),
        st.fixed_dictionaries({}, optional={"mem_limit": quantity, "cpu_limit": quantity}),
    ),
    "gpu": st.one_of(st.integers(-(2**70), 2**70), scalar),
    "node_selector": keyed(label_keys, st.one_of(value, scalar)),
    "labels": keyed(label_keys, st.one_of(value, scalar)),
    "annotations": keyed(label_keys, st.one_of(value, scalar)),
    "node_tolerations": st.lists(
        st.fixed_dictionaries(
            {"key": st.sampled_from(["a", "b c", ""])},
            optional={
                "operator": st.sampled_from(["Exists", "Equal", MARK]),
                "value": value,
                "effect": st.sampled_from(["NoExecute", "NoSchedule"]),
                "tolerationSeconds": st.one_of(st.integers(-(2**70), 2**70), scalar),
            },
        ),
        max_size=2,
    ),
    "node_affinity": st.builds(
        lambda op, values: {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [{"key": "k", "operator": op, "values": values}]}]
            }
        },
        st.sampled_from(["In", "Gt", "Exists", MARK]),
        st.lists(st.one_of(value, st.integers(-(2**70), 2**70).map(str)), max_size=2),
    ),
    "volumes": st.lists(
        st.one_of(
            st.builds(
                lambda name, claim: {"name": name, "persistentVolumeClaim": {"claimName": claim}},
                st.sampled_from(["data", "Bad_Name", "v"]),
                st.one_of(placeholder_text, scalar),
            ),
            st.builds(
                lambda size: {"name": "scratch", "emptyDir": {"sizeLimit": size}, "mountPath": MARK}, quantity
            ),
            st.builds(
                lambda kind, body: {"name": "v", kind: body},
                st.sampled_from(["csi", "projected", "ephemeral", "downwardAPI", "image", "nfs", "secret"]),
                st.recursive(
                    scalar,
                    lambda inner: st.one_of(st.lists(inner, max_size=2), keyed(names_, inner)),
                    max_leaves=6,
                ),
            ),
        ),
        max_size=2,
    ),
}


@st.composite
def hostile_entry(draw: Any, kind: str) -> Any:
    fields = draw(st.fixed_dictionaries({}, optional=hostile_fields))
    if kind == "gpuType":
        fields = {
            "type": fields.pop("name", "t4"),
            **{k: v for k, v in fields.items() if k == "node_tolerations"},
        }
    elif "name" not in fields and draw(st.booleans()):
        fields["name"] = "unnamed"
    if draw(st.integers(0, 5)) == 0:  # a key of its own
        fields[draw(st.one_of(hostile_key, st.sampled_from(["resouces", "images", "services"])))] = draw(
            scalar
        )
    if fields and draw(st.integers(0, 5)) == 0:  # one field, deep inside lists or mappings
        key = draw(st.sampled_from(sorted(fields, key=str)))
        fields[key] = draw(nested(st.just(fields[key])))
    return fields


hostile_document = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "profiles": st.lists(hostile_entry("profile"), max_size=3),
            "sizes": st.lists(hostile_entry("size"), max_size=2),
            "gpuTypes": st.lists(hostile_entry("gpuType"), max_size=2),
            "ui": scalar,
        },
    ),
    st.lists(hostile_entry("profile"), max_size=3),  # the legacy list form
    keyed(st.sampled_from(["profiles", "sizes", "profile"]), scalar),
    nested(scalar),
)


class KubeSpawnerExpansion:
    """KubeSpawner's own ``_expand_user_properties``, on what it reads."""

    def __init__(self) -> None:
        from kubespawner import KubeSpawner

        self.expand = KubeSpawner._expand_user_properties.__get__(self)
        self.user = type("User", (), {"name": "alice", "id": 7})()
        self.name = ""
        self.slug_scheme = "safe"
        self.pod_name, self.pvc_name, self.namespace = "jupyter-alice", "claim-alice", "hub"

    def _namespace_default(self) -> str:
        return "hub"


EXPANSION = KubeSpawnerExpansion()


def check_messages(error: ProfileError, *, values_quoted: bool = False) -> None:
    """Names the source, quotes no value (unless ``values_quoted``: MARK may
    have become a key), one bounded line each."""
    assert not isinstance(error, ValidatorBugError), f"a validator bug: {error.__cause__!r}"
    for message in [str(e) for e in getattr(error, "errors", ())] + [str(error)]:
        assert message.startswith(SOURCE + ": ") or isinstance(error, ProfileSpawnError), message
        assert values_quoted or MARK not in message, message
        assert "\n" not in message, message
        assert len(message) < 1000, message


def parse_and_spawn(text: str) -> None:
    try:
        parsed = parse_document(text, source=SOURCE)
    except ProfileError as e:
        check_messages(e)
        return
    for warning in parsed.warnings:
        assert MARK not in str(warning) and "\n" not in str(warning), warning
    profile_set = parsed.profile_set
    for size in [None, *profile_set.sizes][:3]:
        try:
            resolution = resolve(
                profile_set, user="alice", groups=["ds"], image="jupyter/minimal-notebook", size=size
            )
            pod = apply_resolution(base_pod(), resolution, expand=EXPANSION.expand)
        except ProfileError as e:
            check_messages(e)
            continue
        # what KubeSpawner sends: the client's models, serialized as JSON
        json.dumps(to_json(from_json(pod, "V1Pod")))


def bounded(run: Callable[[], None]) -> None:
    tracemalloc.start()
    try:
        run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < PEAK_BYTES, f"peak {peak / 2**20:.0f} MiB"


@fuzz_settings(300)
@given(hostile_document)
def test_hostile_documents_are_a_profile_error_or_a_valid_set(doc: Any) -> None:
    text = emit(doc)
    bounded(lambda: parse_and_spawn(text))


@st.composite
def edited_text(draw: Any) -> str:
    """A (hostile) document's text after a few random edits: YAML's own characters,
    tags, anchors and aliases inserted, characters deleted or doubled."""
    text = emit(draw(st.one_of(hostile_document, document)))
    pieces = st.one_of(
        st.sampled_from(list("{}[]:,-?&*!|>'\"%@`#\n\t \\")),
        st.sampled_from(
            ["!!binary ", "!!set ", "!!int ", "!!timestamp ", "&a ", "*a ", "<<: ", "? ", "\n- ", "\n  "]
        ),
        plain_text,
    )
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(text)))
        edit = draw(st.integers(0, 2))
        if edit == 0:
            text = text[:at] + draw(pieces) + text[at:]
        elif edit == 1:
            text = text[:at] + text[at + draw(st.integers(1, 20)) :]
        else:
            text = text[:at] + text[at : at + 50] * draw(st.integers(2, 200)) + text[at:]
    return text


@fuzz_settings(300)
@given(edited_text())
def test_edited_documents_are_a_profile_error_or_a_valid_set(text: str) -> None:
    def run() -> None:
        try:
            parse_document(text, source=SOURCE)
        except ProfileError as e:
            check_messages(e, values_quoted=True)  # an edit can turn a value into a key

    bounded(run)


@fuzz_settings(1000)
@given(st.one_of(quantity.filter(lambda q: isinstance(q, str)), st.text(max_size=30)))
def test_a_quantity_is_a_value_or_a_value_error_and_costs_nothing(text: str) -> None:
    try:
        amount = k8srules.parse_quantity(text)
    except ValueError:
        return
    assert abs(amount) < Decimal("1e41")
    if abs(amount) <= k8srules.MAX_QUANTITY:
        assert len(str(k8srules.memory_bytes(text))) < 50 and math.isfinite(k8srules.cpu_cores(text))


@fuzz_settings(1000)
@given(st.one_of(placeholder_text, st.text(alphabet="{}:!.[]0ab", max_size=12)))
def test_text_that_passes_the_placeholder_rule_expands_to_a_bounded_length(text: str) -> None:
    problems = placeholders.problems(text)
    for problem in problems:
        assert MARK not in problem
    if problems:
        with pytest.raises(PlaceholderError):
            placeholders.expand(text, EXPANSION.expand)
        return
    expanded = placeholders.expand(text, EXPANSION.expand)
    assert len(expanded) <= len(text) + 64 * text.count("{")
