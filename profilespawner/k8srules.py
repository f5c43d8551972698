"""Kubernetes' own rules for values: quantities, names, label keys and values,
when two tolerations mean the same, and one volume per mount path.

Pure functions mirroring ``k8s.io/apimachinery``'s ``resource.ParseQuantity``
and ``validation.IsQualifiedName``/``IsDNS1123Label``/``IsValidLabelValue``
closely enough that what passes here passes the API server. Used by the
validator on load and by the applier to compare requests with limits and to
write ``MEM_LIMIT``-style variables. :func:`toleration_identity` is how the
merge, the applier and ``explain`` drop a toleration another one already
gives: only what the API server itself reads as equal is equal.
:func:`shared_mount_paths` is the API server's rule that a container mounts
one volume per path, which the validator (inside one profile), the resolver
(what the merge gives) and the applier (against KubeSpawner's own mounts) hold.
"""

from __future__ import annotations

import json
import re
from collections.abc import Hashable, Iterable, Mapping
from decimal import ROUND_CEILING, Context, Decimal, localcontext
from typing import Any, TypeVar

from .errors import QuantityRangeError

__all__ = [
    "MAX_QUANTITY",
    "TOLERATION_FIELDS",
    "cpu_cores",
    "is_dns1123_label",
    "is_dns1123_subdomain",
    "is_env_var_name",
    "is_label_value",
    "is_qualified_name",
    "memory_bytes",
    "parse_quantity",
    "shared_mount_paths",
    "toleration_identity",
    "unique_tolerations",
]

_QUANTITY = re.compile(
    r"^(?P<number>[+-]?(?:\d+(?:\.\d*)?|\.\d+))"
    r"(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$"
)
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
#: Quantities are computed only within ±10^_MAX_EXPONENT (see parse_quantity).
_MAX_EXPONENT = 40

#: The largest value of a quantity: "no quantity may represent a number greater
#: than 2^63-1" (Kubernetes API reference, Quantity).
MAX_QUANTITY = Decimal(2**63 - 1)

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
# The portable rule (every Kubernetes version accepts it); 1.34 relaxed it to any
# printable ASCII but '=', which older clusters still reject.
_ENV_VAR_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")


#: Quantities read before (the few a hub's sizes and profiles use, read at
#: every spawn): text → value, for texts up to _MEMO_LENGTH characters, at most
#: _MEMO_SIZE of them (emptied when full).
_memo: dict[str, Decimal] = {}
_MEMO_LENGTH = 32
_MEMO_SIZE = 1024


def parse_quantity(text: str) -> Decimal:
    """Return the value of a Kubernetes quantity such as ``500m`` or ``1.5Gi``.

    Raises :class:`QuantityRangeError` for a quantity whose value lies beyond
    ±10^40 (far beyond the 2^63-1 Kubernetes allows; the value is never
    computed, so ``1e99999999999`` costs nothing), and ``ValueError`` when
    ``text`` is not a quantity. A zero is zero whatever its exponent.
    """
    value = _memo.get(text) if type(text) is str else None
    if value is None:
        value = _parse_quantity(text)
        if len(text) <= _MEMO_LENGTH:
            if len(_memo) >= _MEMO_SIZE:
                _memo.clear()
            _memo[text] = value
    return value


def _parse_quantity(text: str) -> Decimal:
    match = _QUANTITY.match(text) if isinstance(text, str) and text == text.strip() else None
    if match is None:
        raise ValueError("not a Kubernetes quantity")
    number = Decimal(match["number"])  # exact: digits are never rounded
    suffix = match["suffix"] or ""
    if not number:
        return Decimal(0)
    if suffix in _BINARY:
        # 2^60 has 19 digits: the bound below still holds for the product
        if number.adjusted() > _MAX_EXPONENT - 19 or number.adjusted() < -_MAX_EXPONENT:
            raise QuantityRangeError("out of range")
        with localcontext(Context(prec=len(number.as_tuple().digits) + 20)):
            return number * _BINARY[suffix]
    if suffix in _DECIMAL:
        scale = _DECIMAL[suffix]
    elif suffix:
        digits = suffix[1:].lstrip("+-").lstrip("0")
        # more digits than any sane exponent: out of range, without parsing them
        scale = int(suffix[1:]) if len(digits) <= 6 else (10**7 if suffix[1] != "-" else -(10**7))
    else:
        scale = 0
    if not -_MAX_EXPONENT <= number.adjusted() + scale <= _MAX_EXPONENT:
        raise QuantityRangeError("out of range")
    sign, mantissa, exponent = number.as_tuple()
    return Decimal((sign, mantissa, int(exponent) + scale))


