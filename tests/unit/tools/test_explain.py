"""profilespawner.tools.explain: who set what, read from the merge's record."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

from profilespawner.errors import UserOptionError
from profilespawner.merge import Setter
from profilespawner.model import ProfileSet
from profilespawner.parse import parse_document
from profilespawner.tools.explain import KUBESPAWNER, RangeChoice, explain, setter_labels


def profile_set_of(text: str) -> ProfileSet:
    return parse_document(textwrap.dedent(text), source="f.yaml").profile_set


def pod(*tolerations: dict[str, Any]) -> dict[str, Any]:
    return {
        "spec": {
            "containers": [{"name": "notebook"}],
            **({"tolerations": list(tolerations)} if tolerations else {}),
        }
    }


def test_a_toleration_kubespawner_gives_already_is_kubespawners() -> None:
    """The applier keeps KubeSpawner's own spelling; explain says so, by the same rule."""
    profiles = profile_set_of(
        """\
        profiles:
        - name: dedicated
          node_tolerations: [{key: hub.jupyter.org/dedicated, value: user}, {key: gpu, operator: Exists}]
        """
    )
    kubespawners = {"key": "hub.jupyter.org/dedicated", "operator": "Equal", "value": "user"}
    gpu = {"key": "gpu", "operator": "Exists"}
    result = explain(profiles, user="u", image="i", base_pod=pod(kubespawners), pod=pod(kubespawners, gpu))
    assert [(o.key, o.set_by) for o in result.of("node_tolerations")] == [
        ("hub.jupyter.org/dedicated=user", KUBESPAWNER),
        ("gpu exists", "profile 'dedicated'"),
    ]
    # without the pods: what the profiles ask for
    alone = explain(profiles, user="u", image="i")
    assert [o.set_by for o in alone.of("node_tolerations")] == ["profile 'dedicated'"] * 2


def test_setters_read_as_the_report_names_them() -> None:
    profiles = profile_set_of("profiles: [{name: x}, {name: x}, {name: y}]")
    label = setter_labels(profiles, gpu=2)
    assert label(Setter("profile", "x", "f.yaml", 1)) == "profile 'x' (f.yaml #2)"
    assert label(Setter("profile", "y", "f.yaml", 2)) == "profile 'y'"
    assert label(Setter("size", "Custom", "f.yaml")) == "size 'Custom'"
    assert label(Setter("size", "Custom", "f.yaml", via="range cpu: 12")) == "size 'Custom' (range cpu: 12)"
    assert label(Setter("gpuType", "a100", "f.yaml")) == "gpuType 'a100' (gpu: 2)"


def test_explain_verdicts_agree_with_the_spawner(example_profiles: str) -> None:
    profile_set = profile_set_of(example_profiles)
    result = explain(
        profile_set, user="bob", groups=["data-science"], image="x/s2i-spark-notebook:1", size="Large"
    )
    applies = {v.label: v.applies for v in result.verdicts}
    assert applies == {
        "profile 'globals'": True,
        "profile 'Spark'": True,
        "profile 'Team'": True,
        "profile 'Bob only'": True,
        "profile 'GPU'": False,
    }
    greeting = next(o for o in result.of("env") if o.key == "GREETING")
    assert (greeting.set_by, greeting.replaced) == ("profile 'Bob only'", ("profile 'globals'",))
    assert result.size == "Large"
    assert result.allowed_sizes == ("Default", "Small", "Large")


def test_explain_names_colliding_profiles_by_source() -> None:
    profile_set = profile_set_of(
        "profiles:\n- {name: x, env: [{name: A, value: '1'}]}\n- {name: x, gpu: 0}\n"
    )
    labels = [v.label for v in explain(profile_set, user="u", image="i").verdicts]
    assert labels == ["profile 'x' (f.yaml #1)", "profile 'x' (f.yaml #2)"]


def test_explain_attributes_kubespawners_own_fields() -> None:
    profile_set = profile_set_of(
        "profiles:\n- {name: p, env: [{name: A, value: '1'}], resources: {limits: {cpu: '2'}}}\n"
    )
    base = {
        "spec": {
            "containers": [
                {"name": "notebook", "env": [{"name": "A", "value": "0"}, {"name": "B", "value": "0"}],
                 "resources": {"limits": {"cpu": "1", "memory": "1G"}}}
            ]
        }
    }  # fmt: skip
    pod = {
        "spec": {
            "containers": [
                {"name": "notebook", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "0"}],
                 "resources": {"limits": {"cpu": "2", "memory": "1G"}}}
            ]
        }
    }  # fmt: skip
    result = explain(profile_set, user="u", image="i", base_pod=base, pod=pod)
    origins = {(o.field, o.key): (o.set_by, o.replaced) for o in result.origins}
    assert origins[("env", "A")] == ("profile 'p'", (KUBESPAWNER,))
    assert origins[("env", "B")] == (KUBESPAWNER, ())
    assert origins[("resources", "limits.cpu")] == ("profile 'p'", (KUBESPAWNER,))
    assert origins[("resources", "limits.memory")] == (KUBESPAWNER, ())


def test_explain_refuses_what_the_spawner_refuses(example_profiles: str) -> None:
    with pytest.raises(UserOptionError, match="size 'Large' is not available"):
        explain(profile_set_of(example_profiles), user="alice", image="i", size="Large")


# (id, ConfigMap JSON, expected problems as (line, column, message))


def test_the_values_within_a_size_s_ranges_come_from_the_resolution() -> None:
    profiles = profile_set_of(
        """\
        profiles:
        - name: base
          resources: {requests: {cpu: 500m}, limits: {cpu: "1"}}
        sizes:
        - name: Custom
          ranges:
            cpu: {min: 250m, max: "8", default: "1"}
            gpu: {min: 0, max: 2}
          limit_factor: 1.5
        """
    )
    result = explain(profiles, user="u", image="i", size="Custom", cpu="2", gpu=1)
    assert result.ranges == (
        RangeChoice("cpu", "2", "250m", "8", "1"),
        RangeChoice("gpu", "1", "0", "2", "0"),
    )
    assert result.limit_factor == "1.5"
    assert result.gpu == 1 and result.gpu_set_by == "size 'Custom' (range gpu: 1)"
    cpu = {o.key: o for o in result.of("resources")}
    assert (cpu["requests.cpu"].set_by, cpu["requests.cpu"].replaced) == (
        "size 'Custom' (range cpu: 2)",
        ("profile 'base'",),
    )
    assert (cpu["limits.cpu"].detail, cpu["limits.cpu"].set_by) == ("3", "size 'Custom' (range cpu: 2 × 1.5)")
    assert cpu["limits.nvidia.com/gpu"].set_by == "size 'Custom' (range gpu: 1)"
    assert explain(profiles, user="u", image="i").ranges == ()
    with pytest.raises(UserOptionError, match="size 'Custom': cpu '9' is out of range: choose 250m to 8"):
        explain(profiles, user="u", image="i", size="Custom", cpu="9")
