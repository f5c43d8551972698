"""The profiles page (SPEC §12) in Chromium, on a hub of its own with the page
enabled by its one line: who may see it (admins, a role with the custom scope;
403 for everyone else, on the page and on its endpoints), a rejected
ConfigMap's message within a second of the edit, the preview of alice
(which profile set each field) and of bob (the 400 his spawn gets, word for
word), a running server that turns stale after an edit, and a budget: its
limits, what alice's server holds of it, and the preview of carol answering
the 403 her spawn gets.

With ``PROFILESPAWNER_SCREENSHOTS=<directory>`` the tests save the screenshots
of the documentation there (``docs/images/`` holds them).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.controlplane.harness import ControlPlane

from .helpers import START_TIMEOUT, configmap
from .stack import LocalStack, NodeSet

ADMIN = "root"
ADMIN_PASSWORD = secrets.token_urlsafe(32)
USERS = {
    "alice": ["data-science"],
    "bob": ["analytics"],
    "carol": ["data-science"],
    "viewer": [],  # a role grants the page's custom scope
    "nobody": [],
}
SPARK = "quay.io/odh/s2i-spark-notebook:3.6"

PROFILES = """\
profiles:
- name: everyone
  env:
  - {name: SITE, value: page-e2e-site-value}
  resources:
    requests: {cpu: 100m, memory: 256Mi}
    limits: {cpu: 500m, memory: 512Mi}
- name: data science
  groups: [data-science]
  env:
  - {name: TEAM, value: data-science}
  - name: AWS_SECRET_ACCESS_KEY
    valueFrom: {secretKeyRef: {name: team-s3, key: secret-key}}
  resources:
    requests: {cpu: 500m, memory: 1Gi}
    limits: {cpu: "2", memory: 2Gi}
- name: spark
  images: [s2i-spark-notebook]
  env:
  - {name: SPARK_MASTER, value: "spark://{username}-cluster:7077"}
  labels: {team: spark}
sizes:
- name: Small
  resources: {requests: {cpu: 250m, memory: 512Mi}, limits: {cpu: "1", memory: 1Gi}}
- name: Large
  groups: [data-science]
  resources: {requests: {cpu: "4", memory: 16Gi}, limits: {cpu: "8", memory: 32Gi}}
- name: Custom
  groups: [data-science]
  ranges:
    cpu: {min: "1", max: "4", default: "2"}
    memory: {min: 1Gi, max: 8Gi, default: 2Gi}
  limit_factor: 2
budgets:
- name: ds-servers
  groups: [data-science]
  total: {servers: 1, cpu: "8"}
"""

TEAM = "profiles:\n- name: team extras\n  env: [{name: TEAM_EXTRA, value: one}]\n"

EXTRA_CONFIG = f"""
import profilespawner
profilespawner.enable_profiles_page(c)
c.Authenticator.admin_users = {{{ADMIN!r}}}
c.SharedPasswordAuthenticator.admin_password = {ADMIN_PASSWORD!r}
c.JupyterHub.load_roles.append(
    {{"name": "profiles-viewer", "scopes": ["custom:profilespawner:view"], "users": ["viewer"]}}
)
"""


@pytest.fixture(scope="module")
def hub(
    e2e_ready: ControlPlane, nodes: NodeSet, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalStack]:
    with LocalStack(
        tmp_path_factory.mktemp("page"),
        control_plane=e2e_ready,
        nodes=nodes,
        manifests=[
            configmap("jupyter-singleuser-profiles", PROFILES, labelled=False),
            configmap("team", TEAM),
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "team-s3"},
                "stringData": {"secret-key": secrets.token_urlsafe(24)},
            },
        ],
        users=USERS,
        extra_config=EXTRA_CONFIG,
        start_timeout=START_TIMEOUT,
    ) as local_stack:
        yield local_stack


def screenshot(what: Any, name: str, **options: Any) -> None:
    """A screenshot of a page or of one element, for the documentation."""
    target = os.environ.get("PROFILESPAWNER_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        what.screenshot(path=str(Path(target) / name), **options)


def log_in(page: Any, hub: LocalStack, user: str) -> None:
    page.goto(f"{hub.url}/hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", ADMIN_PASSWORD if user == ADMIN else hub.password)
    page.click("#login_submit")
    page.wait_for_url(re.compile(r"/hub/(home|spawn)"))


def fetch_status(page: Any, url: str) -> tuple[int, str]:
    """GET ``url`` from the page with the browser's cookies and JupyterHub's
    XSRF token, as the page's own scripts would: (status, content type)."""
    result = page.evaluate(
        """async (url) => {
            const r = await fetch(url, {headers: {"X-XSRFToken": window.jhdata.xsrf_token}});
            return [r.status, r.headers.get("content-type") || ""];
        }""",
        url,
    )
    return int(result[0]), str(result[1])


