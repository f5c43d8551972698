"""The spawn form: sizes this user may pick, escaped, last choice preselected."""

from __future__ import annotations

from typing import Any

import pytest
from tornado import web

from profilespawner.form import render_choices, size_summary
from profilespawner.model import GpuType, PodSettings, Size

PROFILES = """\
sizes:
- name: Small
  resources: {requests: {cpu: "1", memory: 2Gi}, limits: {cpu: "2", memory: 4Gi}}
- name: Large
  description: For big data
  groups: [data-science]
- name: <b>Evil</b>
  users: ['*']
- name: GPU
  groups: [ml]
  gpu: 1
gpuTypes:
- {type: t4, description: NVIDIA T4}
"""


def test_summary_from_resources_or_description() -> None:
    size = Size(
        name="S",
        source="s",
        settings=PodSettings(
            resources={"requests": {"cpu": "1"}, "limits": {"cpu": "2", "memory": "4Gi"}}, gpu=1
        ),
    )
    assert size_summary(size) == "guaranteed 1 CPU; up to 2 CPU, 4Gi memory; 1 GPU"
    assert size_summary(Size(name="S", source="s", description="Hand written")) == "Hand written"


def test_nothing_to_choose_is_no_form() -> None:
    assert render_choices([], {}) == ""


def test_values_are_escaped_and_the_selection_kept() -> None:
    html = render_choices(
        [Size(name='a"><script>', source="s"), Size(name="b", source="s")],
        {"t4": GpuType(type="t4", source="s")},
        selected_size="b",
        selected_gpu_type="t4",
    )
    assert "<script>" not in html
    assert '<option value="a&quot;&gt;&lt;script&gt;">' in html
    assert '<option value="b" selected>b</option>' in html
    assert '<option value="t4" selected>t4</option>' in html


async def test_the_form_lists_allowed_sizes_from_the_current_profiles(
    make_spawner: Any, write_yaml: Any
) -> None:
    path = write_yaml(PROFILES)
    spawner = make_spawner([path], user_options={"size": "Small"})
    form = await spawner.get_options_form()
    assert (
        '<option value="Small" selected>Small (guaranteed 1 CPU, 2Gi memory; up to 2 CPU, 4Gi memory)' in form
    )
    assert "Large" not in form
    assert "&lt;b&gt;Evil&lt;/b&gt;" in form
    assert 'name="gpu_type"' not in form  # nothing alice may get has a GPU

    member = make_spawner([path], groups=["data-science"])
    form = await member.get_options_form()
    assert '<option value="Large">Large (For big data)</option>' in form
    assert '<option value="" selected>Default</option>' in form

    gpu_user = make_spawner([path], groups=["ml"])
    form = await gpu_user.get_options_form()
    assert 'name="gpu_type"' in form and "t4 (NVIDIA T4)" in form


async def test_a_size_added_later_appears_without_a_restart(make_spawner: Any, write_yaml: Any) -> None:
    import os

    path = write_yaml("sizes: [{name: Small}]")
    spawner = make_spawner([path])
    assert "Medium" not in await spawner.get_options_form()
    write_yaml("sizes: [{name: Small}, {name: Medium}]")
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert '<option value="Medium">Medium</option>' in await spawner.get_options_form()


async def test_no_sizes_no_form(make_spawner: Any, write_yaml: Any) -> None:
    spawner = make_spawner([write_yaml("profiles: [{name: a}]")])
    assert await spawner.get_options_form() == ""


async def test_kubespawner_profile_list_form_comes_first(make_spawner: Any, write_yaml: Any) -> None:
    profile_list = [{"display_name": "Python", "slug": "py", "kubespawner_override": {"image": "python:3"}}]
    spawner = make_spawner([write_yaml(PROFILES)], profile_list=profile_list)
    form = await spawner.get_options_form()
    assert form.index("Python") < form.index('name="size"')


async def test_options_from_form(make_spawner: Any, write_yaml: Any) -> None:
    spawner = make_spawner([write_yaml(PROFILES)])
    assert spawner.options_from_form({"size": ["Small"], "gpu_type": [""]}) == {"size": "Small"}
    assert spawner.options_from_form({"size": [""], "gpu_type": ["t4"]}) == {"gpu_type": "t4"}
    assert spawner.options_from_form({}) == {}


# -- KubeSpawner's profile_options may use our option names (SPEC §7 keeps ours) --

#: A KubeSpawner profile with an option named like ours: it puts
#: user_options["size"] = "l" when picked in the form or sent to the REST API.
SIZED_PROFILE_LIST = [
    {
        "display_name": "Python",
        "slug": "py",
        "profile_options": {
            "size": {
                "display_name": "Size",
                "choices": {
                    "s": {"display_name": "S", "kubespawner_override": {"cpu_limit": 1.0}},
                    "l": {"display_name": "L", "kubespawner_override": {"cpu_limit": 4.0}},
                },
            }
        },
    },
    {"display_name": "R", "slug": "r"},
]


@pytest.mark.parametrize("profiles", [PROFILES, "profiles: [{name: a}]"], ids=["with-sizes", "without-sizes"])
async def test_kubespawners_own_size_option_is_left_to_kubespawner(
    make_spawner: Any, write_yaml: Any, profiles: str
) -> None:
    spawner = make_spawner([write_yaml(profiles)], profile_list=SIZED_PROFILE_LIST)
    form = {"profile": ["py"], "profile-option-py--size": ["l"], "size": [""]}
    spawner.user_options = spawner.options_from_form(form)
    assert spawner.user_options == {"profile": "py", "size": "l"}
    await spawner.load_user_options()  # once refused with 400: "size 'l' is not available"
    pod = await spawner.get_pod_manifest()
    assert pod.spec.containers[0].resources.limits["cpu"] == 4.0  # KubeSpawner's choice applied
    assert spawner._applied_profiles.endswith("size none")


async def test_our_size_still_works_with_a_kubespawner_profile_without_such_option(
    make_spawner: Any, write_yaml: Any
) -> None:
    spawner = make_spawner([write_yaml(PROFILES)], profile_list=SIZED_PROFILE_LIST)
    spawner.user_options = spawner.options_from_form({"profile": ["r"], "size": ["Small"]})
    assert spawner.user_options == {"profile": "r", "size": "Small"}
    await spawner.load_user_options()
    await spawner.get_pod_manifest()
    assert spawner._applied_profiles.endswith("size 'Small'")


async def test_both_sizes_at_once_is_a_400_naming_the_conflict(make_spawner: Any, write_yaml: Any) -> None:
    spawner = make_spawner([write_yaml(PROFILES)], profile_list=SIZED_PROFILE_LIST)
    with pytest.raises(web.HTTPError) as info:
        spawner.options_from_form({"profile": ["py"], "profile-option-py--size": ["s"], "size": ["Small"]})
    assert info.value.status_code == 400
    assert "the chosen profile has its own 'size' option" in info.value.jupyterhub_message


async def test_a_rest_api_size_for_kubespawners_option_is_kubespawners(
    make_spawner: Any, write_yaml: Any
) -> None:
    spawner = make_spawner(
        [write_yaml(PROFILES)], profile_list=SIZED_PROFILE_LIST, user_options={"profile": "py", "size": "s"}
    )
    await spawner.load_user_options()
    pod = await spawner.get_pod_manifest()
    assert pod.spec.containers[0].resources.limits["cpu"] == 1.0
