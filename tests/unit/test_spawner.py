"""ProfileKubeSpawner and the modify_pod_hook: same pods, no leaks, 400 for bad choices."""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
from kubespawner import KubeSpawner
from tornado import web

import profilespawner
from profilespawner import ProfileKubeSpawner, ResourceConflictError, SingleuserProfiles, apply_pod_profile
from profilespawner import profiles as profiles_module
from profilespawner.errors import UserOptionError
from profilespawner.kubemodel import to_json

GOLDEN = Path(__file__).parent / "golden"

PROFILES = """\
profiles:
- name: globals
  env: [{name: TEAM, value: everyone}]
sizes:
- name: Small
  resources: {requests: {cpu: "1", memory: 1Gi}, limits: {cpu: "2", memory: 2Gi}}
  env: [{name: SIZE, value: small}]
- name: Large
  resources: {requests: {cpu: "4"}, limits: {cpu: "8"}}
  node_tolerations: [{key: large, operator: Exists}]
  labels: {size: large}
- name: Secret
  users: [root]
"""


async def pod_for(spawner: Any) -> dict[str, Any]:
    await spawner.load_user_options()
    return to_json(await spawner.get_pod_manifest())


@pytest.mark.parametrize("case", sorted(p.name for p in GOLDEN.iterdir()))
async def test_hook_on_plain_kubespawner_gives_the_same_pod(case: str, make_spawner: Any) -> None:
    from ruamel.yaml import YAML

    spec = YAML(typ="safe").load((GOLDEN / case / "case.yaml").read_text())
    files = [str(GOLDEN / case / "profiles.yaml")]
    kwargs = dict(
        user=spec["user"], groups=spec["groups"], image=spec["image"], user_options=spec["user_options"]
    )
    ours = await pod_for(make_spawner(files, **kwargs, **spec["kubespawner"]))
    plain = make_spawner(files, spawner_class=KubeSpawner, **kwargs, **spec["kubespawner"])
    await plain.load_user_options()
    hooked = to_json(await apply_pod_profile(plain, await plain.get_pod_manifest()))
    assert hooked == ours


async def test_the_hook_returns_the_kind_of_pod_it_gets(make_spawner: Any, write_yaml: Any) -> None:
    spawner = make_spawner([write_yaml(PROFILES)], spawner_class=KubeSpawner)
    pod = await spawner.get_pod_manifest()
    assert type(await apply_pod_profile(spawner, pod)) is type(pod)
    assert isinstance(await apply_pod_profile(spawner, to_json(pod)), dict)


async def test_two_spawns_in_a_row_with_different_sizes_leak_nothing(
    make_spawner: Any, write_yaml: Any
) -> None:
    files = [write_yaml(PROFILES)]
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
    make_spawner: Any, write_yaml: Any, size: str
) -> None:
    spawner = make_spawner([write_yaml(PROFILES)], user_options={"size": size})
    with pytest.raises(web.HTTPError) as info:
        await spawner.load_user_options()
    assert info.value.status_code == 400
    message = info.value.log_message % info.value.args
    assert "choose one of: 'Default', 'Small', 'Large'" in message
    assert "Secret'" not in message.split("choose one of")[1]
    with pytest.raises(web.HTTPError):
        await spawner.get_pod_manifest()


async def test_unknown_gpu_type_is_http_400(make_spawner: Any, write_yaml: Any) -> None:
    spawner = make_spawner([write_yaml(PROFILES)], user_options={"gpu_type": "h100"})
    with pytest.raises(web.HTTPError) as info:
        await spawner.load_user_options()
    assert info.value.status_code == 400


async def test_the_hook_answers_an_unknown_size_with_http_400(make_spawner: Any, write_yaml: Any) -> None:
    """The modify_pod_hook is the other entry point: the same refusal, the same answer."""
    spawner = make_spawner([write_yaml(PROFILES)], spawner_class=KubeSpawner, user_options={"size": "Medium"})
    with pytest.raises(web.HTTPError) as info:
        await apply_pod_profile(spawner, await spawner.get_pod_manifest())
    assert info.value.status_code == 400
    assert isinstance(info.value.__cause__, UserOptionError)
    assert "choose one of: 'Default', 'Small', 'Large'" in info.value.jupyterhub_message


async def test_the_profile_engine_refuses_with_its_own_error_not_http(
    make_spawner: Any, write_yaml: Any
) -> None:
    """Only the entry points speak HTTP: SingleuserProfiles raises the error of the tree."""
    spawner = make_spawner([write_yaml(PROFILES)], user_options={"size": "Medium"})
    with pytest.raises(UserOptionError, match="size 'Medium' is not available") as info:
        await spawner.singleuser_profiles.resolve(spawner)
    assert not isinstance(info.value, web.HTTPError)


