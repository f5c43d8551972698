"""The format: what loads, what is rejected and how the message reads."""

from __future__ import annotations

import textwrap
from decimal import Decimal
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from profilespawner.errors import ProfileError, ProfileSyntaxError, ProfileValidationError, ValidatorBugError
from profilespawner.model import Range
from profilespawner.parse import MAX_DOCUMENT_NODES, MAX_PROBLEMS, parse_document

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
        ["env[0].value: has an unknown placeholder at character 8 (known: escaped_servername,"],
    ),
    (
        "env-unbalanced-brace",
        "profiles: [{name: a, env: [{name: X, value: '{\"a\": 1'}]}]",
        ["env[0].value: has a lone '{' at character 1 (write '{{' or '}}' for a literal brace)"],
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
    (
        "label-profilespawner-reserved",
        "profiles: [{name: a, labels: {profilespawner/size: x}}]",
        ["labels: label 'profilespawner/size': keys under 'profilespawner/' are reserved"],
    ),
    (
        "annotation-profilespawner-reserved",
        "profiles: [{name: a, annotations: {profilespawner/profiles: '[]'}}]",
        ["annotations: annotation 'profilespawner/profiles': keys under 'profilespawner/' are reserved"],
    ),
    (
        "size-annotation-profilespawner-reserved",
        "sizes: [{name: S, annotations: {profilespawner/sources: x}}]",
        ["size 'S': annotations: annotation 'profilespawner/sources': keys under"],
    ),
    ("label-key-invalid", "profiles: [{name: a, labels: {'-bad': x}}]", ["'-bad' is not a valid label key"]),
    (
        "annotation-key-invalid",
        "profiles: [{name: a, annotations: {'a b': x}}]",
        ["'a b' is not a valid annotation key"],
    ),
    (
        "volume-name",
        "profiles: [{name: a, volumes: [{name: my.data, emptyDir: {}}]}]",
        ["volumes[0].name: 'my.data' is not a valid volume name"],
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
    # -- ranges (SPEC §9) --
    (
        "range-unknown-key",
        "sizes: [{name: C, ranges: {cpus: {min: '1', max: '2'}}}]",
        ["size 'C': ranges: unknown key 'cpus' (did you mean 'cpu'?)"],
    ),
    (
        "ranges-empty",
        "sizes: [{name: C, ranges: {}}]",
        ["size 'C': ranges: must set one of: cpu, gpu, memory"],
    ),
    (
        "range-max-missing",
        "sizes: [{name: C, ranges: {cpu: {min: '1'}}}]",
        ["ranges.cpu: missing required key 'max'"],
    ),
    (
        "range-typo",
        "sizes: [{name: C, ranges: {memory: {min: 1Gi, max: 2Gi, defualt: 1Gi}}}]",
        ["ranges.memory: unknown key 'defualt' (did you mean 'default'?)"],
    ),
    (
        "range-not-quantity",
        "sizes: [{name: C, ranges: {memory: {min: 1GB, max: 2Gi}}}]",
        ["size 'C': ranges.memory.min: is not a Kubernetes quantity"],
    ),
    (
        "range-negative",
        "sizes: [{name: C, ranges: {cpu: {min: '-1', max: '2'}}}]",
        ["ranges.cpu.min: must not be negative"],
    ),
    (
        "range-bool",
        "sizes: [{name: C, ranges: {cpu: {min: true, max: '2'}}}]",
        ["ranges.cpu.min: must be a string or a number, not a boolean"],
    ),
    (
        "range-huge",
        "sizes: [{name: C, ranges: {cpu: {min: '1', max: '1e99999999999'}}}]",
        ["ranges.cpu.max: is out of range (a Kubernetes quantity is at most 2^63-1)"],
    ),
    (
        "range-cpu-below-millicore",
        "sizes: [{name: C, ranges: {cpu: {min: 100u, max: '2'}}}]",
        ["ranges.cpu.min: must be a whole number of millicores (1m)"],
    ),
    (
        "range-memory-fractional-byte",
        "sizes: [{name: C, ranges: {memory: {min: 500m, max: 2Gi}}}]",
        ["ranges.memory.min: must be a whole number of bytes"],
    ),
    (
        "range-min-above-max",
        "sizes: [{name: C, ranges: {cpu: {min: '4', max: 2000m}}}]",
        ["size 'C': ranges.cpu: min is above max"],
    ),
    (
        "range-default-below-min",
        "sizes: [{name: C, ranges: {memory: {min: 2Gi, max: 64Gi, default: 1Gi}}}]",
        ["size 'C': ranges.memory.default: must lie between min and max"],
    ),
    (
        "range-default-above-max",
        "sizes: [{name: C, ranges: {gpu: {min: 0, max: 4, default: 5}}}]",
        ["ranges.gpu.default: must lie between min and max"],
    ),
    (
        "range-gpu-not-integer",
        "sizes: [{name: C, ranges: {gpu: {min: 0, max: '4'}}}]",
        ["ranges.gpu.max: must be an integer, not a string"],
    ),
    (
        "range-gpu-negative",
        "sizes: [{name: C, ranges: {gpu: {min: -1, max: 4}}}]",
        ["ranges.gpu.min: must be at least 0"],
    ),
    (
        "range-in-a-profile",
        "profiles: [{name: p, ranges: {cpu: {min: '1', max: '2'}}}]",
        ["profile 'p': unknown key 'ranges'"],
    ),
    (
        "limit-factor-below-1",
        "sizes: [{name: C, ranges: {cpu: {min: '1', max: '2'}}, limit_factor: 0.5}]",
        ["size 'C': limit_factor: must be at least 1"],
    ),
    (
        "limit-factor-string",
        "sizes: [{name: C, ranges: {cpu: {min: '1', max: '2'}}, limit_factor: '2'}]",
        ["limit_factor: must be a number, not a string"],
    ),
    (
        "limit-factor-without-ranges",
        "sizes: [{name: C, limit_factor: 2}]",
        ["size 'C': limit_factor: applies to the cpu and memory chosen within 'ranges'"],
    ),
    (
        "limit-factor-gpu-only",
        "sizes: [{name: C, ranges: {gpu: {min: 0, max: 2}}, limit_factor: 2}]",
        ["limit_factor: applies to the cpu and memory chosen within 'ranges', and this size has no cpu"],
    ),
    (
        "limit-factor-overflows",
        "sizes: [{name: C, ranges: {memory: {min: 1Gi, max: 5Ei}}, limit_factor: 2}]",
        ["limit_factor: makes the limit of the largest memory out of range"],
    ),
    # -- budgets (SPEC §10) --
    ("budget-no-name", "budgets: [{total: {gpu: 8}}]", ["budget #1: missing required key 'name'"]),
    ("budget-empty-name", "budgets: [{name: '', total: {gpu: 8}}]", ["budget #1: name: must not be empty"]),
    ("budget-no-limit", "budgets: [{name: b, groups: [ds]}]", ["budget 'b': sets no limit"]),
    ("budget-empty-limits", "budgets: [{name: b, total: {}}]", ["budget 'b': total: must set one of"]),
    (
        "budget-unknown-key",
        "budgets: [{name: b, total: {gpus: 8}}]",
        ["budget 'b': total: unknown key 'gpus' (did you mean 'gpu'?)"],
    ),
    ("budget-typo-scope", "budgets: [{name: b, peruser: {gpu: 1}}]", ["budget 'b': unknown key 'peruser'"]),
    (
        "budget-gpu-negative",
        "budgets: [{name: b, total: {gpu: -1}}]",
        ["budget 'b': total.gpu: must be at least 0"],
    ),
    (
        "budget-gpu-fraction",
        "budgets: [{name: b, total: {gpu: 1.5}}]",
        ["budget 'b': total.gpu: must be an integer"],
    ),
    (
        "budget-servers-text",
        "budgets: [{name: b, per_user: {servers: two}}]",
        ["budget 'b': per_user.servers: must be an integer"],
    ),
    (
        "budget-cpu-not-quantity",
        "budgets: [{name: b, total: {cpu: lots}}]",
        ["budget 'b': total.cpu: is not a Kubernetes quantity"],
    ),
    (
        "budget-memory-negative",
        "budgets: [{name: b, per_user: {memory: -1Gi}}]",
        ["budget 'b': per_user.memory: must not be negative"],
    ),
    (
        "budget-users-empty-name",
        "budgets: [{name: b, users: [''], total: {gpu: 1}}]",
        ["users[0]: must not be empty"],
    ),
    ("budgets-not-a-list", "budgets: {name: b}", ["budgets: must be a list"]),
    ("top-level-scalar", "just a string", ["the top level must be a mapping"]),
    ("empty", "", ["the document is empty"]),
    ("comments-only", "# nothing here\n", ["the document is empty"]),
    ("legacy-list-bad-entry", "- {name: a, gpu: x}", ["profile 'a': gpu: must be an integer"]),
    # 0.7 read gpu with int(): a string of digits is an integer, nothing else is
    ("gpu-string-fraction", "profiles: [{name: a, gpu: '1.5'}]", ["gpu: must be an integer, not a string"]),
    ("gpu-string-negative", "profiles: [{name: a, gpu: '-1'}]", ["gpu: must be an integer, not a string"]),
    ("gpu-string-newline", 'profiles: [{name: a, gpu: "1\\n"}]', ["gpu: must be an integer, not a string"]),
    ("gpu-string-huge", "profiles: [{name: a, gpu: '99999999999999999999'}]", ["gpu: must be at most"]),
    # a name 0.7 could not make valid either (it kept '.')
    ("volume-name-dot", "profiles: [{name: a, volumes: [{name: A.b, emptyDir: {}}]}]",
     ["volumes[0].name: 'A.b' is not a valid volume name"]),
    (
        "volumes-one-mount-path",
        "profiles: [{name: a, volumes: [{name: x, emptyDir: {}, mountPath: /d},"
        " {name: y, emptyDir: {}, mountPath: /d}]}]",
        ["profile 'a': volumes[1].mountPath: volume 'y' is mounted at the path of volume 'x'; "
         "Kubernetes mounts one volume per path"],
    ),
    (
        "volumes-one-default-mount-path",
        "sizes: [{name: S, volumes: [{name: x, emptyDir: {}, mountPath: y}, {name: y, emptyDir: {}}]}]",
        ["size 'S': volumes[1].mountPath: volume 'y' is mounted at the path of volume 'x'"],
    ),
    (
        "legacy-volume-names-that-meet",
        "profiles: [{name: a, volumes: [{name: Data_Set, emptyDir: {}}, {name: data-set, emptyDir: {}}]}]",
        ["volumes[1].name: volume 'data-set' is defined twice in this entry"],
    ),
]  # fmt: skip


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

TAB_CASES = [
    # (id, YAML, line and column of the tab)
    ("before-a-sequence", "profiles:\n\t- name: a\n", "line 2, column 1"),
    ("inside-a-mapping", "profiles:\n- name: a\n  env:\n  - name: A\n  \t value: b\n", "line 5, column 3"),
    ("after-spaces", "profiles:\n- name: a\n  env: []\n  \tusers: [x]\n", "line 4, column 3"),
    ("after-a-dash", "profiles:\n- name: a\n  env:\n  -\t- x\n", "line 4, column 4"),
]


@pytest.mark.parametrize(("text", "where"), [c[1:] for c in TAB_CASES], ids=[c[0] for c in TAB_CASES])
def test_a_tab_in_the_indentation_is_named(text: str, where: str) -> None:
    with pytest.raises(ProfileSyntaxError) as info:
        parse_document(text, source=SOURCE)
    assert (
        str(info.value) == f"{SOURCE}: {where}: YAML does not allow tabs for indentation; indent with spaces"
    )


def test_a_tab_elsewhere_is_not_blamed() -> None:
    with pytest.raises(ProfileSyntaxError) as info:  # the error is the unclosed flow, not the tab
        parse_document("profiles: [{name: a,\tusers: [x]\n", source=SOURCE)
    assert "tabs" not in str(info.value)
    assert parse_document("profiles:\n- name: a\n  env: {A: 'x\ty'}\n", source=SOURCE)  # in a value: fine


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
    assert tuple(map(str, doc.warnings)) == (
        f"{SOURCE}: profile 'old': services: 'services' is not supported and is ignored",
    )


def test_ui_is_ignored_with_a_warning() -> None:
    doc = parse("profiles: []\nui: {sizeConfig: {enabled: false}}\n")
    assert tuple(map(str, doc.warnings)) == (f"{SOURCE}: ui: 'ui' is not supported and is ignored",)


def test_numbers_as_quantities_are_kept_as_written() -> None:
    doc = parse("profiles: [{name: a, resources: {requests: {cpu: 0.5, memory: 1e9}, limits: {cpu: 2}}}]")
    assert doc.profile_set.profiles[0].settings.resources["requests"] == {
        "cpu": "0.5",
        "memory": "1000000000.0",
    }
    assert doc.profile_set.profiles[0].settings.resources["limits"] == {"cpu": "2"}


def test_ranges_are_read_in_units_with_default_min() -> None:
    size = parse(
        """\
        sizes:
        - name: Custom
          groups: [data-science]
          ranges:
            gpu: {min: 0, max: 4}
            memory: {min: 512Mi, max: 64Gi, default: 8Gi}
            cpu: {min: 250m, max: 16, default: 1.5}
          limit_factor: 1.5
        """
    ).profile_set.sizes["Custom"]
    assert list(size.ranges) == ["cpu", "memory", "gpu"]  # RANGE_KEYS order, whatever the YAML's
    assert size.ranges["cpu"] == Range(Decimal("0.25"), Decimal(16), Decimal("1.5"))
    assert size.ranges["memory"] == Range(Decimal(2**29), Decimal(64 * 2**30), Decimal(8 * 2**30))
    assert size.ranges["gpu"] == Range(Decimal(0), Decimal(4), Decimal(0))  # default: min
    assert size.limit_factor == Decimal("1.5")  # as written, not 1.5's binary approximation
    assert parse("sizes: [{name: S}]").profile_set.sizes["S"].limit_factor == 1


def test_a_range_that_replaces_the_size_s_own_setting_is_a_warning() -> None:
    parsed = parse(
        """\
        sizes:
        - name: C
          resources: {requests: {cpu: '1', memory: 1Gi}, limits: {cpu: '2'}}
          gpu: 1
          ranges: {cpu: {min: '1', max: '4'}, gpu: {min: 0, max: 2}}
        """
    )
    assert tuple(map(str, parsed.warnings)) == (
        "ns/profiles-cm: size 'C': ranges.cpu: replaces this size's own requests.cpu and limits.cpu: "
        "those are never used",
        "ns/profiles-cm: size 'C': ranges.gpu: replaces this size's own gpu: those are never used",
    )


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


def test_budgets_are_read_in_units_and_a_later_one_replaces_an_earlier_one_whole() -> None:
    doc = parse(
        """\
        budgets:
        - {name: ds, groups: [data-science], total: {gpu: 8}, per_user: {servers: 1}}
        - name: everyone
          total: {cpu: 1500m, memory: 1G}
          per_user: {gpu: 2, servers: 2, memory: 64Gi}
        - {name: ds, users: [ann], per_user: {gpu: 1}}
        """
    )
    budgets = doc.profile_set.budgets
    assert list(budgets) == ["ds", "everyone"]
    assert budgets["ds"].total == {}
    assert budgets["ds"].per_user == {"gpu": Decimal(1)}
    assert budgets["ds"].who.users == ("ann",)
    assert budgets["everyone"].who.everyone
    assert budgets["everyone"].total == {"cpu": Decimal("1.5"), "memory": Decimal(10**9)}
    assert budgets["everyone"].per_user == {"gpu": 2, "servers": 2, "memory": Decimal(64 * 2**30)}


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


# -- hostile input: a ProfileError naming the source, never a crash ---------------------

#: Stands for a credential: no message may contain it.
SECRET = "Zx9kQ2secret"

# (id, YAML, fragment of the first message). Each once crashed the validator
# (AttributeError, decimal.InvalidOperation, ValueError, a segfault) or let
# through what fails every spawn.
HOSTILE_DOCUMENTS = [
    # keys that are not strings, wherever a mapping is read
    ("key-top", "{1: x}", "ns/profiles-cm: key 1 is an integer, not a string"),
    ("key-profile", "profiles: [{name: a, 1: x}]", "profile 'a': key 1 is an integer"),
    ("key-requests", "profiles: [{name: a, resources: {requests: {1: 2}}}]", "resources.requests: key 1"),
    (
        "key-limits",
        "profiles: [{name: a, resources: {limits: {true: 2}}}]",
        "resources.limits: key true is a boolean",
    ),
    ("key-node-selector", "profiles: [{name: a, node_selector: {1: x}}]", "node_selector: key 1"),
    ("key-labels-null", "profiles: [{name: a, labels: {null: x}}]", "labels: key null is null"),
    (
        "key-annotations-float",
        "profiles: [{name: a, annotations: {1.5: x}}]",
        "annotations: key 1.5 is a number",
    ),
    ("key-labels-date", "profiles: [{name: a, labels: {2024-01-31: x}}]", "labels: key 2024-01-31 is a date"),
    (
        "key-labels-list",
        "profiles: [{name: a, labels: {? [" + SECRET + "] : x}}]",
        "key (not shown) is a tuple",
    ),
    ("key-env-legacy", "profiles: [{name: a, env: {1: x}}]", "profile 'a': env: key 1"),
    ("key-env-item", "profiles: [{name: a, env: [{name: X, 1: x}]}]", "env[0]: key 1"),
    ("key-volume", "profiles: [{name: a, volumes: [{name: v, emptyDir: {}, 1: x}]}]", "volumes[0]: key 1"),
    (
        "key-volume-source",
        "profiles: [{name: a, volumes: [{name: v, csi: {driver: d, volumeAttributes: {1: x}}}]}]",
        "volumes[0].csi.volumeAttributes: key 1",
    ),
    ("key-toleration", "profiles: [{name: a, node_tolerations: [{1: x}]}]", "node_tolerations[0]: key 1"),
    ("key-size", "sizes: [{name: S, 1: x}]", "size 'S': key 1"),
    ("key-gputype", "gpuTypes: [{type: t, 1: x}]", "gpuType 't': key 1"),
    ("key-duplicate-as-text", "profiles: [{name: a, labels: {1: x, '1': y}}]", "labels: key 1"),
    # quantities beyond any range
    (
        "quantity-exponent",
        "profiles: [{name: a, resources: {requests: {memory: '1e99999999999'}}}]",
        "resources.requests.memory: is out of range",
    ),
    (
        "quantity-exponent-limit",
        "profiles: [{name: a, resources: {limits: {cpu: 1e99999999999}}}]",
        "resources.limits.cpu: is not a Kubernetes quantity",
    ),
    (
        # validated, then each spawn wrote MEM_LIMIT: a million-digit integer, refused by str()
        "quantity-million-digits",
        "profiles: [{name: a, resources: {limits: {memory: '1e999999'}}}]",
        "resources.limits.memory: is out of range",
    ),
    (
        "quantity-above-int64",
        "profiles: [{name: a, resources: {requests: {cpu: '9223372036854775808'}}}]",
        "is out of range",
    ),
    (
        "quantity-legacy",
        "profiles: [{name: a, resources: {mem_limit: '1e99999999999'}}]",
        "resources.mem_limit: is out of range",
    ),
    (
        "quantity-tiny",
        "profiles: [{name: a, resources: {requests: {cpu: '1e-99999999999'}}}]",
        "is out of range",
    ),
    (
        "quantity-divisor",
        "profiles: [{name: a, env: [{name: X, valueFrom: "
        "{resourceFieldRef: {resource: limits.cpu, divisor: '1e999999999'}}}]}]",
        "env[0].valueFrom.resourceFieldRef.divisor: is out of range",
    ),
    (
        "quantity-size-limit",
        "profiles: [{name: a, volumes: [{name: v, emptyDir: {sizeLimit: '1e99999999999'}}]}]",
        "volumes[0].emptyDir.sizeLimit: is out of range",
    ),
    (
        "quantity-size-limit-bad",
        "profiles: [{name: a, volumes: [{name: v, emptyDir: {sizeLimit: 2GB}}]}]",
        "sizeLimit: is not a Kubernetes quantity",
    ),
    # volume sources the schema lets through: the JSON types of Kubernetes' own model
    (
        "volume-source-shape",
        "profiles: [{name: a, volumes: [{name: v, csi: {driver: d, volumeAttributes: [" + SECRET + "]}}]}]",
        "volumes[0].csi.volumeAttributes: must be a mapping",
    ),
    (
        "volume-source-nested-shape",
        "profiles: [{name: a, volumes: [{name: v, projected: {sources: [{secret: {items: {k: v}}}]}}]}]",
        "volumes[0].projected.sources[0].secret.items: must be a list",
    ),
    (
        "volume-source-not-a-mapping",
        "profiles: [{name: a, volumes: [{name: v, ephemeral: {volumeClaimTemplate: 5}}]}]",
        "volumes[0].ephemeral.volumeClaimTemplate: must be a mapping",
    ),
    (
        "volume-source-boolean",
        "profiles: [{name: a, volumes: [{name: v, csi: {driver: d, readOnly: 'yes'}}]}]",
        "volumes[0].csi.readOnly: must be true or false",
    ),
    # numbers that cost time or that no Kubernetes field holds
    ("gpu-huge", "profiles: [{name: a, gpu: 99999999999999999999}]", "gpu: is an integer beyond 64 bits"),
    (
        "gpu-hex-6000-digits",
        "profiles: [{name: a, gpu: 0x" + "f" * 5000 + "}]",
        "gpu: is an integer beyond 64 bits",
    ),
    (
        "gpu-above-int64",
        "profiles: [{name: a, gpu: 9223372036854775808}]",
        "gpu: must be at most 9223372036854775807",
    ),
    (
        "int-5000-digits",
        "profiles: [{name: a, gpu: " + "1" * 5000 + "}]",
        "a value cannot be read as the type YAML gives it",
    ),
    (
        "toleration-seconds-huge",
        "profiles: [{name: a, node_tolerations: "
        "[{key: k, operator: Exists, effect: NoExecute, tolerationSeconds: 9223372036854775808}]}]",
        "tolerationSeconds: must be at most",
    ),
    (
        "mode-bits",
        "profiles: [{name: a, volumes: [{name: v, configMap: {name: c, defaultMode: 4096}}]}]",
        "defaultMode: must be at most 511",
    ),
    # scalars YAML cannot build, tags that are not data
    (
        "date-that-does-not-exist",
        "profiles: [{name: a, env: {X: 2024-02-30}}]",
        "a value cannot be read as the type YAML gives it",
    ),
    ("int-tag-on-text", "profiles: [{name: a, gpu: !!int " + SECRET + "}]", "a value cannot be read"),
    ("float-tag-on-text", "profiles: [{name: a, gpu: !!float " + SECRET + "}]", "a value cannot be read"),
    (
        "int-tag-on-nothing",
        "profiles: [{name: a, gpu: !!int }]",
        "a value cannot be read",
    ),  # found by the fuzz
    ("float-tag-on-nothing", "profiles: [{name: a, gpu: !!float ''}]", "a value cannot be read"),
    ("bool-tag-on-text", "profiles: [{name: a, gpu: !!bool " + SECRET + "}]", "a value cannot be read"),
    (
        "timestamp-tag-on-text",
        "profiles: [{name: a, gpu: !!timestamp " + SECRET + "}]",
        "failed to construct timestamp from (not shown)",
    ),
    (
        "binary",
        "profiles: [{name: a, env: [{name: X, value: !!binary aGVsbG8=}]}]",
        "env[0].value: must be a string, number, boolean, list or mapping, not a bytes",
    ),
    (
        "set",
        "profiles: [{name: a, labels: !!set {" + SECRET + "}}]",
        "labels: must be a string, number, boolean, list or mapping, not a set",
    ),
    (
        "pairs",
        "profiles: [{name: a, labels: !!pairs [{k: " + SECRET + "}]}]",
        "labels[0]: must be a string, number, boolean, list or mapping, not a tuple",
    ),
    (
        "lone-surrogate",
        'profiles: [{name: a, env: [{name: X, value: "\\ud800' + SECRET + '"}]}]',
        "env[0].value: holds a lone surrogate",
    ),
    (
        "lone-surrogate-key",
        'profiles: [{name: a, labels: {"\\udfff": x}}]',
        "labels: a key holds a lone surrogate",
    ),
    (
        "escape-in-a-value",
        'profiles: [{name: a, env: [{name: X, value: "' + SECRET + '\\q"}]}]',
        "found unknown escape character (not shown)",
    ),
    # nesting and size
    (
        "nested-flow",
        "profiles: " + "[" * 50_000 + "]" * 50_000,
        "line 1, column 110: the document nests collections more than 100 levels deep",
    ),
    (
        "nested-block",
        "profiles:\n" + "- " * 50_000 + "x\n",
        "line 2, column 199: the document nests collections more than 100 levels deep",
    ),
    (
        "nested-mappings",
        "profiles: " + "{a: " * 200 + "x" + "}" * 200,
        "nests collections more than 100 levels deep",
    ),
    ("many-nodes", "profiles: [" + "1," * 250_000 + "]", "the document has more than 200000 nodes"),
    ("too-large", "profiles: []\n#" + "x" * (4 * 2**20), "the document is larger than 4 MiB"),
    # placeholders that reach past a name, in every field that expands
    (
        "placeholder-index",
        "profiles: [{name: a, env: [{name: X, value: '{username[99]}'}]}]",
        "env[0].value: has a placeholder at character 1 that is not a bare name",
    ),
    (
        "placeholder-index-userid",
        "profiles: [{name: a, env: [{name: X, value: 'u-{userid[0]}'}]}]",
        "at character 3 that is not a bare name",
    ),
    (
        "placeholder-attribute",
        "profiles: [{name: a, env: [{name: X, value: '{username.nope}'}]}]",
        "that is not a bare name",
    ),
    (
        "placeholder-conversion",
        "profiles: [{name: a, env: [{name: X, value: '{username!r}'}]}]",
        "that is not a bare name",
    ),
    (
        "placeholder-spec",
        "profiles: [{name: a, env: [{name: X, value: '{username:d}'}]}]",
        "that is not a bare name",
    ),
    (
        "placeholder-width",
        "profiles: [{name: a, env: [{name: X, value: '{username:>200000000}'}]}]",
        "that is not a bare name",
    ),
    (
        "placeholder-nested-spec",
        "profiles: [{name: a, env: [{name: X, value: '{username:{userid}}'}]}]",
        "has a lone '{' at character 1",
    ),
    (
        "placeholder-positional",
        "profiles: [{name: a, env: [{name: X, value: 'a{}b'}]}]",
        "env[0].value: has an empty placeholder at character 2",
    ),
    (
        "placeholder-index-only",
        "profiles: [{name: a, env: [{name: X, value: '{0}'}]}]",
        "that is not a bare name",
    ),
    (
        "placeholder-unknown",
        "profiles: [{name: a, env: [{name: DB_PASSWORD, value: 'pa{" + SECRET + "}ss'}]}]",
        "env[0].value: has an unknown placeholder at character 3",
    ),
    (
        "placeholder-legacy-env",
        "profiles: [{name: a, env: {X: '{username:>9}'}}]",
        "env.X: has a placeholder at character 1 that is not a bare name",
    ),
    (
        "placeholder-claim",
        "profiles: [{name: a, volumes: [{name: v, persistentVolumeClaim: {claimName: 'c-{username[0]}'}}]}]",
        "volumes[0].persistentVolumeClaim.claimName: has a placeholder at character 3",
    ),
    (
        "placeholder-claim-spec",
        "sizes: [{name: S, volumes: "
        "[{name: v, persistentVolumeClaim: {claimName: '{pvc_name:x<99999999}'}}]}]",
        "size 'S': volumes[0].persistentVolumeClaim.claimName",
    ),
    (
        "placeholder-lone-close",
        "profiles: [{name: a, env: [{name: X, value: '" + SECRET + "}'}]}]",
        "has a lone '}' at character 13",
    ),
    # names and keys are quoted, but never at length or with line breaks
    (
        "long-key",
        "profiles: [{name: a, " + "k" * 1000 + ": 1}]",
        "unknown key 'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk'...",
    ),
    (
        "long-name",
        "profiles: [{name: " + "n" * 100_000 + ", gpu: -1}]",
        "profile 'nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn'...: gpu",
    ),
    (
        "line-break-in-key",
        'profiles: [{name: a, labels: {"a\\nINFO forged": x}}]',
        "labels: 'a\\nINFO forged' is not a valid label key",
    ),
    (
        "line-break-in-field",
        'profiles: [{name: a, resources: {requests: {"a\\nINFO forged": x}}}]',
        "resources.requests: 'a\\nINFO forged' is not a valid resource name",
    ),
]


@pytest.mark.parametrize(
    ("text", "fragment"), [c[1:] for c in HOSTILE_DOCUMENTS], ids=[c[0] for c in HOSTILE_DOCUMENTS]
)
def test_hostile_documents_are_rejected_cleanly(text: str, fragment: str) -> None:
    with pytest.raises(ProfileError) as info:
        parse_document(text, source=SOURCE)
    error = info.value
    messages = [str(e) for e in getattr(error, "errors", (error,))]
    assert not isinstance(error, ValidatorBugError), messages
    assert fragment in messages[0], messages
    for message in messages:
        assert message.startswith(SOURCE + ": ")
        assert SECRET not in message
        assert "\n" not in message
        assert len(message) < 700


def test_a_bug_in_the_validator_is_that_source_s_rejection(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: object, resources: object, path: object) -> None:
        raise KeyError(SECRET)  # as a bug would, quoting what it met

    monkeypatch.setattr("profilespawner.parse._Checker._resources", broken)
    with pytest.raises(ValidatorBugError) as info:
        parse_document("profiles: [{name: a, resources: {}}]", source=SOURCE)
    error = info.value
    assert isinstance(error, ProfileValidationError)
    assert str(error).startswith(f"{SOURCE}: the document could not be checked (KeyError in the validator)")
    assert SECRET not in str(error)
    assert isinstance(error.__cause__, KeyError)


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("0", "must be a mapping, not an integer"),
        ("[]", "must be a mapping, not a list"),
        ("{}", "missing required key 'name'"),
    ],
)
def test_more_broken_entries_than_problems_reported_are_all_rejected(entry: str, problem: str) -> None:
    # Past MAX_PROBLEMS the schema's errors are no longer collected, so the
    # entries they would have marked broken are not known: no entry may reach
    # the Kubernetes checks (which would crash on it), and the document is
    # rejected for the problems collected, each naming its entry.
    text = "\n".join(f"- {entry}" for _ in range(MAX_PROBLEMS + 2))
    with pytest.raises(ProfileValidationError) as caught:
        parse_document(text, source="many.yaml")
    error = caught.value
    assert not isinstance(error, ValidatorBugError)
    assert error.truncated
    assert [(e.source, e.profile, e.field, e.problem) for e in error.errors] == [
        ("many.yaml", f"profile #{n}", "", problem) for n in range(1, MAX_PROBLEMS + 1)
    ]
    assert str(error) == f"many.yaml: profile #1: {problem} (and at least {MAX_PROBLEMS - 1} more problems)"


