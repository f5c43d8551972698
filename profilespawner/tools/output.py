"""How the ``profilespawner`` command prints: pods, explanations, reports, running servers.

Pods print as ``kubectl get -o yaml`` prints them, with the values of
environment variables hidden unless asked for (:func:`hide_env_values`): they
may be credentials. Explanations (:func:`format_explanation`) and reports
hold names, keys and quantities, never an env value.
"""

from __future__ import annotations

import io
import json
import textwrap
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TextIO

from ruamel.yaml import YAML

from ..budgets import amount_text, in_use
from ..errors import quote
from ..model import BUDGET_KEYS, JSON, RESOURCE_ENV, Budget
from .explain import KUBESPAWNER, Explanation, FieldOrigin
from .lint import FileReport

if TYPE_CHECKING:
    from .dryrun import ClusterCheck
    from .pods import NotebookPod

__all__ = [
    "HIDDEN",
    "budget_use_text",
    "count",
    "dump_yaml",
    "format_explanation",
    "format_pods",
    "hide_env_values",
    "join",
    "report_summary",
    "trials_summary",
    "write_report",
]

HIDDEN = "<hidden>"

# Variables JupyterHub and KubeSpawner write themselves (a profile may not set
# them; offline their values are placeholders) or that mirror resources.
_SHOWN_ENV_PREFIXES = ("JUPYTERHUB_", "JPY_", "JUPYTER_IMAGE")

# fields whose detail is a short value (a quantity, a label value): shown before the setter
_VALUE_FIRST = frozenset({"resources", "node_selector", "labels"})

_FIELD_TITLES = {
    "env": "env (values not shown)",
    "envFrom": "envFrom",
    "resources": "resources",
    "node_tolerations": "tolerations",
    "node_affinity": "node affinity",
    "node_selector": "node selector",
    "volumes": "volumes",
    "labels": "labels",
    "annotations": "annotations (values not shown)",
}


def hide_env_values(pod: JSON) -> JSON:
    """``pod`` with every env ``value`` replaced by ``<hidden>``, except JupyterHub's own."""
    pod = json.loads(json.dumps(pod))
    spec = pod.get("spec") or {}
    for container in [*(spec.get("containers") or []), *(spec.get("initContainers") or [])]:
        for var in container.get("env") or []:
            name = var.get("name", "")
            shown = name in RESOURCE_ENV or name.startswith(_SHOWN_ENV_PREFIXES)
            if "value" in var and not shown:
                var["value"] = HIDDEN
    return pod


def dump_yaml(data: Any) -> str:
    """YAML as ``kubectl get -o yaml`` prints it: block style, sorted keys, and
    strings quoted wherever YAML 1.1 (kubectl's parser) would read them otherwise."""
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.version = (1, 1)  # quote 'yes', 'on', '0777', ... as kubectl does
    yaml.width = 4096
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    text = buffer.getvalue()
    # version=(1, 1) also writes a '%YAML 1.1' directive, which kubectl never prints
    if text.startswith("%YAML"):
        text = text.split("\n---", 1)[1].lstrip("\n ")
    return text


def _applies(ok: bool) -> str:
    return "yes," if ok else "no, "


#: What explain and render leave to the hub (SPEC §10).
_NO_USAGE = (
    "(explain and render count no usage: the hub checks the spawn against what its running "
    "servers hold when it starts, and refuses it with 403 past a limit)"
)


