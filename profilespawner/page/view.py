"""What the profiles page shows, as plain data: sources, the merged set, a preview, the servers.

The handlers (:mod:`.handlers`) gather the hub's own state -- the
:class:`~profilespawner.SingleuserProfiles` instance's sources and profile
set, the pods of KubeSpawner's pod reflector -- and this module turns it into
rows the templates print. Nothing here decides a rule: the preview is
:func:`~profilespawner.tools.explain.explain`, which resolves with the
spawner's own :func:`~profilespawner.resolve.resolve` and reads its record,
and a refusal reads as the HTTP error a spawn gets
(:func:`~profilespawner.httperrors.http_error`), the budget check included:
the handlers pass the hub's own (:func:`profilespawner.ledger.check_fits`,
with the hub's count of what its servers hold, reserving nothing); what
the servers hold of each budget is :func:`~profilespawner.budgets.in_use`
of the hub's count, worded as ``profilespawner pods`` words it
(:func:`~profilespawner.tools.output.budget_use_text`); a server's staleness is
:func:`~profilespawner.tools.pods.notebook_pod` (the
:func:`~profilespawner.provenance.freshness` of ``profilespawner pods``)
against the sources the hub uses now. What it shows is what ``explain``
shows: names, keys, quantities, label values -- never an env value, an
annotation value or a volume's content.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .. import quantities
from ..budgets import Claim, amount_text
from ..budgets import in_use as budget_in_use
from ..errors import ProfileError
from ..httperrors import http_error, refusal_status
from ..model import NO_SIZE, PodSettings, ProfileSet, Who
from ..resolve import Resolution
from ..sources.book import SourceStatus
from ..tools.explain import Explanation, explain
from ..tools.output import budget_use_text
from ..tools.pods import NotebookPod, notebook_pod

__all__ = [
    "BudgetRow",
    "BudgetUseRow",
    "GpuTypeRow",
    "PreviewAnswer",
    "PreviewRequest",
    "ProfileRow",
    "ServerRow",
    "SizeRow",
    "SourceRow",
    "SpawnCheck",
    "age",
    "budget_rows",
    "budget_use_rows",
    "gpu_type_rows",
    "in_use",
    "preview",
    "profile_rows",
    "server_rows",
    "settings_summary",
    "size_choices",
    "size_rows",
    "source_rows",
    "who_text",
]


def age(seconds: float) -> str:
    """A duration as ``kubectl get`` prints ages: ``45s``, ``12m``, ``3h``, ``2d``."""
    seconds = max(0, int(seconds))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size * (2 if unit != "m" else 1):
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


# -- the sources --------------------------------------------------------------------


@dataclass(frozen=True)
class SourceRow:
    """One source: its state, the version read last and the one in use, the
    rejection's message, and how long ago the hub read it."""

    source: str
    state: str
    version: str
    in_use: str
    error: str
    age: str


def source_rows(statuses: Iterable[SourceStatus], *, now: float | None = None) -> list[SourceRow]:
    """The sources in precedence order, as the page lists them."""
    now = time.time() if now is None else now
    return [
        SourceRow(
            source=s.source,
            state=s.state,
            version=s.version or "",
            in_use=s.in_use or "",
            error=s.error,
            age=age(now - s.since) if s.since is not None else "",
        )
        for s in statuses
    ]


# -- the merged set -----------------------------------------------------------------


def who_text(who: Who) -> str:
    """Whom a profile or size is for, in words."""
    if who.everyone:
        return "everyone"
    parts = []
    if who.users:
        parts.append("users " + ", ".join(who.users))
    if who.groups:
        parts.append("groups " + ", ".join(who.groups))
    return "; ".join(parts)


def _resources_text(resources: Mapping[str, Mapping[str, str]]) -> str:
    return "; ".join(
        f"{kind} " + ", ".join(f"{name} {quantity}" for name, quantity in values.items())
        for kind, values in resources.items()
        if values
    )


def settings_summary(settings: PodSettings) -> tuple[str, ...]:
    """What a profile or size sets, field by field: env variable names (never
    their values), quantities, selector and label values (short and public, as
    ``explain`` shows them), and only the keys of annotations, the names of
    volumes and the number of envFrom entries and tolerations."""
    out = []
    if settings.env:
        out.append("env: " + ", ".join(str(var.get("name")) for var in settings.env))
    if settings.env_from:
        out.append(f"envFrom: {len(settings.env_from)}")
    if any(settings.resources.values()):
        out.append(f"resources: {_resources_text(settings.resources)}")
    if settings.gpu is not None:
        out.append(f"gpu: {settings.gpu}")
    if settings.tolerations:
        out.append(f"tolerations: {len(settings.tolerations)}")
    if settings.node_affinity:
        out.append("node affinity: " + ", ".join(settings.node_affinity))
    if settings.node_selector:
        out.append("node selector: " + ", ".join(f"{k}={v}" for k, v in settings.node_selector.items()))
    if settings.volumes:
        out.append("volumes: " + ", ".join(str(v.get("name")) for v in settings.volumes))
    if settings.labels:
        out.append("labels: " + ", ".join(f"{k}={v}" for k, v in settings.labels.items()))
    if settings.annotations:
        out.append("annotations: " + ", ".join(settings.annotations))
    return tuple(out)


