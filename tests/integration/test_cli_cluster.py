"""The command's cluster options against a real kube-apiserver (tests/controlplane).

``--configmaps`` reads what the hub would read; ``validate --server-dry-run``
submits every targeted pod as a dry run and reports what validation and
admission (LimitRange, ResourceQuota, Pod Security) reject. Every command runs
with a kubeconfig holding a ServiceAccount token bound to exactly the Role
docs/cli.md documents, so the documented RBAC is proven sufficient. Tables
call ``main()`` in process; one test goes through ``python -m profilespawner``.
"""

from __future__ import annotations

import json
import re
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.controlplane.harness import ControlPlane
from tests.integration.helpers import cli_role
from tests.support import Result, RunCli, load_yaml, notebook

ROOT = Path(__file__).resolve().parents[2]
KEY = "jupyterhub-singleuser-profiles.yaml"
LABELS = {"jupyterhub": "singleuser-profiles"}
SPARK = "quay.io/thoth-station/s2i-spark-notebook:3.6"

# The hub's settings for a namespace under Pod Security "restricted".
RESTRICTED_HUB = """\
c = get_config()  # noqa: F821
c.KubeSpawner.uid = 1000
c.KubeSpawner.container_security_context = {
    "runAsNonRoot": True,
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}
"""

PROFILES = """\
profiles:
- name: everyone
  resources:
    requests: {cpu: 500m, memory: 1Gi}
    limits: {cpu: "1", memory: 2Gi}
- name: Spark
  images: [s2i-spark-notebook]
  env: [{name: SPARK_MASTER, value: "spark://{username}:7077"}]
- name: GPU
  images: ["*-gpu-notebook"]
  gpu: 1
sizes:
- name: Small
  resources: {requests: {cpu: "1"}, limits: {cpu: "2"}}
- name: Large
  groups: [data-science]
  resources: {requests: {cpu: "4", memory: 8Gi}, limits: {cpu: "8", memory: 16Gi}}
"""


def who(value: str, name: str = "p", **fields: Any) -> str:
    """A profile named ``name`` setting ``WHO=value``: enough to see who won."""
    profile = {"name": name, "env": [{"name": "WHO", "value": value}], **fields}
    return json.dumps({"profiles": [profile]})


class Cluster:
    """The test's namespace: ConfigMaps, policies, and kubeconfigs for the command."""

    def __init__(self, cp: ControlPlane, namespace: str, tmp_path: Path) -> None:
        self.cp = cp
        self.namespace = namespace
        self.tmp_path = tmp_path

    def create(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        plural = {"ConfigMap": "configmaps", "LimitRange": "limitranges", "ResourceQuota": "resourcequotas"}
        status, answer = self.cp.request(
            "POST",
            f"/api/v1/namespaces/{self.namespace}/{plural[kind]}",
            {"apiVersion": "v1", "kind": kind, **body},
        )
        assert status == 201, answer
        return dict(answer)

    def configmap(
        self, name: str, text: str | None, *, labels: dict[str, str] | None = None, key: str = KEY
    ) -> None:
        data = {key: text} if text is not None else {"other": "x"}
        self.create("ConfigMap", {"metadata": {"name": name, "labels": labels or {}}, "data": data})

    def label_namespace(self, labels: dict[str, str]) -> None:
        status, answer = self.cp.request(
            "PATCH",
            f"/api/v1/namespaces/{self.namespace}",
            {"metadata": {"labels": labels}},
            content_type="application/merge-patch+json",
        )
        assert status == 200, answer

    def kubeconfig(self, rules: list[dict[str, Any]] | None = None, name: str = "check") -> str:
        """A kubeconfig whose token is a ServiceAccount's bound to ``rules``
        (default: the documented Role); its context's namespace is the test's."""
        token = self.cp.service_account_token(self.namespace, name, rules=rules or cli_role())
        path = self.cp.write_kubeconfig(
            self.tmp_path / f"{name}.kubeconfig", token=token, namespace=self.namespace
        )
        return str(path)

    def wait_for_quota(self, name: str, timeout: float = 30.0) -> dict[str, Any]:
        """The ResourceQuota once its status says what is used (the quota controller's work)."""
        deadline = time.monotonic() + timeout
        while True:
            status, quota = self.cp.request(
                "GET", f"/api/v1/namespaces/{self.namespace}/resourcequotas/{name}"
            )
            assert status == 200, quota
            if "used" in quota.get("status", {}):
                return dict(quota)
            assert time.monotonic() < deadline, f"no quota controller filled in {name}'s status"
            time.sleep(0.1)

    def pods(self) -> list[dict[str, Any]]:
        status, answer = self.cp.request("GET", f"/api/v1/namespaces/{self.namespace}/pods")
        assert status == 200, answer
        return list(answer["items"])


@pytest.fixture
def cluster(control_plane: ControlPlane, namespace: str, tmp_path: Path) -> Cluster:
    return Cluster(control_plane, namespace, tmp_path)


@pytest.fixture
def kubeconfig(cluster: Cluster) -> str:
    return cluster.kubeconfig()


@pytest.fixture
def profiles(tmp_path: Path) -> str:
    path = tmp_path / "profiles.yaml"
    path.write_text(PROFILES)
    return str(path)


def test_the_documented_role_is_what_the_options_need() -> None:
    assert cli_role() == [
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]},
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["create", "list"]},
    ]