def format_explanation(explanation: Explanation) -> str:
    """The explanation as a terminal report; no env values, ever."""
    e = explanation
    lines = [f"User:   {e.user}"]
    lines.append(f"Groups: {', '.join(e.groups) if e.groups else '(none)'}")
    lines.append(f"Image:  {e.image}")
    lines.append("")
    lines.append("Profiles, in the order they apply (+ applies, - does not):")
    if not e.verdicts:
        lines.append("  (no profiles are defined)")
    for v in e.verdicts:
        lines.append(f"  {'+' if v.applies else '-'} {v.label}  [{v.source}]")
        lines.append(f"      who:   {_applies(v.who_ok)} {v.who}")
        lines.append(f"      image: {_applies(v.image_ok)} {v.image}")
    lines.append("")
    if e.size is None:
        lines.append("Size:   none (Default), so the profiles alone decide")
    else:
        lines.append(f"Size:   {e.size!r} [{e.size_source}], applied after the profiles")
    if e.ranges:
        rows = [f"{r.key} {r.value} ({r.minimum} to {r.maximum}, default {r.default})" for r in e.ranges]
        scaled = [r.key for r in e.ranges if r.key != "gpu"]
        if scaled:
            rows.append(f"limits of {' and '.join(scaled)}: the value × {e.limit_factor}")
        lines.append(f"        within its ranges: {rows[0]}")
        lines.extend(f"{'':27}{row}" for row in rows[1:])
    lines.append(f"        {e.user} may pick: {', '.join(e.allowed_sizes)}")
    if e.gpu:
        types = ", ".join(repr(t) for t in e.gpu_types) or "none defined"
        lines.append(f"GPU:    {e.gpu}, set by {e.gpu_set_by}; tolerations of gpuTypes: {types}")
    elif e.gpu == 0:
        lines.append(f"GPU:    0, set by {e.gpu_set_by} (any GPU resource is removed)")
    else:
        lines.append("GPU:    none requested by a profile or size")
    covered = ", ".join(quote(b) for b in e.budgets)
    budgets = (
        f"{covered} cover {e.user}; the server counts against them" if e.budgets else f"none cover {e.user}"
    )
    lines.append(f"Budgets: {budgets}")
    lines.extend(textwrap.wrap(_NO_USAGE, width=100, initial_indent=" " * 8, subsequent_indent=" " * 8))
    lines.append("")
    lines.append("What the notebook pod gets, and who set it:")
    for field, title in _FIELD_TITLES.items():
        origins = e.of(field)
        if not origins:
            continue
        lines.append(f"  {title}")
        if field == "env":
            lines.extend(_env_lines(origins))
        else:
            lines.extend(_table(origins, value_first=field in _VALUE_FIRST))
    return "\n".join(lines) + "\n"


def _env_lines(origins: Sequence[FieldOrigin]) -> list[str]:
    own = [o for o in origins if o.set_by != KUBESPAWNER or o.replaced]
    kubespawner = [o.key for o in origins if o.set_by == KUBESPAWNER and not o.replaced]
    lines = _table(own)
    if kubespawner:
        text = f"and {len(kubespawner)} from {KUBESPAWNER} and JupyterHub: " + ", ".join(kubespawner)
        lines.extend(textwrap.wrap(text, width=100, initial_indent="    ", subsequent_indent="      "))
    return lines


def _replaces(origin: FieldOrigin) -> str:
    return f" (replaces {', '.join(origin.replaced)})" if origin.replaced else ""


def _table(origins: Sequence[FieldOrigin], *, value_first: bool = False) -> list[str]:
    """Aligned rows: key, who set it, what it is (a quantity or label value
    right after the key when ``value_first``; never an env value)."""
    if not origins:
        return []
    key_width = min(max(len(o.key) for o in origins), 40)
    setters = [f"<- {o.set_by}{_replaces(o)}" for o in origins]
    rows = []
    if value_first:
        detail_width = max(len(o.detail) for o in origins)
        for o, setter in zip(origins, setters, strict=True):
            detail = f"{o.detail:<{detail_width}}  " if detail_width else ""
            rows.append(f"    {o.key:<{key_width}}  {detail}{setter}")
    else:
        setter_width = min(max(len(s) for s in setters), 60)
        for o, setter in zip(origins, setters, strict=True):
            rows.append(f"    {o.key:<{key_width}}  {setter:<{setter_width}}  {o.detail}".rstrip())
    return rows


# -- reports --------------------------------------------------------------------------


def write_report(report: FileReport, out: TextIO) -> None:
    """Every problem of a document, then ``ok`` when it has no error."""
    for problem in report.problems:
        out.write(f"{problem}\n")
    if not report.errors:
        out.write(report_summary(report) + "\n")


