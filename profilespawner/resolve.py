"""From a profile set and one spawn's facts to the settings that spawn gets.

Pure: matching profiles in precedence order, then the chosen size and the
values picked within its ranges (:mod:`.ranges`), merged (:mod:`.merge`),
then the GPU types' tolerations when the spawn gets a GPU. The user-facing
choices (``size``, ``gpu_type``, ``cpu``, ``memory``, ``gpu``) are checked
here, so an unknown or forbidden choice fails before anything is created; so
does a merge that mounts two volumes at one path (Kubernetes would refuse the
pod). A
:class:`Resolution` carries the merge's record of who set each item: what
``explain`` shows and what the pod's provenance is made of, with the
sources (and their versions) of the profile set it was resolved from, and
the budgets that cover the user (SPEC §10), which the hub checks the spawn
against and the pod records.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

from . import k8srules
from .budgets import covering
from .errors import MountConflictError, UserOptionError, quote
from .match import is_for, matching_profiles, set_index
from .merge import Layer, Record, Setter, add_tolerations, merge
from .model import (
    JSON,
    NO_SIZE,
    Budget,
    GpuType,
    PodSettings,
    Profile,
    ProfileSet,
    RangeValues,
    Size,
    SourceVersion,
    once,
)
from .ranges import choose, range_layers

__all__ = [
    "USER_OPTION_KEYS",
    "Resolution",
    "ResolutionCache",
    "allowed_sizes",
    "may_get_gpu",
    "resolve",
]

#: The ``user_options`` keys of the choices a user makes (SPEC §7, §9).
USER_OPTION_KEYS = ("size", "gpu_type", "cpu", "memory", "gpu")


@dataclass(frozen=True)
class Resolution:
    """What one spawn gets, and where it came from.

    ``settings`` are the matching ``profiles``, the chosen ``size`` and the
    values chosen within its ranges, ``range_values``, merged. When they
    give a GPU, ``gpu_types`` are the GPU types whose tolerations the pod
    gets (the one the user chose, ``gpu_type``, else every one) and
    ``gpu_tolerations`` those of their tolerations that ``settings`` does not
    already give. ``record`` says who set each item of ``settings``
    and of ``gpu_tolerations`` (:class:`~profilespawner.merge.Record`).
    ``sources`` are the sources of the profile set it was resolved from, with
    the versions of their content, in precedence order; ``budget_limits`` the
    budgets that cover the user (SPEC §10), which the spawn is checked
    against, and ``budgets`` their names, which the server counts against.
    The pod records them all (:mod:`profilespawner.provenance`).
    """

    settings: PodSettings
    profiles: tuple[Profile, ...] = ()
    size: Size | None = None
    gpu_tolerations: tuple[JSON, ...] = ()
    gpu_types: tuple[str, ...] = ()
    gpu_type: str | None = None
    record: Record = field(default_factory=Record)
    range_values: RangeValues = field(default_factory=RangeValues)
    sources: tuple[SourceVersion, ...] = ()
    budgets: tuple[str, ...] = ()
    budget_limits: tuple[Budget, ...] = ()
    #: What is derived from this resolution once (its description, the texts
    #: with placeholders :mod:`profilespawner.apply` fills in): kept on it,
    #: so that a cached resolution is prepared once; not part of its value.
    derived: dict[str, Any] = field(default_factory=dict, init=False, compare=False, repr=False)

    def describe(self) -> str:
        """Profile and size names (and the range values), for logs and progress
        messages; never an env value."""

        def described() -> str:
            names = ", ".join(quote(p.name) for p in self.profiles) or "none"
            size = quote(self.size.name) if self.size else "none"
            if self.range_values:
                size += f" ({', '.join(f'{k} {v}' for k, v in self.range_values.items())})"
            return f"profiles {names}; size {size}"

        # once: a cached resolution is logged at every spawn
        return once(self.derived, "describe", described)


def allowed_sizes(profile_set: ProfileSet, *, user: str, groups: Iterable[str]) -> list[Size]:
    """The sizes ``user`` may pick, in definition order."""
    group_set = frozenset(groups)
    return [s for s in profile_set.sizes.values() if is_for(s.who, user, group_set)]


def may_get_gpu(profile_set: ProfileSet, *, user: str, groups: Iterable[str]) -> bool:
    """Whether some profile for ``user`` (with any image) or a size they may
    pick gives a GPU, or may give one within its ranges.

    The spawn form offers the GPU types only then.
    """
    group_set = frozenset(groups)
    return any(p.settings.gpu for p in profile_set.profiles if is_for(p.who, user, group_set)) or any(
        s.settings.gpu or ("gpu" in s.ranges and s.ranges["gpu"].maximum > 0)
        for s in allowed_sizes(profile_set, user=user, groups=group_set)
    )


def _choose_size(profile_set: ProfileSet, name: Any, user: str, groups: frozenset[str]) -> Size | None:
    if name is None or name in ("", NO_SIZE):
        return None
    allowed = allowed_sizes(profile_set, user=user, groups=groups)
    names = tuple(s.name for s in allowed)
    for size in allowed:
        if size.name == name:
            return size
    choices = ", ".join(quote(n) for n in (NO_SIZE, *names))
    what = f"size {quote(name)}" if isinstance(name, str) else "the size option (not a string)"
    raise UserOptionError(
        f"{what} is not available; choose one of: {choices}",
        allowed=names,
        field="size",
    )


def _choose_gpu_type(profile_set: ProfileSet, gpu_type: Any) -> GpuType | None:
    types = profile_set.gpu_types
    if gpu_type in (None, ""):
        return None
    if not isinstance(gpu_type, str) or gpu_type not in types:
        choices = ", ".join(quote(t) for t in types) or "none are defined"
        what = (
            f"GPU type {quote(gpu_type)}"
            if isinstance(gpu_type, str)
            else "the gpu_type option (not a string)"
        )
        raise UserOptionError(
            f"{what} is not available; choose one of: {choices}",
            allowed=tuple(types),
            field="gpu_type",
        )
    return types[gpu_type]


def resolve(
    profile_set: ProfileSet,
    *,
    user: str,
    groups: Iterable[str],
    image: str,
    size: Any = None,
    gpu_type: Any = None,
    cpu: Any = None,
    memory: Any = None,
    gpu: Any = None,
) -> Resolution:
    """Merge everything that applies to this spawn.

    ``size``, ``gpu_type`` and the range values ``cpu``, ``memory`` and
    ``gpu`` come from ``user_options`` unchecked; a choice that is not
    defined or not allowed for the user raises :class:`UserOptionError`.
    Two volumes of different profiles (or of a profile and the size) mounted
    at one path raise :class:`MountConflictError`.
    """
    group_set = frozenset(groups)
    chosen_size = _choose_size(profile_set, size, user, group_set)
    chosen_type = _choose_gpu_type(profile_set, gpu_type)
    values = choose(
        chosen_size,
        {"cpu": cpu, "memory": memory, "gpu": gpu},
        offered=lambda: allowed_sizes(profile_set, user=user, groups=group_set),
    )
    profiles = matching_profiles(
        profile_set.profiles, user=user, groups=group_set, image=image, index=set_index(profile_set)
    )
    layers = _profile_layers(profile_set, profiles)
    if chosen_size is not None:
        layers.append(Layer(Setter.of(chosen_size), chosen_size.settings))
        layers.extend(range_layers(chosen_size, values))
    merged = merge(layers)
    _check_mounts(merged.settings, merged.record)
    gets_gpu = bool(merged.settings.gpu)
    # A GPU gets the tolerations of the chosen type, else of every type (SPEC §6).
    types = ([chosen_type] if chosen_type else list(profile_set.gpu_types.values())) if gets_gpu else []
    gpu_tolerations, record = add_tolerations(merged, [(Setter.of(t), t.tolerations) for t in types])
    budgets = covering(profile_set.budgets, user=user, groups=group_set)
    return Resolution(
        settings=merged.settings,
        profiles=tuple(profiles),
        size=chosen_size,
        gpu_tolerations=gpu_tolerations,
        gpu_types=tuple(t.type for t in types),
        gpu_type=chosen_type.type if chosen_type and gets_gpu else None,
        record=record,
        range_values=values,
        sources=profile_set.sources,
        budgets=tuple(b.name for b in budgets),
        budget_limits=budgets,
    )


def _profile_layers(profile_set: ProfileSet, profiles: Iterable[Profile]) -> list[Layer]:
    """The merge layers of ``profiles`` (of ``profile_set``), each made once
    and kept on the set: the resolutions of a set share them (and the
    setters their records name)."""
    made: dict[int, Layer] = profile_set.derived.setdefault("layers", {})
    layers = []
    for profile in profiles:
        # ids are stable: the set holds its profiles as long as this dict lives
        layer = made.get(id(profile))
        if layer is None:
            layer = made[id(profile)] = Layer(Setter.of(profile), profile.settings)
        layers.append(layer)
    return layers


#: The choices a cache key may hold as they are: what a form or the REST API
#: sends. Anything else (a list, a dict: bad input) is resolved uncached.
_KEYABLE = (str, int, float, bool, type(None))


def _choices_key(choices: dict[str, Any]) -> Hashable | None:
    # The type is part of the key: True == 1 == 1.0 to a dict, not to the
    # checks of a choice.
    key = []
    for name in sorted(choices):
        value = choices[name]
        if not isinstance(value, _KEYABLE):
            return None
        key.append((name, type(value), value))
    return tuple(key)


class ResolutionCache:
    """:func:`resolve`, remembered: a hub resolves the same spawns again and
    again (a user restarting a server, a class starting the same image).

    What determines a resolution is the profile set and the spawn's facts --
    the user, the set of their groups, the image and the choices of
    ``user_options`` --, so that is the key, and a result is reused only
    for the very profile set object it was resolved from: a source change
    makes a new set, which empties the cache (and lets the old set go).
    Bounded: the ``maxsize`` most recently used resolutions are kept. A
    choice that is refused (:class:`UserOptionError`, ...) is not cached;
    nor is a spawn whose choices are not plain values.
    """

    def __init__(self, maxsize: int = 128) -> None:
        self.maxsize = maxsize
        self._profile_set: ProfileSet | None = None
        self._entries: OrderedDict[Hashable, Resolution] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> list[object]:
        """Forget every resolution and the profile set they came from; return
        them (the caller decides where they are freed)."""
        forgotten: list[object] = [*self._entries.values()]
        if self._profile_set is not None:
            forgotten.append(self._profile_set)
        self._entries = OrderedDict()
        self._profile_set = None
        return forgotten

    def resolve(
        self, profile_set: ProfileSet, *, user: str, groups: Iterable[str], image: str, **choices: Any
    ) -> Resolution:
        """:func:`resolve`'s answer for these arguments, from the cache when it has it."""
        group_set = frozenset(groups)
        if profile_set is not self._profile_set:
            self.clear()
            self._profile_set = profile_set
        choices_key = _choices_key(choices)
        if choices_key is None:
            return resolve(profile_set, user=user, groups=group_set, image=image, **choices)
        key = (user, group_set, image, choices_key)
        hit = self._entries.get(key)
        if hit is not None:
            self._entries.move_to_end(key)
            return hit
        resolution = resolve(profile_set, user=user, groups=group_set, image=image, **choices)
        self._entries[key] = resolution
        if len(self._entries) > self.maxsize:
            self._entries.popitem(last=False)
        return resolution


def _check_mounts(settings: PodSettings, record: Record) -> None:
    """Two volumes the merge keeps (they have different names) at one mount path."""
    volumes = {volume["name"]: volume for volume in settings.volumes}
    shared = k8srules.shared_mount_paths((name, v["mountPath"]) for name, v in volumes.items())
    if not shared:
        return
    earlier, later = shared[0]
    raise MountConflictError(
        f"volume {quote(earlier)} ({_setter(record, earlier)}) and volume {quote(later)} "
        f"({_setter(record, later)}) are mounted at one path, which Kubernetes refuses; "
        "give one of them another mountPath",
        field="volumes",
    )


def _setter(record: Record, volume: str) -> str:
    origin = record.get("volumes", volume)
    return origin.set_by.describe() if origin is not None else "unknown"
