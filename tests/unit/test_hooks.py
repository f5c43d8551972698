"""The hooks for plain KubeSpawner (options_form, options_from_form,
pre_spawn_hook, modify_pod_hook): the same form, the same refusals and the
same pods as ProfileKubeSpawner, which is built on the same functions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from kubespawner import KubeSpawner
from tornado import web

from profilespawner import (
    apply_pod_profile,
    options_form,
    options_from_form,
    pre_spawn_hook,
)
from profilespawner.errors import ResourceConflictError, UserOptionError
from profilespawner.kubemodel import to_json
from tests.support import rewrite

GOLDEN = Path(__file__).parent / "golden"

#: Plain KubeSpawner with every hook, as docs/configuration.md sets it up.
HOOKS = dict(
    spawner_class=KubeSpawner,
    options_form=options_form,
    options_from_form=options_from_form,
    pre_spawn_hook=pre_spawn_hook,
    modify_pod_hook=apply_pod_profile,
)


async def hooked_pod(spawner: Any) -> dict[str, Any]:
    """The pod KubeSpawner sends, as JupyterHub and KubeSpawner's start make
    it: pre_spawn_hook, load_user_options, get_pod_manifest, modify_pod_hook."""
    await spawner.run_pre_spawn_hook()
    await spawner.load_user_options()
    pod = await spawner.get_pod_manifest()
    return to_json(await spawner.modify_pod_hook(spawner, pod))  # type: ignore[no-any-return]


@pytest.mark.parametrize("case", sorted(p.name for p in GOLDEN.iterdir()))
async def test_hook_on_plain_kubespawner_gives_the_same_pod(
    pod_for: Any, case: str, make_spawner: Any
) -> None:
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
    assert await hooked_pod(make_spawner(files, **kwargs, **{**spec["kubespawner"], **HOOKS})) == ours


async def test_the_hook_returns_the_kind_of_pod_it_gets(spawn_profiles: str, make_spawner: Any) -> None:
    spawner = make_spawner([spawn_profiles], spawner_class=KubeSpawner)
    pod = await spawner.get_pod_manifest()
    assert type(await apply_pod_profile(spawner, pod)) is type(pod)
    assert isinstance(await apply_pod_profile(spawner, to_json(pod)), dict)


async def test_the_hook_leaves_kubespawners_own_size_option_alone(
    spawn_profiles: str, make_spawner: Any
) -> None:
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
        [spawn_profiles],
        spawner_class=KubeSpawner,
        profile_list=profile_list,
        user_options={"size": "l", "gpu_type": "x"},  # the default profile's options
    )
    await spawner.load_user_options()
    pod = await apply_pod_profile(spawner, await spawner.get_pod_manifest())
    assert any(v.name == "TEAM" for v in pod.spec.containers[0].env)


async def test_the_hook_answers_an_unknown_size_with_http_400(spawn_profiles: str, make_spawner: Any) -> None:
    """The modify_pod_hook is the other entry point: the same refusal, the same answer."""
    spawner = make_spawner([spawn_profiles], spawner_class=KubeSpawner, user_options={"size": "Medium"})
    with pytest.raises(web.HTTPError) as info:
        await apply_pod_profile(spawner, await spawner.get_pod_manifest())
    assert info.value.status_code == 400
    assert isinstance(info.value.__cause__, UserOptionError)
    assert "choose one of: 'Default', 'Small', 'Large'" in info.value.jupyterhub_message


# -- the form and the check of plain KubeSpawner with the hooks ------------------------

FORM_PROFILES = """\
sizes:
- name: Small
  resources: {requests: {cpu: "1"}, limits: {cpu: "2"}}
- name: Large
  groups: [data-science]
- name: GPU
  groups: [ml]
  gpu: 1
