"""Which profiles and sizes apply to a spawn: the rules of who and which image.

Pure functions over names and strings. An image pattern without ``/`` is
compared with the image's last path component, one with ``/`` with the whole
reference; a pattern without a tag or digest matches every tag and digest;
``*``, ``?`` and ``[...]`` are :mod:`fnmatch` wildcards (``*`` also crosses
``/``); an image without a tag or digest counts as ``:latest``. Docker Hub
names are compared in the form container runtimes normalize them to
(:func:`normalized_name`: ``python`` is ``docker.io/library/python``,
``index.docker.io/jupyter/x`` is ``docker.io/jupyter/x``): images always,
patterns with ``/`` too unless their first component is a wildcard.
:func:`who_reason` and :func:`image_reason` say the same rules in words, for
``explain``: why a profile applies or does not.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from functools import lru_cache

from .model import Profile, ProfileSet, Who, once

__all__ = [
    "ImageRef",
    "image_matches",
    "image_reason",
    "is_for",
    "matching_profiles",
    "normalized_name",
    "set_index",
    "who_reason",
]

#: Docker Hub, as image references name it (``docker.io``) and as old ones did.
DOCKER_HUB = "docker.io"
_DOCKER_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
_WILDCARDS = frozenset("*?[")


@dataclass(frozen=True)
class ImageRef:
    """An image reference split as a registry client would: name, tag, digest."""

    name: str
    tag: str = ""
    digest: str = ""

    @classmethod
    def parse(cls, reference: str) -> ImageRef:
        name, _, digest = reference.partition("@")
        slash = name.rfind("/")
        colon = name.rfind(":")
        tag = ""
        if colon > slash:  # a ':' before the last '/' is a registry port
            name, tag = name[:colon], name[colon + 1 :]
        return cls(name=name, tag=tag, digest=digest)

    @property
    def has_version(self) -> bool:
        return bool(self.tag or self.digest)

    def render(self, *, version: bool = True) -> str:
        text = self.name
        if version and self.tag:
            text += ":" + self.tag
        if version and self.digest:
            text += "@" + self.digest
        return text

    def last_component(self) -> ImageRef:
        return ImageRef(self.name.rsplit("/", 1)[-1], self.tag, self.digest)

    def normalized(self) -> ImageRef:
        return ImageRef(normalized_name(self.name), self.tag, self.digest)


def normalized_name(name: str) -> str:
    """An image name (no tag or digest) as container runtimes read it.

    The rule of Docker's reference library (``ParseNormalizedNamed``): a first
    component that is not a registry (it has no ``.`` or ``:`` and is not
    ``localhost``) means Docker Hub; Docker Hub is ``docker.io`` whatever its
    alias; its images without an organisation are in ``library/``.
    ``jupyter/minimal-notebook`` is ``docker.io/jupyter/minimal-notebook``,
    ``python`` is ``docker.io/library/python``; ``quay.io/x/y`` is itself.
    """
    first, slash, rest = name.partition("/")
    if not slash or not ("." in first or ":" in first or first == "localhost"):
        domain, rest = DOCKER_HUB, name
    elif first in _DOCKER_HUB_ALIASES:
        domain = DOCKER_HUB
    else:
        return name
    if "/" not in rest:
        rest = "library/" + rest
    return f"{domain}/{rest}"


def _normalized_pattern(pattern: ImageRef) -> ImageRef:
    """A pattern with ``/`` normalized as images are, unless its first
    component is a wildcard (``*/notebook`` means any registry or organisation)."""
    first = pattern.name.partition("/")[0]
    return pattern if _WILDCARDS & set(first) else pattern.normalized()


@lru_cache(maxsize=16384)
def image_matches(pattern: str, image: str) -> bool:
    """True when ``pattern`` (from a profile's ``images``) selects ``image``.

    Cached: a hub sees few distinct images, and large profile sets repeat patterns.
    """
    ref = ImageRef.parse(image).normalized()
    if not ref.has_version:
        ref = ImageRef(ref.name, "latest")
    wanted = ImageRef.parse(pattern)
    if "/" not in pattern:
        ref = ref.last_component()
    else:
        wanted = _normalized_pattern(wanted)
    if not wanted.has_version:
        return fnmatchcase(ref.name, wanted.name)
    # compare only the parts the pattern names: tag, digest or both
    candidate = ImageRef(ref.name, ref.tag if wanted.tag else "", ref.digest if wanted.digest else "")
    return fnmatchcase(candidate.render(), wanted.render())


def is_for(who: Who, user: str, groups: Iterable[str]) -> bool:
    """True when a profile or size with ``who`` applies to ``user`` in ``groups``."""
    if who.everyone:
        return True
    return user in who.users or not set(who.groups).isdisjoint(groups)


def who_reason(who: Who, user: str, groups: Iterable[str]) -> tuple[bool, str]:
    """:func:`is_for`, and why, in words: who is covered, or who is listed instead."""
    if "*" in who.users:
        return True, "everyone (users: '*')"
    if who.everyone:
        return True, "everyone (no users or groups listed)"
    if user in who.users:
        return True, f"user {user!r} is listed"
    group_set = frozenset(groups)
    for group in who.groups:
        if group in group_set:
            return True, f"member of group {group!r}"
    listed = []
    if who.users:
        listed.append("users " + ", ".join(repr(u) for u in who.users))
    if who.groups:
        listed.append("groups " + ", ".join(repr(g) for g in who.groups))
    return False, f"only for {'; '.join(listed)}"


def image_reason(patterns: Sequence[str], image: str) -> tuple[bool, str]:
    """Whether a profile with the ``images`` ``patterns`` applies to ``image``,
    and why, in words: the first pattern that matches, or that none does."""
    if not patterns:
        return True, "every image (no images listed)"
    for pattern in patterns:
        if image_matches(pattern, image):
            return True, f"pattern {pattern!r} matches"
    return False, f"no pattern matches ({', '.join(repr(p) for p in patterns)})"


#: Images whose matching profiles an index remembers (a hub sees few).
_IMAGES_KEPT = 64


@dataclass(frozen=True)
class _WhoIndex:
    """Positions of the profiles for everyone, per user and per group; and,
    filled as images are seen, per image the positions of the profiles with
    ``images`` that select it."""

    everyone: tuple[int, ...]
    by_user: dict[str, list[int]]
    by_group: dict[str, list[int]]
    by_image: dict[str, frozenset[int]] = field(default_factory=dict, compare=False)

    def for_image(self, profiles: Sequence[Profile], image: str) -> frozenset[int]:
        """The positions of the profiles with ``images`` that select ``image``."""
        found = self.by_image.get(image)
        if found is None:
            if len(self.by_image) >= _IMAGES_KEPT:
                self.by_image.clear()
            found = self.by_image[image] = frozenset(
                position
                for position, profile in enumerate(profiles)
                if profile.images and any(image_matches(pattern, image) for pattern in profile.images)
            )
        return found

    @classmethod
    def build(cls, profiles: Sequence[Profile]) -> _WhoIndex:
        everyone: list[int] = []
        by_user: dict[str, list[int]] = {}
        by_group: dict[str, list[int]] = {}
        for position, profile in enumerate(profiles):
            if profile.who.everyone:
                everyone.append(position)
                continue
            for user in profile.who.users:
                by_user.setdefault(user, []).append(position)
            for group in profile.who.groups:
                by_group.setdefault(group, []).append(position)
        return cls(tuple(everyone), by_user, by_group)

    def positions(self, user: str, groups: frozenset[str]) -> list[int]:
        found = set(self.everyone)
        found.update(self.by_user.get(user, ()))
        for group in groups:
            found.update(self.by_group.get(group, ()))
        return sorted(found)


def set_index(profile_set: ProfileSet) -> _WhoIndex:
    """The index of a profile set's profiles by who they are for, built once
    and kept on the set itself (:attr:`ProfileSet.derived
    <profilespawner.model.ProfileSet.derived>`): it lives and dies with the
    set, so a reload leaves no old set alive."""
    return once(profile_set.derived, "who_index", lambda: _WhoIndex.build(profile_set.profiles))


def matching_profiles(
    profiles: Sequence[Profile],
    *,
    user: str,
    groups: Iterable[str],
    image: str,
    index: _WhoIndex | None = None,
) -> list[Profile]:
    """The profiles that apply to this spawn, in precedence order.

    ``index``: :func:`set_index` of the set ``profiles`` are the profiles of;
    without it the index is built for this call.
    """
    if index is None:
        index = _WhoIndex.build(profiles)
    for_image = index.for_image(profiles, image)
    found = []
    for position in index.positions(user, frozenset(groups)):
        profile = profiles[position]
        if not profile.images or position in for_image:
            found.append(profile)
    return found
