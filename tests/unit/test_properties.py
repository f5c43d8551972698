"""Properties over generated profile sets: only ProfileError escapes, results are
deterministic, and the precedence rules of SPEC §5 hold whatever the input."""

from __future__ import annotations

import io
import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from profilespawner.apply import apply_resolution
from profilespawner.errors import ProfileError
from profilespawner.model import ProfileSet
from profilespawner.resolve import resolve
from profilespawner.validate import parse_document

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
        st.builds(lambda k: {"key": k, "operator": "Exists"}, names(["a", "b", "c"])), max_size=2
    ),
    "node_selector": st.dictionaries(names(["zone", "disk"]), names(["a", "b"]), max_size=2),
    "labels": st.dictionaries(names(["team", "tier"]), names(["x", "y"]), max_size=2),
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
