"""The parsed, validated profile set: plain immutable data, no behaviour, no I/O.

Kubernetes objects inside a profile (env vars, tolerations, affinity, volumes)
are kept as the JSON dicts the API server uses (camelCase keys), already
checked and normalised by :mod:`profilespawner.parse`, so that merging and
applying are dictionary work and golden manifests read like ``kubectl`` output.
The constants here are the model's vocabulary, shared by the parser, the
rules and the tools: the reserved size name, the default mount directory,
the container profiles change, the variables that mirror its resources,
the resources a size's ranges offer and the keys a budget limits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from types import MappingProxyType
from typing import Any, NamedTuple, TypeVar

__all__ = [
    "BUDGET_KEYS",
    "DEFAULT_MOUNT_PATH",
    "EMPTY_MAP",
    "MOUNT_FIELDS",
    "NOTEBOOK_CONTAINER",
    "NO_SIZE",
    "RANGE_KEYS",
    "RESERVED_KEY_PREFIX",
    "RESOURCE_ENV",
    "Budget",
    "GpuType",
    "PodSettings",
    "Profile",
    "ProfileSet",
    "Range",
    "RangeValues",
    "Size",
    "SourceVersion",
    "Who",
    "frozen_map",
    "once",
]

JSON = dict[str, Any]

#: The size name that means "no size" (SPEC §7): a size may not be called so.
NO_SIZE = "Default"

#: Where a volume is mounted when its ``mountPath`` is relative or omitted
#: (``SingleuserProfiles.default_mount_path``'s default): the home of the s2i
#: notebook images.
DEFAULT_MOUNT_PATH = "/opt/app-root/src"

#: The keys of a profile volume that describe its mount, not the volume.
MOUNT_FIELDS = ("mountPath", "readOnly", "subPath")

#: The only container of KubeSpawner's pod that profiles change.
NOTEBOOK_CONTAINER = "notebook"

#: The variables JupyterHub writes from its resource settings, and what they mirror.
RESOURCE_ENV: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "MEM_LIMIT": ("limits", "memory"),
        "MEM_GUARANTEE": ("requests", "memory"),
        "CPU_LIMIT": ("limits", "cpu"),
        "CPU_GUARANTEE": ("requests", "cpu"),
    }
)


#: The resources a size's ``ranges`` may offer (SPEC §9), in the order they are
#: shown, checked and recorded; each is also the ``user_options`` key that picks it.
RANGE_KEYS = ("cpu", "memory", "gpu")

#: What a budget limits (SPEC §10), in the order they are checked and shown:
#: the notebook container's requests of the GPU resource, cpu and memory, and
#: a count of servers.
BUDGET_KEYS = ("gpu", "cpu", "memory", "servers")

#: Labels and annotations under this prefix are profilespawner's record of what
#: a pod got (SPEC §8): no profile or size may set one.
RESERVED_KEY_PREFIX = "profilespawner/"


#: The one empty mapping of every profile that sets no labels, no selector, ...:
#: a large set has thousands, each an object the garbage collector would
#: otherwise walk at its every pass.
EMPTY_MAP: Mapping[Any, Any] = MappingProxyType({})


def frozen_map(values: Mapping[Any, Any]) -> Mapping[Any, Any]:
    """A read-only copy of ``values`` (:data:`EMPTY_MAP` when empty)."""
    return MappingProxyType(dict(values)) if values else EMPTY_MAP


def _empty() -> Mapping[str, Any]:
    return EMPTY_MAP


_T = TypeVar("_T")


def once(derived: dict[str, Any], key: str, compute: Callable[[], _T]) -> _T:
    """``derived[key]``, computed by ``compute`` the first time it is asked
    for: what the pure core derives from a profile set or a resolution once,
    kept on it (their ``derived``) so that it lives exactly as long."""
    try:
        value: _T = derived[key]
    except KeyError:
        value = derived[key] = compute()
    return value


@dataclass(frozen=True, slots=True)
class PodSettings:
    """What a profile or a size sets on the notebook pod; ``None``/empty = nothing.

    ``resources`` maps ``"requests"``/``"limits"`` to ``{resource name: quantity}``.
    ``volumes`` entries are Kubernetes Volumes with the mount fields
    (``mountPath``, ``readOnly``, ``subPath``) still attached; ``mountPath`` is
    already absolute.
    """

    env: tuple[JSON, ...] = ()
    env_from: tuple[JSON, ...] = ()
    resources: Mapping[str, Mapping[str, str]] = field(default_factory=_empty)
    gpu: int | None = None
    tolerations: tuple[JSON, ...] = ()
    node_affinity: Mapping[str, Any] = field(default_factory=_empty)
    node_selector: Mapping[str, str] = field(default_factory=_empty)
    volumes: tuple[JSON, ...] = ()
    labels: Mapping[str, str] = field(default_factory=_empty)
    annotations: Mapping[str, str] = field(default_factory=_empty)


@dataclass(frozen=True, slots=True)
class Who:
    """Who a profile or size is for: no users and no groups, or ``*``, is everyone."""

    users: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()

    @property
    def everyone(self) -> bool:
        return (not self.users and not self.groups) or "*" in self.users


@dataclass(frozen=True)
class Profile:
    """One entry of ``profiles``: who and which images it is for, and its settings."""

    name: str
    source: str
    index: int
    settings: PodSettings = field(default_factory=PodSettings)
    who: Who = field(default_factory=Who)
    images: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class Range:
    """What a user may pick for one resource of a size: ``minimum <= default <=
    maximum``, in the resource's unit (cores, bytes, GPUs), exact to the
    precision Kubernetes keeps (1m of cpu, a byte, a whole GPU)."""

    minimum: Decimal
    maximum: Decimal
    default: Decimal


@dataclass(frozen=True)
class Size:
    """A preset the user picks at spawn time; applied after every matching profile.

    ``ranges`` (keys of :data:`RANGE_KEYS`, in that order) offer values the
    user picks within; the limit of a chosen cpu or memory is the value times
    ``limit_factor``.
    """

    name: str
    source: str
    settings: PodSettings = field(default_factory=PodSettings)
    who: Who = field(default_factory=Who)
    description: str = ""
    ranges: Mapping[str, Range] = field(default_factory=_empty)
    limit_factor: Decimal = Decimal(1)


@dataclass(frozen=True)
class Budget:
    """A limit on what the servers of the users it covers may request (SPEC §10).

    ``total`` is over the servers of everyone it covers, ``per_user`` over
    each user's own; both map keys of :data:`BUDGET_KEYS` to an amount in
    the key's unit (GPUs, cores, bytes, servers).
    """

    name: str
    source: str
    who: Who = field(default_factory=Who)
    total: Mapping[str, Decimal] = field(default_factory=_empty)
    per_user: Mapping[str, Decimal] = field(default_factory=_empty)


class RangeValues(Mapping[str, str]):
    """The values one spawn got within its size's ranges: key of
    :data:`RANGE_KEYS` → canonical quantity (``"12"``, ``"1500m"``,
    ``"40Gi"``, ``"2"``), in :data:`RANGE_KEYS` order.

    Immutable and hashable, so that what determines a resolution can be a
    dictionary key; equal to any mapping with the same items.
    """

    __slots__ = ("_items",)

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        given = dict(items)
        self._items = tuple((key, given[key]) for key in RANGE_KEYS if key in given)
        if len(self._items) != len(given):
            raise ValueError(f"range keys are {', '.join(RANGE_KEYS)}")

    def __getitem__(self, key: str) -> str:
        for name, value in self._items:
            if name == key:
                return value
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(self._items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RangeValues):
            return self._items == other._items
        return isinstance(other, Mapping) and dict(self._items) == dict(other.items())

    def __repr__(self) -> str:
        return f"RangeValues({dict(self._items)!r})"


@dataclass(frozen=True)
class GpuType:
    """Tolerations added to pods that request a GPU (all types, or the chosen one)."""

    type: str
    source: str
    tolerations: tuple[JSON, ...] = ()
    description: str = ""


class SourceVersion(NamedTuple):
    """One source of a profile set and the version of its content in use.

    ``source`` is a file path or ``namespace/name`` of a ConfigMap;
    ``version`` a ConfigMap's resourceVersion, or ``sha256:`` and the first
    16 hex digits of a file's SHA-256 (one per file, whatever it holds).
    """

    source: str
    version: str


@dataclass(frozen=True)
class ProfileSet:
    """Everything one or more sources define, in precedence order, and those
    sources with the versions of their content it holds (``sources``; empty
    for a set no source has vouched for, such as one parsed from text)."""

    profiles: tuple[Profile, ...] = ()
    sizes: Mapping[str, Size] = field(default_factory=_empty)
    gpu_types: Mapping[str, GpuType] = field(default_factory=_empty)
    sources: tuple[SourceVersion, ...] = ()
    budgets: Mapping[str, Budget] = field(default_factory=_empty)
    #: What the pure core derives from this set once (the index of who each
    #: profile is for, :func:`profilespawner.match.set_index`): kept on the
    #: set so that it lives exactly as long; not part of its value.
    derived: dict[str, Any] = field(default_factory=dict, init=False, compare=False, repr=False)

    def versioned(self, source: str, version: str) -> ProfileSet:
        """This set as the content of ``version`` of ``source``."""
        return replace(self, sources=(SourceVersion(source, version),))

    @classmethod
    def combine(cls, sets: list[ProfileSet]) -> ProfileSet:
        """Concatenate profiles and sources; a later size, gpuType or budget of
        the same name replaces an earlier one whole (keeping the earlier one's
        position)."""
        profiles: list[Profile] = []
        sizes: dict[str, Size] = {}
        gpu_types: dict[str, GpuType] = {}
        sources: list[SourceVersion] = []
        budgets: dict[str, Budget] = {}
        for item in sets:
            profiles.extend(item.profiles)
            sizes.update(item.sizes)
            gpu_types.update(item.gpu_types)
            sources.extend(item.sources)
            budgets.update(item.budgets)
        return cls(
            profiles=tuple(profiles),
            sizes=MappingProxyType(sizes),
            gpu_types=MappingProxyType(gpu_types),
            sources=tuple(sources),
            budgets=MappingProxyType(budgets),
        )
