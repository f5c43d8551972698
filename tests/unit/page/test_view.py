"""The page's rows (:mod:`profilespawner.page.view`): sources, the merged set,
the preview (explain's answer, or the very HTTP error a spawn gets) and the
servers with their staleness."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from tornado import web

from profilespawner import SingleuserProfiles, UserOptionError, ledger
from profilespawner.budgets import Claim, in_use
from profilespawner.hooks import check_spawn
from profilespawner.model import ProfileSet, SourceVersion, Who
from profilespawner.page import view
from profilespawner.page.handlers import PageState, _spawn_check
from profilespawner.parse import parse_document
from profilespawner.provenance import pod_annotations
from profilespawner.resolve import resolve
from profilespawner.sources.book import SourceStatus
from profilespawner.tools.output import budget_use_text

PROFILES = """\
profiles:
- name: everyone
  env:
  - {name: SITE, value: "s3cr3t-site-value"}
  annotations: {note: "annotation-value"}
- name: data science
  groups: [data-science]
  env:
  - name: AWS_SECRET_ACCESS_KEY
    valueFrom: {secretKeyRef: {name: team-s3, key: secret-key}}
  resources: {requests: {cpu: 500m}, limits: {cpu: "2"}}
- name: spark
  images: [s2i-spark-notebook]
  resources: {requests: {cpu: "1", memory: 2Gi}, limits: {cpu: "2", memory: 4Gi}}
  labels: {team: spark}
sizes:
- name: Small
  resources: {requests: {cpu: 250m, memory: 512Mi}, limits: {cpu: "1", memory: 1Gi}}
- name: Large
  groups: [data-science]
  resources: {requests: {cpu: "4", memory: 16Gi}, limits: {cpu: "8", memory: 32Gi}}
- name: Custom
  description: pick your own
  ranges:
    cpu: {min: "1", max: "16", default: "2"}
    memory: {min: 2Gi, max: 64Gi, default: 8Gi}
  limit_factor: 2
gpuTypes:
- type: a100
  description: NVIDIA A100
  node_tolerations: [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}]
