"""Hostile and careless input against the real control plane: a ConfigMap that
once crashed the validator never stalls the watch, and the hub's namespace is
its own whatever the first spawn's profile_list override says."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from profilespawner import SingleuserProfiles
from tests.controlplane.harness import ControlPlane
from tests.integration.helpers import (
    CHANGE_DEADLINE,
    LABELS,
    ConfigMaps,
    eventually,
    messages,
    profile_yaml,
    who,
)

#: Each of these made the validator raise something other than a ProfileError
#: (AttributeError, decimal.InvalidOperation, ValueError): the watch listed
#: again, met it again, and looped; no later edit of any ConfigMap applied.
CRASHERS = {
    "crash-int-key": "profiles: [{name: c, resources: {requests: {1: 2}}}]\n",
    "crash-quantity": "profiles: [{name: c, resources: {requests: {memory: '1e99999999999'}}}]\n",
    "crash-null-label": "profiles: [{name: c, labels: {null: x}}]\n",
    "crash-date": "profiles: [{name: c, env: {BUILD_DATE: 2024-02-30}}]\n",
    "crash-nesting": "profiles: " + "[" * 60_000 + "]" * 60_000 + "\n",  # killed the hub (C stack)
}


async def test_configmaps_that_crashed_the_validator_never_stall_the_watch(
    hub: Any, configmaps: ConfigMaps, log: pytest.LogCaptureFixture, namespace: str
) -> None:
    # Already there when the hub starts: the first list must complete.
    for name, text in CRASHERS.items():
        await configmaps.create(name, text, labels=LABELS)
    await configmaps.create("good-a", profile_yaml(("a", "a-0")), labels=LABELS)
    await configmaps.create("jupyter-singleuser-profiles", profile_yaml(("n", "n-0")))
    spawner = hub(initial_load_timeout=10.0, on_api_unavailable="fail")
    assert await who(spawner) == [("jupyter-singleuser-profiles", "n-0"), ("good-a", "a-0")]

    # Every edit of the good ones reaches the next spawn within CHANGE_DEADLINE,
    # while the bad ones are relisted, edited (still bad) and joined by another.
    loop = asyncio.get_running_loop()
    for version in range(1, 4):
        await configmaps.edit("good-a", profile_yaml(("a", f"a-{version}")))
        await configmaps.edit("jupyter-singleuser-profiles", profile_yaml(("n", f"n-{version}")))
        await configmaps.edit("crash-int-key", CRASHERS["crash-int-key"] + f"# edit {version}\n")
        started = loop.time()
        expected = [("jupyter-singleuser-profiles", f"n-{version}"), ("good-a", f"a-{version}")]
        await eventually(lambda: who(spawner), lambda w, e=expected: w == e, timeout=CHANGE_DEADLINE)
        assert loop.time() - started < CHANGE_DEADLINE
    await configmaps.create("good-b", profile_yaml(("b", "b")), labels=LABELS)
    await eventually(lambda: who(spawner), lambda w: w[-1] == ("good-b", "b"))

    for name in CRASHERS:
        rejected = messages(log, f"Rejected profile source {namespace}/{name} ")
        edits = 3 if name == "crash-int-key" else 0
        assert len(rejected) == 1 + edits, (name, [r.getMessage() for r in rejected])
        assert all(
            r.levelno == logging.ERROR and "could not be checked" not in r.getMessage() for r in rejected
        )
    assert not messages(log, "unexpected error"), "the watch must not have failed"
    source = SingleuserProfiles.instance()._configmaps
    assert source is not None and all(f.failures == 0 for f in source._followers)


async def test_the_watched_namespace_is_the_hubs_whatever_the_first_spawn_overrides(
    control_plane: ControlPlane, hub: Any, configmaps: ConfigMaps, namespace: str
) -> None:
    elsewhere = f"{namespace[:50]}-x"
    await asyncio.to_thread(control_plane.create_namespace, elsewhere, {"profilespawner-test": "true"})
    try:
        other = ConfigMaps(control_plane, elsewhere)
        await other.create("jupyter-singleuser-profiles", profile_yaml(("wrong", "elsewhere")))
        await configmaps.create("jupyter-singleuser-profiles", profile_yaml(("hub", "hub")))
        profile_list = [
            {"display_name": "Home", "slug": "home", "default": True},
            {"display_name": "Away", "slug": "away", "kubespawner_override": {"namespace": elsewhere}},
        ]
        # The hub's first request is a REST API spawn of the profile that moves the pod.
        first = hub(user="api-user")
        first.profile_list = profile_list
        first.user_options = {"profile": "away"}
        await first.load_user_options()
        assert first.namespace == elsewhere
        assert await who(first) == [("jupyter-singleuser-profiles", "hub")]
        form_user = hub(user="form-user")
        await form_user.get_options_form()
        assert await who(form_user) == [("jupyter-singleuser-profiles", "hub")]
    finally:
        await asyncio.to_thread(control_plane.delete_namespace, elsewhere)
