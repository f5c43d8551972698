"""Placeholders: bare names only, one rule for validation and spawn, and a failed
expansion is the spawn's ProfileError, never a 500 and never a value in a message."""

from __future__ import annotations

import tracemalloc
from typing import Any

import pytest

from profilespawner import placeholders
from profilespawner.apply import apply_resolution
from profilespawner.errors import PlaceholderError, ProfileSpawnError
from profilespawner.model import PodSettings, Profile
from profilespawner.resolve import Resolution

SECRET = "Zx9kQ2secret"


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        ("plain", []),
        ("{username}", []),
        ("spark://{username}-cluster:7077", []),
        ("{{literal}} {userid}", []),
        ("{{{username}}}", []),  # a literal brace, a placeholder, a literal brace
        ("{}", ["has an empty placeholder at character 1; name one (known: "]),
        ("{0}", ["has a placeholder at character 1 that is not a bare name"]),
        ("x{username[99]}", ["has a placeholder at character 2 that is not a bare name"]),
        ("{userid[0]}", ["that is not a bare name"]),
        ("{username.nope}", ["that is not a bare name"]),
        ("{username!r}", ["that is not a bare name"]),
        ("{username:d}", ["that is not a bare name"]),
        ("{username:>200000000}", ["that is not a bare name"]),
        ("{username:}", ["that is not a bare name"]),
        ("{username:{userid}}", ["has a lone '{' at character 1", "has a lone '}' at character 19"]),
        ("{ username }", ["that is not a bare name"]),
        (f"pa{{{SECRET}}}ss", ["has an unknown placeholder at character 3 (known: "]),
        ("a}b", ["has a lone '}' at character 2"]),
        ("}}}", ["has a lone '}' at character 3"]),
        ("{{{", ["has a lone '{' at character 3"]),
        ("{a{b}", ["has a lone '{' at character 1", "has an unknown placeholder at character 3"]),
    ],
)
def test_only_bare_names_are_placeholders(text: str, problems: list[str]) -> None:
    found = placeholders.problems(text)
    assert len(found) == len(problems), found
    for message, fragment in zip(found, problems, strict=True):
        assert fragment in message
        assert SECRET not in message


class Spawner:
    """What KubeSpawner's expansion reads, with its own method."""

    def __init__(self) -> None:
        from kubespawner import KubeSpawner

        self.expand = KubeSpawner._expand_user_properties.__get__(self)
        self.user = type("User", (), {"name": "alice", "id": 7})()
        self.name = ""
        self.slug_scheme = "safe"
        self.pod_name = "jupyter-alice"
        self.pvc_name = "claim-alice"
        self.namespace = "hub"

    def _namespace_default(self) -> str:
        return "hub"


def test_every_placeholder_is_one_kubespawner_fills_in() -> None:
    text = "-".join("{" + name + "}" for name in sorted(placeholders.PLACEHOLDERS))
    assert placeholders.problems(text) == []
    expanded = placeholders.expand(text, Spawner().expand)
    assert "{" not in expanded and "alice" in expanded and "7" in expanded


def test_text_that_breaks_the_rule_never_reaches_the_expansion() -> None:
    def fill(text: str) -> str:
        raise AssertionError("called")

    with pytest.raises(PlaceholderError, match="not a bare name"):
        placeholders.expand("{username:>200000000}", fill)
    assert placeholders.expand("no braces", fill) == "no braces"


def pod() -> dict[str, Any]:
    return {"spec": {"containers": [{"name": "notebook", "env": []}]}}


def resolution(**settings: Any) -> Resolution:
    profile = Profile(name="team", source="ns/cm", index=0, settings=PodSettings(**settings))
    return Resolution(settings=profile.settings, profiles=(profile,))


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"env": ({"name": "DB_PASSWORD", "value": "{username:>200000000}"},)}, "env 'DB_PASSWORD'"),
        ({"env": ({"name": "X", "value": f"pa{{{SECRET}}}ss"},)}, "env 'X'"),
        (
            {
                "volumes": (
                    {
                        "name": "data",
                        "persistentVolumeClaim": {"claimName": "{userid[0]}"},
                        "mountPath": "/d",
                    },
                )
            },
            "volume 'data': persistentVolumeClaim.claimName",
        ),
    ],
)
def test_at_spawn_a_broken_placeholder_is_a_profile_error(settings: dict[str, Any], field: str) -> None:
    # Profile sets built in code skip the validator: the spawn checks the rule again.
    tracemalloc.start()
    try:
        with pytest.raises(ProfileSpawnError) as info:
            apply_resolution(pod(), resolution(**settings), expand=Spawner().expand)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: has a")
    assert "profiles 'team'" in str(info.value)
    assert SECRET not in str(info.value)
    assert peak < 10 * 2**20  # nothing of the 200 MB the width asked for


def test_an_expansion_that_fails_is_a_profile_error_without_its_message() -> None:
    def fill(text: str) -> str:
        raise KeyError(SECRET)

    settings = {"env": ({"name": "X", "value": "{username}"},)}
    with pytest.raises(ProfileSpawnError) as info:
        apply_resolution(pod(), resolution(**settings), expand=fill)
    assert (
        str(info.value)
        == "env 'X': its placeholders cannot be filled in (KeyError; profiles 'team'; size none)"
    )
    assert info.value.__cause__ is None and info.value.__suppress_context__
