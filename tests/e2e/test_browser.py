"""End to end in a browser: log in, pick a size in the spawn form, land in the
running server's JupyterLab, and find that size on the pod; pick a custom size's
values, and find them on the pod, or type one out of range and read the server's
refusal; pick a size no node can hold, and read on the spawn page why the server
does not start."""

from __future__ import annotations

import re
import time
from typing import Any

from .helpers import START_TIMEOUT, log_in, notebook_resources
from .stack import LocalStack


def test_pick_a_size_and_land_in_the_server(stack: LocalStack, page: Any) -> None:
    log_in(page, stack, "hal")

    page.goto(f"{stack.url}/hub/spawn")
    select = page.get_by_label("Server size")
    offered = select.locator("option").evaluate_all("options => options.map(o => o.value)")
    assert offered == ["", "Small", "Medium"]  # "Default", then the sizes hal may pick; not Large

    try:
        select.select_option("Medium")
        visited: list[str] = []
        page.on("request", lambda request: visited.append(request.url))
        page.get_by_role("button", name="Start").click()
        # The spawn-pending page follows the progress, then sends us to the
        # server, which opens JupyterLab (installed beside it) once it has
        # logged the browser in through the hub's OAuth, as hal.
        page.wait_for_url(f"{stack.url}/user/hal/lab", timeout=90_000)
        page.locator(".jp-LabShell").wait_for(timeout=60_000)
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


def test_pick_a_custom_size_adjust_it_and_the_pod_has_the_values(stack: LocalStack, page: Any) -> None:
    """The range inputs show for Custom only; the values typed reach the pod;
    a value typed past the input's bounds (its max removed, as a user's
    developer tools can) is refused by the server with the 400's message."""
    log_in(page, stack, "pia")
    page.goto(f"{stack.url}/hub/spawn")
    select = page.get_by_label("Server size")
    labels = select.locator("option").evaluate_all("options => options.map(o => o.textContent)")
    assert "Custom: 0.5–4 CPU, 1Gi–8Gi memory, up to 1 GPU" in labels, labels
    cpu = page.get_by_label("CPU cores (0.5–4)")
    memory = page.get_by_label("Memory (1Gi–8Gi)")
    assert cpu.is_hidden() and memory.is_hidden()  # until Custom is picked

    try:
        select.select_option("Custom")
        assert cpu.is_visible() and memory.is_visible()
        assert (cpu.input_value(), memory.input_value()) == ("1", "2")  # the defaults
        assert (cpu.get_attribute("step"), memory.get_attribute("step")) == ("0.1", "1")
        cpu.fill("2.5")
        memory.fill("3")
        page.get_by_role("button", name="Start").click()
        page.wait_for_url(f"{stack.url}/user/pia/lab", timeout=90_000)
        pod = stack.pod_of("pia")
        assert pod is not None
        assert notebook_resources(pod) == {
            "requests": {"cpu": "2500m", "memory": "3Gi"},
            "limits": {"cpu": "5", "memory": "6Gi"},
        }
        assert pod["metadata"]["annotations"]["profilespawner/size"] == "Custom"
    finally:
        stack.stop_server("pia")

    page.goto(f"{stack.url}/hub/spawn")
    page.get_by_label("Server size").select_option("Custom")
    # The browser would refuse 40 itself: the server must, when it does not.
    cpu.evaluate("input => input.removeAttribute('max')")
    cpu.fill("40")
    page.get_by_role("button", name="Start").click()
    page.get_by_text("size 'Custom': cpu '40' is out of range: choose 500m to 4").wait_for()
    assert stack.pod_of("pia") is None
    _, user = stack.api("GET", "/users/pia")
    assert "" not in user["servers"]
