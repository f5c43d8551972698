"""End to end with plain KubeSpawner and profilespawner's hooks, as
docs/configuration.md sets them up: in Chromium, KubeSpawner's own
``profile_list`` choices and the sizes in one spawn form, and the pod gets
both; a forged REST request is refused with 400, and one whose request ends
up above its limit (KubeSpawner's own limits counted) with 409, before
KubeSpawner creates the PVC or the pod."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.controlplane.harness import ControlPlane

from .helpers import MANIFESTS, START_TIMEOUT, configmap, log_in, notebook_resources, process_environment
from .stack import LocalStack, NodeSet

#: user -> JupyterHub groups, for this module's hub.
USERS = {"quinn": ["data-science"], "rae": []}

SPARK_IMAGE = "quay.io/thoth-station/s2i-spark-notebook:3.6"

SPARK_PROFILES = """\
profiles:
- name: spark
  images: [s2i-spark-notebook]
  env:
  - {name: SPARK_MASTER, value: "spark://{username}-cluster:7077"}
"""

#: A size asking for more scratch space than the "capped" profile_list entry's
#: KubeSpawner limit allows.
SCRATCH_PROFILES = """\
sizes:
- name: Scratch
  users: [rae]
  resources: {requests: {ephemeral-storage: 2Gi}}
"""

#: The hub configuration of docs/configuration.md ("Keeping KubeSpawner"),
#: with a profile_list of KubeSpawner's own and a PVC for every server.
HOOKS_CONFIG = f"""
import profilespawner

c.JupyterHub.spawner_class = "kubespawner.KubeSpawner"
c.KubeSpawner.options_form = profilespawner.options_form
c.KubeSpawner.options_from_form = profilespawner.options_from_form
c.KubeSpawner.pre_spawn_hook = profilespawner.pre_spawn_hook
c.KubeSpawner.modify_pod_hook = profilespawner.apply_pod_profile
c.KubeSpawner.profile_list = [
    {{"display_name": "Minimal", "slug": "minimal", "default": True}},
    {{"display_name": "Spark", "slug": "spark", "kubespawner_override": {{"image": {SPARK_IMAGE!r}}}}},
    {{
        "display_name": "Capped scratch",
        "slug": "capped",
        "kubespawner_override": {{"extra_resource_limits": {{"ephemeral-storage": "1Gi"}}}},
    }},
]
c.KubeSpawner.storage_pvc_ensure = True
c.KubeSpawner.storage_capacity = "1Gi"
"""


@pytest.fixture(scope="module")
def hook_stack(
    e2e_ready: ControlPlane, nodes: NodeSet, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalStack]:
    """A hub of its own, in a namespace of its own, on the session's Nodes."""
    with LocalStack(
        tmp_path_factory.mktemp("hooks"),
        control_plane=e2e_ready,
        nodes=nodes,
        manifests=[
            *MANIFESTS,
            configmap("profiles-spark", SPARK_PROFILES),
            configmap("profiles-scratch", SCRATCH_PROFILES),
        ],
        users=USERS,
        extra_config=HOOKS_CONFIG,
        start_timeout=START_TIMEOUT,
    ) as local_stack:
        yield local_stack


def claim(stack: LocalStack, user: str) -> dict[str, Any] | None:
    """The PVC KubeSpawner creates for ``user`` (``claim-{username}``)."""
    return stack.get("PersistentVolumeClaim", f"claim-{user}")


def test_the_form_offers_profile_list_and_sizes_and_the_pod_gets_both(
    hook_stack: LocalStack, page: Any
) -> None:
    stack = hook_stack
    log_in(page, stack, "quinn")
    page.goto(f"{stack.url}/hub/spawn")
    # KubeSpawner's own choice, then profilespawner's
    entries = page.locator("input[name=profile]").evaluate_all("inputs => inputs.map(i => i.value)")
    assert entries == ["minimal", "spark", "capped"]
    select = page.get_by_label("Server size")
    offered = select.locator("option").evaluate_all("options => options.map(o => o.value)")
    assert offered == ["", "Small", "Medium", "Large"]  # Large: for data-science

    try:
        page.check("#profile-item-spark")
        select.select_option("Medium")
        page.get_by_role("button", name="Start").click()
        page.wait_for_url(f"{stack.url}/user/quinn/lab", timeout=90_000)

        pod = stack.pod_of("quinn")
        assert pod is not None
        notebook = next(c for c in pod["spec"]["containers"] if c["name"] == "notebook")
        assert notebook["image"] == SPARK_IMAGE  # the profile_list entry's
        assert notebook_resources(pod) == {  # the size's
            "requests": {"cpu": "1", "memory": "2Gi"},
            "limits": {"cpu": "2", "memory": "4Gi"},
        }
        # the profile matching the entry's image, seen by the check too
        env = process_environment(stack.server_pid("quinn"))
        assert env["SPARK_MASTER"] == "spark://quinn-cluster:7077"
        annotations = pod["metadata"]["annotations"]
        assert annotations["profilespawner/profiles"] == '["everyone","data science","spark"]'
        assert annotations["profilespawner/size"] == "Medium"
        sources = re.findall(r'"source":"([^"]+)"', annotations["profilespawner/sources"])
        assert sources == [
            f"{stack.namespace}/{name}"
            for name in (
                "jupyter-singleuser-profiles",
                "profiles-custom",
                "profiles-data-science",
                "profiles-placement",
                "profiles-scratch",
                "profiles-spark",
            )
        ]
        assert claim(stack, "quinn") is not None  # what a refused spawn must not leave
    finally:
        stack.stop_server("quinn")


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"size": "Large"}, id="size-of-another-group"),
        pytest.param({"size": "Huge"}, id="undefined-size"),
        pytest.param({"profile": "spark", "size": "Huge"}, id="with-a-profile_list-entry"),
        pytest.param({"gpu_type": "h100"}, id="undefined-gpu-type"),
    ],
)
def test_a_forged_rest_request_gets_400_and_nothing_is_created(
    hook_stack: LocalStack, options: dict[str, Any]
) -> None:
    stack = hook_stack
    status, body = stack.api("POST", "/users/rae/server", options)

    assert status == 400, (status, body)
    allowed = ["a100", "t4"] if "gpu_type" in options else ["Small", "Medium"]
    assert all(name in body["message"] for name in allowed), body["message"]
    assert stack.pod_of("rae") is None
    assert claim(stack, "rae") is None
    status, user = stack.api("GET", "/users/rae")
    assert "" not in user["servers"]


def test_a_request_above_kubespawners_limit_gets_409_and_nothing_is_created(hook_stack: LocalStack) -> None:
    stack = hook_stack
    status, body = stack.api("POST", "/users/rae/server", {"profile": "capped", "size": "Scratch"})

    assert status == 409, (status, body)
    assert body["message"] == (
        "resources.requests.ephemeral-storage: the request of 'ephemeral-storage' ends up above its "
        "limit (profiles 'everyone'; size 'Scratch'; KubeSpawner's own resource settings count too)"
    )
    assert stack.pod_of("rae") is None
    assert claim(stack, "rae") is None
    status, user = stack.api("GET", "/users/rae")
    assert "" not in user["servers"]
