"""Budgets (SPEC §10), the pure part: what a server counts, the sums of
quantities, what is in use, and every decision, as tables."""

from __future__ import annotations

import json
import textwrap
from decimal import Decimal
from typing import Any

import pytest

from profilespawner.budgets import (
    Claim,
    amount_text,
    check,
    covering,
    in_use,
    left_text,
    pod_claim,
    requested,
    standings,
)
from profilespawner.errors import BudgetExceededError, ProfileSpawnError
from profilespawner.model import Budget
from profilespawner.parse import parse_document
from profilespawner.provenance import BUDGETS, pod_annotations
from profilespawner.resolve import resolve

GPU = "nvidia.com/gpu"


def budgets_of(text: str) -> dict[str, Budget]:
    return dict(parse_document(textwrap.dedent(text), source="budgets.yaml").profile_set.budgets)


def claim(user: str, *names: str, **amounts: Any) -> Claim:
    return Claim(user, names, {key: Decimal(str(value)) for key, value in amounts.items()})


def amounts(**values: Any) -> dict[str, Decimal]:
    out = dict.fromkeys(("gpu", "cpu", "memory"), Decimal(0))
    out["servers"] = Decimal(1)
    out.update({key: Decimal(str(value)) for key, value in values.items()})
    return out


# -- what a notebook container counts ------------------------------------------------

REQUESTED = [
    ("nothing", None, amounts()),
    (
        "requests",
        {"requests": {"cpu": "500m", "memory": "1Gi", GPU: "2"}},
        amounts(cpu="0.5", memory=2**30, gpu=2),
    ),
    # The API server defaults a request to its limit: so does the count.
    ("limit-only", {"limits": {"cpu": "2", GPU: "1"}}, amounts(cpu=2, gpu=1)),
    ("request-below-limit", {"requests": {"cpu": "1"}, "limits": {"cpu": "4"}}, amounts(cpu=1)),
    # KubeSpawner's own settings reach the pod as JSON numbers.
    ("numbers", {"requests": {"cpu": 0.5, "memory": 1073741824}}, amounts(cpu="0.5", memory=2**30)),
    ("another-gpu-resource", {"requests": {"amd.com/gpu": "1"}}, amounts()),
    ("cpu-rounded-up-to-1m", {"requests": {"cpu": "0.0001"}}, amounts(cpu="0.001")),
    ("other-resources-ignored", {"requests": {"ephemeral-storage": "10Gi"}}, amounts()),
]


@pytest.mark.parametrize(("resources", "expected"), [c[1:] for c in REQUESTED], ids=[c[0] for c in REQUESTED])
def test_what_a_container_requests(resources: Any, expected: dict[str, Decimal]) -> None:
    assert requested(resources, gpu_resource_name=GPU) == expected


SUMS = [
    # (key, quantities of the servers, the sum as written)
    ("cpu", ["500m", "1.5"], "2"),
    ("cpu", ["250m", "0.25", 1], "1500m"),
    ("cpu", ["100m", "100m", "100m"], "300m"),
    ("memory", ["1Gi", "1G"], "2073741824"),
    ("memory", ["1Gi", "1Gi"], "2Gi"),
    ("memory", ["1G", "1G"], "2G"),
    ("memory", ["512Mi", "0.5Gi"], "1Gi"),
    ("memory", ["1500M", "500M"], "2G"),
    ("memory", ["1Ki", "1k"], "2024"),
    ("gpu", ["1", "2"], "3"),
]


@pytest.mark.parametrize(("key", "values", "expected"), SUMS)
def test_sums_of_quantities_are_exact(key: str, values: list[Any], expected: str) -> None:
    name = GPU if key == "gpu" else key
    claims = [
        Claim("u", ("b",), requested({"requests": {name: value}}, gpu_resource_name=GPU)) for value in values
    ]
    assert amount_text(key, in_use(claims, "b")[key]) == expected
    assert in_use(claims, "b")["servers"] == len(values)


@pytest.mark.parametrize(
    ("key", "amount", "text"),
    [
        ("cpu", Decimal(0), "0"),
        ("cpu", Decimal("0.5"), "500m"),
        ("memory", Decimal(0), "0"),
        ("memory", Decimal(3 * 2**30), "3Gi"),
        ("memory", Decimal(5 * 10**12), "5T"),
        ("memory", Decimal(1001), "1001"),
        ("gpu", Decimal(8), "8"),
        ("servers", Decimal(2), "2"),
    ],
)
def test_amounts_are_written_as_kubernetes_writes_them(key: str, amount: Decimal, text: str) -> None:
    assert amount_text(key, amount) == text


# -- what a pod counts ---------------------------------------------------------------------


