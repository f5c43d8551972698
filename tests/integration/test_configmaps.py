"""The ConfigMap source against a real kube-apiserver (tests/controlplane).

Most tests go the way a hub does: a ``ProfileKubeSpawner`` whose KubeSpawner
client configuration comes from a kubeconfig (``load_config`` +
``shared_client``), and the process-wide ``SingleuserProfiles``. Changes are
made through the API and observed by polling ``resolve`` against a deadline.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import signal
import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from kubernetes_asyncio.client import Configuration
from kubernetes_asyncio.config import kube_config
from kubespawner.clients import load_config
from ruamel.yaml import YAML
from traitlets.config import Config

from profilespawner import ProfileKubeSpawner, SingleuserProfiles
from profilespawner.offline import OfflineGroup, OfflineUser
from profilespawner.sources import ConfigMapsUnavailableError
from tests.controlplane.harness import ControlPlane

ROOT = Path(__file__).resolve().parents[2]
JSP07 = ROOT / "tests" / "unit" / "data" / "jsp07" / "example-configmap.yaml"
RBAC_DOC = ROOT / "docs" / "rbac.md"
KEY = "jupyterhub-singleuser-profiles.yaml"
LABELS = {"jupyterhub": "singleuser-profiles"}
CHANGE_DEADLINE = 2.0  # seconds for a change to reach the next spawn
RECOVERY_DEADLINE = 60.0  # seconds to get back after an API server restart

T = TypeVar("T")


# -- helpers ---------------------------------------------------------------------


def profile_yaml(*profiles: tuple[str, str]) -> str:
    """Profiles named ``name`` setting ``WHO=value``: enough to see who won."""
    lines = ["profiles:"]
    for name, value in profiles:
        lines += [f"- name: {name}", f"  env: [{{name: WHO, value: {json.dumps(value)}}}]"]
    return "\n".join(lines) + "\n"


class ConfigMaps:
    """Create, edit, relabel and delete ConfigMaps through the API (admin token)."""

    def __init__(self, cp: ControlPlane, namespace: str) -> None:
        self.cp = cp
        self.namespace = namespace
        self.base = f"/api/v1/namespaces/{namespace}/configmaps"

    async def _call(self, method: str, path: str, body: Any = None, ok: tuple[int, ...] = (200, 201)) -> Any:
        kwargs: dict[str, Any] = {}
        if method == "PATCH":
            kwargs["content_type"] = "application/merge-patch+json"
        status, answer = await asyncio.to_thread(self.cp.request, method, path, body, **kwargs)
        assert status in ok, (method, path, status, answer)
        return answer

    async def create(
        self, name: str, text: str | None = None, *, labels: dict[str, str] | None = None, **fields: Any
    ) -> dict[str, Any]:
        body = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name, "labels": labels or {}},
            **({"data": {KEY: text}} if text is not None else {}),
            **fields,
        }
        answer: dict[str, Any] = await self._call("POST", self.base, body)
        return answer

    async def create_manifest(self, manifest: dict[str, Any]) -> None:
        await self._call("POST", self.base, manifest)

    async def edit(self, name: str, text: str) -> None:
        await self._call("PATCH", f"{self.base}/{name}", {"data": {KEY: text}})

    async def replace(self, name: str, text: str | None = None, **fields: Any) -> None:
        """Replace the whole ConfigMap (its labels are kept)."""
        current = await self._call("GET", f"{self.base}/{name}")
        body = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name, "labels": current["metadata"].get("labels", {})},
            **({"data": {KEY: text}} if text is not None else {}),
            **fields,
        }
        await self._call("PUT", f"{self.base}/{name}", body)

    async def label(self, name: str, labels: dict[str, str | None]) -> None:
        await self._call("PATCH", f"{self.base}/{name}", {"metadata": {"labels": labels}})

    async def delete(self, name: str) -> None:
        await self._call("DELETE", f"{self.base}/{name}")


async def eventually(
    probe: Callable[[], Awaitable[T]], check: Callable[[T], bool], *, timeout: float = CHANGE_DEADLINE
) -> T:
    """Poll ``probe`` until ``check`` holds; fail after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await probe()
        if check(value):
            return value
        if loop.time() > deadline:
            raise AssertionError(f"not within {timeout} s; last value: {value!r}")
        await asyncio.sleep(0.02)


def configmap_requests(metrics: str) -> dict[str, float]:
    """``apiserver_request_total`` for configmaps, per verb (LIST, GET, WATCH)."""
    counts = {"LIST": 0.0, "GET": 0.0, "WATCH": 0.0}
    for line in metrics.splitlines():
        if not line.startswith("apiserver_request_total{") or 'resource="configmaps"' not in line:
            continue
        if 'subresource=""' not in line and "subresource=" in line:
            continue
        verb = re.search(r'verb="([A-Z]+)"', line)
        if verb and verb.group(1) in counts:
            counts[verb.group(1)] += float(line.rsplit(" ", 1)[1])
    return counts