def source_row(page: Any, source: str) -> Any:
    return page.locator(f'tr.ps-source[data-source="{source}"]')


ENDPOINTS = [
    "/hub/profiles/api/state",
    "/hub/profiles/api/preview?user=alice&image=" + urllib.parse.quote(SPARK),
]


def test_a_non_admin_gets_403_on_the_page_and_its_endpoints(hub: LocalStack, page: Any) -> None:
    for path in ("/hub/profiles", *ENDPOINTS):  # not logged in
        response = page.goto(f"{hub.url}{path}")
        if path == "/hub/profiles":
            assert "/hub/login" in page.url  # the page sends to the login
        else:
            assert response.status == 403
    log_in(page, hub, "nobody")
    assert page.locator("#profilespawner-nav").count() == 0
    for path in ("/hub/profiles", "/hub/profiles?part=live", "/hub/profiles?part=merged"):
        response = page.goto(f"{hub.url}{path}")
        assert response.status == 403, path
        assert "page-e2e-site-value" not in page.content()
    page.goto(f"{hub.url}/hub/home")
    for path in ENDPOINTS:
        assert fetch_status(page, f"{hub.url}{path}")[0] == 403, path


def test_a_role_with_the_custom_scope_sees_the_page(hub: LocalStack, page: Any) -> None:
    log_in(page, hub, "viewer")
    page.click("#profilespawner-nav")
    page.wait_for_url(f"{hub.url}/hub/profiles")
    assert page.locator("h1").inner_text() == "Profiles"
    for path in ENDPOINTS:
        status, content_type = fetch_status(page, f"{hub.url}{path}")
        assert (status, content_type.split(";")[0]) == (200, "application/json"), path
    state = json.loads(
        page.evaluate(
            "async (u) => (await fetch(u, {headers: {'X-XSRFToken': window.jhdata.xsrf_token}})).text()",
            f"{hub.url}{ENDPOINTS[0]}",
        )
    )
    assert [p["name"] for p in state["profiles"]][:3] == ["everyone", "data science", "spark"]
    assert "page-e2e-site-value" not in json.dumps(state), "no env value on the page"


def test_an_admin_sees_a_rejected_configmap_within_a_second(hub: LocalStack, page: Any) -> None:
    log_in(page, hub, ADMIN)
    page.goto(f"{hub.url}/hub/profiles")
    team = source_row(page, f"{hub.namespace}/team")
    assert team.locator(".ps-state").inner_text() == "valid"
    screenshot(page, "page.png", full_page=True)

    hub.apply(configmap("team", TEAM.replace("env:", "envv:")))
    edited = time.monotonic()
    page.locator(f'tr.ps-source.ps-state-rejected[data-source="{hub.namespace}/team"]').wait_for(
        timeout=10_000
    )
    seen = time.monotonic() - edited
    message = page.locator("tr.ps-error-row pre.ps-error").first.inner_text()
    assert message.startswith(f"{hub.namespace}/team"), message
    assert "'envv'" in message, message
    assert seen <= 1.0, f"the rejection showed {seen:.2f} s after the edit"
    screenshot(page, "page-rejected.png", full_page=False)
    hub.apply(configmap("team", TEAM))
    page.locator(f'tr.ps-source.ps-state-valid[data-source="{hub.namespace}/team"]').wait_for(timeout=10_000)


def preview(page: Any, hub: LocalStack, user: str, image: str, size: str) -> None:
    page.goto(f"{hub.url}/hub/profiles")
    page.fill("#ps-user", user)
    page.fill("#ps-image", image)
    page.select_option("#ps-size", size)
    page.click("#ps-preview")
    page.locator("#ps-answer").wait_for()


def set_by(page: Any, field: str, key: str) -> str:
    return str(page.locator(f'tr.ps-origin[data-field="{field}"][data-key="{key}"] .ps-set-by').inner_text())


