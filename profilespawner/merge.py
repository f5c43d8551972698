"""How profiles and a size combine into one :class:`PodSettings` (later wins),
and the record of who set what.

=================================  ==============================================
env                                by variable name; a later value replaces an
                                   earlier one, the first position is kept
envFrom                            concatenated, exact duplicates dropped
resources                          per (requests/limits, resource name)
gpu                                replaced, ``0`` included
node_tolerations                   concatenated, duplicates dropped by meaning
                                   (an omitted ``operator`` is ``Equal``:
                                   :func:`~profilespawner.k8srules.toleration_identity`)
node_affinity                      per top-level key
node_selector, labels, annotations per key
volumes                            by volume name
=================================  ==============================================

The merge takes :class:`Layer` objects -- settings and the :class:`Setter` they
come from (a profile, a size, a GPU type) -- in precedence order, and returns
the merged settings with a :class:`Record`: for every item of the result, the
layer that set it and the earlier layers it replaced, or, for the
concatenated fields, the later layers that repeated it. The record is the
account of who set what: ``explain`` and the pod's provenance read it and
never merge again. Pure; plain immutable data.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal, NamedTuple

from . import k8srules
from .errors import quote
from .model import JSON, GpuType, PodSettings, Profile, Size, frozen_map

__all__ = [
    "FIELDS",
    "Layer",
    "Merged",
    "Origin",
    "Record",
    "Setter",
    "add_tolerations",
    "by_key",
    "merge",
    "unique",
]

#: The fields of a profile, as the record names them (the YAML keys), in record order.
FIELDS = (
    "env",
    "envFrom",
    "resources",
    "gpu",
    "node_tolerations",
    "node_affinity",
    "node_selector",
    "volumes",
    "labels",
    "annotations",
)

SetterKind = Literal["profile", "size", "gpuType"]

# Setter, Layer and Origin are named tuples, not frozen dataclasses: a spawn
# makes one of each per layer and per item, and they cost a third as much.


class Setter(NamedTuple):
    """Where a layer comes from: a profile, a size or a GPU type, by name and source.

    ``position`` is a profile's index in its source (names may repeat).
    ``via`` says how the layer sets its values when that is not the field
    itself: for a value chosen within a size's ranges (SPEC §9), ``"range"``,
    the key and the value (``"range cpu: 12"``; a limit ``"range cpu: 12 ×
    2"``, see :mod:`profilespawner.ranges`).
    """

    kind: SetterKind
    name: str
    source: str
    position: int | None = None
    via: str = ""

    def describe(self) -> str:
        """``profile 'X'``, ``size 'X'``, ``gpuType 'X'``: for messages."""
        return f"{self.kind} {quote(self.name)}"

    @classmethod
    def of(cls, entry: Profile | Size | GpuType, *, via: str = "") -> Setter:
        """The setter of a profile, a size or a GPU type."""
        if isinstance(entry, Profile):
            return cls("profile", entry.name, entry.source, entry.index, via)
        if isinstance(entry, Size):
            return cls("size", entry.name, entry.source, None, via)
        return cls("gpuType", entry.type, entry.source, None, via)


class Layer(NamedTuple):
    """Settings to merge, and where they come from."""

    setter: Setter
    settings: PodSettings


class Origin(NamedTuple):
    """Who set one item of the merged settings.

    ``field`` is one of :data:`FIELDS`. ``key`` names the item: a variable
    name (env), ``"requests.cpu"`` (resources), ``""`` (gpu), a top-level key
    (node_affinity), a key (node_selector, labels, annotations), a volume name
    (volumes); for the concatenated fields, its position in the merged list
    (envFrom: ``settings.env_from``; node_tolerations: ``settings.tolerations``
    followed by the tolerations :func:`add_tolerations` added). ``set_by`` is
    the layer whose value is in effect; ``replaced`` the earlier layers that
    set the same key, in order; ``repeated`` the later layers whose equal item
    was dropped (concatenated fields only).
    """

    field: str
    key: str | int
    set_by: Setter
    replaced: tuple[Setter, ...] = ()
    repeated: tuple[Setter, ...] = ()


@dataclass(frozen=True)
class Record:
    """Who set each item of a merge: :class:`Origin` objects in :data:`FIELDS`
    order, each field's items in the order of the result."""

    origins: tuple[Origin, ...] = ()

    @cached_property
    def _fields(self) -> Mapping[str, tuple[Origin, ...]]:
        fields: dict[str, list[Origin]] = {}
        for origin in self.origins:
            fields.setdefault(origin.field, []).append(origin)
        return {f: tuple(origins) for f, origins in fields.items()}

    def of(self, field: str) -> tuple[Origin, ...]:
        """The origins of one field, in result order."""
        return self._fields.get(field, ())

    def get(self, field: str, key: str | int) -> Origin | None:
        """The origin of one item, or None when no layer set it."""
        return next((o for o in self.of(field) if o.key == key), None)

    def replace_field(self, field: str, origins: Iterable[Origin]) -> Record:
        """This record with the origins of ``field`` replaced."""
        new = tuple(origins)
        return Record(tuple(o for f in FIELDS for o in (new if f == field else self.of(f))))


@dataclass(frozen=True)
class Merged:
    """The settings a merge gives, and its record."""

    settings: PodSettings
    record: Record = field(default_factory=Record)


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


class _Keyed:
    """One keyed field: the value in effect and every setter, per key, in
    first-seen order (the order the merged field keeps)."""

    __slots__ = ("current", "setters")

    def __init__(self) -> None:
        self.current: dict[Any, Any] = {}
        self.setters: dict[Any, list[Setter]] = {}

    def set(self, items: Iterable[tuple[Any, Any]], setter: Setter) -> None:
        current, setters = self.current, self.setters
        for key, value in items:
            current[key] = value
            found = setters.get(key)
            if found is None:
                setters[key] = [setter]
            else:
                found.append(setter)

    def origins(self, field: str) -> Iterable[Origin]:
        for key, setters in self.setters.items():
            yield Origin(field, key, setters[-1], tuple(setters[:-1]))


def _concatenate(
    field: str,
    earlier: Sequence[tuple[JSON, list[Setter]]],
    items: Iterable[tuple[Setter, JSON]],
    identity: Callable[[JSON], Hashable] | None,
) -> tuple[list[tuple[JSON, list[Setter]]], list[Origin]]:
    """``earlier`` (items with their setters) followed by ``items``, an item
    equal to one before it (by ``identity``, else exactly) dropped as a
    repeat; the result and its origins."""
    kept = [(item, list(setters)) for item, setters in earlier]
    seen: dict[Hashable, int] = {}  # identity -> position in kept
    if identity is not None:
        for index, (item, _) in enumerate(kept):
            seen.setdefault(identity(item), index)
    for setter, item in items:
        if identity is not None:
            found = seen.setdefault(identity(item), len(kept))
        else:
            found = next((i for i, (other, _) in enumerate(kept) if other == item), len(kept))
        if found == len(kept):
            kept.append((item, [setter]))
        else:
            kept[found][1].append(setter)
    origins = [
        Origin(field, position, setters[0], repeated=tuple(setters[1:]))
        for position, (_, setters) in enumerate(kept)
    ]
    return kept, origins


def merge(layers: Iterable[Layer]) -> Merged:
    """Merge ``layers`` in order, each overriding what came before it, and
    record who set what."""
    env, resources, gpu = _Keyed(), _Keyed(), _Keyed()
    affinity, selector, volumes, labels, annotations = _Keyed(), _Keyed(), _Keyed(), _Keyed(), _Keyed()
    env_from: list[tuple[Setter, JSON]] = []
    tolerations: list[tuple[Setter, JSON]] = []
    by_kind: dict[str, dict[str, str]] = {}
    for layer in layers:
        # Most layers set few fields: the empty ones cost a test each.
        who, settings = layer.setter, layer.settings
        if settings.env:
            env.set(((var["name"], var) for var in settings.env), who)
        if settings.env_from:
            env_from.extend((who, item) for item in settings.env_from)
        for kind, values in settings.resources.items():
            by_kind.setdefault(kind, {}).update(values)
            resources.set(((f"{kind}.{name}", quantity) for name, quantity in values.items()), who)
        if settings.gpu is not None:
            gpu.set((("", settings.gpu),), who)
        if settings.tolerations:
            tolerations.extend((who, item) for item in settings.tolerations)
        if settings.node_affinity:
            affinity.set(settings.node_affinity.items(), who)
        if settings.node_selector:
            selector.set(settings.node_selector.items(), who)
        if settings.volumes:
            volumes.set(((volume["name"], volume) for volume in settings.volumes), who)
        if settings.labels:
            labels.set(settings.labels.items(), who)
        if settings.annotations:
            annotations.set(settings.annotations.items(), who)
    kept_env_from, env_from_origins = _concatenate("envFrom", (), env_from, None)
    kept_tolerations, toleration_origins = _concatenate(
        "node_tolerations", (), tolerations, k8srules.toleration_identity
    )
    merged = PodSettings(
        env=tuple(env.current.values()),
        env_from=tuple(item for item, _ in kept_env_from),
        resources=frozen_map({kind: frozen_map(values) for kind, values in by_kind.items()}),
        gpu=gpu.current.get(""),
        tolerations=tuple(item for item, _ in kept_tolerations),
        node_affinity=frozen_map(affinity.current),
        node_selector=frozen_map(selector.current),
        volumes=tuple(volumes.current.values()),
        labels=frozen_map(labels.current),
        annotations=frozen_map(annotations.current),
    )
    record = Record(
        (
            *env.origins("env"),
            *env_from_origins,
            *resources.origins("resources"),
            *gpu.origins("gpu"),
            *toleration_origins,
            *affinity.origins("node_affinity"),
            *selector.origins("node_selector"),
            *volumes.origins("volumes"),
            *labels.origins("labels"),
            *annotations.origins("annotations"),
        )
    )
    return Merged(merged, record)


def add_tolerations(
    merged: Merged, tolerations: Iterable[tuple[Setter, Sequence[JSON]]]
) -> tuple[tuple[JSON, ...], Record]:
    """``tolerations`` (the GPU types', each with its setter) after those of
    ``merged``: the ones ``merged`` does not already give, by meaning, in
    order, and ``merged``'s record with all of them (a new item, or a repeat
    of one already there)."""
    items = [(setter, item) for setter, items in tolerations for item in items]
    if not items:
        return (), merged.record
    settings = merged.settings
    earlier = [
        (item, [origin.set_by, *origin.repeated])
        for item, origin in zip(settings.tolerations, merged.record.of("node_tolerations"), strict=True)
    ]
    kept, origins = _concatenate("node_tolerations", earlier, items, k8srules.toleration_identity)
    added = tuple(item for item, _ in kept[len(settings.tolerations) :])
    return added, merged.record.replace_field("node_tolerations", origins)
