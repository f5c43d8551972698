"""End to end through the hub's REST API: profiles from ConfigMaps reach the
running server process and its pod, changes apply without a restart, bad
input is refused with 400, a request above its limit with 409, and a bad
ConfigMap breaks nothing."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any

import pytest

from .helpers import (
    BASE_PROFILES,
    CONFIGMAP_CANARY,
    PROFILE_CANARY,
    S3_SECRET,
    configmap,
    notebook_resources,
    process_environment,
    wait_until,
)
from .stack import LocalStack


def spawn_form(stack: LocalStack, user: str) -> str:
    """The spawn page ``user`` sees, as HTML."""
    with stack.login(user).open(f"{stack.url}/hub/spawn", timeout=30) as response:
        return str(response.read().decode())


def size_names(form: str) -> list[str]:
    select = re.search(r'<select[^>]*name="size".*?</select>', form, re.S)
    return re.findall(r'<option value="([^"]*)"', select.group(0)) if select else []


def test_rest_spawn_gets_the_profiles(stack: LocalStack, spawn: Callable[..., dict[str, Any]]) -> None:
    spawn("dana")
    pod = stack.pod_of("dana")
    assert pod is not None
    pid = stack.server_pid("dana")
    env = process_environment(pid)

    assert env["JUPYTERHUB_USER"] == "dana"
    assert env["SITE"] == "e2e"  # the named ConfigMap, for everyone
    assert env["TEAM"] == "data-science"  # the labelled ConfigMap, for the group
    assert env["MLFLOW_TRACKING_URI"] == "http://mlflow.example:5000"  # envFrom a ConfigMap
    assert env["POD_NAME"] == pod["metadata"]["name"]  # fieldRef
    # Compared without showing either value, should it fail.
    has_credential = env.get("AWS_SECRET_ACCESS_KEY") == S3_SECRET
    assert has_credential, "AWS_SECRET_ACCESS_KEY of the server is not the value of Secret team-s3"
    assert notebook_resources(pod) == {
        "requests": {"cpu": "500m", "memory": "1Gi"},
        "limits": {"cpu": "2", "memory": "2Gi"},
    }
    # KubeSpawner's copies of the resources follow the profile (SPEC §6).
    assert env["MEM_LIMIT"] == str(2 * 1024**3)
    assert float(env["CPU_LIMIT"]) == 2.0

    stack.stop_server("dana")
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


@pytest.mark.parametrize(
    ("options", "allowed"),
    [
        pytest.param({"size": "Huge"}, ["Small", "Medium"], id="undefined-size"),
        pytest.param({"size": "Large"}, ["Small", "Medium"], id="size-of-another-group"),
        pytest.param({"size": "x" * 100_000}, ["Small", "Medium"], id="huge-size"),
        pytest.param({"size": ["Small"]}, ["Small", "Medium"], id="size-not-a-string"),
        pytest.param({"gpu_type": "h100"}, ["a100", "t4"], id="undefined-gpu-type"),
    ],
)
def test_forged_options_are_refused(stack: LocalStack, options: dict[str, Any], allowed: list[str]) -> None:
    status, body = stack.api("POST", "/users/eve/server", options)

    assert status == 400, (status, body)
    message = body["message"]
    assert all(name in message for name in allowed), message  # what eve may pick instead
    assert len(message) < 500, "the message must not echo a huge value"
    assert stack.pod_of("eve") is None
    status, user = stack.api("GET", "/users/eve")
    assert "" not in user["servers"]


def test_rest_spawn_picks_values_within_a_custom_size(
    stack: LocalStack, spawn: Callable[..., dict[str, Any]]
) -> None:
    """cpu as a JSON number, memory as a string, gpu as an integer: requests at
    the values, limits at twice them (limit_factor 2), the GPU as ``gpu: 1``
    with its types' tolerations, and the server's variables to match."""
    spawn("quinn", size="Custom", cpu=2.5, memory="3Gi", gpu=1)
    pod = stack.pod_of("quinn")
    assert pod is not None
    assert notebook_resources(pod) == {
        "requests": {"cpu": "2500m", "memory": "3Gi", "nvidia.com/gpu": "1"},
        "limits": {"cpu": "5", "memory": "6Gi", "nvidia.com/gpu": "1"},
    }
    assert pod["spec"]["nodeName"].startswith("gpu-")  # the scheduler put it on a GPU pool
    assert pod["metadata"]["annotations"]["profilespawner/size"] == "Custom"
    env = process_environment(stack.server_pid("quinn"))
    assert (env["CPU_GUARANTEE"], env["CPU_LIMIT"]) == ("2.5", "5.0")
    assert (env["MEM_GUARANTEE"], env["MEM_LIMIT"]) == (str(3 * 2**30), str(6 * 2**30))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        pytest.param(
            {"size": "Custom", "cpu": "40"},
            "size 'Custom': cpu '40' is out of range: choose 500m to 4",
            id="cpu-above-max",
        ),
        pytest.param(
            {"size": "Custom", "memory": 512 * 2**20},
            "size 'Custom': memory 536870912 is out of range: choose 1Gi to 8Gi",
            id="memory-below-min-as-a-number",
        ),
        pytest.param(
            {"size": "Custom", "gpu": 2},
            "size 'Custom': gpu 2 is out of range: choose 0 to 1",
            id="gpu-above-max",
        ),
        pytest.param(
            {"size": "Custom", "gpu": 0.5},
            "size 'Custom': gpu 0.5 is not a whole number: choose 0 to 1",
            id="gpu-not-whole",
        ),
        pytest.param(
            {"size": "Custom", "cpu": "two"},
            "size 'Custom': cpu 'two' is not a quantity: choose 500m to 4",
            id="not-a-quantity",
        ),
        pytest.param(
            {"size": "Custom", "cpu": True},
            "size 'Custom': cpu (true) is not a quantity: choose 500m to 4",
            id="bool",
        ),
        pytest.param(
            {"size": "Custom", "memory": ["4Gi"]},
            "size 'Custom': memory (a list) is not a quantity: choose 1Gi to 8Gi",
            id="list",
        ),
        pytest.param(
            {"size": "Custom", "memory": {"value": "4Gi"}},
            "size 'Custom': memory (a mapping) is not a quantity: choose 1Gi to 8Gi",
            id="mapping",
        ),
        # Python's json (the test's client) writes NaN and Infinity; the hub reads them.
        pytest.param(
            {"size": "Custom", "cpu": float("nan")},
            "size 'Custom': cpu (nan) is not a quantity: choose 500m to 4",
            id="nan",
        ),
        pytest.param(
            {"size": "Custom", "cpu": float("inf")},
            "size 'Custom': cpu (inf) is not a quantity: choose 500m to 4",
            id="inf",
        ),
        pytest.param(
            {"size": "Custom", "cpu": "1" * 100_000},
            "size 'Custom': cpu (a string of 100000 characters, not shown) is longer than 32 characters",
            id="huge-string",
        ),
        pytest.param(
            {"cpu": "2"},
            "cpu '2' needs a size with a cpu range: choose one of: 'Custom'",
            id="no-size",
        ),
        pytest.param(
            {"size": "Small", "memory": "4Gi"},
            "size 'Small': memory '4Gi' cannot be chosen: this size has no memory range (it has no ranges)",
            id="size-without-ranges",
        ),
    ],
)
def test_forged_range_values_are_refused(stack: LocalStack, options: dict[str, Any], message: str) -> None:
    status, body = stack.api("POST", "/users/rita/server", options)

    assert status == 400, (status, body)
    assert body["message"].startswith(message), body["message"]
    assert len(body["message"]) < 200, "the message must not echo a huge value"
    assert stack.pod_of("rita") is None
    status, user = stack.api("GET", "/users/rita")
    assert "" not in user["servers"]


def test_configmap_edit_applies_to_the_next_spawn(
    stack: LocalStack, spawn: Callable[..., dict[str, Any]]
) -> None:
    def profiles(mark: str, size: str, cpu: str) -> str:
        return (
            f"profiles:\n- name: edited\n  users: [frank]\n  env:\n  - {{name: EDIT_MARK, value: {mark}}}\n"
            f"sizes:\n- name: {size}\n  users: [frank]\n"
            f"  resources: {{requests: {{cpu: {cpu}}}, limits: {{cpu: {cpu}}}}}\n"
        )

    try:
        stack.apply(configmap("profiles-zz-edit", profiles("one", "Before", "300m")))
        wait_until("size Before in the form", lambda: "Before" in size_names(spawn_form(stack, "frank")))
        spawn("frank", size="Before")
        env = process_environment(stack.server_pid("frank"))
        assert env["EDIT_MARK"] == "one"
        pod = stack.pod_of("frank")
        assert pod is not None
        assert notebook_resources(pod)["limits"]["cpu"] == "300m"
        stack.stop_server("frank")

        # The labelled ConfigMap changes, and the named one (from the start) gets a size.
        stack.apply(configmap("profiles-zz-edit", profiles("two", "After", "700m")))
        extra = "- name: Extra\n  users: [frank]\n  resources: {limits: {cpu: 100m}}\n"
        stack.apply(configmap("jupyter-singleuser-profiles", BASE_PROFILES + extra, labelled=False))
        wait_until(
            "sizes After and Extra in the form",
            lambda: {"After", "Extra"} <= set(size_names(spawn_form(stack, "frank"))),
        )
        assert "Before" not in size_names(spawn_form(stack, "frank"))
        status, _ = stack.api("POST", "/users/frank/server", {"size": "Before"})
        assert status == 400
        spawn("frank", size="After")
        env = process_environment(stack.server_pid("frank"))
        assert env["EDIT_MARK"] == "two"
        pod = stack.pod_of("frank")
        assert pod is not None
        assert notebook_resources(pod)["limits"]["cpu"] == "700m"
    finally:
        stack.delete("ConfigMap", "profiles-zz-edit")
        stack.apply(configmap("jupyter-singleuser-profiles", BASE_PROFILES, labelled=False))


def test_a_request_above_its_limit_gets_409_and_no_pod(stack: LocalStack) -> None:
    """A size asking for more cpu than the limit the profile for everyone sets:
    ProfileKubeSpawner refuses it in load_user_options, before anything is created."""
    oversized = "sizes:\n- name: Oversized\n  users: [eve]\n  resources: {requests: {cpu: '1'}}\n"
    try:
        stack.apply(configmap("profiles-zz-oversized", oversized))
        wait_until("size Oversized in the form", lambda: "Oversized" in size_names(spawn_form(stack, "eve")))
        status, body = stack.api("POST", "/users/eve/server", {"size": "Oversized"})

        assert status == 409, (status, body)
        assert body["message"] == (
            "resources.requests.cpu: the request of 'cpu' ends up above its limit "
            "(profiles 'everyone'; size 'Oversized'; KubeSpawner's own resource settings count too)"
        )
        assert stack.pod_of("eve") is None
        status, user = stack.api("GET", "/users/eve")
        assert "" not in user["servers"]
    finally:
        stack.delete("ConfigMap", "profiles-zz-oversized")


@pytest.mark.parametrize(
    "content",
    [
        pytest.param("profiles: [name: broken\n", id="yaml-syntax"),
        pytest.param("profiles:\n- name: typo\n  resouces: {limits: {cpu: '1'}}\n", id="unknown-key"),
        # once raised AttributeError in the validator: the watch looped on it
        pytest.param("profiles:\n- name: c\n  resources: {requests: {1: 2}}\n", id="crashed-the-validator"),
        # once validated, then failed every spawn it matched (IndexError)
        pytest.param("profiles:\n- name: p\n  env: [{name: X, value: '{username[99]}'}]\n", id="placeholder"),
    ],
)
def test_broken_configmap_breaks_nothing(
    stack: LocalStack, spawn: Callable[..., dict[str, Any]], content: str
) -> None:
    name = "profiles-broken"
    rejected = re.compile(rf"Rejected profile source {re.escape(stack.namespace)}/{name}\b")
    seen = len(rejected.findall(stack.hub_log.read_text()))
    try:
        stack.apply(configmap(name, content))
        wait_until(
            "the hub to reject the ConfigMap", lambda: len(rejected.findall(stack.hub_log.read_text())) > seen
        )
        spawn("gina")
        env = process_environment(stack.server_pid("gina"))
        assert env["SITE"] == "e2e"
        assert env["TEAM"] == "data-science"
    finally:
        stack.delete("ConfigMap", name)


def test_no_log_holds_a_credential(stack: LocalStack, spawn: Callable[..., dict[str, Any]]) -> None:
    """At DEBUG, after the spawns of this module: no credential value from a
    Secret, a profile or a ConfigMap appears in any log of the stack."""
    spawn("dana")  # a member of data-science: gets all three values
    env = process_environment(stack.server_pid("dana"))
    delivered = [env.get("AWS_SECRET_ACCESS_KEY"), env.get("TEAM_TOKEN"), env.get("MLFLOW_TOKEN")]
    assert delivered == [S3_SECRET, PROFILE_CANARY, CONFIGMAP_CANARY], "the values must reach the server"
    logs = list(stack.logs())
    assert any("[D " in log.read_text(errors="replace") for log in logs), "the hub should log at DEBUG"
    values = {"Secret": S3_SECRET, "profile": PROFILE_CANARY, "ConfigMap": CONFIGMAP_CANARY}
    for log in logs:
        text = log.read_text(errors="replace")
        for where, value in values.items():
            assert value not in text, f"{log.name} contains the {where} value"
