"""The ConfigMap source against a real kube-apiserver (tests/controlplane).

Most tests go the way a hub does: a ``ProfileKubeSpawner`` whose KubeSpawner
client configuration comes from a kubeconfig (``load_config`` +
``shared_client``), and the process-wide ``SingleuserProfiles``. Changes are
made through the API and observed by polling ``resolve`` against a deadline.
"""

from __future__ import annotations

import asyncio
import logging
import re
import signal
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from tornado import web

from profilespawner import ConfigMapsUnavailableError, SingleuserProfiles
from tests.controlplane.harness import ControlPlane
from tests.integration.helpers import (  # noqa: F401
    CHANGE_DEADLINE,
    JSP07,
    KEY,
    LABELS,
    RBAC_DOC,
    RECOVERY_DEADLINE,
    ROOT,
    ApiProxy,
    ConfigMaps,
    documented_roles,
    eventually,
    logged,
    messages,
    now,
    profile_yaml,
    who,
    winner,
)

# -- changes reach the next spawn --------------------------------------------------


async def test_create_edit_delete_take_effect(hub: Any, configmaps: ConfigMaps, namespace: str) -> None:
    spawner = hub()
    assert await who(spawner) == []  # nothing yet: the named ConfigMap is missing

    await configmaps.create("jupyter-singleuser-profiles", profile_yaml(("p", "v1")))
    await eventually(lambda: who(spawner), lambda w: w == [("jupyter-singleuser-profiles", "v1")])

    await configmaps.edit("jupyter-singleuser-profiles", profile_yaml(("p", "v2")))
    await eventually(lambda: who(spawner), lambda w: w == [("jupyter-singleuser-profiles", "v2")])

    await configmaps.create("extra", profile_yaml(("e", "labelled")), labels=LABELS)
    await eventually(
        lambda: who(spawner), lambda w: w == [("jupyter-singleuser-profiles", "v2"), ("extra", "labelled")]
    )

    await configmaps.delete("jupyter-singleuser-profiles")
    await eventually(lambda: who(spawner), lambda w: w == [("extra", "labelled")])
    await configmaps.delete("extra")
    await eventually(lambda: who(spawner), lambda w: w == [])


async def test_label_removed_stops_and_label_added_starts(hub: Any, configmaps: ConfigMaps) -> None:
    spawner = hub()
    await configmaps.create("team", profile_yaml(("t", "team")), labels={**LABELS, "team": "a"})
    await eventually(lambda: who(spawner), lambda w: w == [("team", "team")])

    await configmaps.label("team", {"jupyterhub": None})
    await eventually(lambda: who(spawner), lambda w: w == [])

    await configmaps.label("team", {"jupyterhub": "singleuser-profiles"})
    await eventually(lambda: who(spawner), lambda w: w == [("team", "team")])

    await configmaps.label("team", {"jupyterhub": "something-else"})
    await eventually(lambda: who(spawner), lambda w: w == [])


async def test_labelled_configmaps_override_in_name_order(hub: Any, configmaps: ConfigMaps) -> None:
    spawner = hub(configmap_name="")
    for name in ("profiles-c", "profiles-a", "profiles-b"):
        await configmaps.create(name, profile_yaml((name, name)), labels=LABELS)
    order = [("profiles-a", "profiles-a"), ("profiles-b", "profiles-b"), ("profiles-c", "profiles-c")]
    await eventually(lambda: who(spawner), lambda w: w == order)
    assert await winner(spawner) == "profiles-c"

    await configmaps.delete("profiles-c")
    await eventually(lambda: winner(spawner), lambda w: w == "profiles-b")
    await configmaps.create("profiles-0", profile_yaml(("first", "profiles-0")), labels=LABELS)
    await eventually(
        lambda: who(spawner), lambda w: [s for s, _ in w] == ["profiles-0", "profiles-a", "profiles-b"]
    )
    assert await winner(spawner) == "profiles-b"


