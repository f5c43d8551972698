"""ProfileKubeSpawner: its pods get the profiles, a spawn resolves once and refuses bad
choices with 400 before anything is created, nothing leaks between spawns."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from kubespawner import KubeSpawner
from tornado import web
from traitlets.config import Config

from profilespawner import MountConflictError, ProfileKubeSpawner, ResourceConflictError, SingleuserProfiles
from profilespawner.kubemodel import to_json


async def test_two_spawns_in_a_row_with_different_sizes_leak_nothing(
    pod_for: Any, spawn_profiles: str, make_spawner: Any
) -> None:
    files = [spawn_profiles]
    spawner = make_spawner(files)
    pods = {}
    for size in ("Large", "Small", None, "Large"):
        spawner.user_options = {"size": size} if size else {}
        pod = await pod_for(spawner)
        fresh = await pod_for(make_spawner(files, user_options=spawner.user_options))
        assert pod == fresh, size
        pods[size] = pod
    assert pods["Large"]["metadata"]["labels"]["size"] == "large"
    assert "size" not in pods["Small"]["metadata"]["labels"]
    assert "tolerations" not in pods[None]["spec"]
    env_small = {v["name"] for v in pods["Small"]["spec"]["containers"][0]["env"]}
    env_none = {v["name"] for v in pods[None]["spec"]["containers"][0]["env"]}
    assert "SIZE" in env_small and "SIZE" not in env_none


@pytest.mark.parametrize("size", ["Medium", "Secret", "large"])
async def test_unknown_or_forbidden_size_is_http_400_before_anything_is_created(
    spawn_profiles: str, make_spawner: Any, size: str
) -> None:
    spawner = make_spawner([spawn_profiles], user_options={"size": size})
    with pytest.raises(web.HTTPError) as info:
        await spawner.load_user_options()
    assert info.value.status_code == 400
    message = info.value.log_message % info.value.args
    assert "choose one of: 'Default', 'Small', 'Large'" in message
    assert "Secret'" not in message.split("choose one of")[1]
    with pytest.raises(web.HTTPError):
        await spawner.get_pod_manifest()


async def test_unknown_gpu_type_is_http_400(spawn_profiles: str, make_spawner: Any) -> None:
    spawner = make_spawner([spawn_profiles], user_options={"gpu_type": "h100"})
    with pytest.raises(web.HTTPError) as info:
        await spawner.load_user_options()
    assert info.value.status_code == 400


async def test_a_spawn_resolves_once(
    spawn_profiles: str, make_spawner: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """load_user_options resolves (and refuses, before KubeSpawner creates anything);
    get_pod_manifest applies that resolution. Without load_user_options, it resolves itself."""
    calls: list[str] = []
    real = SingleuserProfiles.resolve

    async def counted(self: SingleuserProfiles, spawner: Any, profile_set: Any = None) -> Any:
        calls.append(spawner.user.name)
        return await real(self, spawner, profile_set)

    monkeypatch.setattr(SingleuserProfiles, "resolve", counted)
    spawner = make_spawner([spawn_profiles], user_options={"size": "Small"})
    await spawner.load_user_options()
    await spawner.get_pod_manifest()
    assert calls == ["alice"]
    await spawner.get_pod_manifest()  # a second pod for the same spawner: resolved anew
    assert calls == ["alice", "alice"]
    fresh = make_spawner([spawn_profiles], user="bob")
    env = {
        v["name"]: v.get("value")
        for v in to_json(await fresh.get_pod_manifest())["spec"]["containers"][0]["env"]
    }
    assert calls == ["alice", "alice", "bob"]
    assert env["TEAM"] == "everyone"


async def test_request_above_kubespawners_limit_fails_the_spawn_before_anything_is_created(
    make_spawner: Any, write_yaml: Any
) -> None:
    path = write_yaml("profiles: [{name: big, resources: {requests: {memory: 4Gi}}}]")
    spawner = make_spawner([path], mem_limit="1G")
    # load_user_options runs before KubeSpawner creates a PVC or the pod
    with pytest.raises(web.HTTPError) as info:
        await spawner.load_user_options()
    # a refusal the user sees (409), not a hub error (500)
    assert info.value.status_code == 409
    assert isinstance(info.value.__cause__, ResourceConflictError)
    assert info.value.jupyterhub_message == (
        "resources.requests.memory: the request of 'memory' ends up above its limit "
        "(profiles 'big'; size none; KubeSpawner's own resource settings count too)"
    )
    # A pod made without that check (no load_user_options) is refused the same way.
    with pytest.raises(web.HTTPError) as again:
        await make_spawner([path], mem_limit="1G").get_pod_manifest()
    assert again.value.status_code == 409
    assert again.value.jupyterhub_message == info.value.jupyterhub_message


async def test_two_profiles_mounting_at_one_path_are_refused_before_anything_is_created(
    make_spawner: Any, write_yaml: Any
) -> None:
    path = write_yaml(
        "profiles:\n"
        "- {name: team, volumes: [{name: team, emptyDir: {}, mountPath: /data}]}\n"
        "- {name: own, volumes: [{name: own, emptyDir: {}, mountPath: /data}]}\n"
    )
    spawner = make_spawner([path])
    # load_user_options runs before KubeSpawner creates a PVC or the pod
    with pytest.raises(web.HTTPError) as info:
        await spawner.load_user_options()
    assert info.value.status_code == 409
    assert isinstance(info.value.__cause__, MountConflictError)
    assert info.value.jupyterhub_message.startswith(
        "volumes: volume 'team' (profile 'team') and volume 'own' (profile 'own') are mounted at one path"
    )


def touch_with(path: str, text: str, bump: int = 1_000_000) -> None:
    """Rewrite ``path`` with a modification time that differs even on coarse clocks."""

    Path(path).write_text(text)
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + bump))


async def test_the_pod_gets_what_load_user_options_checked(spawn_profiles: str, make_spawner: Any) -> None:
    path = spawn_profiles
    spawner = make_spawner([path], user_options={"size": "Small"})
    await spawner.load_user_options()
    # KubeSpawner now creates the PVC (or namespace); meanwhile the size goes away.
    touch_with(path, "profiles: [{name: globals}]")
    pod = to_json(await spawner.get_pod_manifest())  # once HTTP 400, after the PVC existed
    env = {v["name"]: v.get("value") for v in pod["spec"]["containers"][0]["env"]}
    assert env["SIZE"] == "small"
    # The next spawn is checked against the profiles of its own time.
    with pytest.raises(web.HTTPError) as info:
        await spawner.load_user_options()
    assert info.value.status_code == 400


async def test_a_spawn_whose_image_changes_after_the_check_is_resolved_again(
    make_spawner: Any, write_yaml: Any
) -> None:
    path = write_yaml(
        "profiles: [{name: spark, images: [spark-notebook], env: [{name: SPARK, value: 'yes'}]}]"
    )
    spawner = make_spawner([path], image="minimal-notebook:1")
    await spawner.load_user_options()
    spawner.image = "spark-notebook:3"  # as `profilespawner render --image` does
    pod = to_json(await spawner.get_pod_manifest())
    assert any(v["name"] == "SPARK" for v in pod["spec"]["containers"][0]["env"])


def configmap_spawner(**settings: Any) -> Any:
    """An offline spawner whose profiles come from ConfigMaps (an API nothing answers)."""

    from profilespawner.tools.offline import offline_spawner

    config = Config()
    config.SingleuserProfiles.initial_load_timeout = 0.0
    config.KubeSpawner.namespace = "hub-ns"
    for name, value in settings.pop("profiles", {}).items():
        setattr(config.SingleuserProfiles, name, value)
    for name, value in settings.pop("kubespawner", {}).items():
        setattr(config.KubeSpawner, name, value)
    return offline_spawner(ProfileKubeSpawner, user="alice", config=config, **settings)


async def test_the_watched_namespace_is_the_configured_one_not_a_profile_override() -> None:
    profile_list = [
        {"display_name": "Home", "slug": "home", "default": True},
        {"display_name": "Away", "slug": "away", "kubespawner_override": {"namespace": "elsewhere"}},
    ]
    # The first request of the hub is an API spawn with the override (not a form render).
    spawner = configmap_spawner(kubespawner={"profile_list": profile_list}, user_options={"profile": "away"})
    await spawner.load_user_options()
    assert spawner.namespace == "elsewhere"  # the pod goes there...
    source = SingleuserProfiles.instance()._configmaps
    assert source is not None and source.namespace == "hub-ns"  # ...the profiles are the hub's
    await SingleuserProfiles.instance().close()


async def test_in_fail_mode_the_form_and_the_spawn_answer_503_with_the_reason() -> None:
    spawner = configmap_spawner(profiles={"on_api_unavailable": "fail"})
    for attempt in (spawner.get_options_form, spawner.load_user_options):
        with pytest.raises(web.HTTPError) as info:
            await attempt()
        assert info.value.status_code == 503
        assert info.value.jupyterhub_message.startswith("Server profiles cannot be read from Kubernetes")
        assert "Cannot list the profile ConfigMaps in namespace 'hub-ns'" in str(info.value)
    await SingleuserProfiles.instance().close()


async def test_progress_says_which_profiles_and_size_were_applied(
    pod_for: Any, spawn_profiles: str, make_spawner: Any
) -> None:
    spawner = make_spawner([spawn_profiles], user_options={"size": "Small"})
    await pod_for(spawner)

    async def kubespawner_events(self: Any) -> Any:
        yield {"progress": 10, "message": "Pod scheduled"}
        yield {"progress": 50, "message": "Pulling image"}

    original = KubeSpawner.progress
    KubeSpawner.progress = kubespawner_events
    try:
        events = [event async for event in spawner.progress()]
    finally:
        KubeSpawner.progress = original
    assert events[0] == {"progress": 10, "message": "Applied profiles 'globals'; size 'Small'"}
    assert [e["message"] for e in events[1:]] == ["Pod scheduled", "Pulling image"]


CUSTOM = """\
sizes:
- name: Custom
  ranges:
    cpu: {min: "1", max: "16", default: "2"}
    memory: {min: 2Gi, max: 64Gi, default: 8Gi}
    gpu: {min: 0, max: 4, default: 0}
  limit_factor: 2