gpuTypes:
- {type: t4, description: NVIDIA T4}
"""

PROFILE_LIST = [
    {"display_name": "Python", "slug": "py", "kubespawner_override": {"image": "python:3"}},
    {
        "display_name": "Sized",
        "slug": "sized",
        "profile_options": {
            "size": {"display_name": "Size", "choices": {"l": {"display_name": "L"}}},
        },
    },
]


@pytest.mark.parametrize("groups", [[], ["data-science"], ["ml"]], ids=["nobody", "data-science", "ml"])
@pytest.mark.parametrize("profile_list", [[], PROFILE_LIST], ids=["no-profile-list", "profile-list"])
async def test_the_same_form_as_profilekubespawner(
    make_spawner: Any, write_yaml: Any, groups: list[str], profile_list: list[Any]
) -> None:
    files = [write_yaml(FORM_PROFILES)]
    options = {"size": "Small"}
    ours = make_spawner(files, groups=groups, profile_list=profile_list, user_options=options)
    hooked = make_spawner(files, groups=groups, profile_list=profile_list, user_options=options, **HOOKS)
    form = await hooked.get_options_form()
    assert form == await ours.get_options_form()
    assert '<option value="Small" selected>' in form
    if profile_list:  # KubeSpawner's own form, still shown, first
        assert form.index('value="py"') < form.index('name="size"')


@pytest.mark.parametrize(
    "formdata",
    [
        {"size": ["Small"], "gpu_type": [""]},
        {"size": [""], "gpu_type": ["t4"]},
        {},
        {"profile": ["py"], "size": ["Small"]},
        {"profile": ["sized"], "profile-option-sized--size": ["l"], "size": [""]},
    ],
    ids=["size", "gpu-type", "nothing", "profile-and-size", "kubespawners-size"],
)
async def test_the_same_user_options_from_the_form(
    make_spawner: Any, write_yaml: Any, formdata: dict[str, list[str]]
) -> None:
    files = [write_yaml(FORM_PROFILES)]
    ours = make_spawner(files, profile_list=PROFILE_LIST)
    hooked = make_spawner(files, profile_list=PROFILE_LIST, **HOOKS)
    assert hooked.run_options_from_form(formdata) == ours.run_options_from_form(formdata)
    # a spawn by the query arguments of /hub/spawn: JupyterHub passes no spawner
    assert hooked.options_from_query(formdata) == ours.options_from_query(formdata)


async def test_our_choice_replacing_kubespawners_option_is_the_same_400(
    make_spawner: Any, write_yaml: Any
) -> None:
    files = [write_yaml(FORM_PROFILES)]
    formdata = {"profile": ["sized"], "profile-option-sized--size": ["l"], "size": ["Small"]}
    answers = []
    for spawner in (
        make_spawner(files, profile_list=PROFILE_LIST),
        make_spawner(files, profile_list=PROFILE_LIST, **HOOKS),
    ):
        with pytest.raises(web.HTTPError) as info:
            spawner.run_options_from_form(formdata)
        answers.append((info.value.status_code, info.value.jupyterhub_message))
    assert answers[0] == answers[1]
    assert answers[0][0] == 400 and "has its own 'size' option" in answers[0][1]


@pytest.mark.parametrize(
    "options",
    [{"size": "Large"}, {"size": "Huge"}, {"size": ["Small"]}, {"gpu_type": "h100"}],
    ids=["size-of-another-group", "undefined-size", "size-not-a-string", "undefined-gpu-type"],
)
async def test_the_pre_spawn_hook_refuses_with_the_same_400_before_anything_is_created(
    make_spawner: Any, write_yaml: Any, options: dict[str, Any]
) -> None:
    files = [write_yaml(FORM_PROFILES)]
    ours = make_spawner(files, user_options=options)
    with pytest.raises(web.HTTPError) as expected:
        await ours.load_user_options()  # what ProfileKubeSpawner's start does first
    hooked = make_spawner(files, user_options=options, **HOOKS)
    with pytest.raises(web.HTTPError) as info:
        await hooked.run_pre_spawn_hook()  # before JupyterHub calls start
    assert info.value.status_code == expected.value.status_code == 400
    assert info.value.jupyterhub_message == expected.value.jupyterhub_message
    assert isinstance(info.value.__cause__, UserOptionError)


@pytest.mark.parametrize(
    ("profiles", "kubespawner", "options", "name"),
    [
        ("profiles: [{name: big, resources: {requests: {memory: 4Gi}}}]", {"mem_limit": "1G"}, {}, "memory"),
        ("profiles: [{name: big, resources: {limits: {cpu: 500m}}}]", {"cpu_guarantee": 1.0}, {}, "cpu"),
        (
            "sizes: [{name: Big, resources: {requests: {cpu: '4'}}}]",
            {"cpu_limit": 2.0},
            {"size": "Big"},
            "cpu",
        ),
        (
            "profiles: [{name: big, resources: {requests: {example.com/fpga: '2'}}}]",
            {"extra_resource_limits": {"example.com/fpga": "1"}},
            {},
            "example.com/fpga",
        ),
    ],
    ids=["mem_limit", "cpu_guarantee", "size-over-cpu_limit", "extra_resource_limits"],
)
async def test_a_request_above_its_limit_is_the_same_409_before_anything_is_created(
    make_spawner: Any,
    write_yaml: Any,
    profiles: str,
    kubespawner: dict[str, Any],
    options: dict[str, Any],
    name: str,
) -> None:
    """KubeSpawner's own settings count: the check both entry points make
    before anything is created refuses what the pod would have (no budget here)."""
    files = [write_yaml(profiles)]
    ours = make_spawner(files, user_options=options, **kubespawner)
    with pytest.raises(web.HTTPError) as expected:
        await ours.load_user_options()  # what ProfileKubeSpawner's start does first
    hooked = make_spawner(files, user_options=options, **kubespawner, **HOOKS)
    with pytest.raises(web.HTTPError) as info:
        await hooked.run_pre_spawn_hook()  # before JupyterHub calls start
    assert info.value.status_code == expected.value.status_code == 409
    assert info.value.jupyterhub_message == expected.value.jupyterhub_message
    assert isinstance(info.value.__cause__, ResourceConflictError)
    assert info.value.jupyterhub_message.startswith(
        f"resources.requests.{name}: the request of {name!r} ends up above its limit ("
    )
    assert info.value.jupyterhub_message.endswith("; KubeSpawner's own resource settings count too)")


async def test_the_pre_spawn_hook_sees_the_image_of_the_chosen_profile_list_entry(
    make_spawner: Any, write_yaml: Any
) -> None:
    files = [write_yaml("profiles: [{name: py, images: ['python:3'], env: [{name: PY, value: 'yes'}]}]")]
    spawner = make_spawner(files, profile_list=PROFILE_LIST, user_options={"profile": "py"}, **HOOKS)
    await spawner.run_pre_spawn_hook()
    assert spawner.image == "python:3"
    pod = await hooked_pod(spawner)
    assert {"name": "PY", "value": "yes"} in pod["spec"]["containers"][0]["env"]
    assert pod["metadata"]["annotations"]["profilespawner/profiles"] == '["py"]'


async def test_the_hooked_pod_gets_what_the_pre_spawn_hook_checked(
    make_spawner: Any, write_yaml: Any
) -> None:
    path = write_yaml(FORM_PROFILES)
    spawner = make_spawner([path], user_options={"size": "Small"}, **HOOKS)
    await spawner.run_pre_spawn_hook()
    # KubeSpawner now creates the PVC; meanwhile the size goes away.
    rewrite(path, "profiles: [{name: a}]")
    await spawner.load_user_options()
    pod = to_json(await apply_pod_profile(spawner, await spawner.get_pod_manifest()))
    assert pod["spec"]["containers"][0]["resources"]["limits"]["cpu"] == "2"
    assert pod["metadata"]["annotations"]["profilespawner/size"] == "Small"


# -- custom sizes through the hooks (SPEC §9) ------------------------------------------

CUSTOM_PROFILES = """\
sizes:
- name: Small
  resources: {requests: {cpu: "1"}, limits: {cpu: "2"}}