async def test_a_spawn_resolves_once(
    make_spawner: Any, write_yaml: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """load_user_options resolves (and refuses, before KubeSpawner creates anything);
    get_pod_manifest applies that resolution. Without load_user_options, it resolves itself."""
    calls: list[str] = []
    real = profiles_module.resolve

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs["user"])
        return real(*args, **kwargs)

    monkeypatch.setattr(profiles_module, "resolve", counted)
    spawner = make_spawner([write_yaml(PROFILES)], user_options={"size": "Small"})
    await spawner.load_user_options()
    await spawner.get_pod_manifest()
    assert calls == ["alice"]
    await spawner.get_pod_manifest()  # a second pod for the same spawner: resolved anew
    assert calls == ["alice", "alice"]
    fresh = make_spawner([write_yaml(PROFILES)], user="bob")
    env = {
        v["name"]: v.get("value")
        for v in to_json(await fresh.get_pod_manifest())["spec"]["containers"][0]["env"]
    }
    assert calls == ["alice", "alice", "bob"]
    assert env["TEAM"] == "everyone"


async def test_request_above_kubespawners_limit_fails_the_spawn(make_spawner: Any, write_yaml: Any) -> None:
    path = write_yaml("profiles: [{name: big, resources: {requests: {memory: 4Gi}}}]")
    spawner = make_spawner([path], mem_limit="1G")
    await spawner.load_user_options()
    with pytest.raises(ResourceConflictError, match="profiles 'big'; size none"):
        await spawner.get_pod_manifest()


async def test_one_shared_instance_per_process(make_spawner: Any, write_yaml: Any) -> None:
    files = [write_yaml(PROFILES)]
    a, b = make_spawner(files, user="a"), make_spawner(files, user="b")
    assert a.singleuser_profiles is b.singleuser_profiles
    first = a.singleuser_profiles
    assert first is SingleuserProfiles.instance()
    SingleuserProfiles.clear_instance()
    assert make_spawner(files).singleuser_profiles is not first


def touch_with(path: str, text: str, bump: int = 1_000_000) -> None:
    """Rewrite ``path`` with a modification time that differs even on coarse clocks."""
    import os

    Path(path).write_text(text)
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + bump))


async def test_the_pod_gets_what_load_user_options_checked(make_spawner: Any, write_yaml: Any) -> None:
    path = write_yaml(PROFILES)
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


async def test_the_hook_leaves_kubespawners_own_size_option_alone(make_spawner: Any, write_yaml: Any) -> None:
    profile_list = [
        {
            "display_name": "Python",
            "slug": "py",
            "profile_options": {
                "size": {"display_name": "Size", "choices": {"l": {"display_name": "L"}}},
                "gpu_type": {"display_name": "GPU", "choices": {"x": {"display_name": "X"}}},
            },
        }
    ]
    spawner = make_spawner(
        [write_yaml(PROFILES)],
        spawner_class=KubeSpawner,
        profile_list=profile_list,
        user_options={"size": "l", "gpu_type": "x"},  # the default profile's options
    )
    await spawner.load_user_options()
    pod = await apply_pod_profile(spawner, await spawner.get_pod_manifest())
    assert any(v.name == "TEAM" for v in pod.spec.containers[0].env)


def configmap_spawner(**settings: Any) -> Any:
    """An offline spawner whose profiles come from ConfigMaps (an API nothing answers)."""
    from traitlets.config import Config

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


# -- files: precedence, re-reading, last valid version -----------------------------


def names(profile_set: Any) -> list[str]:
    return [p.name for p in profile_set.profiles]


async def test_files_in_listed_order(write_yaml: Any) -> None:
    first = write_yaml(
        "profiles: [{name: one}]\nsizes: [{name: S, env: [{name: A, value: first}]}]", "a.yaml"
    )
    second = write_yaml(
        "profiles: [{name: two}]\nsizes: [{name: S, env: [{name: A, value: second}]}]", "b.yaml"
    )
    profiles = SingleuserProfiles(files=[second, first], configmap_name="", label_selector="")
    loaded = await profiles.load_profiles()
    assert names(loaded) == ["two", "one"]
    assert loaded.sizes["S"].settings.env[0]["value"] == "first"


async def test_file_changes_apply_and_a_bad_edit_keeps_the_last_valid_version(
    write_yaml: Any, caplog: pytest.LogCaptureFixture
) -> None:
    import os

    good = write_yaml("profiles: [{name: v1}]", "a.yaml")
    other = write_yaml("profiles: [{name: other}]", "b.yaml")
    profiles = SingleuserProfiles(files=[good, other], configmap_name="", label_selector="")
    assert names(await profiles.load_profiles()) == ["v1", "other"]

    def rewrite(text: str, bump: int) -> None:
        Path(good).write_text(text)
        st = os.stat(good)
        os.utime(good, ns=(st.st_atime_ns, st.st_mtime_ns + bump))  # a new mtime even on coarse clocks

    rewrite("profiles: [{name: v2}]", 1_000_000)
    assert names(await profiles.load_profiles()) == ["v2", "other"]

    caplog.clear()
    rewrite("profiles: [{name: v3, resouces: {}}]\n# s3cr3t-value", 2_000_000)
    for _ in range(3):
        assert names(await profiles.load_profiles()) == ["v2", "other"]
    rejected = [r for r in caplog.records if "Rejected" in r.getMessage()]
    assert len(rejected) == 1, "logged once per change"
    assert rejected[0].levelname == "ERROR"
    assert "unknown key 'resouces'" in rejected[0].getMessage()
    assert "keeping its last valid version" in rejected[0].getMessage()
    assert all("s3cr3t" not in r.getMessage() for r in caplog.records)

    rewrite("profiles: [{name: v4}]", 3_000_000)
    assert names(await profiles.load_profiles()) == ["v4", "other"]

    os.remove(good)
    assert names(await profiles.load_profiles()) == ["other"]