# -- --configmaps ---------------------------------------------------------------------


def test_validate_configmaps_in_the_hubs_order(
    cli: Callable[..., Result], cluster: Cluster, kubeconfig: str, namespace: str, tmp_path: Path
) -> None:
    cluster.configmap("jupyter-singleuser-profiles", who("named"), labels=LABELS)  # named and labelled
    cluster.configmap("b-team", who("b") + "\n", labels=LABELS)
    cluster.configmap("a-team", who("a", name="x", users=["alice"]), labels=LABELS)
    cluster.configmap("unlabelled", "this is not read: [")
    file = tmp_path / "site.yaml"
    file.write_text(who("file"))

    # the context's namespace is the test's: no --namespace needed
    result = cli("validate", str(file), "--configmaps", "--kubeconfig", kubeconfig)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines() == [
        f"{file}: ok (1 profile, 0 sizes, 0 GPU types)",
        f"{namespace}/jupyter-singleuser-profiles: ok (1 profile, 0 sizes, 0 GPU types)",
        f"{namespace}/a-team: ok (1 profile, 0 sizes, 0 GPU types)",
        f"{namespace}/b-team: ok (1 profile, 0 sizes, 0 GPU types)",
    ]

    # another name, selector and key: only what they select
    cluster.configmap("custom", who("custom"), key="k.yaml")
    cluster.configmap("team-x", who("x"), labels={"team": "x"}, key="k.yaml")
    result = cli(
        "validate", "--configmaps", "--kubeconfig", kubeconfig, "--namespace", namespace,
        "--configmap-name", "custom", "--label-selector", "team=x", "--key", "k.yaml",
    )  # fmt: skip
    assert result.stdout.splitlines() == [
        f"{namespace}/custom: ok (1 profile, 0 sizes, 0 GPU types)",
        f"{namespace}/team-x: ok (1 profile, 0 sizes, 0 GPU types)",
    ]


def test_validate_configmaps_reports_each_problem_by_namespace_and_name(
    cli: Callable[..., Result], cluster: Cluster, kubeconfig: str, namespace: str
) -> None:
    cluster.configmap("good", who("good"), labels=LABELS)
    cluster.configmap("typo", "profiles:\n- name: a\n  resouces: {}\n", labels=LABELS)
    cluster.configmap("no-key", None, labels=LABELS)
    cluster.configmap("legacy", "ui: {}\nprofiles: []\n", labels=LABELS)

    result = cli("validate", "--configmaps", "--kubeconfig", kubeconfig)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{namespace}/jupyter-singleuser-profiles: no such ConfigMap (the hub skips it)",
        f"{namespace}/good: ok (1 profile, 0 sizes, 0 GPU types)",
        f"{namespace}/legacy:1:1: warning: ui: 'ui' is not supported and is ignored",
        f"{namespace}/legacy: ok (0 profiles, 0 sizes, 0 GPU types)",
        f"{namespace}/no-key: error: data: no key '{KEY}' (SingleuserProfiles.configmap_key); "
        "the ConfigMap has 'other'",
        f"{namespace}/typo:3:3: error: profile 'a': unknown key 'resouces' (did you mean 'resources'?)",
        "2 errors, 1 warning in 4 ConfigMaps",
    ]
    problems = json.loads(
        cli("validate", "--configmaps", "--kubeconfig", kubeconfig, "--format", "json").stdout
    )
    assert [(p["severity"], p["source"], p["line"]) for p in problems] == [
        ("warning", f"{namespace}/legacy", 1),  # a warning has its line, as an error has
        ("error", f"{namespace}/no-key", None),
        ("error", f"{namespace}/typo", 3),
    ]


