"""How profiles and a size combine into one :class:`PodSettings` (later wins).

=================================  ==============================================
env                                by variable name; a later value replaces an
                                   earlier one, the first position is kept
envFrom                            concatenated, exact duplicates dropped
node_tolerations                   concatenated, duplicates dropped by meaning
                                   (an omitted ``operator`` is ``Equal``:
                                   :func:`~profilespawner.k8srules.toleration_identity`)
resources                          per (requests/limits, resource name)
gpu                                replaced, ``0`` included
node_affinity                      per top-level key
node_selector, labels, annotations per key
volumes                            by volume name
=================================  ==============================================
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

from . import k8srules
from .model import JSON, PodSettings

__all__ = ["by_key", "merge_settings", "unique"]


def unique(items: Iterable[JSON]) -> tuple[JSON, ...]:
    """``items`` without exact duplicates, first occurrence kept."""
    out: list[JSON] = []
    for item in items:
        if item not in out:
            out.append(item)
    return tuple(out)


def by_key(items: Iterable[JSON], key: str = "name") -> tuple[JSON, ...]:
    """Later items replace earlier ones with the same ``key``, in the earlier position."""
    merged: dict[Any, JSON] = {}
    for item in items:
        merged[item[key]] = item
    return tuple(merged.values())


def _per_key(maps: Iterable[Mapping[str, Any]]) -> Mapping[str, Any]:
    merged: dict[str, Any] = {}
    for m in maps:
        merged.update(m)
    return MappingProxyType(merged)


def merge_settings(layers: Iterable[PodSettings]) -> PodSettings:
    """Merge ``layers`` in order: each overrides what came before it."""
    layers = list(layers)
    resources: dict[str, dict[str, str]] = {}
    gpu: int | None = None
    for layer in layers:
        for kind, values in layer.resources.items():
            resources.setdefault(kind, {}).update(values)
        if layer.gpu is not None:
            gpu = layer.gpu
    return PodSettings(
        env=by_key(var for layer in layers for var in layer.env),
        env_from=unique(item for layer in layers for item in layer.env_from),
        resources=MappingProxyType({k: MappingProxyType(v) for k, v in resources.items()}),
        gpu=gpu,
        tolerations=k8srules.unique_tolerations(t for layer in layers for t in layer.tolerations),
        node_affinity=_per_key(layer.node_affinity for layer in layers),
        node_selector=_per_key(layer.node_selector for layer in layers),
        volumes=by_key(v for layer in layers for v in layer.volumes),
        labels=_per_key(layer.labels for layer in layers),
        annotations=_per_key(layer.annotations for layer in layers),
    )
