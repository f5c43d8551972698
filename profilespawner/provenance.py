"""What a pod records of how it was made (SPEC §8), and whether that is still current.

Every pod profilespawner makes carries, under the reserved ``profilespawner/``
prefix, the profiles applied, the size and GPU type chosen and the sources of
the profile set with the versions of their content. :func:`pod_annotations`
computes them from the spawn's :class:`~profilespawner.resolve.Resolution`
alone -- the resolution that was applied, and the sources of the very profile
set it was resolved from -- so the record cannot drift from what the pod got.
:func:`read_provenance` reads them back from a pod's annotations, and
:func:`freshness` says whether a pod is up to date with the sources in use
now (every recorded source still there at the recorded version, none added).
Pure; names and versions only, never a value of a profile.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .model import RESERVED_KEY_PREFIX, SourceVersion

if TYPE_CHECKING:
    from .resolve import Resolution

__all__ = [
    "BUDGETS",
    "GPU_TYPE",
    "PROFILES",
    "SIZE",
    "SOURCES",
    "Freshness",
    "Provenance",
    "freshness",
    "pod_annotations",
    "read_provenance",
]

#: JSON array of the applied profiles' names, in merge order.
PROFILES = f"{RESERVED_KEY_PREFIX}profiles"
#: The chosen size's name; absent without a size.
SIZE = f"{RESERVED_KEY_PREFIX}size"
#: The chosen GPU type; absent when none was chosen or the server gets no GPU.
GPU_TYPE = f"{RESERVED_KEY_PREFIX}gpu-type"
#: JSON array of ``{"source": ..., "version": ...}``, in precedence order.
SOURCES = f"{RESERVED_KEY_PREFIX}sources"
#: JSON array of the names of the budgets the server counts against; absent when none.
BUDGETS = f"{RESERVED_KEY_PREFIX}budgets"


def _json(value: Any) -> str:
    # Compact, and names as written: annotation values are UTF-8.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def pod_annotations(resolution: Resolution) -> dict[str, str]:
    """The annotations that record ``resolution`` on its pod (SPEC §8)."""
    annotations = {
        PROFILES: _json([profile.name for profile in resolution.profiles]),
        SOURCES: _json([{"source": s.source, "version": s.version} for s in resolution.sources]),
    }
    if resolution.size is not None:
        annotations[SIZE] = resolution.size.name
    if resolution.gpu_type is not None:
        annotations[GPU_TYPE] = resolution.gpu_type
    if resolution.budgets:
        annotations[BUDGETS] = _json(list(resolution.budgets))
    return annotations


@dataclass(frozen=True)
class Provenance:
    """What a pod records of how it was made (see :func:`pod_annotations`)."""

    profiles: tuple[str, ...]
    sources: tuple[SourceVersion, ...]
    size: str | None = None
    gpu_type: str | None = None
    budgets: tuple[str, ...] = ()


def _names(text: Any) -> tuple[str, ...] | None:
    try:
        value = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        return None
    return tuple(value)


def _sources(text: Any) -> tuple[SourceVersion, ...] | None:
    try:
        value = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None
    if not isinstance(value, list):
        return None
    sources = []
    for item in value:
        if not (
            isinstance(item, dict)
            and isinstance(item.get("source"), str)
            and isinstance(item.get("version"), str)
        ):
            return None
        sources.append(SourceVersion(item["source"], item["version"]))
    return tuple(sources)


def read_provenance(annotations: Mapping[str, Any] | None) -> Provenance | None:
    """The record in a pod's annotations; None when the pod has none (made
    without profilespawner, or by a version before SPEC §8) or a malformed one."""
    annotations = annotations or {}
    profiles = _names(annotations.get(PROFILES))
    sources = _sources(annotations.get(SOURCES))
    if profiles is None or sources is None:
        return None
    budgets = _names(annotations[BUDGETS]) if BUDGETS in annotations else ()
    size, gpu_type = annotations.get(SIZE), annotations.get(GPU_TYPE)
    return Provenance(
        profiles=profiles,
        sources=sources,
        size=size if isinstance(size, str) else None,
        gpu_type=gpu_type if isinstance(gpu_type, str) else None,
        budgets=budgets or (),
    )


@dataclass(frozen=True)
class Freshness:
    """How a pod's recorded sources compare with the sources in use now.

    ``changed``: recorded at another version than the one in use; ``gone``:
    recorded, no longer a source; ``added``: a source now, not recorded;
    ``unknown``: in use at a version that cannot be known from here (its
    current content is rejected, so the hub keeps its last valid version, if
    it had one).
    """

    changed: tuple[str, ...] = ()
    gone: tuple[str, ...] = ()
    added: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()

    @property
    def up_to_date(self) -> bool | None:
        """True when up to date; False when stale; None when it cannot be told."""
        if self.changed or self.gone or self.added:
            return False
        return None if self.unknown else True


def freshness(recorded: Sequence[SourceVersion], in_use: Mapping[str, str | None]) -> Freshness:
    """Whether a pod that recorded ``recorded`` is up to date with the sources
    ``in_use`` now (source -> version of the content in use, None when that
    version cannot be known): every recorded source is still in use at the
    recorded version, and no source was added since."""
    versions = {s.source: s.version for s in recorded}
    unknown = tuple(source for source, version in in_use.items() if version is None)
    return Freshness(
        changed=tuple(
            s for s, v in versions.items() if s in in_use and in_use[s] is not None and in_use[s] != v
        ),
        gone=tuple(s for s in versions if s not in in_use),
        added=tuple(s for s, v in in_use.items() if v is not None and s not in versions),
        unknown=unknown,
    )