def pod(
    *,
    budgets: list[str] | None = ("ds",),  # type: ignore[assignment]
    user: str = "ann",
    resources: dict[str, Any] | None = None,
    deleting: bool = False,
    phase: str = "Running",
) -> dict[str, Any]:
    annotations = {
        "hub.jupyter.org/username": user,
        "profilespawner/profiles": "[]",
        "profilespawner/sources": "[]",
    }
    if budgets is not None:
        annotations[BUDGETS] = json.dumps(list(budgets))
    metadata: dict[str, Any] = {"name": f"jupyter-{user}", "annotations": annotations}
    if deleting:
        metadata["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    containers = [
        {"name": "sidecar", "resources": {"requests": {"cpu": "8"}}},
        {"name": "notebook", "resources": resources or {"requests": {"cpu": "1", GPU: "2"}}},
    ]
    return {"metadata": metadata, "spec": {"containers": containers}, "status": {"phase": phase}}


def test_a_pod_counts_its_notebook_container_against_the_budgets_it_records() -> None:
    assert pod_claim(pod(), gpu_resource_name=GPU) == Claim("ann", ("ds",), amounts(cpu=1, gpu=2))


@pytest.mark.parametrize(
    ("case", "the_pod"),
    [
        ("no-record", pod(budgets=None)),
        ("empty-record", pod(budgets=[])),
        ("being-deleted", pod(deleting=True)),
        ("succeeded", pod(phase="Succeeded")),
        ("failed", pod(phase="Failed")),
        ("malformed-record", {"metadata": {"annotations": {BUDGETS: "{not json"}}}),
    ],
)
def test_pods_that_count_against_no_budget(case: str, the_pod: dict[str, Any]) -> None:
    assert pod_claim(the_pod, gpu_resource_name=GPU) is None


def test_a_pending_pod_counts() -> None:
    assert pod_claim(pod(phase="Pending"), gpu_resource_name=GPU) is not None


# -- the decision --------------------------------------------------------------------------

BUDGETS_DOC = """\
budgets:
- name: ds-gpus
  groups: [data-science]
  total: {gpu: 8, cpu: "4", memory: 8Gi}
  per_user: {gpu: 2, servers: 2}
- name: everyone
  total: {servers: 3}
"""

DECISIONS = [
    # (id, claims of the other servers, user, asked, None or the message's fragments)
    ("empty", [], "ann", amounts(gpu=2), None),
    ("fills-total-exactly", [claim("bob", "ds-gpus", gpu=2)] * 3, "ann", amounts(gpu=2), None),
    (
        "over-total",
        [claim("bob", "ds-gpus", gpu=2), claim("cy", "ds-gpus", gpu=2), claim("di", "ds-gpus", gpu=2)],
        "ann",
        amounts(gpu=4),
        ["budget 'ds-gpus': total.gpu: allows 8 GPUs for everyone it covers; 6 in use", "asks for 4"],
    ),
    (
        "per-user-gpu",
        [claim("ann", "ds-gpus", gpu=1)],
        "ann",
        amounts(gpu=2),
        ["budget 'ds-gpus': per_user.gpu: allows 2 GPUs per user; 1 in use by your servers", "asks for 2"],
    ),
    ("per-user-is-the-user-s-own", [claim("bob", "ds-gpus", gpu=2)], "ann", amounts(gpu=2), None),
    (
        "per-user-servers",
        [claim("ann", "ds-gpus", servers=1), claim("ann", "ds-gpus", servers=1)],
        "ann",
        amounts(),
        ["per_user.servers: allows 2 servers per user; 2 in use by your servers, and this server asks for 1"],
    ),
    (
        "cpu-sums-quantities",
        [claim("bob", "ds-gpus", cpu="0.5"), claim("cy", "ds-gpus", cpu="1.5")],
        "ann",
        amounts(cpu="2.001"),
        ["total.cpu: allows 4 cpu for everyone it covers; 2 in use, and this server asks for 2001m"],
    ),
    (
        "memory-sums-quantities",
        [claim("bob", "ds-gpus", memory=2**30), claim("cy", "ds-gpus", memory=10**9)],
        "ann",
        amounts(memory=7 * 2**30),
        ["total.memory: allows 8Gi memory", "2073741824 in use", "asks for 7Gi"],
    ),
    (
        "memory-fits-to-the-byte",
        [claim("bob", "ds-gpus", memory=2 * 2**30)],
        "ann",
        amounts(memory=6 * 2**30),
        None,
    ),
    (
        "second-budget",
        [
            claim("bob", "everyone", servers=1),
            claim("cy", "everyone", servers=1),
            claim("di", "everyone", servers=1),
        ],
        "ann",
        amounts(),
        ["budget 'everyone': total.servers: allows 3 servers"],
    ),
    # A server counts against the budgets it recorded, not the ones that cover its user now.
    ("other-budget-s-claims", [claim("bob", "old", gpu=8)], "ann", amounts(gpu=2), None),
    # A key the server does not ask for never refuses it, even over its limit.
    ("over-but-not-asked", [claim("bob", "ds-gpus", gpu=10)], "ann", amounts(gpu=0), None),
]


