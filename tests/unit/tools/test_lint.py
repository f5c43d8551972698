"""profilespawner.tools.lint: every problem of a document, with its line."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

from profilespawner.tools.lint import check_configmap, check_text


def test_check_text_points_at_keys_with_dots_and_legacy_env() -> None:
    text = textwrap.dedent(
        """\
        - name: a
          env:
            GOOD: 1
            'BAD NAME': x
          node_selector:
            example.com/zone: 'a b'
        """
    )
    report = check_text(text, source="s")
    assert [(p.field, p.line, p.column) for p in report.errors] == [
        ("env.BAD NAME", 4, 5),
        ("node_selector.example.com/zone", 6, 5),
    ]


def test_check_text_counts_profiles_by_index_when_unnamed() -> None:
    report = check_text("profiles:\n- name: a\n- {env: []}\n", source="s")
    (problem,) = report.errors
    assert (problem.profile, problem.line, str(problem)) == (
        "profile #2",
        3,
        "s:3:3: error: profile #2: missing required key 'name'",
    )


CONFIGMAP_CASES = [
    ("valid", {"data": {"k.yaml": "profiles: []\n"}}, []),
    ("syntax-error-lines-in-the-key", {"data": {"k.yaml": "profiles:\n- name: [a\n"}},
     [(3, 1, "ns/cm: line 3, column 1: expected ',' or ']'")]),
    ("validation-error-lines-in-the-key", {"data": {"k.yaml": "profiles:\n- name: a\n  resouces: {}\n"}},
     [(3, 3, "ns/cm: profile 'a': unknown key 'resouces' (did you mean 'resources'?)")]),
    ("no-key", {"data": {"other": "x"}},
     [(None, None, "ns/cm: data: no key 'k.yaml' (SingleuserProfiles.configmap_key); the ConfigMap "
                   "has 'other'")]),
    ("binary", {"binaryData": {"k.yaml": "eA=="}},
     [(None, None, "ns/cm: binaryData: the key 'k.yaml' is in binaryData; put the profiles YAML in data")]),
    ("a-manifest-inside-is-not-unwrapped",
     {"data": {"k.yaml": "apiVersion: v1\nkind: ConfigMap\ndata: {k.yaml: 'profiles: []'}\n"}},
     [(1, 1, "ns/cm: unknown top-level key 'apiVersion'"), (2, 1, "ns/cm: unknown top-level key 'kind'"),
      (3, 1, "ns/cm: unknown top-level key 'data'")]),
]  # fmt: skip


@pytest.mark.parametrize(("configmap", "expected"), [pytest.param(*c[1:], id=c[0]) for c in CONFIGMAP_CASES])
def test_check_configmap_as_the_hub_reads_it(
    configmap: dict[str, Any], expected: list[tuple[int | None, int | None, str]]
) -> None:
    report = check_configmap(configmap, source="ns/cm", key="k.yaml")
    assert report.configmaps == ()  # a cluster ConfigMap, not a manifest file
    got = [(p.line, p.column, p.message) for p in report.errors]
    assert [g[:2] for g in got] == [e[:2] for e in expected]
    for (_, _, message), (_, _, fragment) in zip(got, expected, strict=True):
        assert message.startswith(fragment)
    assert (report.profile_set is not None) == (not expected)