gpuTypes:
- type: a100
  node_tolerations: [{key: a100, operator: Exists, effect: NoSchedule}]
"""


async def test_a_custom_size_gets_the_values_chosen_and_the_variables_follow(
    pod_for: Any, make_spawner: Any, write_yaml: Any
) -> None:
    # KubeSpawner's own cpu and memory settings are replaced, request and limit alike
    spawner = make_spawner(
        [write_yaml(CUSTOM)],
        user_options={"size": "Custom", "cpu": 3.5, "memory": "12Gi", "gpu": "1"},
        cpu_guarantee=0.5,
        cpu_limit=1.0,
        mem_limit="1G",
    )
    pod = await pod_for(spawner)
    container = pod["spec"]["containers"][0]
    assert container["resources"] == {
        "requests": {"cpu": "3500m", "memory": "12Gi", "nvidia.com/gpu": "1"},
        "limits": {"cpu": "7", "memory": "24Gi", "nvidia.com/gpu": "1"},
    }
    env = {v["name"]: v.get("value") for v in container["env"]}
    assert (env["CPU_GUARANTEE"], env["CPU_LIMIT"]) == ("3.5", "7.0")
    assert (env["MEM_GUARANTEE"], env["MEM_LIMIT"]) == (str(12 * 2**30), str(24 * 2**30))
    assert {"key": "a100", "operator": "Exists", "effect": "NoSchedule"} in pod["spec"]["tolerations"]
    assert spawner._applied_profiles == "profiles none; size 'Custom' (cpu 3500m, memory 12Gi, gpu 1)"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"size": "Custom", "cpu": "40"}, "size 'Custom': cpu '40' is out of range: choose 1 to 16"),
        ({"cpu": "4"}, "cpu '4' needs a size with a cpu range: choose one of: 'Custom'"),
        ({"size": "Custom", "gpu": [1]}, "size 'Custom': gpu (a list) is not a whole number: choose 0 to 4"),
    ],
)
async def test_a_value_out_of_range_is_http_400_before_anything_is_created(
    make_spawner: Any, write_yaml: Any, options: dict[str, Any], message: str
) -> None:
    spawner = make_spawner([write_yaml(CUSTOM)], user_options=options)
    with pytest.raises(web.HTTPError) as info:
        await spawner.load_user_options()  # KubeSpawner creates a PVC or namespace only after it
    assert info.value.status_code == 400
    assert info.value.jupyterhub_message == message
