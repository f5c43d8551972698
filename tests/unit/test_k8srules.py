"""Kubernetes value rules: quantities and names."""

from __future__ import annotations

from decimal import Decimal

import pytest

from profilespawner import k8srules
from profilespawner.errors import QuantityRangeError


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1", Decimal(1)),
        ("500m", Decimal("0.5")),
        ("1.5", Decimal("1.5")),
        (".5", Decimal("0.5")),
        ("1Ki", Decimal(1024)),
        ("1.5Gi", Decimal(1610612736)),
        ("2G", Decimal(2_000_000_000)),
        ("1e3", Decimal(1000)),
        ("1E-3", Decimal("0.001")),
        ("100n", Decimal("0.0000001")),
        ("+2", Decimal(2)),
        ("-1", Decimal(-1)),
    ],
)
def test_parse_quantity(text: str, value: Decimal) -> None:
    assert k8srules.parse_quantity(text) == value


@pytest.mark.parametrize(
    "text", ["", "2 GB", "2GB", "1gi", "Gi", "1.2.3", "1e", "0x10", " 1", "1 ", "1Kib", "abc"]
)
def test_invalid_quantities(text: str) -> None:
    with pytest.raises(ValueError, match="not a Kubernetes quantity"):
        k8srules.parse_quantity(text)


@pytest.mark.parametrize(
    "text",
    [
        "1e99999999999",  # decimal.InvalidOperation escaped the validator
        "1e-99999999999",
        "1e" + "9" * 5000,  # more exponent digits than int() reads
        "9" * 5000,
        "1e41",
        "0." + "0" * 45 + "1",
    ],
)
def test_quantities_beyond_range_are_refused_without_computing_them(text: str) -> None:
    with pytest.raises(QuantityRangeError):
        k8srules.parse_quantity(text)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0e99999999999", Decimal(0)),  # zero whatever its exponent
        ("1e40", Decimal("1e40")),
        ("9223372036854775807", k8srules.MAX_QUANTITY),
        ("1" + "0" * 30 + "m", Decimal("1e27")),  # long mantissas are not rounded
        ("123456789012345678901.5Ki", Decimal("126419751948641975195136")),
    ],
)
def test_quantities_within_range_are_exact(text: str, value: Decimal) -> None:
    assert k8srules.parse_quantity(text) == value


@pytest.mark.parametrize("value", [1, None, 1.5, b"1"])
def test_only_text_is_a_quantity(value: object) -> None:
    with pytest.raises(ValueError, match="not a Kubernetes quantity"):
        k8srules.parse_quantity(value)  # type: ignore[arg-type]


def test_memory_rounds_up_to_whole_bytes_and_cpu_is_float() -> None:
    assert k8srules.memory_bytes("1.5Gi") == 1610612736
    assert k8srules.memory_bytes("1001m") == 2
    assert k8srules.cpu_cores("250m") == 0.25
    assert k8srules.cpu_cores("2") == 2.0


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("cpu", True),
        ("nvidia.com/gpu", True),
        ("hugepages-2Mi", True),
        ("example.com/a_b.c", True),
        ("Example.com/x", False),
        ("/x", False),
        ("a/b/c", False),
        ("-x", False),
        ("x" * 64, False),
        ("", False),
    ],
)
def test_qualified_names(name: str, ok: bool) -> None:
    assert k8srules.is_qualified_name(name) is ok


@pytest.mark.parametrize(
    ("name", "ok"),
    [("A", True), ("_a.b-c", True), ("a1", True), ("1a", False), ("A B", False), ("A=B", False), ("", False)],
)
def test_env_var_names(name: str, ok: bool) -> None:
    assert k8srules.is_env_var_name(name) is ok


@pytest.mark.parametrize(
    ("value", "ok"), [("", True), ("ssd", True), ("a.b_c-d", True), ("a b", False), ("-a", False)]
)
def test_label_values(value: str, ok: bool) -> None:
    assert k8srules.is_label_value(value) is ok


@pytest.mark.parametrize(
    ("name", "ok"), [("data", True), ("a-1", True), ("Data", False), ("a_b", False), ("a.b", False)]
)
def test_volume_names(name: str, ok: bool) -> None:
    assert k8srules.is_dns1123_label(name) is ok


# (id, toleration a, toleration b, whether they mean the same)
TOLERATIONS = [
    ("operator-omitted-is-equal", {"key": "k", "value": "v"},
     {"key": "k", "operator": "Equal", "value": "v"}, True),
    ("operator-empty-is-equal", {"key": "k", "operator": "", "value": "v"}, {"key": "k", "value": "v"}, True),
    ("value-omitted-is-empty", {"key": "k", "operator": "Exists"},
     {"key": "k", "operator": "Exists", "value": ""}, True),
    ("effect-omitted-is-empty", {"key": "k", "operator": "Exists"},
     {"key": "k", "operator": "Exists", "effect": ""}, True),
    ("key-omitted-is-empty", {"operator": "Exists"}, {"key": "", "operator": "Exists"}, True),
    ("null-is-omitted", {"key": "k", "value": None, "effect": None}, {"key": "k"}, True),
    ("key-order-is-not-meaning", {"value": "v", "key": "k"}, {"key": "k", "value": "v"}, True),
    ("exists-is-not-equal", {"key": "k", "operator": "Exists"}, {"key": "k"}, False),
    ("an-effect-is-not-every-effect", {"key": "k", "operator": "Exists", "effect": "NoSchedule"},
     {"key": "k", "operator": "Exists"}, False),
    ("forever-is-not-at-once", {"key": "k", "effect": "NoExecute"},
     {"key": "k", "effect": "NoExecute", "tolerationSeconds": 0}, False),
    ("seconds-differ", {"key": "k", "effect": "NoExecute", "tolerationSeconds": 1},
     {"key": "k", "effect": "NoExecute", "tolerationSeconds": 2}, False),
    ("values-differ", {"key": "k", "value": "a"}, {"key": "k", "value": "b"}, False),
    ("case-counts", {"key": "k", "operator": "exists"}, {"key": "k", "operator": "Exists"}, False),
    ("an-unknown-field-counts", {"key": "k", "newField": {"a": 1}}, {"key": "k"}, False),
    ("an-unknown-field-by-content", {"key": "k", "newField": {"a": 1}},
     {"key": "k", "newField": {"a": 1}}, True),
]  # fmt: skip


@pytest.mark.parametrize(("a", "b", "same"), [pytest.param(*c[1:], id=c[0]) for c in TOLERATIONS])
def test_tolerations_mean_the_same_as_kubernetes_reads_them(
    a: dict[str, object], b: dict[str, object], same: bool
) -> None:
    assert (k8srules.toleration_identity(a) == k8srules.toleration_identity(b)) is same
    assert len(k8srules.unique_tolerations([a, b])) == (1 if same else 2)


def test_unique_tolerations_keeps_the_first_as_written() -> None:
    first = {"key": "gpu", "operator": "Exists"}
    again = {"key": "gpu", "operator": "Exists", "value": "", "effect": ""}
    other = {"key": "zone", "value": "a"}
    assert k8srules.unique_tolerations([first, other, again]) == (first, other)
    assert k8srules.unique_tolerations([first, other, again])[0] is first
