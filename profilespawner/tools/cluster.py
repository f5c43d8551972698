"""The command line's view of a cluster's profiles: the ConfigMaps, read once.

The hub keeps its ConfigMaps current with a list+watch cache
(:mod:`profilespawner.sources.configmaps`); a command needs them once. It
lists them with the same queries (the named one by field selector, the
labelled ones by label selector), orders them with the same
:func:`~profilespawner.sources.documents.source_order` and reads each the
same way, so it sees what the hub's next spawn would see. Every request goes
through :mod:`profilespawner.sources.kubeapi`; nothing here keeps a
connection, retries or watches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..model import DEFAULT_MOUNT_PATH
from ..policy import DEFAULT_POLICY, Policy
from ..sources import kubeapi
from ..sources.documents import source_order
from .lint import FileReport, check_configmap

__all__ = ["ClusterProfiles", "read_configmaps"]


@dataclass(frozen=True)
class ClusterProfiles:
    """The profile ConfigMaps of a namespace, checked, in precedence order.

    ``missing`` is the named ConfigMap's name when it does not exist (which
    the hub does not mind either).
    """

    namespace: str
    reports: tuple[FileReport, ...]
    missing: str | None = None


async def read_configmaps(
    api: Any,
    *,
    namespace: str,
    configmap_name: str,
    label_selector: str,
    key: str,
    default_mount_path: str = DEFAULT_MOUNT_PATH,
    policy: Policy = DEFAULT_POLICY,
) -> ClusterProfiles:
    """List the profile ConfigMaps once and check each, as the hub would read
    them (``policy`` included).

    Raises :class:`~profilespawner.errors.KubeApiError` when a list fails.
    """
    by_name: dict[str, dict[str, Any]] = {}
    named = None
    if configmap_name:
        query = kubeapi.ConfigMapQuery(namespace, field_selector=f"metadata.name={configmap_name}")
        listing = await kubeapi.list_configmaps(api, query)
        by_name.update((_name(item), item) for item in listing.items)
        named = configmap_name if configmap_name in by_name else None
    labelled: list[str] = []
    if label_selector:
        listing = await kubeapi.list_configmaps(api, kubeapi.ConfigMapQuery(namespace, label_selector))
        for item in listing.items:
            labelled.append(_name(item))
            by_name.setdefault(_name(item), item)
    reports = tuple(
        check_configmap(
            by_name[name],
            source=f"{namespace}/{name}",
            key=key,
            default_mount_path=default_mount_path,
            policy=policy,
        )
        for name in source_order(named, labelled)
    )
    missing = configmap_name if configmap_name and named is None else None
    return ClusterProfiles(namespace, reports, missing)


def _name(item: dict[str, Any]) -> str:
    return str((item.get("metadata") or {}).get("name", ""))
