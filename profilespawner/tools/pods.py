"""The hub's notebook pods, what each records of how it was made, and whether that is current.

For ``profilespawner pods``. The pods are those KubeSpawner labels
``component=singleuser-server`` (its ``component_label``) in the namespace; the user and server names
are KubeSpawner's annotations (its labels hold them escaped), the rest is
the pod's own record (:func:`~profilespawner.provenance.read_provenance`).
Whether a pod is up to date is :func:`~profilespawner.provenance.freshness`
against the sources as the hub would read them now (:func:`sources_in_use`):
the files and ConfigMaps the command read, each at the version of its
content, or at an unknown version when its content is invalid now (the hub
keeps its last valid one, which only the hub knows). What a pod holds of
its budgets is the hub's own count of it (:func:`profilespawner.budgets.pod_claim`).
Every request goes through :mod:`profilespawner.sources.kubeapi`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..budgets import Claim, pod_claim
from ..provenance import Freshness, Provenance, freshness, read_provenance
from ..sources import kubeapi
from .lint import FileReport

__all__ = [
    "NOTEBOOK_COMPONENT",
    "NotebookPod",
    "files_named_as_recorded",
    "notebook_pod",
    "notebook_pods",
    "sources_in_use",
]

#: How KubeSpawner labels the pods of single-user servers: ``component=`` its
#: ``component_label``, whose default this is (a hub may set another, to
#: share a namespace with another hub).
NOTEBOOK_COMPONENT = "singleuser-server"

_USER = "hub.jupyter.org/username"
_SERVER = "hub.jupyter.org/servername"


@dataclass(frozen=True)
class NotebookPod:
    """One notebook pod: whose server it is, what it records, whether that is current.

    ``provenance`` and ``freshness`` are None for a pod without a record
    (not made by profilespawner, or by a version before SPEC §8); ``claim``
    is what it holds of the budgets it records (SPEC §10), None when it
    counts against none (or no more: it is being deleted, or has finished).
    """

    name: str
    user: str
    server: str
    provenance: Provenance | None
    freshness: Freshness | None
    claim: Claim | None = None

    @property
    def state(self) -> str:
        """``up to date``, ``stale``, ``unknown`` or ``no record``."""
        if self.freshness is None:
            return "no record"
        up_to_date = self.freshness.up_to_date
        return "unknown" if up_to_date is None else "up to date" if up_to_date else "stale"

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (for ``--format json``)."""
        record, fresh = self.provenance, self.freshness
        return {
            "pod": self.name,
            "user": self.user,
            "server": self.server,
            "state": self.state,
            "profiles": list(record.profiles) if record else None,
            "size": record.size if record else None,
            "gpu_type": record.gpu_type if record else None,
            "budgets": list(record.budgets) if record else None,
            "sources": [{"source": s.source, "version": s.version} for s in record.sources]
            if record
            else None,
            "changed": list(fresh.changed) if fresh else [],
            "gone": list(fresh.gone) if fresh else [],
            "added": list(fresh.added) if fresh else [],
            "unknown": list(fresh.unknown) if fresh else [],
        }


def sources_in_use(reports: Iterable[FileReport]) -> dict[str, str | None]:
    """Each source the hub would read now and the version of its content in
    use: its version when valid, None when it is invalid now."""
    return {r.source: None if r.errors or r.profile_set is None else r.version for r in reports}


def notebook_pod(
    pod: Mapping[str, Any], in_use: Mapping[str, str | None], *, gpu_resource_name: str = "nvidia.com/gpu"
) -> NotebookPod:
    """A pod (the API server's JSON), compared with the sources ``in_use``."""
    metadata = pod.get("metadata") or {}
    annotations = metadata.get("annotations") or {}
    labels = metadata.get("labels") or {}
    record = read_provenance(annotations)
    return NotebookPod(
        name=str(metadata.get("name", "")),
        user=str(annotations.get(_USER) or labels.get(_USER) or ""),
        server=str(annotations.get(_SERVER) or labels.get(_SERVER) or ""),
        provenance=record,
        freshness=freshness(record.sources, in_use) if record is not None else None,
        claim=pod_claim(pod, gpu_resource_name=gpu_resource_name),
    )


async def notebook_pods(
    api: Any,
    namespace: str,
    in_use: Mapping[str, str | None],
    *,
    component: str = NOTEBOOK_COMPONENT,
    gpu_resource_name: str = "nvidia.com/gpu",
) -> list[NotebookPod]:
    """The notebook pods of ``namespace`` (those labelled ``component`` with
    the value ``component``) by user and server name, each compared with the
    sources ``in_use`` (see :func:`sources_in_use`).

    Raises :class:`~profilespawner.errors.KubeApiError` when the list fails.
    """
    items = await kubeapi.list_pods(api, namespace, label_selector=f"component={component}")
    recorded = {
        source.source
        for item in items
        if (record := read_provenance((item.get("metadata") or {}).get("annotations"))) is not None
        for source in record.sources
    }
    in_use = files_named_as_recorded(in_use, recorded)
    pods = [notebook_pod(item, in_use, gpu_resource_name=gpu_resource_name) for item in items]
    return sorted(pods, key=lambda p: (p.user, p.server, p.name))


def files_named_as_recorded(
    in_use: Mapping[str, str | None], recorded: Iterable[str]
) -> dict[str, str | None]:
    """``in_use`` with each file named as the pods' records name the same file.

    The hub records a file by the path its configuration gives
    (``/etc/jupyterhub/profiles.yaml``, or a relative one); the command may
    be given another path to the same file (``profiles.yaml`` in that
    directory). Files are matched by their real path; a name that is no
    file here (a ConfigMap's ``namespace/name``) stays as it is.
    """
    by_real_path = {
        os.path.realpath(name): name for name in recorded if name not in in_use and os.path.isfile(name)
    }
    named = {}
    for name, version in in_use.items():
        if by_real_path and os.path.isfile(name):
            name = by_real_path.get(os.path.realpath(name), name)
        named[name] = version
    return named
