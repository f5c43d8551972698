"""The spawns a profile set targets: who, which image, which size.

Pure: from a :class:`~profilespawner.model.ProfileSet` and example images to the
list of :class:`Combination` worth rendering, for checks that need a pod per
case (``profilespawner validate --server-dry-run``). Rules:

- who: every user and every group listed by a profile or a size, one at a time
  (a group stands for an unlisted member of it), and one user nobody lists,
  for what everyone gets. Users ``*`` stand for everyone and add nobody.
- image: the configured image (``None``, whatever KubeSpawner and its
  configuration pick) and each example image given, in that order. Patterns
  cannot be turned into images, so a pattern no tried image matches is
  reported by :func:`untested_patterns`.
- size: none, then every size that identity may pick (picking another would be
  refused before any pod exists); a size with ranges at its ``min``, its
  ``default`` and its ``max`` (every range at once; points that give the same
  values are tried once), and at the values given (``--cpu``, ...) when it
  has a range of one of them.

GPU types are not combined: without a ``gpu_type`` choice a pod gets the
tolerations of every gpuType, a superset of any single choice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from .. import quantities
from ..match import image_matches
from ..model import Profile, ProfileSet, Size, Who
from ..resolve import allowed_sizes

__all__ = [
    "ANYONE",
    "Combination",
    "Identity",
    "combinations",
    "identities",
    "range_points",
    "untested_patterns",
]

#: The name of the user nobody lists (a suffix is added if someone does).
ANYONE = "anyone"


@dataclass(frozen=True)
class Identity:
    """A user and their groups, and why this one is tried."""

    user: str
    groups: tuple[str, ...] = ()
    listed: bool = False  # the user is listed by name (not a stand-in)

    def describe(self) -> str:
        if self.groups:
            return f"group {self.groups[0]!r} (as user {self.user!r})"
        return f"user {self.user!r}" if self.listed else f"any user (as {self.user!r})"


@dataclass(frozen=True)
class Combination:
    """One spawn to try. ``image`` None is the configured image; ``size`` None
    is no size. ``values`` are the ``user_options`` picked within the size's
    ranges, and ``point`` says which, in words (``its min``, ``its default
    and max``, ``the values given``)."""

    identity: Identity
    image: str | None = None
    size: str | None = None
    values: tuple[tuple[str, str], ...] = ()
    point: str = ""

    def describe(self, image: str | None = None) -> str:
        """``user 'alice', image 'x:1', size 'Large'``; ``image`` names the configured one."""
        shown = self.image or image
        image_text = f"image {shown!r}" if shown else "the configured image"
        size_text = f"size {self.size!r}" if self.size is not None else "no size"
        if self.values:
            values = ", ".join(f"{key} {value}" for key, value in self.values)
            size_text += f" at {self.point} ({values})"
        return f"{self.identity.describe()}, {image_text}, {size_text}"


def range_points(size: Size, given: Mapping[str, str] = {}) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
    """(point, values) to try for ``size``: its ranges at min, default and max,
    then at ``given`` (the other ranges at their defaults) when it has a
    range of a key given; the same values once, their points joined."""
    if not size.ranges:
        return []

    def at(bound: str) -> tuple[tuple[str, str], ...]:
        return tuple(
            (key, quantities.canonical(key, getattr(allowed, bound))) for key, allowed in size.ranges.items()
        )

    points: dict[tuple[tuple[str, str], ...], list[str]] = {}
    for name, bound in (("min", "minimum"), ("default", "default"), ("max", "maximum")):
        points.setdefault(at(bound), []).append(name)
    if any(key in size.ranges for key in given):
        defaults = dict(at("default"))
        values = tuple((key, given.get(key, defaults[key])) for key in size.ranges)
        points.setdefault(values, []).append("given")
    return [(_point_words(names), values) for values, names in points.items()]


def _point_words(names: list[str]) -> str:
    bounds = [name for name in names if name != "given"]
    words = [f"its {' and '.join(bounds)}"] if bounds else []
    if "given" in names:
        words.append("the values given")
    return " and ".join(words)


def _listed(whos: Iterable[Who]) -> tuple[list[str], list[str]]:
    users: dict[str, None] = {}
    groups: dict[str, None] = {}
    for who in whos:
        users.update((u, None) for u in who.users if u != "*")
        groups.update((g, None) for g in who.groups)
    return list(users), list(groups)


def identities(profile_set: ProfileSet) -> list[Identity]:
    """A user nobody lists, then every listed user, then a member of every
    listed group, each in order of first mention (profiles, then sizes)."""
    whos = [p.who for p in profile_set.profiles] + [s.who for s in profile_set.sizes.values()]
    users, groups = _listed(whos)
    anyone, n = ANYONE, 1
    while anyone in users:
        n += 1
        anyone = f"{ANYONE}-{n}"
    return [
        Identity(anyone),
        *(Identity(u, listed=True) for u in users),
        *(Identity(anyone, (g,)) for g in groups),
    ]


def combinations(
    profile_set: ProfileSet, *, images: Sequence[str] = (), range_values: Mapping[str, str] = {}
) -> list[Combination]:
    """Every identity × (the configured image, then ``images``) × (no size, then
    each size that identity may pick, a size with ranges at each of its
    :func:`range_points` with ``range_values``)."""
    tried: list[str | None] = [None, *dict.fromkeys(images)]
    out: list[Combination] = []
    for identity in identities(profile_set):
        spawns: list[tuple[str | None, tuple[tuple[str, str], ...], str]] = [(None, (), "")]
        for size in allowed_sizes(profile_set, user=identity.user, groups=identity.groups):
            points = range_points(size, range_values)
            spawns += [(size.name, values, point) for point, values in points] or [(size.name, (), "")]
        out.extend(
            Combination(identity, image, size, values, point)
            for image in tried
            for size, values, point in spawns
        )
    return out


def untested_patterns(profile_set: ProfileSet, images: Iterable[str]) -> list[tuple[Profile, str]]:
    """(profile, pattern) of every ``images`` pattern that none of ``images`` matches."""
    tried = list(images)
    return [
        (profile, pattern)
        for profile in profile_set.profiles
        for pattern in profile.images
        if not any(image_matches(pattern, image) for image in tried)
    ]
