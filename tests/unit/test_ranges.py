"""Custom sizes (SPEC §9): every rule of the values chosen within a size's
ranges, and every refusal, as tables; then what the values set, and the record
that says so."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

from profilespawner.errors import UserOptionError
from profilespawner.merge import Setter
from profilespawner.model import ProfileSet, RangeValues
from profilespawner.parse import parse_document
from profilespawner.ranges import bounds, choose, range_layers, ranges_text
from profilespawner.resolve import may_get_gpu, resolve

DOC = textwrap.dedent(
    """\
    profiles:
    - name: globals
      resources: {requests: {cpu: 500m, memory: 1Gi}, limits: {cpu: "1", memory: 2Gi}}
    sizes:
    - name: Small
      resources: {requests: {cpu: "1"}, limits: {cpu: "2"}}
    - name: Custom
      groups: [data-science]
      resources: {requests: {cpu: "1", ephemeral-storage: 1Gi}}
      ranges:
        cpu: {min: "1", max: "16", default: "2"}
        memory: {min: 2Gi, max: 64Gi, default: 8Gi}
        gpu: {min: 0, max: 4, default: 0}
      limit_factor: 2
    - name: Fractional
      ranges:
        cpu: {min: 250m, max: "2", default: 500m}
      limit_factor: 1.5
    - name: Memory only
      ranges:
        memory: {min: 1Gi, max: 4Gi}
    gpuTypes:
    - type: a100
      node_tolerations: [{key: a100, operator: Exists}]
    """
)


@pytest.fixture(scope="module")
def profile_set() -> ProfileSet:
    return parse_document(DOC, source="doc").profile_set


def custom(profile_set: ProfileSet, **values: Any) -> RangeValues:
    return choose(profile_set.sizes["Custom"], values)


# (values given, the values the spawn gets)
CHOSEN = [
    ({}, {"cpu": "2", "memory": "8Gi", "gpu": "0"}),  # every default
    ({"cpu": "12"}, {"cpu": "12", "memory": "8Gi", "gpu": "0"}),
    ({"cpu": 12}, {"cpu": "12", "memory": "8Gi", "gpu": "0"}),  # a JSON number
    ({"cpu": 1.5}, {"cpu": "1500m", "memory": "8Gi", "gpu": "0"}),
    ({"cpu": "2500m", "memory": "40Gi", "gpu": 2}, {"cpu": "2500m", "memory": "40Gi", "gpu": "2"}),
    ({"memory": "40960Mi", "gpu": "4"}, {"cpu": "2", "memory": "40Gi", "gpu": "4"}),  # canonical
    ({"cpu": "1", "memory": "2Gi", "gpu": 0}, {"cpu": "1", "memory": "2Gi", "gpu": "0"}),  # the bounds
    ({"cpu": "16", "memory": "64Gi", "gpu": 4}, {"cpu": "16", "memory": "64Gi", "gpu": "4"}),
    ({"cpu": "15.9999"}, {"cpu": "16", "memory": "8Gi", "gpu": "0"}),  # rounded up to 1m, in range
    ({"cpu": None, "memory": ""}, {"cpu": "2", "memory": "8Gi", "gpu": "0"}),  # null, "": the default
]


@pytest.mark.parametrize(("given", "chosen"), CHOSEN)
def test_values_within_the_ranges(
    profile_set: ProfileSet, given: dict[str, Any], chosen: dict[str, str]
) -> None:
    values = custom(profile_set, **given)
    assert values == chosen
    assert list(values) == ["cpu", "memory", "gpu"]


# (size, values given, the whole message of the 400)
REFUSED = [
    ("Custom", {"cpu": "40"}, "size 'Custom': cpu '40' is out of range: choose 1 to 16"),
    ("Custom", {"cpu": "16.001"}, "size 'Custom': cpu '16.001' is out of range: choose 1 to 16"),
    ("Custom", {"cpu": "999m"}, "size 'Custom': cpu '999m' is out of range: choose 1 to 16"),
    ("Custom", {"cpu": 0}, "size 'Custom': cpu 0 is out of range: choose 1 to 16"),
    ("Custom", {"cpu": "-4"}, "size 'Custom': cpu '-4' is out of range: choose 1 to 16"),
    ("Custom", {"memory": "65Gi"}, "size 'Custom': memory '65Gi' is out of range: choose 2Gi to 64Gi"),
    ("Custom", {"memory": "8"}, "size 'Custom': memory '8' is out of range: choose 2Gi to 64Gi"),  # 8 bytes
    ("Custom", {"gpu": 5}, "size 'Custom': gpu 5 is out of range: choose 0 to 4"),
    ("Custom", {"cpu": "lots"}, "size 'Custom': cpu 'lots' is not a quantity: choose 1 to 16"),
    ("Custom", {"memory": "8GB"}, "size 'Custom': memory '8GB' is not a quantity: choose 2Gi to 64Gi"),
    ("Custom", {"gpu": "1.5"}, "size 'Custom': gpu '1.5' is not a whole number: choose 0 to 4"),
    ("Custom", {"gpu": 1.5}, "size 'Custom': gpu 1.5 is not a whole number: choose 0 to 4"),
    ("Custom", {"gpu": True}, "size 'Custom': gpu (true) is not a whole number: choose 0 to 4"),
    ("Custom", {"cpu": True}, "size 'Custom': cpu (true) is not a quantity: choose 1 to 16"),
    ("Custom", {"cpu": [4]}, "size 'Custom': cpu (a list) is not a quantity: choose 1 to 16"),
    (
        "Custom",
        {"memory": {"Gi": 8}},
        "size 'Custom': memory (a mapping) is not a quantity: choose 2Gi to 64Gi",
    ),
    ("Custom", {"cpu": float("nan")}, "size 'Custom': cpu (nan) is not a quantity: choose 1 to 16"),
    ("Custom", {"cpu": float("inf")}, "size 'Custom': cpu (inf) is not a quantity: choose 1 to 16"),
    (
        "Custom",
        {"cpu": "1e99999999999"},
        "size 'Custom': cpu '1e99999999999' is out of range "
        "(a Kubernetes quantity is at most 2^63-1): choose 1 to 16",
    ),
    (
        "Custom",
        {"cpu": "4" * 100_000},
        "size 'Custom': cpu (a string of 100000 characters, not shown) is longer than 32 characters: "
        "choose 1 to 16",
    ),
    (
        "Custom",
        {"cpu": "<img src=x>"},
        "size 'Custom': cpu (a string of 11 characters, not shown) is not a quantity: choose 1 to 16",
    ),
    (
        "Small",
        {"cpu": "2"},
        "size 'Small': cpu '2' cannot be chosen: this size has no cpu range (it has no ranges)",
    ),
    (
        "Memory only",
        {"memory": "2Gi", "gpu": 1},
        "size 'Memory only': gpu 1 cannot be chosen: this size has no gpu range "
        "(its ranges are: memory 1Gi to 4Gi)",
    ),
    (None, {"cpu": "4"}, "cpu '4' needs a size with a cpu range: choose one of: 'Custom', 'Fractional'"),
    (None, {"gpu": 1}, "gpu 1 needs a size with a gpu range: choose one of: 'Custom'"),
]


@pytest.mark.parametrize(("size", "given", "message"), REFUSED)
def test_refusals_name_the_size_the_key_and_the_range(
    profile_set: ProfileSet, size: str | None, given: dict[str, Any], message: str
) -> None:
    with pytest.raises(UserOptionError) as info:
        resolve(profile_set, user="dana", groups=["data-science"], image="x", size=size, **given)
    assert str(info.value) == message


def test_without_a_size_the_sizes_offered_are_those_the_user_may_pick(profile_set: ProfileSet) -> None:
    with pytest.raises(UserOptionError) as info:
        resolve(profile_set, user="bob", groups=[], image="x", gpu=1)
    assert str(info.value) == "gpu 1 needs a size with a gpu range: no size you may pick has one"
    assert info.value.allowed == ()


def test_the_size_is_checked_before_its_ranges(profile_set: ProfileSet) -> None:
    with pytest.raises(UserOptionError, match="size 'Custom' is not available"):
        resolve(profile_set, user="bob", groups=[], image="x", size="Custom", cpu="999")


def test_what_the_values_set_and_the_record_that_says_so(profile_set: ProfileSet) -> None:
    r = resolve(
        profile_set, user="dana", groups=["data-science"], image="x", size="Custom", cpu="12", gpu="2"
    )
    assert r.range_values == {"cpu": "12", "memory": "8Gi", "gpu": "2"}
    assert r.settings.resources == {
        # the range replaces the profile's and the size's own cpu; other keys stay
        "requests": {"cpu": "12", "memory": "8Gi", "ephemeral-storage": "1Gi"},
        "limits": {"cpu": "24", "memory": "16Gi"},
    }
    assert r.settings.gpu == 2
    assert r.gpu_tolerations == ({"key": "a100", "operator": "Exists"},)
    assert r.describe() == "profiles 'globals'; size 'Custom' (cpu 12, memory 8Gi, gpu 2)"

    globals_ = Setter("profile", "globals", "doc", 0)
    size = Setter("size", "Custom", "doc")
    origin = r.record.get("resources", "requests.cpu")
    assert origin is not None
    assert origin.set_by == size._replace(via="range cpu: 12")
    assert origin.replaced == (globals_, size)
    limit = r.record.get("resources", "limits.memory")
    assert limit is not None and limit.set_by == size._replace(via="range memory: 8Gi × 2")
    gpu = r.record.get("gpu", "")
    assert gpu is not None and gpu.set_by == size._replace(via="range gpu: 2")


def test_without_a_limit_factor_the_limit_is_the_value_set_by_one_layer(profile_set: ProfileSet) -> None:
    size = profile_set.sizes["Memory only"]
    (layer,) = range_layers(size, choose(size, {"memory": "3Gi"}))
    assert layer.setter.via == "range memory: 3Gi"
    assert layer.settings.resources == {"requests": {"memory": "3Gi"}, "limits": {"memory": "3Gi"}}


def test_a_fractional_factor_rounds_the_limit_up_to_a_millicore(profile_set: ProfileSet) -> None:
    size = profile_set.sizes["Fractional"]
    requests, limits = range_layers(size, choose(size, {"cpu": "333m"}))
    assert requests.settings.resources == {"requests": {"cpu": "333m"}}
    assert limits.settings.resources == {"limits": {"cpu": "500m"}}  # 499.5m
    assert limits.setter.via == "range cpu: 333m × 1.5"


def test_gpu_zero_within_a_range_removes_the_gpu_as_gpu_0_does(profile_set: ProfileSet) -> None:
    r = resolve(profile_set, user="dana", groups=["data-science"], image="x", size="Custom", gpu_type="a100")
    assert r.settings.gpu == 0
    assert r.gpu_tolerations == () and r.gpu_type is None


def test_range_values_are_hashable_and_equal_by_content() -> None:
    values = RangeValues([("memory", "8Gi"), ("cpu", "2")])
    assert list(values) == ["cpu", "memory"]
    assert values == RangeValues([("cpu", "2"), ("memory", "8Gi")]) == {"memory": "8Gi", "cpu": "2"}
    assert hash(values) == hash(RangeValues([("cpu", "2"), ("memory", "8Gi")]))
    assert {values: 1}[RangeValues({"cpu": "2", "memory": "8Gi"}.items())] == 1
    assert values != RangeValues([("cpu", "3"), ("memory", "8Gi")])
    assert RangeValues() == {} and not RangeValues()
    with pytest.raises(ValueError, match="range keys are cpu, memory, gpu"):
        RangeValues([("disk", "1Gi")])


def test_bounds_in_words(profile_set: ProfileSet) -> None:
    custom = profile_set.sizes["Custom"]
    assert bounds("memory", custom.ranges["memory"]) == "2Gi to 64Gi"
    assert ranges_text(custom) == "cpu 1 to 16, memory 2Gi to 64Gi, gpu 0 to 4"
    assert ranges_text(profile_set.sizes["Fractional"]) == "cpu 250m to 2"


def test_a_gpu_range_offers_the_gpu_types(profile_set: ProfileSet) -> None:
    assert may_get_gpu(profile_set, user="dana", groups=["data-science"])  # Custom: up to 4
    assert not may_get_gpu(profile_set, user="bob", groups=[])  # no size of bob's has a GPU