def memory_bytes(text: str) -> int:
    """A memory quantity in whole bytes, rounded up as the kubelet does."""
    return int(parse_quantity(text).to_integral_value(rounding=ROUND_CEILING))


def cpu_cores(text: str) -> float:
    """A CPU quantity in cores, as JupyterHub writes ``CPU_LIMIT`` (a float)."""
    return float(parse_quantity(text))


def is_dns1123_label(name: str) -> bool:
    """True for a valid volume (or other DNS-1123 label) name."""
    return len(name) <= 63 and bool(_DNS1123_LABEL.match(name))


def is_dns1123_subdomain(name: str) -> bool:
    """True for a valid object name such as a ConfigMap's (and name prefixes)."""
    return len(name) <= 253 and bool(_DNS1123_SUBDOMAIN.match(name))


def is_qualified_name(name: str) -> bool:
    """True for a label/annotation key or resource name: ``[prefix/]name``."""
    prefix, slash, local = name.rpartition("/")
    if slash and not (prefix and is_dns1123_subdomain(prefix)):
        return False
    return 0 < len(local) <= 63 and bool(_QUALIFIED_NAME.match(local))


def is_label_value(value: str) -> bool:
    """True for a valid label value (also node selector values)."""
    return len(value) <= 63 and bool(_LABEL_VALUE.match(value))


def is_env_var_name(name: str) -> bool:
    """True for an environment variable name every Kubernetes version accepts."""
    return bool(_ENV_VAR_NAME.match(name))


#: The fields of a Kubernetes Toleration.
TOLERATION_FIELDS = ("key", "operator", "value", "effect", "tolerationSeconds")


def toleration_identity(toleration: Mapping[str, Any]) -> tuple[Any, ...]:
    """What ``toleration`` means, as the API server reads it: two tolerations
    with the same identity tolerate the same taints for as long.

    An omitted (or null) ``key``, ``value`` or ``effect`` is the empty string,
    and an omitted or empty ``operator`` is ``Equal``, as Go's zero values and
    the scheduler's ``ToleratesTaint`` read them. Nothing else is normalised:
    an omitted ``tolerationSeconds`` (forever) is not ``0`` (at once), an
    empty ``effect`` (every effect) is not ``NoSchedule``, and a field this
    module does not know counts as written.
    """
    others = {k: v for k, v in toleration.items() if k not in TOLERATION_FIELDS}
    return (
        _comparable(toleration.get("key") or ""),
        _comparable(toleration.get("operator") or "Equal"),
        _comparable(toleration.get("value") or ""),
        _comparable(toleration.get("effect") or ""),
        _comparable(toleration.get("tolerationSeconds")),
        _comparable(others) if others else None,
    )


def unique_tolerations(tolerations: Iterable[Mapping[str, Any]]) -> tuple[Any, ...]:
    """``tolerations`` without those an earlier one already means
    (:func:`toleration_identity`); the first of each is kept as written."""
    seen: set[tuple[Any, ...]] = set()
    out = []
    for toleration in tolerations:
        identity = toleration_identity(toleration)
        if identity not in seen:
            seen.add(identity)
            out.append(toleration)
    return tuple(out)


_K = TypeVar("_K", bound=Hashable)


def shared_mount_paths(mounts: Iterable[tuple[_K, str]]) -> list[tuple[_K, _K]]:
    """Of ``(key, mountPath)`` pairs, each one mounted where an earlier one is
    already, with that earlier one: ``[(earlier, later), ...]``.

    The API server refuses a container whose ``volumeMounts`` repeat a
    ``mountPath`` ("must be unique"), comparing them as written.
    """
    first: dict[str, _K] = {}
    shared = []
    for key, path in mounts:
        if path in first:
            shared.append((first[path], key))
        else:
            first[path] = key
    return shared


def _comparable(value: Any) -> Any:
    # A pod given as a dict may hold anything: lists and mappings compare by content.
    if value is None or isinstance(value, (str, int, float)):
        return value
    return json.dumps(value, sort_keys=True, default=repr)
