"""pytest fixtures for the end-to-end tests: a real JupyterHub on the real control plane.

* ``nodes`` (session): the Nodes of ``tests/e2e/nodes.yaml`` on the session's
  control plane (``control_plane`` from ``tests/conftest.py``),
  played by the test kubelet; every stack of the session shares them, as
  hubs of one cluster share its nodes.
* ``stack`` (session): one :class:`~tests.e2e.stack.LocalStack` -- its own
  namespace of the session's control plane, the profile ConfigMaps and Secret
  of ``helpers.MANIFESTS``, and the hub (``start_timeout`` ``helpers.START_TIMEOUT``).
  Tests use users of their own, so they do not depend on each other's servers.
* ``control_plane`` and ``namespace``: tests/conftest.py's, as the integration tests have them.
* ``browser`` (session) and ``page``: headless Chromium (Debian's
  ``/usr/bin/chromium``) through Playwright.

What is missing (control plane binaries, ``npm ci --prefix tests/e2e``,
jupyter_server, chromium, playwright) skips the tests with the reason; with
``PROFILESPAWNER_REQUIRE_K8S=1`` they fail instead. A failing test leaves the
hub, kubelet and server logs, and for browser tests a screenshot, under
``test-artifacts/e2e/<test>/``.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.controlplane.harness import ControlPlane
from tests.support import unavailable

from .helpers import MANIFESTS, START_TIMEOUT, USERS
from .stack import CHP_HINT, REPO_ROOT, LocalStack, NodeSet, chp_path

HERE = Path(__file__).resolve().parent
ARTIFACTS = REPO_ROOT / "test-artifacts" / "e2e"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.path)).resolve().is_relative_to(HERE):
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.failed:
        item.stash.setdefault(_FAILED, set()).add(report.when)
    return report


_FAILED = pytest.StashKey[set[str]]()

#: The fixtures that give a hub: a failing test that used one keeps its logs.
STACK_FIXTURES = ("stack", "hook_stack")


def _failed(request: pytest.FixtureRequest) -> bool:
    return bool(request.node.stash.get(_FAILED, set()))


def _artifacts(request: pytest.FixtureRequest) -> Path:
    path: Path = ARTIFACTS / request.node.name
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def e2e_ready(control_plane: ControlPlane) -> ControlPlane:
    """The control plane, once everything a stack needs is known to be there."""
    if not control_plane.managed:
        pytest.skip(
            "end-to-end tests need the local control plane (the test kubelet registers Nodes of its own)"
        )
    if chp_path() is None:
        unavailable(f"configurable-http-proxy is not installed: {CHP_HINT}")
    if importlib.util.find_spec("jupyter_server") is None:
        unavailable("jupyter_server is not installed: pip install -e '.[test,e2e]'")
    return control_plane


@pytest.fixture(scope="session")
def nodes(e2e_ready: ControlPlane, tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeSet]:
    # Leases renewed every 4 s (a kubelet: 10 s), so that a test sees one soon.
    with NodeSet(e2e_ready, tmp_path_factory.mktemp("nodes"), heartbeat=4) as node_set:
        yield node_set


@pytest.fixture(scope="session")
def stack(
    e2e_ready: ControlPlane, nodes: NodeSet, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalStack]:
    # The hub logs at DEBUG, so that the test that no log holds a credential
    # covers everything the hub and profilespawner can say.
    with LocalStack(
        tmp_path_factory.mktemp("e2e"),
        control_plane=e2e_ready,
        nodes=nodes,
        manifests=MANIFESTS,
        users=USERS,
        extra_config="c.JupyterHub.log_level = 'DEBUG'",
        start_timeout=START_TIMEOUT,
    ) as local_stack:
        yield local_stack


@pytest.fixture
def spawn(stack: LocalStack) -> Iterator[Callable[..., dict[str, Any]]]:
    """Start a user's server through the REST API and wait until it is ready;
    every server started is stopped at the end, and its pod must go."""
    started: set[str] = set()

    def start(user: str, **options: Any) -> dict[str, Any]:
        status, body = stack.api("POST", f"/users/{user}/server", options)
        assert status in (201, 202), (status, body)
        started.add(user)
        return stack.wait_for_server(user)

    yield start
    for user in started:
        stack.stop_server(user)


@pytest.fixture(autouse=True)
def _keep_logs_on_failure(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    stacks = [name for name in STACK_FIXTURES if name in request.fixturenames]
    if not (_failed(request) and stacks):
        return
    target = _artifacts(request)
    for fixture in stacks:
        local_stack: LocalStack = request.getfixturevalue(fixture)
        for log in local_stack.logs():
            name = f"{log.parent.name}.log" if log.name == "container.log" else log.name
            shutil.copy(log, target / name)
    assert local_stack.control_plane is not None
    cp = local_stack.control_plane
    for component in cp.components:
        shutil.copy(cp.component_log(component), target / f"{component}.log")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    # Module scope, not session: Playwright's sync API keeps an event loop
    # running in this thread until it stops, which breaks every asyncio test
    # that pytest runs after it in the same process.
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed: pip install -e '.[test,e2e]'")
    if not os.access(CHROMIUM, os.X_OK):
        unavailable(f"{CHROMIUM} not found: apt-get install chromium")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        yield page
    finally:
        if _failed(request):
            target = _artifacts(request)
            try:
                page.screenshot(path=str(target / "screenshot.png"), full_page=True)
            except Exception as error:  # keep the test's own failure in front
                (target / "screenshot-failed.txt").write_text(f"{page.url}: {error}\n")
        context.close()