"""

SPARK = "quay.io/odh/s2i-spark-notebook:3.6"


@pytest.fixture
def profile_set() -> ProfileSet:
    parsed = parse_document(PROFILES, source="ns/profiles")
    return parsed.profile_set.versioned("ns/profiles", "42")


def preview(profile_set: ProfileSet, **fields: str) -> view.PreviewAnswer:
    request = view.PreviewRequest.from_arguments({"image": SPARK, **fields})
    return view.preview(profile_set, request, hub_groups=None, gpu_resource_name="nvidia.com/gpu")


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0, "0s"), (59, "59s"), (60, "1m"), (7199, "119m"), (7200, "2h"), (2 * 86400, "2d"), (-5, "0s")],
)
def test_ages_read_as_kubectl_prints_them(seconds: float, shown: str) -> None:
    assert view.age(seconds) == shown


def test_source_rows_keep_state_versions_message_and_age() -> None:
    statuses = [
        SourceStatus("/etc/p.yaml", "valid", "sha256:ab", "sha256:ab", since=1000.0),
        SourceStatus("ns/team", "rejected", "17", "12", "ns/team: unknown key 'resouces'", 940.0),
        SourceStatus("ns/jupyter-singleuser-profiles", "missing"),
    ]
    rows = view.source_rows(statuses, now=1060.0)
    assert [(r.source, r.state, r.version, r.in_use, r.age) for r in rows] == [
        ("/etc/p.yaml", "valid", "sha256:ab", "sha256:ab", "1m"),
        ("ns/team", "rejected", "17", "12", "2m"),
        ("ns/jupyter-singleuser-profiles", "missing", "", "", ""),
    ]
    assert rows[1].error == "ns/team: unknown key 'resouces'"


@pytest.mark.parametrize(
    ("who", "text"),
    [
        (Who(), "everyone"),
        (Who(users=("*",), groups=("x",)), "everyone"),
        (Who(users=("alice",)), "users alice"),
        (Who(users=("alice", "bob"), groups=("ds",)), "users alice, bob; groups ds"),
    ],
)
def test_who_text(who: Who, text: str) -> None:
    assert view.who_text(who) == text


def test_the_merged_set_shows_names_keys_and_quantities_never_an_env_or_annotation_value(
    profile_set: ProfileSet,
) -> None:
    profiles = view.profile_rows(profile_set)
    assert [(p.name, p.source, p.who, p.images) for p in profiles] == [
        ("everyone", "ns/profiles #1", "everyone", "every image"),
        ("data science", "ns/profiles #2", "groups data-science", "every image"),
        ("spark", "ns/profiles #3", "everyone", "s2i-spark-notebook"),
    ]
    assert profiles[0].sets == ("env: SITE", "annotations: note")
    assert profiles[1].sets == ("env: AWS_SECRET_ACCESS_KEY", "resources: requests cpu 500m; limits cpu 2")
    assert "labels: team=spark" in profiles[2].sets
    shown = json.dumps([p.__dict__ for p in profiles])
    assert "s3cr3t-site-value" not in shown
    assert "annotation-value" not in shown
    assert "secret-key" not in shown


def test_sizes_show_their_ranges_and_limit_factor(profile_set: ProfileSet) -> None:
    sizes = {s.name: s for s in view.size_rows(profile_set)}
    assert list(sizes) == ["Small", "Large", "Custom"]
    assert sizes["Large"].who == "groups data-science"
    assert sizes["Custom"].ranges == ("cpu 1 to 16 (default 2)", "memory 2Gi to 64Gi (default 8Gi)")
    assert sizes["Custom"].limit_factor == "2"
    assert sizes["Custom"].description == "pick your own"
    assert sizes["Small"].limit_factor == "1"
    (gpu,) = view.gpu_type_rows(profile_set)
    assert (gpu.type, gpu.description, gpu.tolerations) == ("a100", "NVIDIA A100", 1)
    assert view.size_choices(profile_set) == ["Default", "Small", "Large", "Custom"]


def test_the_preview_is_explain_saying_who_set_each_field(profile_set: ProfileSet) -> None:
    answer = preview(profile_set, user="alice", groups="data-science", size="Large")
    assert answer.status is None
    e = answer.explanation
    assert e is not None
    assert [v.label for v in e.verdicts if v.applies] == [
        "profile 'everyone'",
        "profile 'data science'",
        "profile 'spark'",
    ]
    setters = {(o.field, o.key): (o.set_by, o.replaced) for o in e.origins}
    assert setters[("env", "AWS_SECRET_ACCESS_KEY")] == ("profile 'data science'", ())
    assert setters[("resources", "requests.cpu")] == (
        "size 'Large'",
        ("profile 'data science'", "profile 'spark'"),
    )
    assert setters[("labels", "team")] == ("profile 'spark'", ())
    assert e.size == "Large"
    body = json.dumps(answer.as_dict())
    assert "s3cr3t-site-value" not in body and "annotation-value" not in body
    assert answer.as_dict()["status"] == 200


def test_the_preview_of_a_refused_spawn_is_the_spawns_own_http_error(profile_set: ProfileSet) -> None:
    answer = preview(profile_set, user="bob", groups="analytics", size="Large")
    assert answer.explanation is None
    with pytest.raises(UserOptionError) as refused:
        resolve(profile_set, user="bob", groups=["analytics"], image=SPARK, size="Large")
    assert answer.status == 400
    assert answer.message == str(refused.value)
    assert (
        answer.message == "size: size 'Large' is not available; choose one of: 'Default', 'Small', 'Custom'"
    )
    assert answer.as_dict() == {
        "user": "bob",
        "groups": ["analytics"],
        "groups_from": "as given",
        "image": SPARK,
        "status": 400,
        "message": answer.message,
    }


async def test_the_preview_says_what_the_hooks_check_answers(
    make_spawner: Callable[..., Any], write_yaml: Callable[..., str]
) -> None:
    """The message of the preview is the one JupyterHub shows for the spawn."""
    path = write_yaml(PROFILES)
    spawner = make_spawner(
        [path], user="bob", groups=["analytics"], image=SPARK, user_options={"size": "Large"}
    )
    with pytest.raises(web.HTTPError) as spawn:
        await check_spawn(spawner)
    profile_set = await SingleuserProfiles.instance().load_profiles()
    answer = preview(profile_set, user="bob", groups="analytics", size="Large")
    assert (answer.status, answer.message) == (spawn.value.status_code, spawn.value.jupyterhub_message)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"size": "Custom", "cpu": "32"}, "cpu"),
        ({"size": "Small", "cpu": "2"}, "cpu"),
        ({"gpu_type": "h100"}, "GPU type 'h100' is not available; choose one of: 'a100'"),
    ],
)
def test_refused_choices_read_as_400(profile_set: ProfileSet, fields: dict[str, str], message: str) -> None:
    answer = preview(profile_set, user="carol", **fields)
    assert answer.status == 400
    assert message in answer.message


def test_range_values_are_previewed(profile_set: ProfileSet) -> None:
    answer = preview(profile_set, user="carol", size="Custom", cpu="4", memory="")
    assert answer.explanation is not None
    assert {r.key: r.value for r in answer.explanation.ranges} == {"cpu": "4", "memory": "8Gi"}


def test_groups_left_out_are_the_users_groups_in_the_hub(profile_set: ProfileSet) -> None:
    request = view.PreviewRequest.from_arguments({"user": "alice", "image": SPARK, "size": "Large"})
    assert request.groups is None
    answer = view.preview(profile_set, request, hub_groups=["data-science"], gpu_resource_name="x/gpu")
    assert (answer.groups, answer.groups_from, answer.status) == (
        ("data-science",),
        "the user's groups in the hub",
        None,
    )
    unknown = view.preview(profile_set, request, hub_groups=None, gpu_resource_name="x/gpu")
    assert (unknown.groups, unknown.status) == ((), 400)
    given = view.PreviewRequest.from_arguments({"user": "a", "image": SPARK, "groups": " x, ,y "})
    assert given.groups == ("x", "y")


def pod(name: str, user: str, annotations: dict[str, str], **extra: Any) -> dict[str, Any]:
    metadata = {
        "name": name,
        "annotations": {"hub.jupyter.org/username": user, "hub.jupyter.org/servername": "", **annotations},
        **extra,
    }
    return {"metadata": metadata, "status": {"phase": "Running"}}


def test_servers_are_stale_when_a_source_changed_as_profilespawner_pods_says(profile_set: ProfileSet) -> None:
    recorded = pod_annotations(resolve(profile_set, user="alice", groups=["data-science"], image=SPARK))
    newer = ProfileSet(sources=(SourceVersion("ns/profiles", "43"),))
    pods = [
        pod("jupyter-zed", "zed", recorded),
        pod("jupyter-alice", "alice", recorded, deletionTimestamp="2026-01-01T00:00:00Z"),
        pod("jupyter-old", "old", {}),
    ]
    now = view.server_rows(pods, view.in_use(profile_set))
    assert [(r.pod.user, r.pod.state, r.phase, r.why) for r in now] == [
        ("alice", "up to date", "Terminating", ()),
        ("old", "no record", "Running", ()),
        ("zed", "up to date", "Running", ()),
    ]
    later = view.server_rows(pods, view.in_use(newer))
    assert [(r.pod.user, r.pod.state, r.why) for r in later] == [
        ("alice", "stale", ("ns/profiles changed",)),
        ("old", "no record", ()),
        ("zed", "stale", ("ns/profiles changed",)),
    ]


def test_in_use_is_what_the_next_spawn_records(profile_set: ProfileSet) -> None:
    resolution = resolve(profile_set, user="alice", groups=[], image=SPARK)
    recorded = json.loads(pod_annotations(resolution)["profilespawner/sources"])
    assert view.in_use(profile_set) == {s["source"]: s["version"] for s in recorded}


# -- budgets (SPEC §10) -------------------------------------------------------------

BUDGETS = """\
sizes:
- name: Two GPUs
  gpu: 2
  resources: {requests: {cpu: "1", memory: 2Gi}, limits: {cpu: "2", memory: 4Gi}}