def test_render_and_explain_configmaps_after_the_files(
    cli: Callable[..., Result], cluster: Cluster, kubeconfig: str, namespace: str, tmp_path: Path
) -> None:
    file = tmp_path / "site.yaml"
    file.write_text(who("file"))
    cluster.configmap("jupyter-singleuser-profiles", who("named"))
    cluster.configmap("z-last", who("z"), labels=LABELS)
    cluster.configmap("a-first", who("a"), labels=LABELS)
    base = [str(file), "--configmaps", "--kubeconfig", kubeconfig, "--user", "alice"]

    rendered = cli("render", *base, "--show-values")
    assert (rendered.returncode, rendered.stderr) == (0, "")
    env = {var["name"]: var.get("value") for var in notebook(load_yaml(rendered.stdout))["env"]}
    assert env["WHO"] == "z"  # the last labelled ConfigMap by name wins

    explained = cli("explain", *base)
    assert explained.returncode == 0, explained.stderr
    sources = re.findall(r"^  \+ profile 'p' .*  \[(.*) #1\]$", explained.stdout, flags=re.M)
    assert sources == [
        str(file),
        f"{namespace}/jupyter-singleuser-profiles",
        f"{namespace}/a-first",
        f"{namespace}/z-last",
    ]


def test_render_refuses_when_a_configmap_is_invalid(
    cli: Callable[..., Result], cluster: Cluster, kubeconfig: str, namespace: str
) -> None:
    cluster.configmap("broken", "profiles:\n- name: a\n  resouces: {}\n", labels=LABELS)
    result = cli("render", "--configmaps", "--kubeconfig", kubeconfig, "--user", "alice")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.splitlines() == [
        f"{namespace}/broken:3:3: error: profile 'a': unknown key 'resouces' (did you mean 'resources'?)",
        f"error: ConfigMap {namespace}/broken is invalid: the hub rejects it "
        "(and keeps its last valid version, which this command cannot know)",
    ]


def test_without_permission_to_list_configmaps_exit_3(cli: Callable[..., Result], cluster: Cluster) -> None:
    pods_only = cluster.kubeconfig([{"apiGroups": [""], "resources": ["pods"], "verbs": ["create"]}], "pods")
    result = cli("validate", "--configmaps", "--kubeconfig", pods_only)
    assert (result.returncode, result.stdout) == (3, "")
    assert result.stderr.startswith("error: cannot ask the cluster: list ")
    assert "HTTP 403" in result.stderr and 'cannot list resource "configmaps"' in result.stderr


# -- --server-dry-run --------------------------------------------------------------------


def test_server_dry_run_accepted_through_python_m(
    run_cli: RunCli, cluster: Cluster, kubeconfig: str, namespace: str, profiles: str
) -> None:
    """The documented Role is enough; nothing is stored; each image example is tried."""
    cluster.configmap("profiles-team", who("team", groups=["analytics"]), labels=LABELS)
    result = run_cli(
        "validate", profiles, "--configmaps", "--server-dry-run", "--kubeconfig", kubeconfig,
        "--image", SPARK, "--image", "quay.io/x/tensorflow-gpu-notebook:2",
    )  # fmt: skip
    assert (result.returncode, result.stderr) == (0, ""), result.stdout
    # who: anyone, a member of data-science, a member of analytics; images: 3; sizes: 2, 3, 2
    assert result.stdout.splitlines() == [
        f"{profiles}: ok (3 profiles, 2 sizes, 0 GPU types)",
        f"{namespace}/jupyter-singleuser-profiles: no such ConfigMap (the hub skips it)",
        f"{namespace}/profiles-team: ok (1 profile, 0 sizes, 0 GPU types)",
        f"server dry run in {namespace}: 21 spawns tried, 21 accepted, 0 rejected",
    ]
    assert cluster.pods() == []