def join(parts: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def report_summary(report: FileReport) -> str:
    ps = report.profile_set
    assert ps is not None
    parts = [
        count(len(ps.profiles), "profile"),
        count(len(ps.sizes), "size"),
        count(len(ps.gpu_types), "GPU type"),
    ]
    names = ", ".join(repr(name) for name in report.configmaps)
    what = f", ConfigMap{'s' if len(report.configmaps) > 1 else ''} {names}" if report.configmaps else ""
    return f"{report.source}: ok{what} ({', '.join(parts)})"


def count(n: int, noun: str) -> str:
    """``1 file``, ``2 files``."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def trials_summary(check: ClusterCheck) -> str:
    """How many spawns were tried, accepted, rejected and refused."""
    from .dryrun import dry_run_source  # with the Kubernetes client: loaded by the dry run already

    trials = check.trials or ()
    counts = {outcome: sum(t.outcome == outcome for t in trials) for outcome in ("accepted", "rejected")}
    text = (
        f"{dry_run_source(check.namespace)}: {count(len(trials), 'spawn')} tried, "
        f"{counts['accepted']} accepted, {counts['rejected']} rejected"
    )
    refused = sum(t.outcome == "refused" for t in trials)
    return text + (f", {refused} refused by the hub" if refused else "")


# -- running servers ------------------------------------------------------------------

_NONE = "-"


def _state(pod: NotebookPod) -> str:
    """The pod's state, and why when it is not up to date."""
    fresh = pod.freshness
    if fresh is None:
        return "no record (not made by profilespawner, or by a version that did not record)"
    if fresh.up_to_date is None:
        return f"unknown: {', '.join(fresh.unknown)} invalid now"
    if fresh.up_to_date:
        return "up to date"
    reasons = [
        f"{source} {what}"
        for what, sources in (("changed", fresh.changed), ("gone", fresh.gone), ("added", fresh.added))
        for source in sources
    ]
    return f"stale: {', '.join(reasons)}"


def format_pods(
    pods: Sequence[NotebookPod], *, namespace: str, budgets: Mapping[str, Budget] | None = None
) -> str:
    """The notebook pods as a table: one line each, the state last; then what
    the pods listed hold of each budget they count against, with the limits
    of ``budgets`` (the budgets of the sources read)."""
    if not pods:
        return f"{namespace}: no notebook pods\n"
    header = ("POD", "USER", "SERVER", "SIZE", "GPU TYPE", "PROFILES", "BUDGETS", "STATE")
    rows = []
    for pod in pods:
        record = pod.provenance
        rows.append(
            (
                pod.name,
                pod.user or _NONE,
                pod.server or _NONE,
                (record.size if record else None) or _NONE,
                (record.gpu_type if record else None) or _NONE,
                ", ".join(record.profiles) if record and record.profiles else _NONE,
                ", ".join(record.budgets) if record and record.budgets else _NONE,
                _state(pod),
            )
        )
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header) - 1)]
    lines = [
        "  ".join([*(cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)), row[-1]])
        for row in (header, *rows)
    ]
    return "\n".join([*lines, *_budget_use(pods, budgets or {})]) + "\n"


def _budget_use(pods: Sequence[NotebookPod], budgets: Mapping[str, Budget]) -> list[str]:
    """``budget 'team': gpu 6 of 8, servers 3; per user: gpu 2``: what the pods
    listed hold of each budget one of them counts against (in definition
    order, then the budgets no source defines now)."""
    claims = [pod.claim for pod in pods if pod.claim is not None]
    named = [name for claim in claims for name in claim.budgets]
    names = [*(n for n in budgets if n in named), *dict.fromkeys(n for n in named if n not in budgets)]
    if not names:
        return []
    lines = ["", "Budgets, as the pods listed hold them:"]
    for name in names:
        lines.append(f"  budget {quote(name)}: {budget_use_text(budgets.get(name), in_use(claims, name))}")
    return lines


def budget_use_text(budget: Budget | None, used: Mapping[str, Decimal]) -> str:
    """``gpu 6 of 8, servers 3; per user at most gpu 2``: what ``used`` (the
    sum :func:`~profilespawner.budgets.in_use` of the claims counting against
    a budget) holds of ``budget`` (None: no source defines it now), for
    ``profilespawner pods`` and the profiles page."""
    total = budget.total if budget else {}
    parts = [
        f"{key} {amount_text(key, used[key])}"
        + (f" of {amount_text(key, total[key])}" if key in total else "")
        for key in BUDGET_KEYS
        if used.get(key) or key in total
    ]
    text = ", ".join(parts) or "nothing in use"
    if budget is None:
        text += " (no source defines it now)"
    elif budget.per_user:
        per_user = ", ".join(f"{key} {amount_text(key, limit)}" for key, limit in budget.per_user.items())
        text += f"; per user at most {per_user}"
    return text
