"""From a profile set and one spawn's facts to the settings that spawn gets.

Pure: matching profiles in precedence order, then the chosen size, then the GPU
tolerations. The user-facing choices (``size``, ``gpu_type``) are checked here,
so an unknown or forbidden choice fails before anything is created.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from . import k8srules
from .errors import UserOptionError, quote
from .match import is_for, matching_profiles
from .merge import merge_settings
from .model import JSON, NO_SIZE, PodSettings, Profile, ProfileSet, Size

__all__ = ["USER_OPTION_KEYS", "Resolution", "allowed_sizes", "may_get_gpu", "resolve"]

#: The ``user_options`` keys of the choices a user makes (SPEC §7), and the
#: names of the spawn form's fields that set them.
USER_OPTION_KEYS = ("size", "gpu_type")


@dataclass(frozen=True)
class Resolution:
    """What one spawn gets: merged settings and where they came from."""

    settings: PodSettings
    profiles: tuple[Profile, ...] = ()
    size: Size | None = None
    gpu_tolerations: tuple[JSON, ...] = ()

    def describe(self) -> str:
        """Profile and size names, for logs and progress messages (no values)."""
        names = ", ".join(quote(p.name) for p in self.profiles) or "none"
        size = quote(self.size.name) if self.size else "none"
        return f"profiles {names}; size {size}"


def allowed_sizes(profile_set: ProfileSet, *, user: str, groups: Iterable[str]) -> list[Size]:
    """The sizes ``user`` may pick, in definition order."""
    group_set = frozenset(groups)
    return [s for s in profile_set.sizes.values() if is_for(s.who, user, group_set)]


def may_get_gpu(profile_set: ProfileSet, *, user: str, groups: Iterable[str]) -> bool:
    """Whether some profile for ``user`` (with any image) or a size they may pick gives a GPU.

    The spawn form offers the GPU types only then.
    """
    group_set = frozenset(groups)
    return any(p.settings.gpu for p in profile_set.profiles if is_for(p.who, user, group_set)) or any(
        s.settings.gpu for s in allowed_sizes(profile_set, user=user, groups=group_set)
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


def _gpu_tolerations(profile_set: ProfileSet, gpu: int | None, gpu_type: Any) -> tuple[JSON, ...]:
    types = profile_set.gpu_types
    if gpu_type not in (None, ""):
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
        chosen = [types[gpu_type]]
    else:
        chosen = list(types.values())
    if not gpu:
        return ()
    return k8srules.unique_tolerations(t for g in chosen for t in g.tolerations)


def resolve(
    profile_set: ProfileSet,
    *,
    user: str,
    groups: Iterable[str],
    image: str,
    size: Any = None,
    gpu_type: Any = None,
) -> Resolution:
    """Merge everything that applies to this spawn.

    ``size`` and ``gpu_type`` come from ``user_options`` unchecked; a choice that
    is not defined or not allowed for the user raises :class:`UserOptionError`.
    """
    group_set = frozenset(groups)
    chosen_size = _choose_size(profile_set, size, user, group_set)
    profiles = matching_profiles(profile_set.profiles, user=user, groups=group_set, image=image)
    layers = [p.settings for p in profiles]
    if chosen_size is not None:
        layers.append(chosen_size.settings)
    settings = merge_settings(layers)
    return Resolution(
        settings=settings,
        profiles=tuple(profiles),
        size=chosen_size,
        gpu_tolerations=_gpu_tolerations(profile_set, settings.gpu, gpu_type),
    )
