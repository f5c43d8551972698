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
  refused before any pod exists).

GPU types are not combined: without a ``gpu_type`` choice a pod gets the
tolerations of every gpuType, a superset of any single choice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..match import image_matches
from ..model import Profile, ProfileSet, Who
from ..resolve import allowed_sizes

__all__ = ["ANYONE", "Combination", "Identity", "combinations", "identities", "untested_patterns"]

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
    """One spawn to try. ``image`` None is the configured image; ``size`` None is no size."""

    identity: Identity
    image: str | None = None
    size: str | None = None

    def describe(self, image: str | None = None) -> str:
        """``user 'alice', image 'x:1', size 'Large'``; ``image`` names the configured one."""
        shown = self.image or image
        image_text = f"image {shown!r}" if shown else "the configured image"
        size_text = f"size {self.size!r}" if self.size is not None else "no size"
        return f"{self.identity.describe()}, {image_text}, {size_text}"


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


def combinations(profile_set: ProfileSet, *, images: Sequence[str] = ()) -> list[Combination]:
    """Every identity × (the configured image, then ``images``) × (no size, then
    each size that identity may pick)."""
    tried: list[str | None] = [None, *dict.fromkeys(images)]
    out: list[Combination] = []
    for identity in identities(profile_set):
        sizes: list[str | None] = [None]
        sizes += [s.name for s in allowed_sizes(profile_set, user=identity.user, groups=identity.groups)]
        out.extend(Combination(identity, image, size) for image in tried for size in sizes)
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
