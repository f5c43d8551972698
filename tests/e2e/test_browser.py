"""End to end in a browser: log in, pick a size in the spawn form, land in the
running server, and find that size on the pod; pick a size no node can hold,
and read on the spawn page why the server does not start."""

from __future__ import annotations

import re
import time
from typing import Any

from .helpers import START_TIMEOUT
from .stack import LocalStack


def log_in(page: Any, stack: LocalStack, user: str) -> None:
    page.goto(f"{stack.url}/hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", stack.password)
    page.click("#login_submit")
    page.wait_for_url(re.compile(r"/hub/(home|spawn)"))


def test_pick_a_size_and_land_in_the_server(stack: LocalStack, page: Any) -> None:
    log_in(page, stack, "hal")

    page.goto(f"{stack.url}/hub/spawn")
    select = page.get_by_label("Server size")
    offered = select.locator("option").evaluate_all("options => options.map(o => o.value)")
    assert offered == ["", "Small", "Medium"]  # "Default", then the sizes hal may pick; not Large

    try:
        select.select_option("Medium")
        page.get_by_role("button", name="Start").click()
        # The spawn-pending page follows the progress, then sends us to the server.
        page.wait_for_url(f"{stack.url}/user/hal/", timeout=90_000)
        assert "A Jupyter Server is running" in page.inner_text("body")

        # That landing page is public; a protected one makes the server log
        # the browser in through the hub's OAuth, as hal.
        visited: list[str] = []
        page.on("request", lambda request: visited.append(request.url))
        page.goto(f"{stack.url}/user/hal/files/")
        assert any("/hub/api/oauth2/authorize" in url for url in visited), visited
        response = page.goto(f"{stack.url}/user/hal/api/me")
        assert response is not None and response.ok, response and response.status
        assert response.json()["identity"]["name"] == "hal"

        pod = stack.pod_of("hal")
        assert pod is not None
        container = next(c for c in pod["spec"]["containers"] if c["name"] == "notebook")
        assert container["resources"] == {
            "requests": {"cpu": "1", "memory": "2Gi"},
            "limits": {"cpu": "2", "memory": "4Gi"},
        }
    finally:
        stack.stop_server("hal")


def test_a_size_larger_than_any_node_fails_in_time_saying_why(stack: LocalStack, page: Any) -> None:
    """The pod stays Pending: the spawn page shows the scheduler's
    FailedScheduling reason as it comes, and once start_timeout has passed,
    that the spawn failed and why."""
    log_in(page, stack, "ned")
    page.goto(f"{stack.url}/hub/spawn")
    page.get_by_label("Server size").select_option("Larger than any node")
    try:
        page.get_by_role("button", name="Start").click()
        clicked = time.monotonic()
        page.wait_for_url(re.compile(r"/hub/spawn-pending/ned"))

        # KubeSpawner relays the pod's events: the scheduler's, as it says them
        # (in the event log, folded away until the spawn ends).
        page.locator("#progress-log", has_text="Insufficient cpu").wait_for(state="attached")
        shown = page.locator("#progress-log").text_content()
        assert re.search(r"\[Warning\] 0/6 nodes are available: .*3 Insufficient cpu", shown), shown
        pod = stack.pod_of("ned")
        assert pod is not None and not pod["spec"].get("nodeName")
        reasons = {(e["type"], e["reason"]) for e in stack.events_of(pod["metadata"]["name"])}
        assert ("Warning", "FailedScheduling") in reasons, reasons

        page.locator("#progress-bar.bg-danger").wait_for(timeout=(START_TIMEOUT + 30) * 1000)
        failed_after = time.monotonic() - clicked
        message = page.inner_text("#progress-message")
        assert message.startswith(
            f"Spawn failed: Server not started within {START_TIMEOUT} seconds: "
            "pod jupyter-ned cannot be scheduled: 0/6 nodes are available: "
        ), message
        assert "Insufficient cpu" in message and "Insufficient memory" in message, message
        # KubeSpawner's own wait ends within 10 % of start_timeout, the hub's at it
        assert 0.9 * START_TIMEOUT - 1 <= failed_after <= START_TIMEOUT + 10, failed_after
        assert page.locator("#progress-details").get_attribute("open") is not None  # the event log opens
    finally:
        stack.stop_server("ned")
