"""Prometheus metrics (:mod:`profilespawner.metrics`): loads, rejections, resolutions."""

from __future__ import annotations

import os
from typing import Any


def sample(name: str, **labels: str) -> float | None:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value(name, labels)


async def test_metrics_count_loads_rejections_and_resolves(
    pod_for: Any, spawn_profiles: str, make_spawner: Any, write_yaml: Any
) -> None:
    path = spawn_profiles
    loads = sample("profilespawner_source_loads_total", source=path) or 0.0
    resolves = sample("profilespawner_resolve_duration_seconds_count") or 0.0
    await pod_for(make_spawner([path]))
    assert sample("profilespawner_source_loads_total", source=path) == loads + 1
    assert sample("profilespawner_source_valid", source=path) == 1
    assert sample("profilespawner_resolve_duration_seconds_count") == resolves + 1

    write_yaml("profiles: [{name: x, gpu: -1}]", os.path.basename(path))  # the same file, rewritten
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    await pod_for(make_spawner([path]))
    assert sample("profilespawner_source_valid", source=path) == 0
    assert (sample("profilespawner_source_rejections_total", source=path) or 0) >= 1
