"""``profilespawner pods`` without a cluster: the sources in use as the command
reads them, a pod's record and state, and how the list prints. The listing
itself, against a real API server, is tests/integration/test_pods.py."""

from __future__ import annotations

from typing import Any

import pytest

from profilespawner.tools.lint import check_configmap, check_file
from profilespawner.tools.output import format_pods
from profilespawner.tools.pods import NOTEBOOK_COMPONENT, NotebookPod, notebook_pod, sources_in_use
from tests.support import content_version

KEY = "jupyterhub-singleuser-profiles.yaml"


def configmap(name: str, rv: str, text: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "resourceVersion": rv}, "data": {KEY: text}}


def test_sources_in_use_are_the_versions_of_valid_content(write_yaml: Any) -> None:
    good = write_yaml("profiles: [{name: a}]", "good.yaml")
    bad = write_yaml("profiles: [{name: a, resouces: {}}]", "bad.yaml")
    reports = [
        check_file(good),
        check_file(bad),
        check_configmap(configmap("team", "42", "profiles: [{name: t}]"), source="hub/team", key=KEY),
        check_configmap(configmap("broken", "43", "profiles: ["), source="hub/broken", key=KEY),
    ]
    assert sources_in_use(reports) == {
        good: content_version(good),
        bad: None,
        "hub/team": "42",
        "hub/broken": None,
    }
    # the profile set a report gives carries its version, as the hub's sources' do
    assert reports[0].profile_set is not None and reports[0].profile_set.sources == (
        (good, content_version(good)),
    )
    assert reports[2].profile_set is not None and reports[2].profile_set.sources == (("hub/team", "42"),)


def pod(name: str, annotations: dict[str, str] | None = None, labels: dict[str, str] | None = None) -> Any:
    return {"metadata": {"name": name, "annotations": annotations or {}, "labels": labels or {}}}


RECORD = {
    "hub.jupyter.org/username": "Ana.Lopez@example.org",
    "hub.jupyter.org/servername": "gpu",
    "profilespawner/profiles": '["everyone","GPU"]',
    "profilespawner/size": "Small",
    "profilespawner/gpu-type": "a100",
    "profilespawner/sources": '[{"source":"hub/a","version":"10"}]',
}


@pytest.mark.parametrize(
    ("in_use", "state", "line_end"),
    [
        ({"hub/a": "10"}, "up to date", "up to date"),
        ({"hub/a": "11"}, "stale", "stale: hub/a changed"),
        ({"hub/a": "10", "hub/b": "1"}, "stale", "stale: hub/b added"),
        ({}, "stale", "stale: hub/a gone"),
        ({"hub/a": None}, "unknown", "unknown: hub/a invalid now"),
    ],
)
def test_a_recorded_pod(in_use: dict[str, str | None], state: str, line_end: str) -> None:
    notebook = notebook_pod(pod("jupyter-ana-2elopez-gpu", RECORD), in_use)
    assert (notebook.user, notebook.server) == ("Ana.Lopez@example.org", "gpu")  # not the escaped labels
    assert notebook.state == state
    header, row = format_pods([notebook], namespace="hub").splitlines()
    assert header.split()[:4] == ["POD", "USER", "SERVER", "SIZE"]
    assert row.split()[:6] == [
        "jupyter-ana-2elopez-gpu",
        "Ana.Lopez@example.org",
        "gpu",
        "Small",
        "a100",
        "everyone,",
    ]
    assert row.endswith(line_end)
    assert header.index("STATE") == row.index(line_end)


def test_a_pod_without_a_record() -> None:
    labels = {"hub.jupyter.org/username": "zed"}
    notebook = notebook_pod(pod("jupyter-zed", labels=labels), {"hub/a": "1"})
    assert notebook == NotebookPod("jupyter-zed", "zed", "", None, None)
    assert notebook.state == "no record"
    assert notebook.as_dict()["profiles"] is None
    (_, row) = format_pods([notebook], namespace="hub").splitlines()
    assert row.split()[:6] == ["jupyter-zed", "zed", "-", "-", "-", "-"]
    assert "no record" in row


def test_no_pods() -> None:
    assert format_pods([], namespace="hub") == "hub: no notebook pods\n"


def budgeted(name: str, user: str, gpus: int, budgets: str, *, deleting: bool = False) -> Any:
    item = pod(
        name,
        {
            "hub.jupyter.org/username": user,
            "profilespawner/profiles": "[]",
            "profilespawner/sources": "[]",
            "profilespawner/budgets": budgets,
        },
    )
    if deleting:
        item["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    item["spec"] = {
        "containers": [
            {
                "name": "notebook",
                "resources": {"requests": {"cpu": "500m", "memory": "1Gi", "nvidia.com/gpu": str(gpus)}},
            }
        ]
    }
    return item


def test_what_the_pods_hold_of_their_budgets() -> None:
    budgets = check_configmap(
        configmap(
            "b",
            "7",
            "budgets: [{name: team, total: {gpu: 8, cpu: '4'}, per_user: {servers: 2}}, "
            "{name: spare, total: {gpu: 1}}]",
        ),
        source="hub/b",
        key=KEY,
    ).profile_set
    assert budgets is not None
    pods = [
        notebook_pod(budgeted("jupyter-ann", "ann", 2, '["team"]'), {}),
        notebook_pod(budgeted("jupyter-bob", "bob", 4, '["team","gone"]'), {}),
        notebook_pod(budgeted("jupyter-cy", "cy", 2, '["team"]', deleting=True), {}),  # holds nothing
    ]
    assert pods[0].as_dict()["budgets"] == ["team"]
    text = format_pods(pods, namespace="hub", budgets=budgets.budgets)
    lines = text.splitlines()
    assert lines[0].split()[7:] == ["BUDGETS", "STATE"]
    assert lines[2].split()[6] == "team,"  # team, gone
    assert lines[-3:] == [
        "Budgets, as the pods listed hold them:",
        "  budget 'team': gpu 6 of 8, cpu 1 of 4, memory 2Gi, servers 2; per user at most servers 2",
        "  budget 'gone': gpu 4, cpu 500m, memory 1Gi, servers 1 (no source defines it now)",
    ]


def test_notebook_pods_are_labelled_as_kubespawner_labels_them_by_default() -> None:
    from kubespawner import KubeSpawner

    assert KubeSpawner.class_traits()["component_label"].default() == NOTEBOOK_COMPONENT


def test_a_file_given_by_another_path_is_the_file_the_pod_recorded(tmp_path: Any, monkeypatch: Any) -> None:
    """The hub records a file by the path its configuration gives; the command
    given another path to the same file compares it with that record."""
    from profilespawner.tools.pods import files_named_as_recorded

    (tmp_path / "profiles.yaml").write_text("profiles: []\n")
    (tmp_path / "other.yaml").write_text("profiles: []\n")
    monkeypatch.chdir(tmp_path)
    recorded = [str(tmp_path / "profiles.yaml"), "demo/jupyter-singleuser-profiles"]
    in_use = {"profiles.yaml": "v1", "other.yaml": "v2", "demo/jupyter-singleuser-profiles": "7"}
    assert files_named_as_recorded(in_use, recorded) == {
        str(tmp_path / "profiles.yaml"): "v1",
        "other.yaml": "v2",
        "demo/jupyter-singleuser-profiles": "7",
    }
    assert files_named_as_recorded(in_use, []) == in_use
