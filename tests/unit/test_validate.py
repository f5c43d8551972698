"""The format: what loads, what is rejected and how the message reads."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from profilespawner.errors import ProfileError, ProfileSyntaxError, ProfileValidationError
from profilespawner.validate import MAX_DOCUMENT_NODES, parse_document

DATA = Path(__file__).parent / "data"
SOURCE = "ns/profiles-cm"


def parse(text: str, **kwargs):
    return parse_document(textwrap.dedent(text), source=SOURCE, **kwargs)


def problems(text: str) -> list[str]:
    with pytest.raises(ProfileValidationError) as info:
        parse(text)
    return [str(e) for e in info.value.errors]


# (id, YAML, fragments every one of which must appear in one message)
BAD_DOCUMENTS = [
    (
        "typo-in-profile-key",
        "profiles: [{name: a, resouces: {}}]",
        ["ns/profiles-cm: profile 'a': unknown key 'resouces' (did you mean 'resources'?)"],
    ),
    ("typo-top-level", "profile: []", ["unknown top-level key 'profile' (did you mean 'profiles'?)"]),
    (
        "typo-in-requests",
        "profiles: [{name: a, resources: {request: {cpu: 1}}}]",
        ["profile 'a': resources: unknown key 'request' (did you mean 'requests'?)"],
    ),
    ("name-missing", "profiles: [{env: []}]", ["profile #1: missing required key 'name'"]),
    ("name-not-string", "profiles: [{name: [x]}]", ["profile #1: name: must be a string, not a list"]),
    ("name-empty", "profiles: [{name: ''}]", ["profile #1: name: must not be empty"]),
    ("profiles-not-list", "profiles: {name: a}", ["profiles: must be a list, not a mapping"]),
    (
        "users-not-list",
        "profiles: [{name: a, users: alice}]",
        ["profile 'a': users: must be a list, not a string"],
    ),
    (
        "images-not-strings",
        "profiles: [{name: a, images: [1]}]",
        ["profile 'a': images[0]: must be a string"],
    ),
    ("gpu-negative", "profiles: [{name: a, gpu: -1}]", ["profile 'a': gpu: must be at least 0"]),
    (
        "gpu-not-int",
        "profiles: [{name: a, gpu: two}]",
        ["profile 'a': gpu: must be an integer, not a string"],
    ),
    ("gpu-bool", "profiles: [{name: a, gpu: true}]", ["gpu: must be an integer, not a boolean"]),
    (
        "quantity-with-space",
        "profiles: [{name: a, resources: {limits: {memory: 2 GB}}}]",
        ["profile 'a': resources.limits.memory: is not a Kubernetes quantity"],
    ),
    (
        "quantity-GB",
        "profiles: [{name: a, resources: {limits: {memory: 2GB}}}]",
        ["resources.limits.memory: is not a Kubernetes quantity"],
    ),
    (
        "quantity-negative",
        "profiles: [{name: a, resources: {requests: {cpu: -1}}}]",
        ["resources.requests.cpu: must not be negative"],
    ),
    (
        "quantity-bool",
        "profiles: [{name: a, resources: {requests: {cpu: true}}}]",
        ["resources.requests.cpu: must be a string or a number, not a boolean"],
    ),
    (
        "resource-name-invalid",
        "profiles: [{name: a, resources: {limits: {'bad name': 1}}}]",
        ["'bad name' is not a valid resource name"],
    ),
    (
        "request-above-limit",
        "profiles: [{name: a, resources: {requests: {cpu: '2'}, limits: {cpu: 1500m}}}]",
        ["profile 'a': resources.requests.cpu: the request of 'cpu' is above its limit"],
    ),
    (
        "legacy-mixed",
        "profiles: [{name: a, resources: {mem_limit: 1Gi, limits: {cpu: 1}}}]",
        ["mixes the legacy 'mem_limit'/'cpu_limit' with 'requests'/'limits'"],
    ),
    (
        "env-name-invalid",
        "profiles: [{name: a, env: [{name: 'MY VAR', value: x}]}]",
        ["profile 'a': env[0]: 'MY VAR' is not a valid environment variable name"],
    ),
    (
        "env-name-digit",
        "profiles: [{name: a, env: [{name: 1ABC, value: x}]}]",
        ["'1ABC' is not a valid environment variable name"],
    ),
    (
        "env-reserved-jupyterhub",
        "profiles: [{name: a, env: [{name: JUPYTERHUB_API_TOKEN, value: x}]}]",
        ["env[0]: 'JUPYTERHUB_API_TOKEN' is reserved for JupyterHub"],
    ),
    (
        "env-reserved-jpy",
        "profiles: [{name: a, env: {JPY_API_TOKEN: x}}]",
        ["env.JPY_API_TOKEN: 'JPY_API_TOKEN' is reserved"],
    ),
    (
        "env-value-number",
        "profiles: [{name: a, env: [{name: PORT, value: 80}]}]",
        ["profile 'a': env[0].value: must be a string, not an integer"],
    ),
    (
        "env-value-and-valuefrom",
        """\
        profiles:
        - name: a
          env:
          - name: X
            value: y
            valueFrom: {secretKeyRef: {name: s, key: k}}
        """,
        ["env[0]: variable 'X' sets both 'value' and 'valueFrom'"],
    ),
    (
        "env-valuefrom-two-sources",
        """\
        profiles:
        - name: a
          env:
          - name: X
            valueFrom: {secretKeyRef: {name: s, key: k}, configMapKeyRef: {name: c, key: k}}
        """,
        ["env[0].valueFrom: must set exactly one of"],
    ),
    (
        "env-secretkeyref-no-key",
        "profiles: [{name: a, env: [{name: X, valueFrom: {secretKeyRef: {name: s}}}]}]",
        ["env[0].valueFrom.secretKeyRef: missing required key 'key'"],
    ),
    (
        "env-duplicate-in-profile",
        "profiles: [{name: a, env: [{name: X, value: '1'}, {name: X, value: '2'}]}]",
        ["env[1]: variable 'X' is set twice in this entry"],
    ),
    (
        "env-unknown-placeholder",
        "profiles: [{name: a, env: [{name: X, value: 'http://{user}.svc'}]}]",
        ["env[0].value: unknown placeholder '{user}'"],
    ),
    (
        "env-unbalanced-brace",
        "profiles: [{name: a, env: [{name: X, value: '{\"a\": 1'}]}]",
        ["env[0].value: has an unbalanced '{' or '}'"],
    ),
    (
        "env-legacy-nested",
        "profiles: [{name: a, env: {X: {y: 1}}}]",
        ["profile 'a': env.X: must be a string or a number or true or false or null, not a mapping"],
    ),
    (
        "env-wrong-shape",
        "profiles: [{name: a, env: 12}]",
        ["profile 'a': env: is not in any of the accepted forms"],
    ),
    (
        "envfrom-none",
        "profiles: [{name: a, envFrom: [{prefix: X_}]}]",
        ["envFrom[0]: must set exactly one of 'configMapRef' and 'secretRef'"],
    ),
    (
        "toleration-operator",
        "profiles: [{name: a, node_tolerations: [{key: k, operator: Equals}]}]",
        ["node_tolerations[0].operator: must be one of: 'Exists', 'Equal'"],
    ),
    (
        "toleration-exists-value",
        "profiles: [{name: a, node_tolerations: [{key: k, operator: Exists, value: v}]}]",
        ["node_tolerations[0].value: must be empty when operator is 'Exists'"],
    ),
    (
        "toleration-seconds-effect",
        """\
        profiles:
        - name: a
          node_tolerations: [{key: k, operator: Exists, effect: NoSchedule, tolerationSeconds: 5}]
        """,
        ["tolerationSeconds: is only allowed with effect 'NoExecute'"],
    ),
    (
        "affinity-typo",
        "profiles: [{name: a, node_affinity: {requiredDuringScheduling: {}}}]",
        ["node_affinity: unknown key 'requiredDuringScheduling'"],
    ),
    (
        "affinity-in-no-values",
        """\
        profiles:
        - name: a
          node_affinity:
            requiredDuringSchedulingIgnoredDuringExecution:
              nodeSelectorTerms: [{matchExpressions: [{key: zone, operator: In}]}]
        """,
        ["nodeSelectorTerms[0].matchExpressions[0].values: must not be empty for operator 'In'"],
    ),
    (
        "affinity-gt-not-int",
        """\
        profiles:
        - name: a
          node_affinity:
            preferredDuringSchedulingIgnoredDuringExecution:
            - weight: 1
              preference: {matchExpressions: [{key: cores, operator: Gt, values: [many]}]}
        """,
        ["must be one integer for operator 'Gt'"],
    ),
    (
        "affinity-weight",
        """\
        profiles:
        - name: a
          node_affinity:
            preferredDuringSchedulingIgnoredDuringExecution:
            - {weight: 101, preference: {}}
        """,
        ["preferredDuringSchedulingIgnoredDuringExecution[0].weight: must be at most 100"],
    ),
    (
        "node-selector-value",
        "profiles: [{name: a, node_selector: {disktype: 'very fast'}}]",
        ["node_selector.disktype: is not a valid label value"],
    ),
    (
        "node-selector-number",
        "profiles: [{name: a, node_selector: {gpu: 1}}]",
        ["node_selector.gpu: must be a string, not an integer"],
    ),
    (
        "label-reserved",
        "profiles: [{name: a, labels: {component: x}}]",
        ["labels: label 'component' is set by KubeSpawner and cannot be overridden"],
    ),
    ("label-key-invalid", "profiles: [{name: a, labels: {'-bad': x}}]", ["'-bad' is not a valid label key"]),
    (
        "annotation-key-invalid",
        "profiles: [{name: a, annotations: {'a b': x}}]",
        ["'a b' is not a valid annotation key"],
    ),
    (
        "volume-name",
        "profiles: [{name: a, volumes: [{name: My_Data, emptyDir: {}}]}]",
        ["volumes[0].name: 'My_Data' is not a valid volume name"],
    ),
    (
        "volume-no-source",
        "profiles: [{name: a, volumes: [{name: data, mountPath: /data}]}]",
        ["volumes[0]: must have exactly one volume source"],
    ),
    (
        "volume-two-sources",
        "profiles: [{name: a, volumes: [{name: d, emptyDir: {}, secret: {secretName: s}}]}]",
        ["volumes[0]: must have exactly one volume source"],
    ),
    (
        "volume-unknown-source",
        "profiles: [{name: a, volumes: [{name: d, pvc: {claimName: x}}]}]",
        ["volumes[0]: unknown key 'pvc'"],
    ),
    (
        "volume-claim-missing",
        "profiles: [{name: a, volumes: [{name: d, persistentVolumeClaim: {}}]}]",
        ["volumes[0].persistentVolumeClaim: missing required key 'claimName'"],
    ),
    (
        "volume-mount-dotdot",
        "profiles: [{name: a, volumes: [{name: d, emptyDir: {}, mountPath: ../../etc}]}]",
        ["volumes[0].mountPath: must not contain '..'"],
    ),
    (
        "volume-mount-colon",
        "profiles: [{name: a, volumes: [{name: d, emptyDir: {}, mountPath: 'c:/x'}]}]",
        ["volumes[0].mountPath: must not contain ':'"],
    ),
    (
        "volume-subpath-absolute",
        "profiles: [{name: a, volumes: [{name: d, emptyDir: {}, subPath: /x}]}]",
        ["volumes[0].subPath: must be a relative path without '..'"],
    ),
    (
        "volume-twice",
        "profiles: [{name: a, volumes: [{name: d, emptyDir: {}}, {name: d, emptyDir: {}}]}]",
        ["volumes[1].name: volume 'd' is defined twice in this entry"],
    ),
    ("size-default-reserved", "sizes: [{name: Default}]", ["size 'Default': name: 'Default' is reserved"]),
    ("size-images", "sizes: [{name: S, images: [x]}]", ["size 'S': unknown key 'images'"]),
    ("size-name-missing", "sizes: [{resources: {}}]", ["size #1: missing required key 'name'"]),
    (
        "gputype-type-missing",
        "gpuTypes: [{node_tolerations: []}]",
        ["gpuType #1: missing required key 'type'"],
    ),
    (
        "gputype-unknown-key",
        "gpuTypes: [{type: a100, tolerations: []}]",
        ["gpuType 'a100': unknown key 'tolerations'"],
    ),
    ("top-level-scalar", "just a string", ["the top level must be a mapping"]),
    ("empty", "", ["the document is empty"]),
    ("comments-only", "# nothing here\n", ["the document is empty"]),
    ("legacy-list-bad-entry", "- {name: a, gpu: x}", ["profile 'a': gpu: must be an integer"]),
]


@pytest.mark.parametrize(
    ("text", "fragments"), [c[1:] for c in BAD_DOCUMENTS], ids=[c[0] for c in BAD_DOCUMENTS]
)
def test_bad_documents_are_rejected_with_a_clear_message(text: str, fragments: list[str]) -> None:
    messages = problems(text)
    for fragment in fragments:
        assert any(fragment in m for m in messages), (fragment, messages)


SYNTAX_ERRORS = [
    ("unclosed-flow", "profiles: [{name: a\nsizes: []\n", "line 2"),
    ("duplicate-key", "profiles:\n- name: a\n  name: b\n", "duplicate key 'name'"),
    ("bad-indent", "profiles:\n  - name: a\n   env: []\n", "line 3"),
    (
        "python-tag",
        "profiles: !!python/object/apply:os.system ['true']\n",
        "could not determine a constructor",
    ),
    ("tab", "profiles:\n\t- name: a\n", "line 2, column 1"),
]


@pytest.mark.parametrize(
    ("text", "fragment"), [c[1:] for c in SYNTAX_ERRORS], ids=[c[0] for c in SYNTAX_ERRORS]
)
def test_yaml_syntax_errors_give_line_and_column(text: str, fragment: str) -> None:
    with pytest.raises(ProfileSyntaxError) as info:
        parse_document(text, source=SOURCE)
    message = str(info.value)
    assert message.startswith(SOURCE + ": ")
    assert fragment in message
    assert "line " in message and "column " in message


def test_duplicate_key_message_never_quotes_values() -> None:
    text = "profiles:\n- name: a\n  env: {TOKEN: s3cr3t-one, TOKEN: s3cr3t-two}\n"
    with pytest.raises(ProfileSyntaxError) as info:
        parse_document(text, source=SOURCE)
    assert "s3cr3t" not in str(info.value)
    assert "'TOKEN'" in str(info.value)


@pytest.mark.parametrize(
    "text",
    [
        "profiles:\n- name: a\n  env: [{name: PORT, value: 8080}]\n",
        "profiles:\n- name: a\n  node_selector: {k: 'hunter2 with spaces'}\n",
        "profiles:\n- name: a\n  resources: {limits: {memory: 'hunter2'}}\n",
        "profiles:\n- name: a\n  env: [{name: 'hunter2 x', value: 'y'}]\n",
    ],
)
def test_messages_never_quote_values(text: str) -> None:
    with pytest.raises(ProfileError) as info:
        parse_document(text, source=SOURCE)
    assert "hunter2" not in str(info.value).replace("'hunter2 x'", "")
    assert "8080" not in str(info.value)


def test_all_problems_of_a_document_are_reported() -> None:
    with pytest.raises(ProfileValidationError) as info:
        parse("profiles: [{name: a, gpu: -1, resouces: {}}, {name: b, env: [{name: JPY_X, value: x}]}]")
    error = info.value
    assert len(error.errors) == 3
    assert "(and 2 more problems)" in str(error)
    assert {e.profile for e in error.errors} == {"profile 'a'", "profile 'b'"}


def test_non_utf8_bytes_are_a_syntax_error() -> None:
    with pytest.raises(ProfileSyntaxError, match="not valid UTF-8"):
        parse_document(b"profiles: [{name: \xff}]", source=SOURCE)


def test_alias_bomb_is_rejected_quickly() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [{', '.join(['*a' + str(i - 1)] * 10)}]")
    lines.append("profiles: []")
    with pytest.raises(ProfileSyntaxError, match=f"more than {MAX_DOCUMENT_NODES} nodes"):
        parse_document("\n".join(lines), source=SOURCE)


# -- what loads ---------------------------------------------------------------


def test_full_profile_normalises_to_the_model() -> None:
    doc = parse(
        """\
        profiles:
        - name: Spark
          images: [s2i-spark-notebook]
          users: [alice]
          groups: [data-science]
          env:
          - {name: SPARK_MASTER, value: "spark://{username}-cluster:7077"}
          - name: AWS_SECRET_ACCESS_KEY
            valueFrom: {secretKeyRef: {name: team-s3, key: secret}}
          envFrom: [{secretRef: {name: team-s3}}]
          resources:
            requests: {cpu: 500m, memory: 1Gi}
            limits: {cpu: 2, memory: 4Gi}
          gpu: 1
          node_tolerations: [{key: gpu, operator: Exists, effect: NoSchedule}]
          node_selector: {disktype: ssd}
          volumes:
          - name: dataset
            persistentVolumeClaim: {claimName: datasets, readOnly: true}
            mountPath: data
            readOnly: true
          - {name: scratch, emptyDir: {}}
          labels: {team: spark}
          annotations: {example.com/owner: spark-team}
        """
    )
    (profile,) = doc.profile_set.profiles
    assert profile.name == "Spark" and profile.source == SOURCE and profile.index == 0
    assert profile.images == ("s2i-spark-notebook",)
    assert profile.who.users == ("alice",) and profile.who.groups == ("data-science",)
    s = profile.settings
    assert s.env[0] == {"name": "SPARK_MASTER", "value": "spark://{username}-cluster:7077"}
    assert s.resources == {
        "requests": {"cpu": "500m", "memory": "1Gi"},
        "limits": {"cpu": "2", "memory": "4Gi"},
    }
    assert s.gpu == 1
    assert s.volumes[0]["mountPath"] == "/opt/app-root/src/data"
    assert s.volumes[1]["mountPath"] == "/opt/app-root/src/scratch"
    assert doc.warnings == ()


@pytest.mark.parametrize(
    ("mount_path", "expected"),
    [
        (None, "/home/jovyan/d"),
        ("/data", "/data"),
        ("/data/", "/data"),
        ("./example-dataset", "/home/jovyan/example-dataset"),
        ("sub/dir", "/home/jovyan/sub/dir"),
    ],
)
def test_mount_paths(mount_path: str | None, expected: str) -> None:
    volume = {"name": "d", "emptyDir": {}}
    if mount_path is not None:
        volume["mountPath"] = mount_path
    text = YAML_DUMP({"profiles": [{"name": "a", "volumes": [volume]}]})
    doc = parse_document(text, source=SOURCE, default_mount_path="/home/jovyan")
    assert doc.profile_set.profiles[0].settings.volumes[0]["mountPath"] == expected


def YAML_DUMP(data: object) -> str:
    import io

    out = io.StringIO()
    YAML(typ="safe").dump(data, out)
    return out.getvalue()


def test_legacy_forms() -> None:
    doc = parse(
        """\
        - name: old
          env: {PORT: 8080, DEBUG: true, EMPTY: null, RATIO: 0.5, NAME: x}
          resources: {mem_limit: 2Gi, cpu_limit: 1}
          services: {spark: {resources: []}}
        """
    )
    s = doc.profile_set.profiles[0].settings
    assert s.env == (
        {"name": "PORT", "value": "8080"},
        {"name": "DEBUG", "value": "true"},
        {"name": "EMPTY", "value": ""},
        {"name": "RATIO", "value": "0.5"},
        {"name": "NAME", "value": "x"},
    )
    assert s.resources == {"requests": {"memory": "2Gi", "cpu": "1"}, "limits": {"memory": "2Gi", "cpu": "1"}}
    assert doc.warnings == (f"{SOURCE}: profile 'old': services: 'services' is not supported and is ignored",)


def test_ui_is_ignored_with_a_warning() -> None:
    doc = parse("profiles: []\nui: {sizeConfig: {enabled: false}}\n")
    assert doc.warnings == (f"{SOURCE}: ui: 'ui' is not supported and is ignored",)


def test_numbers_as_quantities_are_kept_as_written() -> None:
    doc = parse("profiles: [{name: a, resources: {requests: {cpu: 0.5, memory: 1e9}, limits: {cpu: 2}}}]")
    assert doc.profile_set.profiles[0].settings.resources["requests"] == {
        "cpu": "0.5",
        "memory": "1000000000.0",
    }
    assert doc.profile_set.profiles[0].settings.resources["limits"] == {"cpu": "2"}


def test_later_size_of_the_same_name_replaces_the_earlier_one_whole() -> None:
    doc = parse(
        """\
        sizes:
        - {name: S, resources: {limits: {cpu: 1}}, users: [bob]}
        - {name: M}
        - {name: S, resources: {requests: {cpu: 1}}}
        """
    )
    assert list(doc.profile_set.sizes) == ["S", "M"]
    assert doc.profile_set.sizes["S"].settings.resources == {"requests": {"cpu": "1"}}
    assert doc.profile_set.sizes["S"].who.everyone


@pytest.mark.parametrize("name", ["configuration-md.yaml", "example-configmap.yaml"])
def test_jupyterhub_singleuser_profiles_07_examples_load_unchanged(name: str) -> None:
    text = (DATA / "jsp07" / name).read_text()
    if "kind: ConfigMap" in text:
        text = YAML(typ="safe").load(text)["data"]["jupyterhub-singleuser-profiles.yaml"]
    doc = parse_document(text, source=name)
    names = [p.name for p in doc.profile_set.profiles]
    assert names == ["globals", "Special Nodes", "Thoth Notebooks", "Spark Notebook"]
    assert list(doc.profile_set.sizes) == ["Small", "Medium", "Large"]


def test_jupyterhub_singleuser_profiles_07_doc_snippets_load() -> None:
    for name in ("volumes-md.yaml", "gpu-tolerations-md.yaml", "sizes-md.yaml"):
        text = (DATA / "jsp07" / name).read_text()
        if name.startswith("volumes"):
            text = "profiles:\n- name: globals\n" + textwrap.indent(text, "  ")
        parse_document(text, source=name)