def documented_roles() -> list[list[dict[str, Any]]]:
    """The ``rules`` of every Role (or bare rules list) in docs/rbac.md's YAML blocks."""
    found = []
    for block in re.findall(r"```yaml\n(.*?)```", RBAC_DOC.read_text(), flags=re.S):
        for doc in YAML(typ="safe").load_all(block):
            if isinstance(doc, dict) and (doc.get("kind") == "Role" or set(doc) == {"rules"}):
                found.append(doc["rules"])
    return found


# -- fixtures: a hub wired the production way --------------------------------------


@pytest.fixture
def kubeconfig(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str | Path], None]]:
    """Point KubeSpawner's ``load_config`` at a kubeconfig, as a hub outside a
    cluster would; restores the process-wide client configuration after."""
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    saved_location = kube_config.KUBE_CONFIG_DEFAULT_LOCATION
    saved_default = Configuration._default

    def use(path: str | Path) -> None:
        kube_config.KUBE_CONFIG_DEFAULT_LOCATION = str(path)
        load_config.cache_clear()  # it is cached on its arguments, not on the file

    yield use
    kube_config.KUBE_CONFIG_DEFAULT_LOCATION = saved_location
    load_config.cache_clear()
    Configuration._default = saved_default


@pytest.fixture
async def hub(
    control_plane: ControlPlane, namespace: str, kubeconfig: Callable[[str | Path], None]
) -> AsyncIterator[Callable[..., Any]]:
    """``hub(user=..., **SingleuserProfiles settings)`` → a ProfileKubeSpawner in
    ``namespace`` whose client is the admin kubeconfig (a test may point
    ``kubeconfig`` elsewhere before its first spawner)."""
    kubeconfig(control_plane.kubeconfig_path)
    SingleuserProfiles.clear_instance()

    def spawner(user: str = "alice", groups: tuple[str, ...] = (), **settings: Any) -> Any:
        config = Config()
        config.KubeSpawner.namespace = namespace
        for name, value in settings.items():
            setattr(config.SingleuserProfiles, name, value)
        return ProfileKubeSpawner(
            _mock=True, user=OfflineUser(user, [OfflineGroup(g) for g in groups]), config=config
        )

    try:
        yield spawner
    finally:
        if SingleuserProfiles.initialized():
            await SingleuserProfiles.instance().close()
        SingleuserProfiles.clear_instance()


@pytest.fixture
def configmaps(control_plane: ControlPlane, namespace: str) -> ConfigMaps:
    return ConfigMaps(control_plane, namespace)


@pytest.fixture
def log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG, logger="profilespawner")
    return caplog


async def who(spawner: Any) -> list[tuple[str, str]]:
    """(profile source, WHO) of every profile that applies, in order."""
    resolution = await spawner.singleuser_profiles.resolve(spawner)
    return [
        (p.source.rsplit("/", 1)[-1], e["value"])
        for p in resolution.profiles
        for e in p.settings.env
        if e["name"] == "WHO"
    ]


async def winner(spawner: Any) -> str | None:
    """The value of WHO after merging: the last source wins."""
    resolution = await spawner.singleuser_profiles.resolve(spawner)
    values = [e["value"] for e in resolution.settings.env if e["name"] == "WHO"]
    return values[0] if values else None


async def now(value: T) -> T:
    """``value``, to poll state with :func:`eventually`."""
    return value


def messages(caplog: pytest.LogCaptureFixture, fragment: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if fragment in r.getMessage()]


async def logged(caplog: pytest.LogCaptureFixture, fragment: str) -> list[logging.LogRecord]:
    """:func:`messages`, to poll with :func:`eventually`."""
    return messages(caplog, fragment)


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
    control_plane: ControlPlane, hub: Any, configmaps: ConfigMaps
) -> None:
    await configmaps.create("jupyter-singleuser-profiles", profile_yaml(("p", "named")))
    await configmaps.create("team", profile_yaml(("t", "team")), labels=LABELS)
    before_warm_up = configmap_requests(await asyncio.to_thread(control_plane.metrics))
    spawner = hub()
    assert await who(spawner) == [("jupyter-singleuser-profiles", "named"), ("team", "team")]
    warm = configmap_requests(await asyncio.to_thread(control_plane.metrics))
    assert warm["LIST"] >= before_warm_up["LIST"] + 2, "the metric does not see the source's lists"

    # The API server's own controllers list and watch configmaps in kube-system
    # now and then (a watch is counted when it ends, every 5-10 min), and the
    # metric has no namespace label; so a window with a foreign request is
    # measured again. A per-spawn request would show up in every window.
    deltas = []
    for _attempt in range(3):
        before = configmap_requests(await asyncio.to_thread(control_plane.metrics))
        for i in range(25):
            user = hub(user=f"user-{i}")
            await user.load_user_options()
            pod = await user.get_pod_manifest()
            assert any(e.name == "WHO" and e.value == "team" for e in pod.spec.containers[0].env)
        after = configmap_requests(await asyncio.to_thread(control_plane.metrics))
        deltas.append({verb: after[verb] - before[verb] for verb in after})
        if not any(deltas[-1].values()):
            break
    assert not any(deltas[-1].values()), deltas


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
        with pytest.raises(ConfigMapsUnavailableError, match=r"Cannot list the profile ConfigMaps.*'fail'"):
            await failing.singleuser_profiles.resolve(failing)
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