budgets:
- name: ds-gpus
  groups: [data-science]
  total: {gpu: 1, memory: 64Gi}
  per_user: {servers: 2}
- name: everyone
  users: ["*"]
  per_user: {servers: 3}
"""


@pytest.fixture
def budgeted() -> ProfileSet:
    return parse_document(BUDGETS, source="ns/budgets").profile_set.versioned("ns/budgets", "3")


def test_the_merged_set_lists_each_budget_whom_it_covers_and_its_limits(budgeted: ProfileSet) -> None:
    assert view.budget_rows(budgeted) == [
        view.BudgetRow("ds-gpus", "ns/budgets", "groups data-science", "gpu 1, memory 64Gi", "servers 2"),
        view.BudgetRow("everyone", "ns/budgets", "everyone", "", "servers 3"),
    ]


def test_what_the_servers_hold_reads_as_profilespawner_pods_says_it(budgeted: ProfileSet) -> None:
    two = {"gpu": Decimal(1), "cpu": Decimal("0.5"), "memory": Decimal(2**30), "servers": Decimal(1)}
    claims = [
        Claim("alice", ("ds-gpus", "everyone"), two),
        Claim("bob", ("everyone", "gone"), {"servers": Decimal(1)}),
    ]
    rows = view.budget_use_rows(budgeted, claims)
    assert rows == [
        view.BudgetUseRow(
            "ds-gpus", "gpu 1 of 1, cpu 500m, memory 1Gi of 64Gi, servers 1; per user at most servers 2"
        ),
        view.BudgetUseRow("everyone", "gpu 1, cpu 500m, memory 1Gi, servers 2; per user at most servers 3"),
        view.BudgetUseRow("gone", "servers 1 (no source defines it now)"),
    ]
    # the very words of `profilespawner pods`
    assert all(
        row.in_use == budget_use_text(budgeted.budgets.get(row.name), in_use(claims, row.name))
        for row in rows
    )
    assert view.budget_use_rows(budgeted, [])[1] == view.BudgetUseRow(
        "everyone", "nothing in use; per user at most servers 3"
    )


async def test_the_preview_answers_the_budget_checks_403_as_the_hub_does(
    make_spawner: Callable[..., Any], write_yaml: Callable[..., str]
) -> None:
    """The page's check is the hub's (what the server asks, then the budgets'
    decision with the hub's count), reserving nothing; its 403 is the spawn's
    (tests/e2e/test_page.py compares it with a spawn on the real hub)."""
    path = write_yaml(BUDGETS)
    SingleuserProfiles.instance(config=make_spawner([path]).config)
    profile_set = await SingleuserProfiles.instance().load_profiles()
    state = PageState(
        profile_set=profile_set,
        statuses=[],
        pods=[],
        pods_watched=True,
        default_image=SPARK,
        gpu_resource_name="nvidia.com/gpu",
        kubespawner=make_spawner([path], user="admin"),  # the viewer's: the hub's settings
    )
    request = view.PreviewRequest.from_arguments(
        {"user": "dana", "groups": "data-science", "image": SPARK, "size": "Two GPUs"}
    )
    check = _spawn_check(state)
    answer = view.preview(
        profile_set, request, hub_groups=None, gpu_resource_name="nvidia.com/gpu", check=check
    )
    assert answer.status == 403
    assert answer.message == (
        "budget 'ds-gpus': total.gpu: allows 1 GPUs for everyone it covers; 0 in use, "
        "and this server asks for 2"
    )
    assert answer.as_dict()["status"] == 403
    assert ledger.claims(gpu_resource_name="nvidia.com/gpu") == []  # nothing reserved
    # Without a size the server asks for no GPU: it fits.
    fits = view.preview(
        profile_set,
        dataclasses.replace(request, size=""),
        hub_groups=None,
        gpu_resource_name="nvidia.com/gpu",
        check=check,
    )
    assert fits.status is None and fits.explanation is not None
    assert fits.explanation.budgets == ("ds-gpus", "everyone")


async def test_the_preview_answers_a_request_above_kubespawners_limit_with_409(
    make_spawner: Callable[..., Any], write_yaml: Callable[..., str]
) -> None:
    path = write_yaml("profiles: [{name: big, resources: {requests: {memory: 4Gi}}}]")
    spawner = make_spawner([path], user="dana", mem_limit="1G")
    with pytest.raises(web.HTTPError) as spawn:
        await check_spawn(spawner)
    profile_set = await SingleuserProfiles.instance().load_profiles()
    state = PageState(
        profile_set=profile_set,
        statuses=[],
        pods=[],
        pods_watched=True,
        default_image=SPARK,
        gpu_resource_name="nvidia.com/gpu",
        kubespawner=make_spawner([path], user="admin", mem_limit="1G"),
    )
    request = view.PreviewRequest.from_arguments({"user": "dana", "image": SPARK})
    answer = view.preview(
        profile_set, request, hub_groups=None, gpu_resource_name="nvidia.com/gpu", check=_spawn_check(state)
    )
    assert (answer.status, answer.message) == (409, spawn.value.jupyterhub_message)