@dataclass(frozen=True)
class ProfileRow:
    """One profile of the merged set, in precedence order."""

    name: str
    source: str
    who: str
    images: str
    sets: tuple[str, ...]


def profile_rows(profile_set: ProfileSet) -> list[ProfileRow]:
    """The merged set's profiles, in the order they apply."""
    return [
        ProfileRow(
            name=p.name,
            source=f"{p.source} #{p.index + 1}",
            who=who_text(p.who),
            images=", ".join(p.images) or "every image",
            sets=settings_summary(p.settings),
        )
        for p in profile_set.profiles
    ]


@dataclass(frozen=True)
class SizeRow:
    """One size users may pick, with its ranges (SPEC §9)."""

    name: str
    source: str
    who: str
    description: str
    sets: tuple[str, ...]
    ranges: tuple[str, ...]
    limit_factor: str


def size_rows(profile_set: ProfileSet) -> list[SizeRow]:
    """The merged set's sizes, in definition order (a later definition
    replaced an earlier one of the same name)."""
    rows = []
    for s in profile_set.sizes.values():
        ranges = tuple(
            f"{key} {quantities.canonical(key, r.minimum)} to {quantities.canonical(key, r.maximum)}"
            f" (default {quantities.canonical(key, r.default)})"
            for key, r in s.ranges.items()
        )
        rows.append(
            SizeRow(
                name=s.name,
                source=s.source,
                who=who_text(s.who),
                description=s.description,
                sets=settings_summary(s.settings),
                ranges=ranges,
                limit_factor=format(s.limit_factor.normalize(), "f"),
            )
        )
    return rows


@dataclass(frozen=True)
class GpuTypeRow:
    """One GPU type: the tolerations a server with a GPU of that type gets."""

    type: str
    source: str
    description: str
    tolerations: int


def gpu_type_rows(profile_set: ProfileSet) -> list[GpuTypeRow]:
    """The merged set's GPU types."""
    return [
        GpuTypeRow(type=t.type, source=t.source, description=t.description, tolerations=len(t.tolerations))
        for t in profile_set.gpu_types.values()
    ]


@dataclass(frozen=True)
class BudgetRow:
    """One budget of the merged set (SPEC §10): whom it covers and its limits."""

    name: str
    source: str
    who: str
    total: str
    per_user: str


def _limits_text(limits: Mapping[str, Any]) -> str:
    return ", ".join(f"{key} {amount_text(key, amount)}" for key, amount in limits.items())


def budget_rows(profile_set: ProfileSet) -> list[BudgetRow]:
    """The merged set's budgets, in definition order (a later definition
    replaced an earlier one of the same name)."""
    return [
        BudgetRow(
            name=b.name,
            source=b.source,
            who=who_text(b.who),
            total=_limits_text(b.total),
            per_user=_limits_text(b.per_user),
        )
        for b in profile_set.budgets.values()
    ]


@dataclass(frozen=True)
class BudgetUseRow:
    """What the hub's servers hold of one budget, as ``profilespawner pods`` says it."""

    name: str
    in_use: str


def budget_use_rows(profile_set: ProfileSet, claims: Sequence[Claim]) -> list[BudgetUseRow]:
    """What ``claims`` (the hub's count: its running servers and its spawns in
    flight) hold of each budget: the merged set's, then those that only a
    server still counts against."""
    defined = profile_set.budgets
    named = [name for claim in claims for name in claim.budgets if name not in defined]
    return [
        BudgetUseRow(name, budget_use_text(defined.get(name), budget_in_use(claims, name)))
        for name in [*defined, *dict.fromkeys(named)]
    ]


# -- the preview --------------------------------------------------------------------

#: The hub's check of a resolved spawn for ``user`` beyond the resolution:
#: what the server asks for (a request above its limit) and whether it fits
#: the budgets; raises the refusal a spawn would get.
SpawnCheck = Callable[[Resolution, str], None]


@dataclass(frozen=True)
class PreviewRequest:
    """The preview form: a spawn's facts and choices, as typed (``""`` = not given).

    ``groups`` is None when the form leaves them to the hub (the user's groups).
    """

    user: str
    image: str
    groups: tuple[str, ...] | None = None
    size: str = ""
    gpu_type: str = ""
    cpu: str = ""
    memory: str = ""
    gpu: str = ""

    @classmethod
    def from_arguments(cls, arguments: Mapping[str, str]) -> PreviewRequest:
        """From the form's fields (``groups`` comma-separated)."""

        def text(name: str) -> str:
            return str(arguments.get(name) or "").strip()

        groups = text("groups")
        return cls(
            user=text("user"),
            image=text("image"),
            groups=tuple(g.strip() for g in groups.split(",") if g.strip()) if groups else None,
            size=text("size"),
            gpu_type=text("gpu_type"),
            cpu=text("cpu"),
            memory=text("memory"),
            gpu=text("gpu"),
        )


