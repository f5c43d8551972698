"""The pure rules of profile documents (:mod:`profilespawner.sources.documents`):
ConfigMap order, where a ConfigMap holds its profiles, how versions compare."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from profilespawner.errors import ProfileError
from profilespawner.parse import ParsedDocument
from profilespawner.sources.documents import (
    DEFAULT_CONFIGMAP_KEY,
    compare_resource_versions,
    parse_configmap,
    profile_text,
    read_file,
    source_order,
)

DATA = Path(__file__).parents[1] / "data"
KEY = DEFAULT_CONFIGMAP_KEY
SOURCE = "hub/profiles"


def configmap(name: str = "profiles", rv: str = "1", **fields: Any) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "hub", "resourceVersion": rv}, **fields}


# -- order ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("named", "labelled", "expected"),
    [
        (None, [], []),
        ("main", [], ["main"]),
        (None, ["b", "a", "c"], ["a", "b", "c"]),
        ("main", ["b", "a"], ["main", "a", "b"]),
        # named and labelled: read once, at the named position
        ("zz-main", ["b", "zz-main", "a"], ["zz-main", "a", "b"]),
        # sorted() on the name: code points, so upper case and digits first
        (None, ["b", "B", "1", "a-2", "a-10"], ["1", "B", "a-10", "a-2", "b"]),
    ],
)
def test_source_order(named: str | None, labelled: list[str], expected: list[str]) -> None:
    assert source_order(named, labelled) == expected


# -- where the YAML is ------------------------------------------------------------


def test_profile_text_reads_the_key_in_data() -> None:
    cm = configmap(data={KEY: "profiles: []", "other": "x"})
    assert profile_text(cm, key=KEY, source=SOURCE) == "profiles: []"


@pytest.mark.parametrize(
    ("fields", "fragments"),
    [
        pytest.param(
            {"data": {"other.yaml": "secret-value", "z": "v"}},
            [
                "hub/profiles: data: no key 'jupyterhub-singleuser-profiles.yaml' "
                "(SingleuserProfiles.configmap_key); the ConfigMap has 'other.yaml', 'z'"
            ],
            id="key-missing",
        ),
        pytest.param(
            {"data": None},
            ["hub/profiles: data: the ConfigMap has no data; expected the profiles YAML under the key"],
            id="data-null",
        ),
        pytest.param(
            {},
            ["hub/profiles: data: the ConfigMap has no data"],
            id="data-absent",
        ),
        pytest.param(
            {"data": {}},
            ["hub/profiles: data: the ConfigMap has no data"],
            id="data-empty",
        ),
        pytest.param(
            {"binaryData": {KEY: "c2VjcmV0LXZhbHVl"}},
            [
                "hub/profiles: binaryData: the key 'jupyterhub-singleuser-profiles.yaml' is in "
                "binaryData; put the profiles YAML in data (text) instead"
            ],
            id="binary-data-only",
        ),
        pytest.param(
            {"data": {"a": "secret-value"}, "binaryData": {KEY: "c2VjcmV0LXZhbHVl"}},
            ["binaryData: the key 'jupyterhub-singleuser-profiles.yaml' is in binaryData"],
            id="binary-data-and-other-data",
        ),
    ],
)
def test_profile_text_problems(fields: dict[str, Any], fragments: list[str]) -> None:
    with pytest.raises(ProfileError) as info:
        profile_text(configmap(**fields), key=KEY, source=SOURCE)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message
    assert "secret-value" not in message and "c2VjcmV0" not in message
    assert info.value.source == SOURCE


def test_many_keys_are_cut_short() -> None:
    cm = configmap(data={f"k{i:02}": "v" for i in range(30)})
    with pytest.raises(ProfileError, match=r"'k09', \.\.\.$"):
        profile_text(cm, key=KEY, source=SOURCE)


def test_parse_configmap_returns_problems_instead_of_raising() -> None:
    result = parse_configmap(
        configmap(data={KEY: "profiles: [{name: a, resouces: {}}]"}), key=KEY, source=SOURCE
    )
    assert isinstance(result, ProfileError)
    assert "hub/profiles: profile 'a': unknown key 'resouces'" in str(result)
    assert isinstance(parse_configmap(configmap(data=None), key=KEY, source=SOURCE), ProfileError)


def test_jsp07_example_configmap_loads_unchanged() -> None:
    manifest = YAML(typ="safe").load((DATA / "jsp07" / "example-configmap.yaml").read_text())
    result = parse_configmap(manifest, key=KEY, source="ns/jupyter-singleuser-profiles")
    assert isinstance(result, ParsedDocument), result
    profile_set = result.profile_set
    assert [p.name for p in profile_set.profiles] == [
        "globals",
        "Special Nodes",
        "Thoth Notebooks",
        "Spark Notebook",
    ]
    assert list(profile_set.sizes) == ["Small", "Medium", "Large"]
    assert list(profile_set.gpu_types) == ["default"]
    assert all(p.source == "ns/jupyter-singleuser-profiles" for p in profile_set.profiles)


# -- versions ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "order"),
    [
        ("6", "7", -1),
        ("7", "6", 1),
        ("7", "7", 0),
        ("9", "10", -1),  # by length first: not as text
        ("100", "99", 1),
        ("0", "1", None),  # 0 is never a live resourceVersion
        ("07", "7", None),  # nor has leading zeros
        ("abc", "1", None),  # another storage's opaque versions
        ("", "1", None),
    ],
)
def test_resource_versions_compare_as_kubernetes_defines(a: str, b: str, order: int | None) -> None:
    result = compare_resource_versions(a, b)
    assert (result if result is None else (result > 0) - (result < 0)) == order


# -- files (SPEC §2) -----------------------------------------------------------------

CM = (
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\n"
    "data:\n  jupyterhub-singleuser-profiles.yaml: |\n    {profiles}\n"
)
ROOT_CA = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kube-root-ca.crt}\ndata: {ca.crt: x}\n"

# (id, the file, what the file gives: profile names and size gpu, or the error's message)
FILE_CASES = [
    ("a-profile-document", "profiles: [{name: a}]", (["a"], None)),
    ("one-configmap", CM.format(name="one", profiles="profiles: [{name: a}]"), (["a"], None)),
    ("several-documents-in-order",
     CM.format(name="one", profiles="{profiles: [{name: a}], sizes: [{name: S, gpu: 1}]}") + "---\n" + ROOT_CA
     + "---\n" + CM.format(name="two", profiles="{profiles: [{name: b}], sizes: [{name: S, gpu: 2}]}"),
     (["a", "b"], 2)),  # the later ConfigMap's size replaces the earlier's, as in the cluster
    ("a-list", "kind: List\nitems:\n- " + CM.format(name="one", profiles="profiles: [{name: a}]")
     .replace("\n", "\n  ").rstrip() + "\n- " + ROOT_CA.replace("\n", "\n  ").rstrip() + "\n", (["a"], None)),
    ("a-configmap-list", "kind: ConfigMapList\nitems:\n- metadata: {name: one}\n"
     "  data: {jupyterhub-singleuser-profiles.yaml: 'profiles: [{name: a}]'}\n", (["a"], None)),
    ("a-configmap-without-the-key-alone", ROOT_CA, ([], None)),
    ("another-kind", "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n",
     "f.yaml: an object of kind 'Secret': a profile file holds profiles, or ConfigMaps (one, a List of them, "
     "or several documents)"),
    ("another-kind-in-a-list", "kind: List\nitems: [{kind: Pod}]\n",
     "f.yaml: items[0]: an object of kind 'Pod': a profile file holds profiles, or ConfigMaps"),
    ("another-kind-among-documents", ROOT_CA + "---\nkind: Pod\n",
     "f.yaml: document 2: an object of kind 'Pod': a profile file holds profiles, or ConfigMaps"),
    ("a-profile-document-among-configmaps", ROOT_CA + "---\nprofiles: []\n",
     "f.yaml: document 2: is not a Kubernetes object, in a file of ConfigMap manifests"),
    ("two-profile-documents", "profiles: []\n---\nprofiles: []\n",
     "f.yaml: line 3, column 1: a second YAML document: a file holds one profile document, or ConfigMap "
     "manifests"),
    ("a-bad-configmap-rejects-the-file",
     CM.format(name="one", profiles="profiles: [{name: a}]") + "---\n"
     + CM.format(name="two", profiles="profiles: [{name: b, resouces: {}}]"),
     "f.yaml (ConfigMap 'two'): profile 'b': unknown key 'resouces'"),
    ("a-configmap-without-a-name",
     "kind: ConfigMap\ndata: {jupyterhub-singleuser-profiles.yaml: 'profiles: 1'}\n",
     "f.yaml (ConfigMap '#1'): profiles: must be a list"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in FILE_CASES], ids=[c[0] for c in FILE_CASES])
def test_a_file_is_one_source_with_one_verdict(text: str, expected: Any) -> None:
    result = read_file(text, path="f.yaml").result
    if isinstance(expected, str):
        assert isinstance(result, ProfileError)
        assert str(result).startswith(expected), str(result)
        return
    assert isinstance(result, ParsedDocument), result
    names, gpu = expected
    assert [p.name for p in result.profile_set.profiles] == names
    if gpu is not None:
        assert result.profile_set.sizes["S"].settings.gpu == gpu


def test_a_file_names_its_configmaps_and_skips_those_without_the_key() -> None:
    text = ROOT_CA + "---\n" + CM.format(name="team", profiles="profiles: [{name: a}, {name: a}]")
    reading = read_file(text, path="f.yaml")
    assert reading.skipped == ("kube-root-ca.crt",)
    assert [(p.source, p.configmap, p.location) for p in reading.parts] == [
        ("f.yaml (ConfigMap 'team')", "team", (1,))
    ]
    assert isinstance(reading.result, ParsedDocument)
    (warning,) = reading.result.warnings
    assert warning.source == "f.yaml (ConfigMap 'team')"
    assert all(p.source == "f.yaml (ConfigMap 'team')" for p in reading.result.profile_set.profiles)


def test_another_key_is_read_when_configured() -> None:
    text = CM.format(name="one", profiles="profiles: [{name: a}]").replace(KEY, "p.yaml")
    assert read_file(text, path="f.yaml").skipped == ("one",)
    result = read_file(text, path="f.yaml", key="p.yaml").result
    assert isinstance(result, ParsedDocument) and result.profile_set.profiles[0].name == "a"


def test_jsp07_example_manifest_file_loads_unchanged() -> None:
    result = read_file((DATA / "jsp07" / "example-configmap.yaml").read_text(), path="cm.yaml").result
    assert isinstance(result, ParsedDocument), result
    assert [p.name for p in result.profile_set.profiles][:2] == ["globals", "Special Nodes"]