def test_server_dry_run_rejected_by_a_limitrange(
    cli: Callable[..., Result], cluster: Cluster, kubeconfig: str, namespace: str, profiles: str
) -> None:
    cluster.create(
        "LimitRange",
        {"metadata": {"name": "max-cpu"}, "spec": {"limits": [{"type": "Container", "max": {"cpu": "4"}}]}},
    )
    result = cli("validate", profiles, "--server-dry-run", "--kubeconfig", kubeconfig, "--image", SPARK)
    assert result.returncode == 1
    rejected = [line for line in result.stdout.splitlines() if ": error: " in line]
    assert rejected == [
        f"server dry run in {namespace}: error: group 'data-science' (as user 'anyone'), image {image!r}, "
        "size 'Large': rejected: Forbidden: pods \"jupyter-anyone\" is forbidden: "
        "maximum cpu usage per Container is 4, but limit is 8"
        for image in ("quay.io/jupyterhub/singleuser:latest", SPARK)
    ]
    assert result.stdout.splitlines()[-3:] == [
        f"server dry run in {namespace}: warning: profile 'GPU': images: pattern '*-gpu-notebook' matches "
        f"none of the images tried (quay.io/jupyterhub/singleuser:latest, {SPARK}); "
        "give an --image it matches to try it",
        f"server dry run in {namespace}: 10 spawns tried, 8 accepted, 2 rejected",
        "2 errors, 1 warning in 1 file and the server dry run",
    ]


def test_server_dry_run_rejected_by_a_resourcequota(
    cli: Callable[..., Result],
    cluster: Cluster,
    kubeconfig: str,
    namespace: str,
    tmp_path: Path,
) -> None:
    """A quota on limits.cpu: pods without a cpu limit, and sizes above it, are rejected."""
    cluster.create("ResourceQuota", {"metadata": {"name": "team"}, "spec": {"hard": {"limits.cpu": "4"}}})
    # Admission refuses every pod a quota covers until the controller-manager's
    # quota controller has counted what the namespace uses.
    cluster.wait_for_quota("team")
    file = tmp_path / "profiles.yaml"
    file.write_text(
        textwrap.dedent("""\
            sizes:
            - name: Small
              resources: {limits: {cpu: "2"}}
            - name: Huge
              resources: {limits: {cpu: "16"}}
            """)
    )
    result = cli("validate", str(file), "--server-dry-run", "--kubeconfig", kubeconfig, "--format", "json")
    assert result.returncode == 1
    listed = json.loads(result.stdout)
    assert {p["source"] for p in listed} == {f"server dry run in {namespace}"}
    problems = {p["problem"].split(": rejected: ")[0]: p["problem"] for p in listed}
    assert list(problems) == [
        "any user (as 'anyone'), image 'quay.io/jupyterhub/singleuser:latest', no size",
        "any user (as 'anyone'), image 'quay.io/jupyterhub/singleuser:latest', size 'Huge'",
    ]
    no_size, huge = problems.values()
    assert "must specify limits.cpu" in no_size
    assert "exceeded quota: team, requested: limits.cpu=16, used: limits.cpu=0, limited: limits.cpu=4" in huge


def test_server_dry_run_rejected_by_pod_security_and_accepted_once_compliant(
    cli: Callable[..., Result],
    cluster: Cluster,
    kubeconfig: str,
    namespace: str,
    profiles: str,
    tmp_path: Path,
) -> None:
    cluster.label_namespace({"pod-security.kubernetes.io/enforce": "restricted"})
    result = cli("validate", profiles, "--server-dry-run", "--kubeconfig", kubeconfig)
    assert result.returncode == 1
    rejected = [line for line in result.stdout.splitlines() if ": error: " in line]
    assert len(rejected) == 5  # every spawn: KubeSpawner's pods are not "restricted" by default
    for line in rejected:
        assert 'is forbidden: violates PodSecurity "restricted:latest": ' in line
        assert "runAsNonRoot != true" in line and "seccompProfile" in line

    hub = tmp_path / "jupyterhub_config.py"
    hub.write_text(RESTRICTED_HUB)
    compliant = cli(
        "validate", profiles, "--server-dry-run", "--kubeconfig", kubeconfig, "--config", str(hub)
    )
    assert compliant.returncode == 0, compliant.stdout
    assert f"server dry run in {namespace}: 5 spawns tried, 5 accepted, 0 rejected" in compliant.stdout