WARNING_CASES = [
    # (id, YAML, the warnings: profile, field, problem)
    ("profile-named-twice", "profiles: [{name: a}, {name: b}, {name: a}]",
     [("profile 'a' (#3)", "name", "'a' is also the name of profile #1: both apply, and where both set a "
       "field this later one wins; give each profile a name of its own")]),
    ("size-named-twice", "sizes: [{name: S}, {name: S}]",
     [("size 'S' (#2)", "name", "'S' is also the name of size #1: this later one replaces it whole, and "
       "size #1 is not used")]),
    ("gputype-twice", "gpuTypes: [{type: t}, {type: t}, {type: t}]",
     [("gpuType 't' (#2)", "type", "'t' is also the type of gpuType #1: this later one replaces it whole, "
       "and gpuType #1 is not used"),
      ("gpuType 't' (#3)", "type", "'t' is also the type of gpuType #1: this later one replaces it whole, "
       "and gpuType #1 is not used")]),
    ("env-without-value", "profiles: [{name: a, env: [{name: A}, {name: B, value: ''}]}]",
     [("profile 'a'", "env[0]", "variable 'A' has neither 'value' nor 'valueFrom': it is set to the empty "
       "string")]),
    ("legacy-volume-name", "profiles: [{name: a, volumes: [{name: Example_Dataset, emptyDir: {}}]}]",
     [("profile 'a'", "volumes[0].name", "'Example_Dataset' is not a valid volume name; it is used as "
       "'example-dataset', the name jupyterhub-singleuser-profiles 0.7 made of it (write that name to "
       "silence this warning)")]),
    ("one-name-in-two-sections-is-fine",
     "profiles: [{name: S}]\nsizes: [{name: S}]\ngpuTypes: [{type: S}]", []),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "expected"), [c[1:] for c in WARNING_CASES], ids=[c[0] for c in WARNING_CASES]
)
def test_likely_mistakes_are_warned_about(text: str, expected: list[tuple[str, str, str]]) -> None:
    doc = parse_document(text, source=SOURCE)
    assert [(w.profile, w.field, w.problem) for w in doc.warnings] == expected
    for warning in doc.warnings:  # the parts join as an error's do
        assert str(warning) == f"{SOURCE}: {warning.profile}: {warning.field}: {warning.problem}"


