"""Amounts of the resources a size's ranges offer -- cpu, memory, gpu -- as exact numbers.

Pure arithmetic on :func:`profilespawner.k8srules.parse_quantity`: a value as a
user or a profile gives it (a quantity string, a JSON number; for gpu an
integer or a string of one) becomes a :class:`~decimal.Decimal` in the
resource's unit (cores, bytes, GPUs), rounded up to the precision Kubernetes
keeps (1m of cpu, one byte of memory: what the kubelet rounds to); products
with a ``limit_factor`` round up the same way; and an amount is written back
as the canonical quantity Kubernetes itself prints: cpu in whole cores, else
millicores (``12``, ``1500m``), memory in the largest binary suffix that is
exact, else bytes (``40Gi``, ``1536Mi``, ``1000000000``), gpu as an integer.
A value that cannot be read raises ``ValueError`` whose message says why in a
few words, never quoting the value.
"""

from __future__ import annotations

import math
import re
from decimal import ROUND_CEILING, Context, Decimal, localcontext
from typing import Any

from . import k8srules
from .errors import QuantityRangeError

__all__ = [
    "MAX_TEXT",
    "UNITS",
    "canonical",
    "is_exact",
    "read",
    "scaled",
    "shown",
]

#: Longest value read as text: far beyond any quantity a person writes.
MAX_TEXT = 32

#: The precision of each key: an amount is a whole number of these.
UNITS = {"cpu": Decimal("0.001"), "memory": Decimal(1), "gpu": Decimal(1)}

_BINARY_SUFFIXES = (("Ei", 2**60), ("Pi", 2**50), ("Ti", 2**40), ("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10))
_DIGITS = re.compile(r"^[0-9]+$")
# What a short value may look like to be quoted back in a message.
_SHOWABLE = re.compile(r"^[0-9A-Za-z.+-]{1,16}$")
# Enough digits for any amount up to 2^63-1 divided or multiplied by a factor.
_CONTEXT = Context(prec=80)


def read(key: str, value: Any) -> Decimal:
    """The amount ``value`` gives for ``key`` (``cpu``, ``memory`` or ``gpu``),
    rounded up to the key's unit.

    Raises ``ValueError`` naming the problem: not a quantity (or a whole
    number, for gpu), too long, out of the range Kubernetes allows.
    """
    if key not in UNITS:
        raise ValueError(f"unknown range key {key!r}")
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError("is not a whole number" if key == "gpu" else "is not a quantity")
    if isinstance(value, str) and len(value) > MAX_TEXT:
        raise ValueError(f"is longer than {MAX_TEXT} characters")
    amount = _whole(value) if key == "gpu" else _quantity(value)
    if abs(amount) > k8srules.MAX_QUANTITY:
        raise ValueError("is out of range (a Kubernetes quantity is at most 2^63-1)")
    with localcontext(_CONTEXT):
        return amount.quantize(UNITS[key], rounding=ROUND_CEILING) if key == "cpu" else _ceiling(amount)


def _whole(value: str | int | float) -> Decimal:
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise ValueError("is not a whole number")
        return Decimal(int(value))
    if not _DIGITS.match(value):
        raise ValueError("is not a whole number")
    return Decimal(int(value))


def _quantity(value: str | int | float) -> Decimal:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("is not a quantity")
    text = value if isinstance(value, str) else repr(value)
    try:
        return k8srules.parse_quantity(text)
    except QuantityRangeError:
        raise ValueError("is out of range (a Kubernetes quantity is at most 2^63-1)") from None
    except ValueError:
        raise ValueError("is not a quantity") from None


def _ceiling(amount: Decimal) -> Decimal:
    return amount.to_integral_value(rounding=ROUND_CEILING)


def is_exact(key: str, amount: Decimal) -> bool:
    """Whether ``amount`` is a whole number of ``key``'s unit (no rounding needed)."""
    with localcontext(_CONTEXT):
        return amount % UNITS[key] == 0


def scaled(key: str, amount: Decimal, factor: Decimal) -> Decimal:
    """``amount`` × ``factor``, rounded up to ``key``'s unit: a limit is never
    below what was asked for."""
    with localcontext(_CONTEXT):
        product = amount * factor
        if key == "cpu":
            return product.quantize(UNITS[key], rounding=ROUND_CEILING)
        return _ceiling(product)


def canonical(key: str, amount: Decimal) -> str:
    """``amount`` (a whole number of ``key``'s unit) as Kubernetes prints it."""
    with localcontext(_CONTEXT):
        if key == "cpu":
            if amount == amount.to_integral_value():
                return str(int(amount))
            return f"{int(amount * 1000)}m"
        whole = int(amount)
        if key == "memory" and whole:
            for suffix, size in _BINARY_SUFFIXES:
                if whole % size == 0:
                    return f"{whole // size}{suffix}"
        return str(whole)


def shown(value: Any) -> str:
    """``value`` as a refusal may quote it: a short quantity-like string or
    number as written, anything else described, never echoed."""
    if isinstance(value, str):
        if _SHOWABLE.match(value):
            return repr(value)
        return "(an empty string)" if not value else f"(a string of {len(value)} characters, not shown)"
    if isinstance(value, bool):
        return f"({str(value).lower()})"
    if isinstance(value, int):
        return str(value) if abs(value) < 10**16 else "(an integer of more than 16 digits)"
    if isinstance(value, float):
        text = repr(value)
        return text if math.isfinite(value) and len(text) <= 16 else f"({text[:16]})"
    if value is None:
        return "(null)"
    if isinstance(value, list):
        return "(a list)"
    if isinstance(value, dict):
        return "(a mapping)"
    return f"(a {type(value).__name__})"