def test_server_dry_run_reports_invalid_fields(
    cli: Callable[..., Result], cluster: Cluster, kubeconfig: str, namespace: str, tmp_path: Path
) -> None:
    """What only the API server checks: here, hugepages without a cpu or memory request."""
    file = tmp_path / "profiles.yaml"
    file.write_text("profiles:\n- name: p\n  resources: {limits: {hugepages-2Mi: 1Gi}}\n")
    result = cli("validate", str(file), "--server-dry-run", "--kubeconfig", kubeconfig)
    assert result.returncode == 1
    assert (
        'rejected: Invalid: Pod "jupyter-anyone" is invalid: spec.containers[0].resources: '
        "Forbidden: HugePages require cpu or memory"
    ) in result.stdout


def test_server_dry_run_needs_create_on_pods(
    cli: Callable[..., Result], cluster: Cluster, namespace: str, profiles: str
) -> None:
    read_only = cluster.kubeconfig(cli_role()[:1], "reader")
    result = cli("validate", profiles, "--configmaps", "--server-dry-run", "--kubeconfig", read_only)
    assert (result.returncode, result.stdout) == (3, "")
    assert result.stderr.startswith(
        f"error: cannot ask the cluster: create pod in {namespace} (dry run): HTTP 403"
    )
    assert 'cannot create resource "pods"' in result.stderr


def test_server_dry_run_in_a_missing_namespace_exit_3(
    cli: Callable[..., Result], control_plane: ControlPlane, profiles: str
) -> None:
    result = cli(
        "validate", profiles, "--server-dry-run", "--kubeconfig", str(control_plane.kubeconfig_path),
        "--namespace", "no-such-namespace",
    )  # fmt: skip
    assert result.returncode == 3
    assert "HTTP 404" in result.stderr and "no-such-namespace" in result.stderr


def test_server_dry_run_of_a_custom_size_tries_its_min_default_and_max(
    cli: Callable[..., Result], cluster: Cluster, kubeconfig: str, namespace: str, tmp_path: Path
) -> None:
    """The max pod asks more than the LimitRange allows: the API server says so;
    the values given with --cpu are tried too: within the LimitRange they pass,
    beyond it they are rejected with the API server's reason."""
    path = tmp_path / "custom.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            sizes:
            - name: Custom
              groups: [data-science]
              ranges:
                cpu: {min: 500m, max: "8", default: "1"}
                memory: {min: 1Gi, max: 4Gi, default: 2Gi}
              limit_factor: 2
            """
        )
    )
    cluster.create(
        "LimitRange",
        {"metadata": {"name": "max-cpu"}, "spec": {"limits": [{"type": "Container", "max": {"cpu": "6"}}]}},
    )
    result = cli("validate", str(path), "--server-dry-run", "--kubeconfig", kubeconfig, "--cpu", "3")
    assert result.returncode == 1, result.stderr
    assert result.stdout.splitlines()[1:] == [
        f"server dry run in {namespace}: error: group 'data-science' (as user 'anyone'), image "
        "'quay.io/jupyterhub/singleuser:latest', size 'Custom' at its max (cpu 8, memory 4Gi): rejected: "
        'Forbidden: pods "jupyter-anyone" is forbidden: '
        "maximum cpu usage per Container is 6, but limit is 16",
        f"server dry run in {namespace}: 6 spawns tried, 5 accepted, 1 rejected",
        "1 error, 0 warnings in 1 file and the server dry run",
    ]
    # Values given beyond what the LimitRange allows are rejected as the max is.
    result = cli("validate", str(path), "--server-dry-run", "--kubeconfig", kubeconfig, "--cpu", "3500m")
    assert result.returncode == 1, result.stderr
    rejected = [line for line in result.stdout.splitlines() if ": rejected: " in line]
    assert [line.split(": rejected: ")[0].split(", ")[-2:] for line in rejected] == [
        ["size 'Custom' at its max (cpu 8", "memory 4Gi)"],
        ["size 'Custom' at the values given (cpu 3500m", "memory 2Gi)"],
    ]
    assert rejected[1].endswith("maximum cpu usage per Container is 6, but limit is 7")
    assert f"server dry run in {namespace}: 6 spawns tried, 4 accepted, 2 rejected" in result.stdout
    assert cluster.pods() == []