async def test_named_and_labelled_is_read_once_at_the_named_position(
    hub: Any, configmaps: ConfigMaps, log: pytest.LogCaptureFixture, namespace: str
) -> None:
    spawner = hub(configmap_name="zz-main")
    await configmaps.create("aa", profile_yaml(("aa", "aa")), labels=LABELS)
    await configmaps.create("zz-main", profile_yaml(("main", "main")), labels=LABELS)
    await eventually(lambda: who(spawner), lambda w: w == [("zz-main", "main"), ("aa", "aa")])
    assert await winner(spawner) == "aa"  # named first, so the labelled one overrides it
    assert len(messages(log, f"Loaded profile source {namespace}/zz-main")) == 1

    await configmaps.edit("zz-main", profile_yaml(("main", "main-2")))
    await eventually(lambda: who(spawner), lambda w: w == [("zz-main", "main-2"), ("aa", "aa")])
    assert len(messages(log, f"Loaded profile source {namespace}/zz-main")) == 2

    # Without the label it is still the named one; deleted, it is gone.
    await configmaps.label("zz-main", {"jupyterhub": None})
    await configmaps.edit("zz-main", profile_yaml(("main", "main-3")))
    await eventually(lambda: who(spawner), lambda w: w == [("zz-main", "main-3"), ("aa", "aa")])
    await configmaps.delete("zz-main")
    await eventually(lambda: who(spawner), lambda w: w == [("aa", "aa")])


async def test_bad_edit_keeps_the_last_good_version(
    hub: Any, configmaps: ConfigMaps, log: pytest.LogCaptureFixture, namespace: str
) -> None:
    spawner = hub()
    source = f"{namespace}/jupyter-singleuser-profiles"
    await configmaps.create("jupyter-singleuser-profiles", profile_yaml(("p", "good")))
    await configmaps.create("other", profile_yaml(("o", "other")), labels=LABELS)
    await eventually(
        lambda: who(spawner), lambda w: w == [("jupyter-singleuser-profiles", "good"), ("other", "other")]
    )

    await configmaps.edit("jupyter-singleuser-profiles", "profiles: [{name: p, resouces: {}}]\n")
    await eventually(lambda: logged(log, f"Rejected profile source {source}"), bool)
    assert await who(spawner) == [("jupyter-singleuser-profiles", "good"), ("other", "other")]
    (rejected,) = messages(log, f"Rejected profile source {source}")
    assert rejected.levelno == logging.ERROR
    assert "keeping its last valid version" in rejected.getMessage()
    assert "profile 'p': unknown key 'resouces'" in rejected.getMessage()

    # The key moved to binaryData: also rejected, with a message that says so.
    await configmaps.replace("jupyter-singleuser-profiles", binaryData={KEY: "cHJvZmlsZXM6IFtdCg=="})
    await eventually(lambda: logged(log, "is in binaryData"), bool)
    for _ in range(20):  # more spawns: no more parsing, no more logging
        assert await who(spawner) == [("jupyter-singleuser-profiles", "good"), ("other", "other")]
    assert len(messages(log, f"Rejected profile source {source}")) == 2

    await configmaps.replace("jupyter-singleuser-profiles", profile_yaml(("p", "fixed")))
    await eventually(
        lambda: who(spawner), lambda w: w == [("jupyter-singleuser-profiles", "fixed"), ("other", "other")]
    )


async def test_configmaps_without_the_key_are_rejected_not_fatal(
    hub: Any, configmaps: ConfigMaps, log: pytest.LogCaptureFixture, namespace: str
) -> None:
    spawner = hub()
    await configmaps.create("a-no-key", labels=LABELS, data={"other.yaml": "profiles: []"})
    await configmaps.create("b-no-data", labels=LABELS)
    await configmaps.create("c-binary", labels=LABELS, binaryData={KEY: "cHJvZmlsZXM6IFtdCg=="})
    await configmaps.create("d-good", profile_yaml(("d", "d")), labels=LABELS)
    await eventually(lambda: who(spawner), lambda w: w == [("d-good", "d")])
    for name, fragment in [
        ("a-no-key", "data: no key 'jupyterhub-singleuser-profiles.yaml'"),
        ("b-no-data", "data: the ConfigMap has no data"),
        ("c-binary", "binaryData: the key 'jupyterhub-singleuser-profiles.yaml' is in binaryData"),
    ]:
        (record,) = messages(log, f"Rejected profile source {namespace}/{name}")
        assert fragment in record.getMessage()


