"""The page's templates, rendered by a Jinja environment built as JupyterHub
builds its own (autoescape, our directory before JupyterHub's, ``templates/``
for JupyterHub's originals): every value escaped, the navigation link only for
those who may see the page."""

from __future__ import annotations

import os
from decimal import Decimal
from typing import Any

import pytest
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader
from jupyterhub._data import DATA_FILES_PATH

from profilespawner.budgets import Claim
from profilespawner.model import ProfileSet
from profilespawner.page import TEMPLATES, view
from profilespawner.page.handlers import PageState
from profilespawner.parse import parse_document
from profilespawner.provenance import pod_annotations
from profilespawner.resolve import resolve
from profilespawner.sources.book import SourceStatus

HOSTILE = "<script>alert(1)</script>"

PROFILES = """\
profiles:
- name: "<script>alert(1)</script>"
  users: ["<img src=x onerror=alert(1)>"]
  env: [{name: SITE, value: "s3cr3t-site-value"}]
sizes:
- name: "<b>Large</b>"
  resources: {requests: {cpu: "4"}, limits: {cpu: "8"}}
budgets:
- name: "<i>team</i>"
  groups: ["<u>ds</u>"]
  total: {gpu: 4}
  per_user: {servers: 1}
"""


@pytest.fixture
def env() -> Environment:
    jupyterhub_templates = os.path.join(DATA_FILES_PATH, "templates")
    loader = ChoiceLoader(
        [
            PrefixLoader({"templates": FileSystemLoader([jupyterhub_templates])}, "/"),
            FileSystemLoader([TEMPLATES, jupyterhub_templates]),
        ]
    )
    return Environment(loader=loader, autoescape=True)


@pytest.fixture
def state() -> PageState:
    profile_set = parse_document(PROFILES, source="ns/p").profile_set.versioned("ns/p", "7")
    record = pod_annotations(resolve(profile_set, user="x", groups=[], image="i"))
    pod = {
        "metadata": {
            "name": "jupyter-x",
            "annotations": {**record, "hub.jupyter.org/username": HOSTILE},
        },
        "status": {"phase": "Running"},
    }
    return PageState(
        profile_set=profile_set,
        statuses=[SourceStatus("ns/bad", "rejected", "9", None, f"ns/bad: unknown key {HOSTILE!r}", 0.0)],
        pods=[pod],
        pods_watched=True,
        default_image="quay.io/x/y:1",
        gpu_resource_name="nvidia.com/gpu",
        problems=[HOSTILE],
    )


def page_namespace(**extra: Any) -> dict[str, Any]:
    return {
        "base_url": "/hub/",
        "prefix": "/",
        "user": {"name": "admin", "spawner": {"options_form": None}},
        "static_url": lambda path, **_: f"/hub/static/{path}",
        "parsed_scopes": {"admin-ui": None},
        "expanded_scopes": {"admin-ui"},
        "services": [],
        "xsrf": "x",
        "xsrf_token": "x",
        **extra,
    }


def render_page(env: Environment, state: PageState, **extra: Any) -> str:
    request = view.PreviewRequest.from_arguments({"user": HOSTILE, "image": HOSTILE, "size": "<b>Large</b>"})
    answer = view.preview(state.profile_set, request, hub_groups=None, gpu_resource_name="nvidia.com/gpu")
    return env.get_template("profilespawner_profiles.html").render(
        **page_namespace(**extra),
        state=state,
        view=view,
        sources=view.source_rows(state.statuses),
        servers=view.server_rows(state.pods, state.in_use),
        budget_use=view.budget_use_rows(state.profile_set, state.claims),
        form=request,
        answer=answer,
        sizes=view.size_choices(state.profile_set),
    )


def test_every_value_is_escaped(env: Environment, state: PageState) -> None:
    html = render_page(env, state)
    assert "<script>alert(1)</script>" not in html
    assert "<img src=x" not in html
    assert "<b>Large</b>" not in html
    assert "<i>team</i>" not in html and "<u>ds</u>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;Large&lt;/b&gt;" in html
    assert "s3cr3t-site-value" not in html


def test_the_page_has_jupyterhubs_navigation_and_the_profiles_link(
    env: Environment, state: PageState
) -> None:
    html = render_page(env, state)
    assert 'href="/hub/home"' in html  # JupyterHub's own page.html
    assert 'id="profilespawner-nav" href="/hub/profiles"' in html
    assert 'id="ps-live"' in html and 'id="ps-merged"' in html and 'id="ps-answer"' in html


@pytest.mark.parametrize(
    ("scopes", "linked"),
    [({"admin-ui": None}, True), ({"custom:profilespawner:view": None}, True), ({"read:users": None}, False)],
)
def test_the_link_is_for_those_who_may_see_the_page(
    env: Environment, scopes: dict[str, Any], linked: bool
) -> None:
    html = env.get_template("page.html").render(**page_namespace(parsed_scopes=scopes))
    assert ('id="profilespawner-nav"' in html) is linked
    assert 'href="/hub/token"' in html


def test_the_live_part_marks_stale_servers_and_shows_rejections(env: Environment, state: PageState) -> None:
    newer = PageState(**{**state.__dict__, "profile_set": ProfileSet().versioned("ns/p", "8")})
    html = env.get_template("profilespawner_live.html").render(
        state=newer,
        sources=view.source_rows(newer.statuses),
        servers=view.server_rows(newer.pods, newer.in_use),
    )
    assert "ps-stale" in html and ">stale<" in html
    assert "ns/p changed" in html
    assert "ps-state-rejected" in html
    assert "unknown key &#39;&lt;script&gt;" in html
    assert HOSTILE not in html


def test_the_budgets_their_limits_and_what_the_servers_hold(env: Environment, state: PageState) -> None:
    claims = [Claim("x", ("<i>team</i>",), {"gpu": Decimal(1), "servers": Decimal(1)})]
    held = PageState(**{**state.__dict__, "claims": claims})
    html = render_page(env, held)
    merged = html[html.index('id="ps-budgets"') :]
    assert "&lt;i&gt;team&lt;/i&gt;" in merged and "groups &lt;u&gt;ds&lt;/u&gt;" in merged
    assert "<td>gpu 4</td>" in merged and "<td>servers 1</td>" in merged
    live = html[html.index('id="ps-budget-use"') :]
    assert "<td>gpu 1 of 4, servers 1; per user at most servers 1</td>" in live