@dataclass(frozen=True)
class PreviewAnswer:
    """What a spawn of ``request`` would get: an ``explanation`` (who set
    what), or the ``status`` and ``message`` of the HTTP error it would fail
    with. ``groups`` are the groups it was resolved with, and
    ``groups_from`` says whose they are."""

    request: PreviewRequest
    groups: tuple[str, ...]
    groups_from: str
    explanation: Explanation | None = None
    status: int | None = None
    message: str = ""

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the preview endpoint)."""
        e = self.explanation
        out: dict[str, Any] = {
            "user": self.request.user,
            "groups": list(self.groups),
            "groups_from": self.groups_from,
            "image": self.request.image,
            "status": self.status or 200,
        }
        if e is None:
            out["message"] = self.message
            return out
        out.update(
            profiles=[{"profile": v.label, "source": v.source, "applies": v.applies} for v in e.verdicts],
            size=e.size,
            allowed_sizes=list(e.allowed_sizes),
            ranges={r.key: r.value for r in e.ranges},
            gpu=e.gpu,
            gpu_types=list(e.gpu_types),
            fields=[
                {
                    "field": o.field,
                    "key": o.key,
                    "set_by": o.set_by,
                    "detail": o.detail,
                    "replaced": list(o.replaced),
                }
                for o in e.origins
            ],
        )
        return out


def preview(
    profile_set: ProfileSet,
    request: PreviewRequest,
    *,
    hub_groups: Sequence[str] | None,
    gpu_resource_name: str,
    check: SpawnCheck | None = None,
) -> PreviewAnswer:
    """What a spawn of ``request.user`` would get from ``profile_set``.

    ``hub_groups``: the user's groups in the hub (None for no such user),
    used when the request leaves the groups out. ``check`` is the hub's
    check of the resolution (:data:`SpawnCheck`), made as a spawn makes it
    after resolving. A spawn the hub would refuse -- a choice, a conflict, a
    budget -- reads as the HTTP error the spawn gets, message and all.
    """
    if request.groups is not None:
        groups, groups_from = request.groups, "as given"
    elif hub_groups is not None:
        groups, groups_from = tuple(hub_groups), "the user's groups in the hub"
    else:
        groups, groups_from = (), "none: no such user in the hub"
    try:
        explanation = explain(
            profile_set,
            user=request.user,
            groups=groups,
            image=request.image,
            size=request.size or None,
            gpu_type=request.gpu_type or None,
            cpu=request.cpu or None,
            memory=request.memory or None,
            gpu=request.gpu or None,
            gpu_resource_name=gpu_resource_name,
        )
        if check is not None and explanation.resolution is not None:
            check(explanation.resolution, request.user)
    except ProfileError as error:
        status = refusal_status(error)
        if status is None:
            raise
        message = str(http_error(status, error).jupyterhub_message)  # type: ignore[attr-defined]
        return PreviewAnswer(request, groups, groups_from, status=status, message=message)
    return PreviewAnswer(request, groups, groups_from, explanation=explanation)


def size_choices(profile_set: ProfileSet) -> list[str]:
    """Every size name the preview form offers: no size, then the defined ones."""
    return [NO_SIZE, *profile_set.sizes]


# -- the running servers ------------------------------------------------------------


def in_use(profile_set: ProfileSet) -> dict[str, str | None]:
    """The sources the hub uses now and the version of the content in use:
    what the next spawn records (SPEC §8). A source the hub rejects now keeps
    its last valid version; one never valid is not in use."""
    return {s.source: s.version for s in profile_set.sources}


@dataclass(frozen=True)
class ServerRow:
    """One notebook pod, as ``profilespawner pods`` lists it, and its phase."""

    pod: NotebookPod
    phase: str
    why: tuple[str, ...]


def server_rows(
    pods: Iterable[Mapping[str, Any]], sources_in_use: Mapping[str, str | None]
) -> list[ServerRow]:
    """The notebook pods (the API server's JSON, as KubeSpawner's reflector
    holds them), by user and server name, each compared with the sources in
    use; ``why`` says what changed for a stale one."""
    rows = []
    for item in pods:
        pod = notebook_pod(item, sources_in_use)
        metadata = item.get("metadata") or {}
        phase = (
            "Terminating"
            if metadata.get("deletionTimestamp")
            else str((item.get("status") or {}).get("phase") or "")
        )
        fresh = pod.freshness
        why: tuple[str, ...] = ()
        if fresh is not None:
            why = (
                *(f"{s} changed" for s in fresh.changed),
                *(f"{s} gone" for s in fresh.gone),
                *(f"{s} added" for s in fresh.added),
            )
        rows.append(ServerRow(pod=pod, phase=phase, why=why))
    return sorted(rows, key=lambda r: (r.pod.user, r.pod.server, r.pod.name))