@pytest.mark.parametrize(
    ("claims", "user", "asked", "fragments"), [c[1:] for c in DECISIONS], ids=[c[0] for c in DECISIONS]
)
def test_decisions(
    claims: list[Claim], user: str, asked: dict[str, Decimal], fragments: list[str] | None
) -> None:
    budgets = tuple(budgets_of(BUDGETS_DOC).values())
    if fragments is None:
        check(budgets, claims, user=user, asked=asked)
        return
    with pytest.raises(BudgetExceededError) as caught:
        check(budgets, claims, user=user, asked=asked)
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    # Never another user's name.
    for other in ("bob", "cy", "di"):
        assert other not in message
    assert isinstance(caught.value, ProfileSpawnError)


def test_the_refusal_carries_its_figures() -> None:
    budgets = tuple(budgets_of(BUDGETS_DOC).values())
    with pytest.raises(BudgetExceededError) as caught:
        check(budgets, [claim("bob", "ds-gpus", gpu=7)], user="ann", asked=amounts(gpu=2))
    error = caught.value
    assert (error.budget, error.scope, error.key, error.limit, error.in_use, error.asked) == (
        "ds-gpus",
        "total",
        "gpu",
        "8",
        "7",
        "2",
    )


# -- who is covered ------------------------------------------------------------------------

WHO_DOC = """\
budgets:
- {name: ds, groups: [data-science], total: {gpu: 8}}
- {name: ml, groups: [ml], total: {gpu: 4}}
- {name: ann-only, users: [ann], per_user: {servers: 1}}
- {name: all, users: ["*"], total: {servers: 100}}
"""


@pytest.mark.parametrize(
    ("user", "groups", "names"),
    [
        ("ann", [], ["ann-only", "all"]),
        ("bob", ["data-science"], ["ds", "all"]),
        ("bob", ["data-science", "ml"], ["ds", "ml", "all"]),
        ("cy", ["other"], ["all"]),
    ],
)
def test_the_budgets_that_cover_a_user(user: str, groups: list[str], names: list[str]) -> None:
    budgets = budgets_of(WHO_DOC)
    assert [b.name for b in covering(budgets, user=user, groups=groups)] == names


def test_a_resolution_names_the_budgets_covering_the_user_and_the_pod_records_them() -> None:
    profile_set = parse_document(WHO_DOC, source="b.yaml").profile_set
    resolution = resolve(profile_set, user="bob", groups=["ml", "data-science"], image="x")
    assert resolution.budgets == ("ds", "ml", "all")
    assert [b.name for b in resolution.budget_limits] == ["ds", "ml", "all"]
    assert pod_annotations(resolution)[BUDGETS] == '["ds","ml","all"]'
    uncovered = resolve(
        parse_document(WHO_DOC.replace('"*"', "zed"), source="b").profile_set, user="cy", groups=[], image="x"
    )
    assert BUDGETS not in pod_annotations(uncovered)


def test_a_user_in_two_groups_is_held_by_both_budgets() -> None:
    budgets = covering(budgets_of(WHO_DOC), user="bob", groups=["data-science", "ml"])
    # ml is full, ds is not: refused by ml.
    others = [claim("cy", "ml", gpu=4), claim("di", "ds", gpu=2)]
    with pytest.raises(BudgetExceededError, match=r"budget 'ml': total\.gpu"):
        check(budgets, others, user="bob", asked=amounts(gpu=1))
    # ds is full, ml is not: refused by ds.
    with pytest.raises(BudgetExceededError, match=r"budget 'ds': total\.gpu"):
        check(budgets, [claim("cy", "ds", gpu=8)], user="bob", asked=amounts(gpu=1))
    check(budgets, others[1:], user="bob", asked=amounts(gpu=1))


# -- what is left, for the form ------------------------------------------------------------


def test_what_the_budgets_have_left() -> None:
    budgets = tuple(budgets_of(BUDGETS_DOC).values())
    claims = [claim("ann", "ds-gpus", gpu=1, cpu="0.5"), claim("bob", "ds-gpus", gpu=2, cpu="1.5", servers=1)]
    claims[0] = Claim("ann", ("ds-gpus", "everyone"), {**claims[0].amounts, "servers": Decimal(1)})
    lines = left_text(standings(budgets, claims, user="ann"))
    assert lines == [
        "budget 'ds-gpus': 5 of 8 GPUs, 2 of 4 cpu, 8Gi of 8Gi memory left in total; "
        "1 of 2 GPUs, 1 of 2 servers left for you",
        "budget 'everyone': 2 of 3 servers left in total",
    ]


def test_nothing_is_left_below_zero() -> None:
    budgets = tuple(budgets_of(BUDGETS_DOC).values())
    [line, _] = left_text(standings(budgets, [claim("bob", "ds-gpus", gpu=10)], user="ann"))
    assert line.startswith("budget 'ds-gpus': 0 of 8 GPUs")