async def test_jsp07_example_configmap_works_unchanged(
    hub: Any, configmaps: ConfigMaps, log: pytest.LogCaptureFixture
) -> None:
    manifest = YAML(typ="safe").load(JSP07.read_text())
    await configmaps.create_manifest(manifest)
    spawner = hub(user="acorvin")
    profile_set = await eventually(
        lambda: spawner.singleuser_profiles.load_profiles(spawner), lambda s: len(s.profiles) == 4
    )
    assert [p.name for p in profile_set.profiles] == [
        "globals",
        "Special Nodes",
        "Thoth Notebooks",
        "Spark Notebook",
    ]
    assert list(profile_set.sizes) == ["Small", "Medium", "Large"]
    resolution = await spawner.singleuser_profiles.resolve(spawner)
    assert [p.name for p in resolution.profiles] == ["globals", "Special Nodes"]
    assert not messages(log, "Rejected profile source")
    pod = await spawner.get_pod_manifest()
    (container,) = pod.spec.containers
    assert {e.name for e in container.env} >= {"THIS_IS_GLOBAL", "MYAPP_SECRET_TOKEN", "MY_CONFIGMAP_VALUE"}
    assert any(t.key == "some_node_label" for t in pod.spec.tolerations)


# -- RBAC ----------------------------------------------------------------------------