- name: Custom
  ranges:
    cpu: {min: 500m, max: "8", default: "1"}
    memory: {min: 1Gi, max: 16Gi, default: 2Gi}
    gpu: {min: 0, max: 2, default: 0}
  limit_factor: 2
"""

#: What a browser sends for Custom picked at 2.5 cores, 6 Gi and a GPU, with
#: the range inputs of another size (without JavaScript every size's show).
CUSTOM_FORM = {
    "size": ["Custom"],
    "size-range-cpu--Custom": ["2.5"],
    "size-range-memory--Custom": ["6"],
    "size-range-gpu--Custom": ["1"],
    "size-range-cpu--Other": ["99"],
}


async def test_the_hooks_carry_the_values_picked_in_the_form_to_the_pod(
    make_spawner: Any, write_yaml: Any
) -> None:
    """Plain KubeSpawner's path: the form has the range inputs,
    options_from_form reads those of the chosen size, the pre_spawn_hook
    checks them and the modify_pod_hook applies them -- as ProfileKubeSpawner does."""
    files = [write_yaml(CUSTOM_PROFILES)]
    hooked = make_spawner(files, **HOOKS)
    form = await hooked.get_options_form()
    assert 'name="size-range-cpu--Custom" min="0.5" max="8" step="0.1" value="1"' in form
    assert "Custom: 0.5–8 CPU, 1Gi–16Gi memory, up to 2 GPUs" in form

    options = hooked.run_options_from_form(CUSTOM_FORM)
    assert options == {"size": "Custom", "cpu": "2.5", "memory": "6Gi", "gpu": "1"}
    hooked.user_options = options
    pod = await hooked_pod(hooked)

    container = pod["spec"]["containers"][0]
    assert container["resources"] == {
        "requests": {"cpu": "2500m", "memory": "6Gi", "nvidia.com/gpu": "1"},
        "limits": {"cpu": "5", "memory": "12Gi", "nvidia.com/gpu": "1"},
    }
    env = {v["name"]: v.get("value") for v in container["env"]}
    assert (env["CPU_GUARANTEE"], env["CPU_LIMIT"]) == ("2.5", "5.0")
    assert (env["MEM_GUARANTEE"], env["MEM_LIMIT"]) == (str(6 * 2**30), str(12 * 2**30))
    assert pod["metadata"]["annotations"]["profilespawner/size"] == "Custom"

    ours = make_spawner(files)
    ours.user_options = ours.run_options_from_form(CUSTOM_FORM)
    await ours.load_user_options()
    assert to_json(await ours.get_pod_manifest()) == pod


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("size-range-cpu--Custom", "9", "size 'Custom': cpu '9' is out of range: choose 500m to 8"),
        (
            "size-range-memory--Custom",
            "0.5",
            "size 'Custom': memory '0.5Gi' is out of range: choose 1Gi to 16Gi",
        ),
        ("size-range-gpu--Custom", "1.5", "size 'Custom': gpu '1.5' is not a whole number: choose 0 to 2"),
        ("size-range-cpu--Custom", "x" * 100, "size 'Custom': cpu (a string of 100 characters, not shown)"),
    ],
    ids=["cpu-above-max", "memory-below-min", "gpu-not-whole", "huge"],
)
async def test_a_value_out_of_range_in_the_form_is_the_same_400_through_the_hooks(
    make_spawner: Any, write_yaml: Any, field: str, value: str, message: str
) -> None:
    files = [write_yaml(CUSTOM_PROFILES)]
    formdata = {"size": ["Custom"], field: [value]}
    answers = []
    ours = make_spawner(files)
    ours.user_options = ours.run_options_from_form(formdata)
    with pytest.raises(web.HTTPError) as info:
        await ours.load_user_options()
    answers.append((info.value.status_code, info.value.jupyterhub_message))
    hooked = make_spawner(files, **HOOKS)
    hooked.user_options = hooked.run_options_from_form(formdata)
    with pytest.raises(web.HTTPError) as info:
        await hooked.run_pre_spawn_hook()  # before JupyterHub calls start
    answers.append((info.value.status_code, info.value.jupyterhub_message))
    assert answers[0] == answers[1]
    assert answers[0][0] == 400 and answers[0][1].startswith(message), answers[0][1]
    assert len(answers[0][1]) < 200


async def test_a_range_value_replacing_kubespawners_cpu_option_is_the_same_400(
    make_spawner: Any, write_yaml: Any
) -> None:
    """A profile_list entry with a ``cpu`` option of its own: the key is
    KubeSpawner's, so a range value for it is refused, not silently dropped."""
    files = [write_yaml(CUSTOM_PROFILES)]
    profile_list = [
        {
            "display_name": "Cores",
            "slug": "cores",
            "profile_options": {"cpu": {"display_name": "CPU", "choices": {"2": {"display_name": "2"}}}},
        }
    ]
    formdata = {"profile": ["cores"], "profile-option-cores--cpu": ["2"], **CUSTOM_FORM}
    answers = []
    for spawner in (
        make_spawner(files, profile_list=profile_list),
        make_spawner(files, profile_list=profile_list, **HOOKS),
    ):
        with pytest.raises(web.HTTPError) as info:
            spawner.run_options_from_form(formdata)
        answers.append((info.value.status_code, info.value.jupyterhub_message))
    assert answers[0] == answers[1]
    assert answers[0][0] == 400
    assert "has its own 'cpu' option" in answers[0][1] and "pick a size without a cpu range" in answers[0][1]
