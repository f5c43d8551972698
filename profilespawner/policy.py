"""What a profile source may ask for: Secrets by name, volumes by type (SPEC §11).

Whoever can write a profile source changes the pod of every user it matches;
with the label selector, that is everyone who may create a ConfigMap in the
hub's namespace. A :class:`Policy` holds the two settings that bound what any
source may ask for, ``SingleuserProfiles.allowed_volume_types`` and
``SingleuserProfiles.allowed_secrets``. :meth:`Policy.check` walks a validated
:class:`~profilespawner.model.ProfileSet` -- every profile and every size --
through each field by which a pod can name a Secret or get a volume, and
rejects the source as a whole with a
:class:`~profilespawner.errors.ProfileValidationError` naming the setting, the
source, the profile or size and the field; the hub then keeps the source's
last valid version, as for any invalid document.

The fields are listed here once: the volume sources of the Kubernetes Volume
API, the sources of a projected volume, and every place where one of them, an
environment variable or an ``envFrom`` entry names a Secret. The unit tests
hold these tables against the models of the Kubernetes client, so that a
volume source or a Secret reference the API gains cannot go unnoticed. A
projected volume's ``secret``, ``configMap`` and ``downwardAPI`` sources count
as the volume types of the same name: they give what those volumes give.

Pure: no I/O, no logging. Messages quote names (of a Secret, of a volume
type), never a value.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from types import MappingProxyType
from typing import Any, Literal

from .errors import ProfileValidationError, quote
from .model import MOUNT_FIELDS, PodSettings, ProfileSet
from .parse import MAX_PROBLEMS

__all__ = [
    "DEFAULT_ALLOWED_SECRETS",
    "DEFAULT_ALLOWED_VOLUME_TYPES",
    "DEFAULT_POLICY",
    "PROJECTED_SOURCES",
    "SECRET_NAME_IN_ENV",
    "SECRET_NAME_IN_ENV_FROM",
    "SECRET_NAME_IN_PROJECTION",
    "SECRET_NAME_IN_VOLUME",
    "VOLUME_SOURCES",
    "VOLUME_TYPES",
    "Policy",
    "Reference",
    "references",
    "secret_pattern_problems",
    "volume_type_problems",
]

#: The volume sources of a Kubernetes Volume (its keys but ``name``).
VOLUME_SOURCES = frozenset(
    {
        "awsElasticBlockStore",
        "azureDisk",
        "azureFile",
        "cephfs",
        "cinder",
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "fc",
        "flexVolume",
        "flocker",
        "gcePersistentDisk",
        "gitRepo",
        "glusterfs",
        "hostPath",
        "image",
        "iscsi",
        "nfs",
        "persistentVolumeClaim",
        "photonPersistentDisk",
        "portworxVolume",
        "projected",
        "quobyte",
        "rbd",
        "scaleIO",
        "secret",
        "storageos",
        "vsphereVolume",
    }
)

#: The sources of a projected volume (the keys of each ``projected.sources`` item).
PROJECTED_SOURCES = frozenset(
    {"clusterTrustBundle", "configMap", "downwardAPI", "podCertificate", "secret", "serviceAccountToken"}
)

#: Every name ``SingleuserProfiles.allowed_volume_types`` may hold.
VOLUME_TYPES = VOLUME_SOURCES | PROJECTED_SOURCES

#: ``allowed_volume_types``' default: everything but a directory of the node.
DEFAULT_ALLOWED_VOLUME_TYPES = VOLUME_TYPES - {"hostPath"}

#: ``allowed_secrets``' default: any Secret, as jupyterhub-singleuser-profiles allowed.
DEFAULT_ALLOWED_SECRETS: tuple[str, ...] = ("*",)

#: Where an environment variable (an EnvVar) names a Secret.
SECRET_NAME_IN_ENV = ("valueFrom", "secretKeyRef", "name")

#: Where an ``envFrom`` entry (an EnvFromSource) names a Secret.
SECRET_NAME_IN_ENV_FROM = ("secretRef", "name")

#: Where a volume source names a Secret: the keys that lead to the name. The
#: other Secret-like keys of volume sources are not Secret names:
#: ``cephfs.secretFile`` and ``rbd.keyring`` are files on the node.
SECRET_NAME_IN_VOLUME: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "azureFile": ("secretName",),
        "cephfs": ("secretRef", "name"),
        "cinder": ("secretRef", "name"),
        "csi": ("nodePublishSecretRef", "name"),
        "flexVolume": ("secretRef", "name"),
        "iscsi": ("secretRef", "name"),
        "rbd": ("secretRef", "name"),
        "scaleIO": ("secretRef", "name"),
        "secret": ("secretName",),
        "storageos": ("secretRef", "name"),
    }
)

#: Where a projected volume's source names a Secret.
SECRET_NAME_IN_PROJECTION: Mapping[str, tuple[str, ...]] = MappingProxyType({"secret": ("name",)})

# What a Secret name pattern may hold: the characters of Secret names (lower
# case DNS subdomains) and fnmatch's wildcards.
_SECRET_PATTERN = re.compile(r"[-a-z0-9.*?\[\]!]+")
_SHOWN_PATTERNS = 5

_MOUNT_KEYS = frozenset({"name", *MOUNT_FIELDS})


@dataclass(frozen=True)
class Reference:
    """One place where a profile or size asks for a Secret or a volume type.

    ``kind`` is ``"secret"`` (``name`` is the Secret's name), ``"volume"`` (a
    volume source) or ``"projection"`` (a projected volume's source); ``field``
    is the path inside the profile or size, as validation messages write it.
    """

    kind: Literal["secret", "volume", "projection"]
    name: str
    field: str


def references(settings: PodSettings) -> Iterator[Reference]:
    """Every Secret and volume type ``settings`` ask for, in document order.

    ``settings`` come validated; shapes that validation lets through and the
    API server would refuse (a reference that is not a mapping, a name that is
    not a string) name nothing and are skipped, never an error here.
    """
    for i, var in enumerate(settings.env):
        yield from _secret_in(var, SECRET_NAME_IN_ENV, f"env[{i}]")
    for i, item in enumerate(settings.env_from):
        yield from _secret_in(item, SECRET_NAME_IN_ENV_FROM, f"envFrom[{i}]")
    for i, volume in enumerate(settings.volumes):
        for source in [key for key in volume if key not in _MOUNT_KEYS]:
            where = f"volumes[{i}].{source}"
            yield Reference("volume", source, where)
            yield from _secret_in(volume[source], SECRET_NAME_IN_VOLUME.get(source), where)
            if source == "projected":
                yield from _projections(volume[source], where)


def _projections(projected: Any, where: str) -> Iterator[Reference]:
    sources = projected.get("sources") if isinstance(projected, dict) else None
    if not isinstance(sources, list):
        return
    for j, item in enumerate(sources):
        if not isinstance(item, dict):
            continue
        for kind in item:
            path = f"{where}.sources[{j}].{kind}"
            yield Reference("projection", str(kind), path)
            yield from _secret_in(item[kind], SECRET_NAME_IN_PROJECTION.get(str(kind)), path)


def _secret_in(source: Any, keys: tuple[str, ...] | None, where: str) -> Iterator[Reference]:
    if keys is not None:
        name = _follow(source, keys)
        if name is not None:
            yield Reference("secret", name, ".".join((where, *keys)))


def _follow(node: Any, keys: Sequence[str]) -> str | None:
    """The non-empty string at ``keys`` inside ``node``, else None."""
    for key in keys:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node if isinstance(node, str) and node else None


@dataclass(frozen=True)
class Policy:
    """What any profile source may ask for. The default: every volume type but
    ``hostPath``, and every Secret."""

    allowed_volume_types: frozenset[str] = DEFAULT_ALLOWED_VOLUME_TYPES
    allowed_secrets: tuple[str, ...] = DEFAULT_ALLOWED_SECRETS

    def allows_secret(self, name: str) -> bool:
        """Whether a profile may name the Secret ``name``."""
        return any(fnmatchcase(name, pattern) for pattern in self.allowed_secrets)

    def problem(self, reference: Reference) -> str | None:
        """Why ``reference`` is not allowed, or None when it is."""
        if reference.kind == "secret":
            if self.allows_secret(reference.name):
                return None
            return (
                f"Secret {quote(reference.name)} is not allowed by SingleuserProfiles.allowed_secrets "
                f"({self._describe_secrets()})"
            )
        if reference.name in self.allowed_volume_types:
            return None
        what = "volume type" if reference.kind == "volume" else "projected volume source"
        setting = "SingleuserProfiles.allowed_volume_types"
        if reference.name not in VOLUME_TYPES:
            return f"{what} {quote(reference.name)} is unknown: {setting} cannot allow it"
        return f"{what} {quote(reference.name)} is not allowed by {setting}"

    def check(self, profile_set: ProfileSet, *, source: str, limit: int = MAX_PROBLEMS) -> None:
        """Raise :class:`~profilespawner.errors.ProfileValidationError` when a
        profile or size of ``profile_set`` (one source's, named ``source``)
        asks for more than this policy allows; ``errors`` holds every problem,
        up to ``limit``."""
        errors: list[ProfileValidationError] = []
        truncated = False
        for label, settings in _entries(profile_set):
            for reference in references(settings):
                problem = self.problem(reference)
                if problem is None:
                    continue
                if len(errors) >= limit:
                    truncated = True
                    break
                errors.append(
                    ProfileValidationError(problem, source=source, profile=label, field=reference.field)
                )
        if errors:
            first = errors[0]
            raise ProfileValidationError(
                first.problem,
                source=source,
                profile=first.profile,
                field=first.field,
                errors=tuple(errors),
                truncated=truncated,
            )

    def _describe_secrets(self) -> str:
        if not self.allowed_secrets:
            return "it allows none"
        shown = ", ".join(quote(p) for p in self.allowed_secrets[:_SHOWN_PATTERNS])
        more = ", ..." if len(self.allowed_secrets) > _SHOWN_PATTERNS else ""
        return f"it allows {shown}{more}"


#: The policy of the default settings.
DEFAULT_POLICY = Policy()


def _entries(profile_set: ProfileSet) -> Iterator[tuple[str, PodSettings]]:
    """(label as validation messages write it, settings) of every profile and size."""
    for profile in profile_set.profiles:
        label = f"profile {quote(profile.name)}" if profile.name else f"profile #{profile.index + 1}"
        yield label, profile.settings
    for size in profile_set.sizes.values():
        yield f"size {quote(size.name)}", size.settings


# -- the settings' own rules ---------------------------------------------------------


def volume_type_problems(names: Iterable[str]) -> list[str]:
    """What is wrong with a value of ``allowed_volume_types``: every name that
    is not a volume type (with the one it probably means)."""
    by_lower = {name.lower(): name for name in VOLUME_TYPES}
    problems = []
    for name in names:
        if name in VOLUME_TYPES:
            continue
        close = by_lower.get(name.lower()) or next(
            iter(difflib.get_close_matches(name, sorted(VOLUME_TYPES), n=1)), None
        )
        hint = f" (did you mean {close!r}?)" if close else ""
        problems.append(f"{quote(name)} is not a volume type or a projected volume source{hint}")
    return problems


def secret_pattern_problems(patterns: Iterable[str]) -> list[str]:
    """What is wrong with a value of ``allowed_secrets``: every pattern that
    can match no Secret name."""
    problems = []
    for pattern in patterns:
        if not _SECRET_PATTERN.fullmatch(pattern):
            problems.append(
                f"{quote(pattern)} is not a pattern of Secret names (lower-case letters, digits, "
                "'-' and '.', with the wildcards '*', '?' and '[...]')"
            )
    return problems
