"""The spawn form: sizes this user may pick, escaped, last choice preselected; the inputs
of custom sizes' ranges, and the user_options the form's fields give."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from tornado import web

from profilespawner.form import (
    choices_from_form,
    render_budgets_left,
    render_choices,
    size_label,
    size_summary,
)
from profilespawner.model import GpuType, PodSettings, Size
from profilespawner.parse import parse_document

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


# -- custom sizes: an input per range (SPEC §9) --

RANGED = """\
sizes:
- name: Small
  resources: {requests: {cpu: "1"}, limits: {cpu: "2"}}
- name: Custom
  groups: [data-science]
  ranges:
    cpu: {min: "1", max: "16", default: "2"}
    memory: {min: 2Gi, max: 64Gi, default: 8Gi}
    gpu: {min: 0, max: 4, default: 0}
  limit_factor: 2
- name: Tiny '"<b>
  description: for <i>reading</i>
  ranges:
    cpu: {min: 250m, max: "2", default: 300m}
    memory: {min: 512Mi, max: 1Gi}
gpuTypes:
- {type: t4}
"""


@pytest.fixture
def ranged_sizes() -> list[Size]:
    return list(parse_document(RANGED, source="s").profile_set.sizes.values())


def inputs(html: str) -> dict[str, dict[str, str]]:
    """Every <input> of the form: name -> attributes."""
    found = {}
    for tag in re.findall(r"<input [^>]*>", html):
        attributes = dict(re.findall(r'(\w[\w-]*)="([^"]*)"', tag))
        found[unescape(attributes["name"])] = attributes
    return found


def test_the_label_of_a_custom_size_says_its_ranges(ranged_sizes: list[Size]) -> None:
    small, custom, tiny = ranged_sizes
    assert size_label(custom) == "Custom: 1–16 CPU, 2Gi–64Gi memory, up to 4 GPUs"
    assert size_label(tiny) == "Tiny '\"<b>: 0.25–2 CPU, 512Mi–1Gi memory (for <i>reading</i>)"
    assert size_label(small) == "Small (guaranteed 1 CPU; up to 2 CPU)"


def test_one_input_per_range_with_bounds_default_and_step(ranged_sizes: list[Size]) -> None:
    html = render_choices(ranged_sizes, {})
    fields = inputs(html)
    assert set(fields) == {
        "size-range-cpu--Custom",
        "size-range-memory--Custom",
        "size-range-gpu--Custom",
        "size-range-cpu--Tiny '\"<b>",
        "size-range-memory--Tiny '\"<b>",
    }
    picked = {k: fields["size-range-cpu--Custom"][k] for k in ("type", "min", "max", "step", "value")}
    assert picked == {"type": "number", "min": "1", "max": "16", "step": "0.5", "value": "2"}
    memory = fields["size-range-memory--Custom"]
    assert (memory["min"], memory["max"], memory["step"], memory["value"]) == ("2", "64", "1", "8")  # in Gi
    assert '<span class="input-group-text">Gi</span>' in html
    gpu = fields["size-range-gpu--Custom"]
    assert (gpu["min"], gpu["max"], gpu["step"], gpu["value"]) == ("0", "4", "1", "0")
    # min below 1: step 0.1, and finer still to reach the default (0.25 + 0.05)
    assert fields["size-range-cpu--Tiny '\"<b>"]["step"] == "0.01"
    assert fields["size-range-memory--Tiny '\"<b>"]["step"] == "0.25"
    assert '<label class="form-label" for="profilespawner-range-1-memory">Memory (2Gi–64Gi)</label>' in html


def test_range_inputs_are_grouped_by_size_escaped_and_shown_by_a_script(ranged_sizes: list[Size]) -> None:
    html = render_choices(ranged_sizes, {})
    assert "<b>" not in html and "<i>" not in html
    groups = re.findall(r'<fieldset [^>]*data-size="([^"]*)"', html)
    assert [unescape(g) for g in groups] == ["Custom", "Tiny '\"<b>"]
    # without JavaScript every group shows: none is hidden or disabled in the markup
    assert "hidden" not in re.findall(r"<fieldset [^>]*>", html)[0]
    assert html.count("<script>") == 1 and 'addEventListener("change", show)' in html
    assert "<script>" not in render_choices(ranged_sizes[:1], {})  # no ranges, no script


def test_a_previous_valid_choice_is_kept_an_invalid_one_is_not(ranged_sizes: list[Size]) -> None:
    html = render_choices(
        ranged_sizes, {}, selected_size="Custom", selected_values={"cpu": "12.5", "memory": "40Gi", "gpu": 9}
    )
    fields = inputs(html)
    assert fields["size-range-cpu--Custom"]["value"] == "12.5"
    assert fields["size-range-memory--Custom"]["value"] == "40"
    assert fields["size-range-gpu--Custom"]["value"] == "0"  # 9 is out of range: the default
    assert fields["size-range-cpu--Tiny '\"<b>"]["value"] == "0.3"  # another size: its default
    odd = inputs(render_choices(ranged_sizes, {}, selected_size="Custom", selected_values={"cpu": "1.25"}))
    assert odd["size-range-cpu--Custom"]["step"] == "0.01"  # a step that reaches the value kept


# (form fields, the user_options they give)
FORMS = [
    ({"size": ["Custom"], "size-range-cpu--Custom": ["12"]}, {"size": "Custom", "cpu": "12"}),
    (
        {"size": ["Custom"], "size-range-memory--Custom": ["40"], "size-range-gpu--Custom": ["2"]},
        {"size": "Custom", "memory": "40Gi", "gpu": "2"},  # memory is asked for in Gi
    ),
    ({"size": ["Custom"], "size-range-memory--Custom": ["0.5"]}, {"size": "Custom", "memory": "0.5Gi"}),
    ({"size": ["Custom"], "size-range-memory--Custom": ["512Mi"]}, {"size": "Custom", "memory": "512Mi"}),
    ({"size": ["Custom"], "size-range-cpu--Custom": [""]}, {"size": "Custom"}),  # empty: the default
    (
        # without JavaScript every size's inputs come: only the chosen size's count
        {"size": ["Custom"], "size-range-cpu--Custom": ["3"], "size-range-cpu--Other": ["99"]},
        {"size": "Custom", "cpu": "3"},
    ),
    ({"size": [""], "size-range-cpu--Custom": ["3"]}, {}),
    ({"size": ["Default"], "size-range-cpu--Default": ["3"]}, {"size": "Default"}),
    ({"gpu_type": ["t4"]}, {"gpu_type": "t4"}),
    ({}, {}),
]


@pytest.mark.parametrize(("formdata", "options"), FORMS)
def test_choices_from_form(formdata: dict[str, list[str]], options: dict[str, str]) -> None:
    assert choices_from_form(formdata) == options


async def test_the_spawner_form_and_its_options(make_spawner: Any, write_yaml: Any) -> None:
    spawner = make_spawner([write_yaml(RANGED)], groups=["data-science"])
    form = await spawner.get_options_form()
    assert "Custom: 1–16 CPU, 2Gi–64Gi memory, up to 4 GPUs" in form
    assert 'name="gpu_type"' in form  # Custom may give a GPU
    formdata = {"size": ["Custom"], "size-range-cpu--Custom": ["4"], "size-range-memory--Custom": ["16"]}
    assert spawner.options_from_form(formdata) == {"size": "Custom", "cpu": "4", "memory": "16Gi"}
    spawner.user_options = {"size": "Custom", "cpu": "4", "memory": "16Gi"}
    again = inputs(await spawner.get_options_form())  # the form again, after a refusal say
    assert again["size-range-cpu--Custom"]["value"] == "4"
    assert again["size-range-memory--Custom"]["value"] == "16"


#: A KubeSpawner profile with an option named like a range key.
CPU_PROFILE_LIST = [
    {
        "display_name": "Python",
        "slug": "py",
        "profile_options": {
            "cpu": {
                "display_name": "CPU",
                "choices": {"two": {"display_name": "2", "kubespawner_override": {"cpu_limit": 2.0}}},
            }
        },
    },
]


async def test_kubespawners_own_cpu_option_is_kubespawners(make_spawner: Any, write_yaml: Any) -> None:
    spawner = make_spawner(
        [write_yaml(RANGED)],
        groups=["data-science"],
        profile_list=CPU_PROFILE_LIST,
        user_options={"profile": "py", "cpu": "two", "size": "Custom"},
    )
    await spawner.load_user_options()  # 'two' is KubeSpawner's choice, not a quantity of ours
    pod = await spawner.get_pod_manifest()
    assert pod.spec.containers[0].resources.requests["cpu"] == "2"  # Custom's default
    assert spawner._applied_profiles.endswith("size 'Custom' (cpu 2, memory 8Gi, gpu 0)")
    with pytest.raises(web.HTTPError) as info:
        spawner.options_from_form(
            {
                "profile": ["py"],
                "profile-option-py--cpu": ["two"],
                "size": ["Custom"],
                "size-range-cpu--Custom": ["3"],
            }
        )
    assert info.value.status_code == 400
    assert info.value.jupyterhub_message == (
        "cpu: the chosen profile has its own 'cpu' option, which this choice would replace; "
        "pick a size without a cpu range"
    )


def test_what_the_budgets_have_left_is_shown_escaped() -> None:
    assert render_budgets_left([]) == ""
    html = render_budgets_left(["budget '<b>team</b>': 6 of 8 GPUs left in total"])
    assert "profilespawner-budgets" in html
    assert "<li>budget &#x27;&lt;b&gt;team&lt;/b&gt;&#x27;: 6 of 8 GPUs left in total</li>" in html
    assert "<b>" not in html
