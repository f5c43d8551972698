"""A hub that must not spawn without its profiles (``on_api_unavailable =
"fail"``) and cannot list them: the spawn page and the REST API answer 503
with the message for users, not a 500."""

from __future__ import annotations

import urllib.error
from collections.abc import Iterator

import pytest

from tests.controlplane.harness import ControlPlane

from .stack import LocalStack

#: A label selector the API server refuses (HTTP 400): the list can never
#: succeed, as with an RBAC Role that lacks it, and no retry can fix it.
UNLISTABLE = """
c.SingleuserProfiles.on_api_unavailable = "fail"
c.SingleuserProfiles.label_selector = "jupyterhub in (("
c.SingleuserProfiles.initial_load_timeout = 5
"""
MESSAGE = "Server profiles cannot be read from Kubernetes right now. Please try again in a minute."


@pytest.fixture(scope="module")
def failing(e2e_ready: ControlPlane, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with LocalStack(
        tmp_path_factory.mktemp("unavailable"),
        control_plane=e2e_ready,
        users={"ivy": []},
        extra_config=UNLISTABLE,
    ) as local_stack:
        yield local_stack


def test_the_spawn_page_answers_503_with_the_message(failing: LocalStack) -> None:
    with pytest.raises(urllib.error.HTTPError) as info:
        # Logging in leads to the spawn page (no server yet); so does asking for it.
        failing.login("ivy").open(f"{failing.url}/hub/spawn", timeout=30)
    assert info.value.code == 503
    assert info.value.url.endswith("/hub/spawn")
    assert MESSAGE in info.value.read().decode()


def test_a_rest_spawn_answers_503_with_the_message(failing: LocalStack) -> None:
    status, body = failing.api("POST", "/users/ivy/server")
    assert status == 503, (status, body)
    assert body["message"] == MESSAGE
    assert failing.pod_of("ivy") is None
    assert "Cannot list the profile ConfigMaps" in failing.hub_log.read_text()