async def test_a_bad_file_without_a_valid_version_does_not_stop_the_others(
    write_yaml: Any, make_spawner: Any
) -> None:
    bad = write_yaml("profiles: [{name: x, gpu: lots}]", "bad.yaml")
    good = write_yaml(PROFILES, "good.yaml")
    spawner = make_spawner([bad, good], user_options={"size": "Small"})
    pod = await pod_for(spawner)
    env = {v["name"]: v.get("value") for v in pod["spec"]["containers"][0]["env"]}
    assert env["TEAM"] == "everyone" and env["SIZE"] == "small"


async def test_a_huge_file_is_refused_without_reading_it_all(
    tmp_path: Path, write_yaml: Any, caplog: pytest.LogCaptureFixture
) -> None:
    import os
    import tracemalloc

    huge = tmp_path / "huge.yaml"
    huge.touch()
    os.truncate(huge, 2**30)  # a GiB (sparse)
    good = write_yaml("profiles: [{name: good}]", "good.yaml")
    profiles = SingleuserProfiles(files=[str(huge), good], configmap_name="", label_selector="")
    tracemalloc.start()
    try:
        assert names(await profiles.load_profiles()) == ["good"]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 32 * 2**20
    (rejected,) = [r for r in caplog.records if "Rejected profile source" in r.getMessage()]
    assert f"{huge}: the document is larger than 4 MiB" in rejected.getMessage()


async def test_a_missing_file_is_not_an_error(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG", logger="profilespawner")
    profiles = SingleuserProfiles(files=[str(tmp_path / "nope.yaml")], configmap_name="", label_selector="")
    assert names(await profiles.load_profiles()) == []
    assert names(await profiles.load_profiles()) == []
    debug = [r for r in caplog.records if "does not exist" in r.getMessage()]
    assert len(debug) == 1 and debug[0].levelname == "DEBUG"
    (tmp_path / "nope.yaml").write_text("profiles: [{name: now}]")
    assert names(await profiles.load_profiles()) == ["now"]


# -- traits and the public surface ----------------------------------------------


@pytest.mark.parametrize(
    ("trait", "value", "message"),
    [
        (
            "default_mount_path",
            "relative/path",
            "SingleuserProfiles.default_mount_path must be an absolute path",
        ),
        (
            "gpu_resource_name",
            "not a name",
            "SingleuserProfiles.gpu_resource_name must be a Kubernetes resource name",
        ),
    ],
)
def test_trait_validation_names_the_trait(trait: str, value: str, message: str) -> None:
    from traitlets import TraitError

    with pytest.raises(TraitError, match=message):
        SingleuserProfiles(**{trait: value})


def test_every_trait_is_configurable_and_documented() -> None:
    for name, trait in SingleuserProfiles.class_traits(config=True).items():
        help_text = trait.help or ""
        assert "versionadded" in help_text and "efault" in help_text, name


def test_public_api_is_exactly_all() -> None:
    from types import ModuleType

    public = {
        name
        for name in dir(profilespawner)
        if not name.startswith("_") and not isinstance(getattr(profilespawner, name), ModuleType)
    }
    assert public == set(profilespawner.__all__) - {"__version__"}


def test_entry_point_names_the_spawner() -> None:
    (ep,) = [ep for ep in entry_points(group="jupyterhub.spawners") if ep.name == "profiles"]
    assert ep.load() is ProfileKubeSpawner


# -- metrics and progress ------------------------------------------------------------


def sample(name: str, **labels: str) -> float | None:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value(name, labels)


async def test_metrics_count_loads_rejections_and_resolves(make_spawner: Any, write_yaml: Any) -> None:
    import os

    path = write_yaml(PROFILES, "metrics.yaml")
    loads = sample("profilespawner_source_loads_total", source=path) or 0.0
    resolves = sample("profilespawner_resolve_duration_seconds_count") or 0.0
    await pod_for(make_spawner([path]))
    assert sample("profilespawner_source_loads_total", source=path) == loads + 1
    assert sample("profilespawner_source_valid", source=path) == 1
    assert sample("profilespawner_resolve_duration_seconds_count") == resolves + 1

    write_yaml("profiles: [{name: x, gpu: -1}]", "metrics.yaml")
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    await pod_for(make_spawner([path]))
    assert sample("profilespawner_source_valid", source=path) == 0
    assert (sample("profilespawner_source_rejections_total", source=path) or 0) >= 1


async def test_progress_says_which_profiles_and_size_were_applied(make_spawner: Any, write_yaml: Any) -> None:
    spawner = make_spawner([write_yaml(PROFILES)], user_options={"size": "Small"})
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
