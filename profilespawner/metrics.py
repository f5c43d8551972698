"""Prometheus metrics, in the default registry that JupyterHub serves at ``/metrics``.

Labels are source names (file paths, ``namespace/ConfigMap``): a handful per
hub. Nothing here carries profile content.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

__all__ = [
    "CONFIGMAP_CACHE_AGE",
    "RESOLVE_DURATION",
    "SOURCE_LOADS",
    "SOURCE_REJECTIONS",
    "SOURCE_VALID",
]

SOURCE_LOADS = Counter(
    "profilespawner_source_loads_total",
    "Versions of a profile source that validated and took effect",
    ["source"],
)
SOURCE_REJECTIONS = Counter(
    "profilespawner_source_rejections_total",
    "Versions of a profile source rejected as invalid",
    ["source"],
)
SOURCE_VALID = Gauge(
    "profilespawner_source_valid",
    "1 when the current version of a profile source is in effect, 0 when it is "
    "rejected (its last valid version, if any, still applies)",
    ["source"],
)
RESOLVE_DURATION = Histogram(
    "profilespawner_resolve_duration_seconds",
    "Time to resolve and apply the profiles of one spawn",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0),
)
CONFIGMAP_CACHE_AGE = Gauge(
    "profilespawner_configmap_cache_age_seconds",
    "Seconds since the ConfigMap list+watch last heard from the Kubernetes API "
    "(0 when ConfigMaps are not read)",
)
