"""Amounts of cpu, memory and gpu: read, rounded to Kubernetes' precision,
scaled by a limit factor and written back canonically, as a table."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from profilespawner import quantities

GI = 2**30

# (key, value as given, amount in the key's unit, canonical quantity)
READ = [
    ("cpu", "12", Decimal(12), "12"),
    ("cpu", 12, Decimal(12), "12"),
    ("cpu", "1.5", Decimal("1.5"), "1500m"),
    ("cpu", 1.5, Decimal("1.5"), "1500m"),
    ("cpu", "250m", Decimal("0.25"), "250m"),
    ("cpu", "2000m", Decimal(2), "2"),
    ("cpu", "0.0001", Decimal("0.001"), "1m"),  # rounded up to 1m, as the kubelet does
    ("cpu", "1.0005", Decimal("1.001"), "1001m"),
    ("cpu", "1e1", Decimal(10), "10"),
    ("cpu", "0", Decimal(0), "0"),
    ("cpu", "+3", Decimal(3), "3"),
    ("memory", "8Gi", Decimal(8 * GI), "8Gi"),
    ("memory", "8192Mi", Decimal(8 * GI), "8Gi"),
    ("memory", "1536Mi", Decimal(1536 * 2**20), "1536Mi"),
    ("memory", "1.5Gi", Decimal(1536 * 2**20), "1536Mi"),
    ("memory", "1G", Decimal(10**9), "1000000000"),  # no binary suffix is exact: bytes
    ("memory", "1Ki", Decimal(1024), "1Ki"),
    ("memory", "2Ei", Decimal(2 * 2**60), "2Ei"),
    ("memory", 1073741824, Decimal(GI), "1Gi"),
    ("memory", "1.5", Decimal(2), "2"),  # a byte is the smallest unit: rounded up
    ("memory", "0", Decimal(0), "0"),
    ("gpu", 2, Decimal(2), "2"),
    ("gpu", "2", Decimal(2), "2"),
    ("gpu", "02", Decimal(2), "2"),
    ("gpu", 2.0, Decimal(2), "2"),  # a JSON number that is a whole number
    ("gpu", 0, Decimal(0), "0"),
]


@pytest.mark.parametrize(("key", "value", "amount", "canonical"), READ)
def test_read_and_canonical(key: str, value: Any, amount: Decimal, canonical: str) -> None:
    assert quantities.read(key, value) == amount
    assert quantities.canonical(key, amount) == canonical
    assert quantities.read(key, canonical) == amount  # the canonical form reads back the same


# (key, value, what the error says)
UNREADABLE = [
    ("cpu", "lots", "is not a quantity"),
    ("cpu", "1 cpu", "is not a quantity"),
    ("cpu", " 1", "is not a quantity"),
    ("cpu", "", "is not a quantity"),
    ("cpu", True, "is not a quantity"),
    ("cpu", None, "is not a quantity"),
    ("cpu", [1], "is not a quantity"),
    ("cpu", {"a": 1}, "is not a quantity"),
    ("cpu", float("nan"), "is not a quantity"),
    ("cpu", float("inf"), "is not a quantity"),
    ("cpu", "1" * 33, "is longer than 32 characters"),
    ("cpu", "1e99999999999", "is out of range"),
    ("cpu", 10**30, "is out of range"),
    ("cpu", 1e300, "is out of range"),
    ("memory", "9Ei", "is out of range"),
    ("memory", "2GB", "is not a quantity"),
    ("gpu", "1.5", "is not a whole number"),
    ("gpu", 1.5, "is not a whole number"),
    ("gpu", "2.0", "is not a whole number"),
    ("gpu", "-1", "is not a whole number"),
    ("gpu", "1e3", "is not a whole number"),
    ("gpu", True, "is not a whole number"),
    ("gpu", float("nan"), "is not a whole number"),
    ("gpu", "9" * 20, "is out of range"),
]


@pytest.mark.parametrize(("key", "value", "problem"), UNREADABLE)
def test_unreadable_values_say_why(key: str, value: Any, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        quantities.read(key, value)


# (key, amount, factor, limit)
SCALED = [
    ("cpu", Decimal(12), Decimal(2), "24"),
    ("cpu", Decimal("1.001"), Decimal("1.5"), "1502m"),  # 1501.5m, rounded up
    ("cpu", Decimal("0.25"), Decimal(1), "250m"),
    ("memory", Decimal(8 * GI), Decimal(2), "16Gi"),
    ("memory", Decimal(3), Decimal("1.5"), "5"),  # 4.5 bytes, rounded up
    ("memory", Decimal(GI), Decimal("1.5"), "1536Mi"),
]


@pytest.mark.parametrize(("key", "amount", "factor", "limit"), SCALED)
def test_scaled_rounds_up(key: str, amount: Decimal, factor: Decimal, limit: str) -> None:
    assert quantities.canonical(key, quantities.scaled(key, amount, factor)) == limit


def test_is_exact() -> None:
    assert quantities.is_exact("cpu", Decimal("0.001"))
    assert not quantities.is_exact("cpu", Decimal("0.0001"))
    assert quantities.is_exact("memory", Decimal(7))
    assert not quantities.is_exact("memory", Decimal("0.5"))


# (value, how a refusal shows it)
SHOWN = [
    ("40", "'40'"),
    ("64Gi", "'64Gi'"),
    (40, "40"),
    (1.5, "1.5"),
    (True, "(true)"),
    (None, "(null)"),
    ([1], "(a list)"),
    ({"a": 1}, "(a mapping)"),
    (float("nan"), "(nan)"),
    ("", "(an empty string)"),
    ("<script>", "(a string of 8 characters, not shown)"),
    ("1" * 17, "(a string of 17 characters, not shown)"),
    ("x" * 100_000, "(a string of 100000 characters, not shown)"),
    (10**20, "(an integer of more than 16 digits)"),
]


@pytest.mark.parametrize(("value", "text"), SHOWN)
def test_a_refusal_shows_only_a_short_quantity_like_value(value: Any, text: str) -> None:
    assert quantities.shown(value) == text