def test_an_admin_previews_alice_and_sees_which_profile_set_each_field(hub: LocalStack, page: Any) -> None:
    log_in(page, hub, ADMIN)
    preview(page, hub, "alice", SPARK, "Large")
    answer = page.locator("#ps-answer").inner_text()
    assert "data-science (the user's groups in the hub)" in answer
    applied = page.locator("#ps-verdicts tr.ps-applies").all_inner_texts()
    assert [row.split("\t")[1] for row in applied] == [
        "profile 'everyone'",
        "profile 'data science'",
        "profile 'spark'",
        "profile 'team extras'",
    ]
    assert set_by(page, "env", "SITE") == "profile 'everyone'"
    assert set_by(page, "env", "TEAM") == "profile 'data science'"
    assert set_by(page, "env", "SPARK_MASTER") == "profile 'spark'"
    assert set_by(page, "labels", "team") == "profile 'spark'"
    assert set_by(page, "resources", "requests.cpu") == "size 'Large'"
    assert set_by(page, "resources", "limits.memory") == "size 'Large'"
    assert "page-e2e-site-value" not in page.content()
    screenshot(page.locator("#ps-answer"), "page-preview.png")


def test_an_admin_previews_bob_with_large_and_sees_the_400_message(hub: LocalStack, page: Any) -> None:
    status, body = hub.api("POST", "/users/bob/server", {"size": "Large"})
    assert status == 400, (status, body)
    log_in(page, hub, ADMIN)
    preview(page, hub, "bob", SPARK, "Large")
    assert "HTTP 400" in page.locator("#ps-refusal").inner_text()
    assert page.locator("#ps-refusal-message").inner_text() == body["message"]


def test_a_running_server_turns_stale_after_an_edit(hub: LocalStack, page: Any) -> None:
    status, body = hub.api("POST", "/users/alice/server", {"size": "Small"})
    assert status in (201, 202), (status, body)
    try:
        hub.wait_for_server("alice")
        log_in(page, hub, ADMIN)
        page.goto(f"{hub.url}/hub/profiles")
        row = page.locator('tr.ps-server[data-user="alice"]')
        row.locator(".ps-freshness", has_text="up to date").wait_for()
        hub.apply(configmap("jupyter-singleuser-profiles", PROFILES.replace("page-e2e-site-value", "v2")))
        page.locator('tr.ps-server.ps-stale[data-user="alice"]').wait_for(timeout=10_000)
        assert f"{hub.namespace}/jupyter-singleuser-profiles changed" in row.inner_text()
        page.locator("#servers").scroll_into_view_if_needed()
        screenshot(page, "page-stale.png")
    finally:
        hub.stop_server("alice")


def test_the_budget_what_servers_hold_and_the_preview_of_its_403(hub: LocalStack, page: Any) -> None:
    log_in(page, hub, ADMIN)
    page.goto(f"{hub.url}/hub/profiles")
    budget = page.locator('#ps-budgets tr.ps-budget[data-budget="ds-servers"]')
    assert budget.inner_text().split("\t") == [
        "ds-servers",
        f"{hub.namespace}/jupyter-singleuser-profiles",
        "groups data-science",
        "cpu 8, servers 1",
        "no limit",
    ]
    use = page.locator('#ps-budget-use tr.ps-budget-use[data-budget="ds-servers"]')
    assert use.inner_text().split("\t")[1] == "cpu 0 of 8, servers 0 of 1"
    status, body = hub.api("POST", "/users/alice/server", {"size": "Small"})
    assert status in (201, 202), (status, body)
    try:
        # The live part follows the hub: alice's spawn holds the budget.
        expect(use.locator("td").nth(1)).to_have_text(
            "cpu 250m of 8, memory 512Mi, servers 1 of 1", timeout=10_000
        )
        hub.wait_for_server("alice")
        status, body = hub.api("POST", "/users/carol/server", {"size": "Small"})
        assert status == 403, (status, body)
        assert hub.pod_of("carol") is None
        preview(page, hub, "carol", SPARK, "Small")
        assert "HTTP 403" in page.locator("#ps-refusal").inner_text()
        assert page.locator("#ps-refusal-message").inner_text() == body["message"]
        assert body["message"] == (
            "budget 'ds-servers': total.servers: allows 1 servers for everyone it covers; "
            "1 in use, and this server asks for 1"
        )
        # The preview reserved nothing: the count is alice's server alone.
        assert use.inner_text().split("\t")[1] == "cpu 250m of 8, memory 512Mi, servers 1 of 1"
    finally:
        hub.stop_server("alice")