def test_the_later_of_two_sizes_of_one_name_is_used() -> None:
    doc = parse_document(
        "sizes: [{name: S, gpu: 1}, {name: S, gpu: 2}]\ngpuTypes: [{type: t}, {type: t, description: b}]",
        source=SOURCE,
    )
    assert doc.profile_set.sizes["S"].settings.gpu == 2
    assert doc.profile_set.gpu_types["t"].description == "b"


def test_a_gpu_written_as_a_string_is_an_integer() -> None:
    doc = parse_document("profiles: [{name: a, gpu: '1'}]\nsizes: [{name: S, gpu: '0'}]", source=SOURCE)
    assert doc.profile_set.profiles[0].settings.gpu == 1
    assert doc.profile_set.sizes["S"].settings.gpu == 0
    assert doc.warnings == ()


def test_a_legacy_volume_name_is_used_as_0_7_made_it() -> None:
    doc = parse_document(
        "profiles: [{name: a, volumes: [{name: Example_Dataset, persistentVolumeClaim: {claimName: ds}}]}]",
        source=SOURCE,
        default_mount_path="/home/jovyan",
    )
    (volume,) = doc.profile_set.profiles[0].settings.volumes
    # the mount path is made of the name as 0.7 made it (os.path.join(default_mount_path, name))
    assert (volume["name"], volume["mountPath"]) == ("example-dataset", "/home/jovyan/example-dataset")


