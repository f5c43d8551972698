"""End to end in a browser: log in, pick a size in the spawn form, land in the
running server, and find that size on the pod."""

from __future__ import annotations

import re
from typing import Any

from .stack import LocalStack


def test_pick_a_size_and_land_in_the_server(stack: LocalStack, page: Any) -> None:
    page.goto(f"{stack.url}/hub/login")
    page.fill("#username_input", "hal")
    page.fill("#password_input", stack.password)
    page.click("#login_submit")
    page.wait_for_url(re.compile(r"/hub/(home|spawn)"))

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
