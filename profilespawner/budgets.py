"""Budgets (SPEC §10): what a server counts, what is in use, and whether a spawn fits.

Pure arithmetic and decisions on data; the hub side (:mod:`profilespawner.ledger`)
gathers that data from KubeSpawner's pod reflector and its own spawns in
flight. A server is a :class:`Claim`: whose it is, the budgets it counts
against (those that covered its user when it was spawned, as its pod records
them in ``profilespawner/budgets``), and its amounts -- the requests of the
notebook container's GPU resource, cpu and memory, exactly (``500m`` + ``1.5``
is ``2`` cores, ``1Gi`` + ``1G`` is 2073741824 bytes), and one server.

A request counts as the API server stores it: a resource with a limit and no
request is requested at its limit (Kubernetes' defaulting), so what a spawn is
counted for before its pod exists (:func:`requested`, from the resources the
pod will get) equals what its pod is counted for afterwards (:func:`pod_claim`).
A pod being deleted (``deletionTimestamp`` set) or finished (phase
``Succeeded``/``Failed``, as a ResourceQuota counts) holds nothing.

:func:`check` refuses a spawn that would take a budget past a limit with a
:class:`~profilespawner.errors.BudgetExceededError` naming the budget, the key,
the limit, what is in use and what the server asks for -- never another
user's name. Only a key the server asks for can refuse it: a budget lowered
below what runs refuses new servers that ask for that key, and stops nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from . import quantities
from .errors import BudgetExceededError, quote
from .match import is_for
from .model import BUDGET_KEYS, NOTEBOOK_CONTAINER, Budget
from .provenance import BUDGETS, read_provenance

__all__ = [
    "SCOPES",
    "Claim",
    "Standing",
    "amount_text",
    "check",
    "covering",
    "in_use",
    "left_text",
    "pod_claim",
    "requested",
    "standings",
]

#: The two kinds of limit of a budget: over everyone it covers, over each user's own servers.
SCOPES = ("total", "per_user")

#: The pod annotation KubeSpawner records the (unescaped) user name in.
_USER_ANNOTATION = "hub.jupyter.org/username"

#: Phases of a pod that holds no resources any more.
_FINISHED = frozenset({"Succeeded", "Failed"})

_ZERO = Decimal(0)


def _empty() -> Mapping[str, Decimal]:
    return MappingProxyType({})


@dataclass(frozen=True)
class Claim:
    """One server as budgets count it: its user, the names of the budgets it
    counts against, and its amounts (keys of :data:`~profilespawner.model.BUDGET_KEYS`)."""

    user: str
    budgets: tuple[str, ...]
    amounts: Mapping[str, Decimal] = field(default_factory=_empty)


def _amount(key: str, value: Any) -> Decimal:
    """A request as a budget counts it; one that cannot be read (no API server
    stores such a value) counts nothing."""
    try:
        return quantities.read(key, value if isinstance(value, (int, float)) else str(value))
    except ValueError:
        return _ZERO


def requested(resources: Mapping[str, Any] | None, *, gpu_resource_name: str) -> dict[str, Decimal]:
    """What a notebook container with ``resources`` (``{"requests": {...},
    "limits": {...}}``, as JSON) counts: its requests of ``gpu_resource_name``,
    cpu and memory (a limit without a request is the request, as the API
    server defaults it), and one server."""
    resources = resources or {}
    requests = resources.get("requests") or {}
    limits = resources.get("limits") or {}
    amounts = {}
    for key, name in (("gpu", gpu_resource_name), ("cpu", "cpu"), ("memory", "memory")):
        value = requests.get(name, limits.get(name))
        amounts[key] = _ZERO if value is None else _amount("gpu" if key == "gpu" else key, value)
    amounts["servers"] = Decimal(1)
    return amounts


def pod_claim(pod: Mapping[str, Any], *, gpu_resource_name: str) -> Claim | None:
    """What a notebook pod (the API server's JSON, as KubeSpawner's reflector
    holds it) counts against; None when it counts against no budget: it
    records none, is being deleted or has finished."""
    metadata = pod.get("metadata") or {}
    annotations = metadata.get("annotations") or {}
    if BUDGETS not in annotations or metadata.get("deletionTimestamp"):
        return None
    if (pod.get("status") or {}).get("phase") in _FINISHED:
        return None
    record = read_provenance(annotations)
    if record is None or not record.budgets:
        return None
    containers = (pod.get("spec") or {}).get("containers") or []
    notebook: Mapping[str, Any] = next((c for c in containers if c.get("name") == NOTEBOOK_CONTAINER), {})
    return Claim(
        user=str(annotations.get(_USER_ANNOTATION) or ""),
        budgets=record.budgets,
        amounts=MappingProxyType(requested(notebook.get("resources"), gpu_resource_name=gpu_resource_name)),
    )


def covering(budgets: Mapping[str, Budget], *, user: str, groups: Iterable[str]) -> tuple[Budget, ...]:
    """The budgets that cover ``user`` (by name or one of ``groups``), in definition order."""
    group_set = frozenset(groups)
    return tuple(b for b in budgets.values() if is_for(b.who, user, group_set))


def in_use(claims: Iterable[Claim], budget: str, *, user: str | None = None) -> dict[str, Decimal]:
    """The sum of the claims counting against ``budget``: everyone's, or ``user``'s own."""
    total = dict.fromkeys(BUDGET_KEYS, _ZERO)
    for claim in claims:
        if budget in claim.budgets and (user is None or claim.user == user):
            for key in BUDGET_KEYS:
                total[key] += claim.amounts.get(key, _ZERO)
    return total


def amount_text(key: str, amount: Decimal) -> str:
    """``amount`` of ``key`` as Kubernetes writes it (``2``, ``1500m``,
    ``40Gi``, ``2G``), for messages, the form and the tools."""
    if key in ("gpu", "servers"):
        return str(int(amount))
    if key == "memory":
        # The shorter of the binary form (``2Gi``) and a decimal one (``2G``).
        binary = quantities.canonical(key, amount)
        whole = int(amount)
        for suffix, size in (
            ("E", 10**18),
            ("P", 10**15),
            ("T", 10**12),
            ("G", 10**9),
            ("M", 10**6),
            ("k", 10**3),
        ):
            if whole and whole % size == 0:
                decimal = f"{whole // size}{suffix}"
                return decimal if len(decimal) < len(binary) else binary
        return binary
    return quantities.canonical(key, amount)


@dataclass(frozen=True)
class Standing:
    """One limit of a budget as it stands for a user: ``limit`` of ``key`` in
    ``scope``, ``used`` (everyone's for ``total``, the user's for ``per_user``)."""

    budget: str
    scope: str
    key: str
    limit: Decimal
    used: Decimal

    @property
    def left(self) -> Decimal:
        return max(self.limit - self.used, _ZERO)


def standings(budgets: Sequence[Budget], claims: Sequence[Claim], *, user: str) -> list[Standing]:
    """Every limit of ``budgets`` as it stands for ``user``, in order (budget,
    scope, key)."""
    out: list[Standing] = []
    for budget in budgets:
        for scope in SCOPES:
            limits: Mapping[str, Decimal] = getattr(budget, scope)
            if not limits:
                continue
            used = in_use(claims, budget.name, user=user if scope == "per_user" else None)
            out.extend(
                Standing(budget.name, scope, key, limits[key], used[key])
                for key in BUDGET_KEYS
                if key in limits
            )
    return out


def check(
    budgets: Sequence[Budget], claims: Sequence[Claim], *, user: str, asked: Mapping[str, Decimal]
) -> None:
    """Whether a server of ``user`` asking for ``asked`` fits every one of
    ``budgets`` (those covering the user), given the ``claims`` of the other
    servers (running and in flight, this one excluded).

    Raises :class:`BudgetExceededError` for the first limit it would exceed.
    """
    for standing in standings(budgets, claims, user=user):
        ask = asked.get(standing.key, _ZERO)
        if ask > 0 and standing.used + ask > standing.limit:
            key = standing.key
            limit, used, wants = (amount_text(key, a) for a in (standing.limit, standing.used, ask))
            whose = "for everyone it covers" if standing.scope == "total" else "per user"
            held = "in use" if standing.scope == "total" else "in use by your servers"
            raise BudgetExceededError(
                f"allows {limit} {_unit(key)} {whose}; {used} {held}, and this server asks for {wants}",
                budget=standing.budget,
                scope=standing.scope,
                key=key,
                limit=limit,
                in_use=used,
                asked=wants,
            )


def _unit(key: str) -> str:
    return {"gpu": "GPUs", "cpu": "cpu", "memory": "memory", "servers": "servers"}[key]


def left_text(standings_: Iterable[Standing]) -> list[str]:
    """What the user's budgets have left, one line per budget, for the spawn
    form: ``budget 'ds-gpus': 6 of 8 GPUs left in total; 2 of 2 GPUs, 1 of 2 servers left for you``."""
    by_budget: dict[str, dict[str, list[str]]] = {}
    for s in standings_:
        parts = by_budget.setdefault(s.budget, {"total": [], "per_user": []})
        parts[s.scope].append(f"{amount_text(s.key, s.left)} of {amount_text(s.key, s.limit)} {_unit(s.key)}")
    lines = []
    for name, parts in by_budget.items():
        said = []
        if parts["total"]:
            said.append(f"{', '.join(parts['total'])} left in total")
        if parts["per_user"]:
            said.append(f"{', '.join(parts['per_user'])} left for you")
        lines.append(f"budget {quote(name)}: {'; '.join(said)}")
    return lines