def test_freeing_a_loaded_document_leaves_whole_what_something_else_holds() -> None:
    from profilespawner.parse import _take_apart

    kept_list = [1, {"deep": ["x"]}]
    kept_dict = {"a": kept_list}
    items: list[object] = [[{"x": kept_dict, "y": {"z": [3, [4]]}}, (5, [6, kept_list])]]
    _take_apart(items)
    assert items == []
    assert kept_dict == {"a": [1, {"deep": ["x"]}]}
    assert kept_list == [1, {"deep": ["x"]}]


def test_a_large_document_parses_to_the_same_set_twice() -> None:
    """The loader's node tree and the loaded data are freed piece by piece
    after each parse; what the set keeps is untouched by it."""
    profiles = [
        {
            "name": f"p{i}",
            "users": [f"u{i}"],
            "env": [
                {"name": "A", "value": f"v{i}"},
                {"name": "S", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
            ],
            "node_tolerations": [{"key": "gpu", "operator": "Exists"}],
            "node_affinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {"matchExpressions": [{"key": "z", "operator": "In", "values": ["a"]}]}
                    ]
                }
            },
            "volumes": [{"name": f"v{i}", "persistentVolumeClaim": {"claimName": "c"}, "mountPath": "/data"}],
        }
        for i in range(200)
    ]
    import json

    text = json.dumps({"profiles": profiles})
    first = parse_document(text, source="big").profile_set
    second = parse_document(text, source="big").profile_set
    assert first == second
    assert first.profiles[7].settings.env[1] == profiles[7]["env"][1]
    assert first.profiles[7].settings.volumes[0]["persistentVolumeClaim"] == {"claimName": "c"}
    assert dict(first.profiles[7].settings.node_affinity) == profiles[7]["node_affinity"]
