"""What the handlers decide without a hub: when the live part has changed (its
ETag, so that the page's half-second polls cost a hash, not a rendering)."""

from __future__ import annotations

from typing import Any

from profilespawner.model import ProfileSet
from profilespawner.page.handlers import AGE_STEP, PageState
from profilespawner.sources.book import SourceStatus


def state(pods: list[dict[str, Any]], statuses: list[SourceStatus], version: str = "1") -> PageState:
    return PageState(
        profile_set=ProfileSet().versioned("ns/p", version),
        statuses=statuses,
        pods=pods,
        pods_watched=True,
        default_image="",
        gpu_resource_name="nvidia.com/gpu",
    )


def pod(name: str, resource_version: str) -> dict[str, Any]:
    return {"metadata": {"namespace": "ns", "name": name, "resourceVersion": resource_version}}


def test_the_live_etag_changes_with_what_the_live_part_shows() -> None:
    valid = [SourceStatus("ns/p", "valid", "1", "1", since=5.0)]
    now = 100 * AGE_STEP
    base = state([pod("a", "10"), pod("b", "11")], valid).live_etag(now)
    assert state([pod("b", "11"), pod("a", "10")], valid).live_etag(now + AGE_STEP - 1) == base
    changed = [
        state([pod("a", "12"), pod("b", "11")], valid),  # a pod changed
        state([pod("a", "10")], valid),  # a pod went
        state([pod("a", "10"), pod("b", "11")], [SourceStatus("ns/p", "rejected", "2", "1", "bad", 6.0)]),
        state([pod("a", "10"), pod("b", "11")], valid, version="2"),  # the set in use
    ]
    assert all(s.live_etag(now) != base for s in changed)
    assert state([pod("a", "10"), pod("b", "11")], valid).live_etag(now + AGE_STEP) != base, "ages move on"
    # a spawn in flight holds its budgets before its pod exists
    held = state([pod("a", "10"), pod("b", "11")], valid)
    held.in_flight = ["ns/c"]
    assert held.live_etag(now) != base