async def test_works_with_exactly_the_documented_role(
    control_plane: ControlPlane,
    namespace: str,
    configmaps: ConfigMaps,
    kubeconfig: Callable[[str | Path], None],
    hub: Any,
    tmp_path: Path,
) -> None:
    full = documented_roles()[0]
    assert full == [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch"]}]
    token = await asyncio.to_thread(control_plane.service_account_token, namespace, "hub", rules=full)
    kubeconfig(control_plane.write_kubeconfig(tmp_path / "hub.kubeconfig", token=token, namespace=namespace))

    await configmaps.create("jupyter-singleuser-profiles", profile_yaml(("p", "named")))
    await configmaps.create("team", profile_yaml(("t", "team")), labels=LABELS)
    spawner = hub()
    assert await who(spawner) == [("jupyter-singleuser-profiles", "named"), ("team", "team")]
    await configmaps.edit("team", profile_yaml(("t", "team-2")))
    await eventually(
        lambda: who(spawner), lambda w: w == [("jupyter-singleuser-profiles", "named"), ("team", "team-2")]
    )


async def test_works_with_the_documented_narrowed_role(
    control_plane: ControlPlane,
    namespace: str,
    configmaps: ConfigMaps,
    kubeconfig: Callable[[str | Path], None],
    hub: Any,
    tmp_path: Path,
) -> None:
    """The Role narrowed to one resourceName is enough for the named ConfigMap alone."""
    roles = documented_roles()
    assert len(roles) == 2, "docs/rbac.md shows the full and the narrowed Role"
    token = await asyncio.to_thread(control_plane.service_account_token, namespace, "hub", rules=roles[1])
    kubeconfig(control_plane.write_kubeconfig(tmp_path / "hub.kubeconfig", token=token, namespace=namespace))
    await configmaps.create("jupyter-singleuser-profiles", profile_yaml(("p", "named")))
    await configmaps.create("team", profile_yaml(("t", "team")), labels=LABELS)
    spawner = hub(label_selector="", initial_load_timeout=10.0, on_api_unavailable="fail")
    assert await who(spawner) == [("jupyter-singleuser-profiles", "named")]
    await configmaps.edit("jupyter-singleuser-profiles", profile_yaml(("p", "named-2")))
    await eventually(lambda: who(spawner), lambda w: w == [("jupyter-singleuser-profiles", "named-2")])


async def test_missing_rbac_does_not_hold_spawns(
    control_plane: ControlPlane,
    namespace: str,
    configmaps: ConfigMaps,
    kubeconfig: Callable[[str | Path], None],
    hub: Any,
    log: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    rules = [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]  # no list, no watch
    token = await asyncio.to_thread(control_plane.service_account_token, namespace, "hub", rules=rules)
    kubeconfig(control_plane.write_kubeconfig(tmp_path / "hub.kubeconfig", token=token, namespace=namespace))
    await configmaps.create("jupyter-singleuser-profiles", profile_yaml(("p", "named")))
    spawner = hub(initial_load_timeout=30.0)
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await who(spawner) == []
    assert loop.time() - started < 10, "a 403 should end the wait for the first list"
    (warning,) = messages(log, "Cannot list the profile ConfigMaps")
    assert warning.levelno == logging.WARNING
    assert "HTTP 403" in warning.getMessage() and "cannot list resource" in warning.getMessage()


# -- API load --------------------------------------------------------------------------


async def test_no_configmap_requests_per_spawn(
    control_plane: ControlPlane,
    namespace: str,
    hub: Any,
    configmaps: ConfigMaps,
    kubeconfig: Callable[[str | Path], None],
    tmp_path: Path,
) -> None:
    await configmaps.create("jupyter-singleuser-profiles", profile_yaml(("p", "named")))
    await configmaps.create("team", profile_yaml(("t", "team")), labels=LABELS)
    async with ApiProxy(control_plane) as proxy:
        kubeconfig(proxy.write_kubeconfig(tmp_path / "proxy.kubeconfig", namespace=namespace))
        spawner = hub()
        assert await who(spawner) == [("jupyter-singleuser-profiles", "named"), ("team", "team")]
        warm = dict(proxy.configmaps)
        assert warm["LIST"] >= 2, "the proxy does not see the sources' lists"

        for i in range(25):
            user = hub(user=f"user-{i}")
            await user.load_user_options()
            pod = await user.get_pod_manifest()
            assert any(e.name == "WHO" and e.value == "team" for e in pod.spec.containers[0].env)
        # the watches opened at warm-up are still open: not one request more
        assert proxy.configmaps == warm


# -- failures and recovery -----------------------------------------------------------------


async def test_api_unreachable_at_the_first_spawn(
    restartable_control_plane: ControlPlane,
    hub: Any,
    configmaps: ConfigMaps,
    log: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    cp = restartable_control_plane
    await configmaps.create("jupyter-singleuser-profiles", profile_yaml(("p", "named")))
    files = tmp_path / "profiles.yaml"
    files.write_text(profile_yaml(("f", "file")))
    await asyncio.to_thread(cp.stop_apiserver, signal.SIGKILL)
    loop = asyncio.get_running_loop()
    try:
        failing = hub(files=[str(files)], initial_load_timeout=1.0, on_api_unavailable="fail")
        started = loop.time()
        with pytest.raises(web.HTTPError) as info:
            await failing.load_user_options()
        assert info.value.status_code == 503
        assert isinstance(info.value.__cause__, ConfigMapsUnavailableError)
        assert re.search(r"Cannot list the profile ConfigMaps.*'fail'", str(info.value.__cause__))
        assert 0.9 < loop.time() - started < 10
        started = loop.time()
        with pytest.raises(ConfigMapsUnavailableError):  # the next spawn fails at once
            await failing.singleuser_profiles.resolve(failing)
        assert loop.time() - started < 0.9
        await SingleuserProfiles.instance().close()
        SingleuserProfiles.clear_instance()

        spawner = hub(files=[str(files)], initial_load_timeout=1.0)
        started = loop.time()
        assert await who(spawner) == [("profiles.yaml", "file")]
        assert 0.9 < loop.time() - started < 10
        started = loop.time()
        assert await who(spawner) == [("profiles.yaml", "file")]  # no second wait
        assert loop.time() - started < 0.9
        warning, again = messages(log, "spawning without them")
        assert (warning.levelno, again.levelno) == (logging.WARNING, logging.DEBUG)
        assert "Connect call failed" in warning.getMessage() or "Cannot connect" in warning.getMessage()
    finally:
        await asyncio.to_thread(cp.start_apiserver)
    await eventually(
        lambda: who(spawner),
        lambda w: w == [("profiles.yaml", "file"), ("jupyter-singleuser-profiles", "named")],
        timeout=RECOVERY_DEADLINE,
    )


async def test_apiserver_killed_and_restarted_mid_watch(
    restartable_control_plane: ControlPlane,
    hub: Any,
    configmaps: ConfigMaps,
    log: pytest.LogCaptureFixture,
) -> None:
    cp = restartable_control_plane
    await configmaps.create("jupyter-singleuser-profiles", profile_yaml(("p", "named")))
    await configmaps.create("team-a", profile_yaml(("a", "a")), labels=LABELS)
    await configmaps.create("team-b", profile_yaml(("b", "b")), labels=LABELS)
    spawner = hub(max_cache_age=2.0)
    before = [("jupyter-singleuser-profiles", "named"), ("team-a", "a"), ("team-b", "b")]
    assert await who(spawner) == before
    source = SingleuserProfiles.instance()._configmaps
    assert source is not None
    followers = source._followers

    killed = len(log.records)
    await asyncio.to_thread(cp.stop_apiserver, signal.SIGKILL)
    # The watches notice: both lose their resourceVersion and will list again.
    await eventually(lambda: now([f.failures for f in followers]), all, timeout=10)
    assert [f.resource_version for f in followers] == [None, None]

    def stale_warnings() -> list[logging.LogRecord]:
        return [r for r in log.records[killed:] if "no news from the Kubernetes API" in r.getMessage()]

    async def spawn_and_look_for_stale() -> list[logging.LogRecord]:
        assert await who(spawner) == before  # spawns go on with the cache
        return stale_warnings()

    # Older than max_cache_age: one warning per watch, then none for a period.
    stale = await eventually(spawn_and_look_for_stale, lambda r: len(r) >= 2, timeout=10)
    assert len(stale) == 2 and all(r.levelno == logging.WARNING for r in stale)
    for _ in range(20):
        await who(spawner)
    assert len(stale_warnings()) == 2

    # Restart and edit with the event loop blocked on purpose: the watches (on
    # this loop) cannot reach the new API server before the edits are made, so
    # they can only learn about them by listing again.
    cp.start_apiserver()
    base = configmaps.base
    for method, path, body in [
        ("PATCH", f"{base}/jupyter-singleuser-profiles", {"data": {KEY: profile_yaml(("p", "while-away"))}}),
        ("DELETE", f"{base}/team-a", None),
    ]:
        status, answer = cp.request(method, path, body, content_type="application/merge-patch+json")
        assert status == 200, answer
    status, answer = cp.request(
        "POST",
        base,
        {"metadata": {"name": "team-c", "labels": LABELS}, "data": {KEY: profile_yaml(("c", "c"))}},
    )
    assert status == 201, answer

    after = [("jupyter-singleuser-profiles", "while-away"), ("team-b", "b"), ("team-c", "c")]
    await eventually(lambda: who(spawner), lambda w: w == after, timeout=RECOVERY_DEADLINE)
    assert all(f.task is not None and not f.task.done() for f in followers)
    since = log.records[killed:]
    assert any("retrying in" in r.getMessage() and r.levelno == logging.WARNING for r in since)
    assert len([r for r in since if "up to date again" in r.getMessage()]) == 2

    # And the watch works again afterwards.
    await configmaps.edit("team-b", profile_yaml(("b", "b-2")))
    await eventually(lambda: who(spawner), lambda w: w[-2:] == [("team-b", "b-2"), ("team-c", "c")])


async def test_clear_instance_stops_the_watch(hub: Any, configmaps: ConfigMaps) -> None:
    spawner = hub()
    await spawner.singleuser_profiles.load_profiles(spawner)
    source = SingleuserProfiles.instance()._configmaps
    assert source is not None
    tasks = [f.task for f in source._followers]
    assert all(t is not None and not t.done() for t in tasks)
    SingleuserProfiles.clear_instance()
    await asyncio.gather(*[t for t in tasks if t is not None], return_exceptions=True)
    assert all(t is not None and t.cancelled() for t in tasks)


def test_documented_manifests_are_valid_yaml() -> None:
    text = RBAC_DOC.read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", text, flags=re.S)
    kinds = [d.get("kind") for b in blocks for d in YAML(typ="safe").load_all(textwrap.dedent(b)) if d]
    assert kinds.count("Role") == 1 and kinds.count("RoleBinding") == 1
