"""Profile documents as the sources hold them: pure rules, no I/O.

Where a ConfigMap keeps its profiles (the ``configmap_key`` of its ``data``:
:func:`profile_text`, :func:`parse_configmap`), what a profile file holds
(:func:`read_file`), in which order ConfigMaps apply (:func:`source_order`,
SPEC §2), how two versions of one ConfigMap compare
(:func:`compare_resource_versions`), and how a file's version reads on a pod
(:func:`file_version`, SPEC §8). The hub's sources (:mod:`.files`,
:mod:`.configmaps`) and the tools (``validate``, ``render``, ``explain``)
share them, so that a file or a ConfigMap reads the same in the hub as in the
tools.

A file holds a profile document, or ConfigMap manifests: one ConfigMap, a
``kind: List`` or ``ConfigMapList`` of them, or several YAML documents, as
jupyterhub-singleuser-profiles' static files and ``kubectl get -o yaml`` hold
them. Their profiles (under ``configmap_key``) are read in order, a later
ConfigMap's sizes and gpuTypes replacing an earlier one's as in the cluster;
a ConfigMap without the key (``kube-root-ca.crt``) is skipped, an object of
another kind is an error. The file is one source: one version, one verdict,
its ConfigMaps named inside it in messages (``path (ConfigMap 'name')``).
Messages quote keys and names, never values.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ProfileError, ProfileSyntaxError, ProfileValidationError, ProfileWarning, quote
from ..model import DEFAULT_MOUNT_PATH, ProfileSet
from ..parse import (
    LoadedDocument,
    ParsedDocument,
    load_documents,
    parse_document,
    parse_loaded,
    release_loaded,
)
from ..policy import DEFAULT_POLICY, Policy

__all__ = [
    "CONFIGMAP_LISTS",
    "DEFAULT_CONFIGMAP_KEY",
    "FilePart",
    "FileReading",
    "compare_resource_versions",
    "configmap_in_file",
    "file_version",
    "parse_configmap",
    "profile_text",
    "read_file",
    "source_order",
]

#: Where a ConfigMap holds the profiles YAML (``SingleuserProfiles.configmap_key``'s
#: default, the key jupyterhub-singleuser-profiles used).
DEFAULT_CONFIGMAP_KEY = "jupyterhub-singleuser-profiles.yaml"

#: The kinds of a list of ConfigMaps a file may hold: ``kubectl get -o yaml``
#: writes a ``List``, the API a ``ConfigMapList``.
CONFIGMAP_LISTS = ("List", "ConfigMapList")

_RESOURCE_VERSION = re.compile(r"[1-9][0-9]*")


def source_order(named: str | None, labelled: Iterable[str]) -> list[str]:
    """ConfigMap names in precedence order (later overrides earlier).

    ``named`` is the named ConfigMap when it exists (``None`` otherwise); it
    comes first and is not repeated when it also carries the label.
    """
    head = [named] if named else []
    return head + sorted({name for name in labelled if name != named})


def compare_resource_versions(a: object, b: object) -> int | None:
    """Order two resourceVersions of one object: < 0 when ``a`` is older, 0 when
    equal, > 0 when newer; None when either is not a positive decimal integer.

    Kubernetes 1.35 made resourceVersions comparable this way (KEP-5504); etcd
    revisions, which every earlier API server uses, always were.
    """
    if not (
        isinstance(a, str)
        and isinstance(b, str)
        and _RESOURCE_VERSION.fullmatch(a)
        and _RESOURCE_VERSION.fullmatch(b)
    ):
        return None
    if len(a) != len(b):
        return len(a) - len(b)
    return (a > b) - (a < b)


def file_version(content: bytes) -> str:
    """The version of a file's content as a pod records it: ``sha256:`` and
    the first 16 hex digits of its SHA-256 (64 bits: a collision between two
    edits of one file is not a concern)."""
    return "sha256:" + hashlib.sha256(content).hexdigest()[:16]


def profile_text(configmap: Mapping[str, Any], *, key: str, source: str) -> str:
    """The profiles YAML of a ConfigMap (a JSON dict), or a :class:`ProfileError`
    saying why there is none. Quotes key names, never values."""
    data = configmap.get("data")
    if isinstance(data, Mapping) and key in data:
        text = data[key]
        if not isinstance(text, str):
            raise ProfileValidationError("must be a string", source=source, field=f"data.{key}")
        return text
    binary = configmap.get("binaryData")
    if isinstance(binary, Mapping) and key in binary:
        raise ProfileValidationError(
            f"the key {key!r} is in binaryData; put the profiles YAML in data (text) instead",
            source=source,
            field="binaryData",
        )
    if not isinstance(data, Mapping) or not data:
        raise ProfileValidationError(
            f"the ConfigMap has no data; expected the profiles YAML under the key {key!r} "
            f"(SingleuserProfiles.configmap_key)",
            source=source,
            field="data",
        )
    keys = sorted(str(k) for k in data)
    shown = ", ".join(quote(k) for k in keys[:10]) + (", ..." if len(keys) > 10 else "")
    raise ProfileValidationError(
        f"no key {key!r} (SingleuserProfiles.configmap_key); the ConfigMap has {shown}",
        source=source,
        field="data",
    )


def parse_configmap(
    configmap: Mapping[str, Any],
    *,
    key: str,
    source: str,
    default_mount_path: str = DEFAULT_MOUNT_PATH,
    policy: Policy = DEFAULT_POLICY,
) -> ParsedDocument | ProfileError:
    """Parse and validate a ConfigMap's profiles and hold them to ``policy``;
    a problem is returned, not raised.

    Slow on big documents: call it in a worker thread.
    """
    try:
        text = profile_text(configmap, key=key, source=source)
        return parse_document(text, source=source, default_mount_path=default_mount_path, policy=policy)
    except ProfileError as e:
        return e


# -- files ------------------------------------------------------------------------


def configmap_in_file(path: str, name: str) -> str:
    """How messages name a ConfigMap held in the file at ``path``."""
    return f"{path} (ConfigMap {quote(name)})"


@dataclass(frozen=True)
class FilePart:
    """One profiles document of a file: the file itself, or a ConfigMap in it.

    ``location`` says where in the file the ConfigMap is, for tools that point
    at lines: the index of its YAML document, then the keys to it inside
    (``("items", 2)`` in a List); empty for a profile document. ``text`` is
    the ConfigMap's profiles YAML (None for a profile document: the file is).
    """

    source: str
    result: ParsedDocument | ProfileError
    configmap: str | None = None
    location: tuple[int | str, ...] = ()
    text: str | None = None


@dataclass(frozen=True)
class FileReading:
    """What a profile file holds, read as the hub reads it (:func:`read_file`).

    ``error`` is a problem of the file as a whole (its YAML, an object of
    another kind); ``parts`` are its profile documents, each with its own
    outcome; ``skipped`` the ConfigMaps in it without the key, and
    ``other_keys`` the keys these have. ``text`` is what was read.
    """

    path: str
    key: str
    text: str | bytes = b""
    parts: tuple[FilePart, ...] = ()
    error: ProfileError | None = None
    skipped: tuple[str, ...] = ()
    other_keys: tuple[str, ...] = ()

    @property
    def content_version(self) -> str | None:
        """How the content read reads on a pod (:func:`file_version`); None
        when the file could not be read."""
        if self.error is not None and not self.text:
            return None
        text = self.text.encode() if isinstance(self.text, str) else self.text
        return file_version(text)

    @property
    def manifests(self) -> bool:
        """The file holds ConfigMap manifests (not a profile document)."""
        return bool(self.skipped) or any(p.configmap is not None for p in self.parts)

    @property
    def result(self) -> ParsedDocument | ProfileError:
        """The file's one verdict: its first error, or its profiles, all
        ConfigMaps together in order, with every warning."""
        if self.error is not None:
            return self.error
        for part in self.parts:
            if isinstance(part.result, ProfileError):
                return part.result
        parsed = [p.result for p in self.parts if isinstance(p.result, ParsedDocument)]
        if len(parsed) == 1 and not self.manifests:
            return parsed[0]
        warnings = tuple(w for p in parsed for w in p.warnings)
        if not parsed:
            keys = ", ".join(quote(k) for k in self.other_keys[:10]) + (
                ", ..." if len(self.other_keys) > 10 else ""
            )
            warnings += (
                ProfileWarning(
                    f"no ConfigMap in it has the key {self.key!r} (SingleuserProfiles.configmap_key), "
                    f"so it defines no profiles" + (f"; its ConfigMaps have {keys}" if keys else ""),
                    source=self.path,
                ),
            )
        return ParsedDocument(ProfileSet.combine([p.profile_set for p in parsed]), warnings)


def read_file(
    text: str | bytes,
    *,
    path: str,
    key: str = DEFAULT_CONFIGMAP_KEY,
    default_mount_path: str = DEFAULT_MOUNT_PATH,
    policy: Policy = DEFAULT_POLICY,
) -> FileReading:
    """Read the profile file at ``path`` (its ``text``): a profile document
    or ConfigMap manifests (see the module's docstring), every profile
    document parsed, validated and held to ``policy``. Problems are returned,
    never raised.

    Slow on big documents: call it in a worker thread.
    """
    try:
        documents = [d for d in load_documents(text, source=path) if d.data is not None] or [
            LoadedDocument(None)
        ]
        if not any(_is_object(d.data) for d in documents):
            if len(documents) > 1:
                raise ProfileSyntaxError(
                    "a second YAML document: a file holds one profile document, or ConfigMap "
                    "manifests (several documents of them are fine)",
                    source=path,
                    line=documents[1].line,
                    column=1,
                )
            parsed: ParsedDocument | ProfileError = parse_loaded(
                documents[0], source=path, default_mount_path=default_mount_path, policy=policy
            )
            release_loaded(documents)
            return FileReading(path, key, text, (FilePart(path, parsed),))
        configmaps = _configmaps(documents, path)
    except ProfileError as e:
        return FileReading(path, key, text, error=e)
    parts = []
    skipped = []
    other_keys: set[str] = set()
    for location, configmap in configmaps:
        name = _configmap_name(configmap, location)
        source = configmap_in_file(path, name)
        data, binary = configmap.get("data"), configmap.get("binaryData")
        if not (isinstance(data, Mapping) and key in data) and not (
            isinstance(binary, Mapping) and key in binary
        ):
            skipped.append(name)
            if isinstance(data, Mapping):
                other_keys.update(str(k) for k in data)
            continue
        try:
            profiles = profile_text(configmap, key=key, source=source)
        except ProfileError as e:
            parts.append(FilePart(source, e, name, location))
            continue
        result = _parse_text(profiles, source=source, default_mount_path=default_mount_path, policy=policy)
        parts.append(FilePart(source, result, name, location, profiles))
    return FileReading(
        path, key, text, tuple(parts), skipped=tuple(skipped), other_keys=tuple(sorted(other_keys))
    )


def _parse_text(
    text: str, *, source: str, default_mount_path: str, policy: Policy
) -> ParsedDocument | ProfileError:
    try:
        return parse_document(text, source=source, default_mount_path=default_mount_path, policy=policy)
    except ProfileError as e:
        return e


def _is_object(data: Any) -> bool:
    """A Kubernetes object (it has a ``kind``; a profile document never has)."""
    return isinstance(data, dict) and "kind" in data


def _configmaps(
    documents: list[LoadedDocument], path: str
) -> list[tuple[tuple[int | str, ...], Mapping[str, Any]]]:
    """(location, ConfigMap) of every ConfigMap of a file of manifests, in order."""
    several = len(documents) > 1
    found: list[tuple[tuple[int | str, ...], Mapping[str, Any]]] = []
    for index, document in enumerate(documents):
        where = f"document {index + 1}" if several else ""
        data = document.data
        if not _is_object(data):
            raise ProfileValidationError(
                f"is {'not a Kubernetes object' if data is not None else 'empty'}, in a file of "
                "ConfigMap manifests (a profile document is a file of its own)",
                source=path,
                profile=where,
            )
        kind = data["kind"]
        if kind == "ConfigMap":
            found.append(((index,), data))
        elif kind in CONFIGMAP_LISTS:
            items = data.get("items") or []
            if not isinstance(items, list):
                raise ProfileValidationError("must be a list", source=path, profile=where, field="items")
            for i, item in enumerate(items):
                # A ConfigMapList's items have no kind; a List's have theirs.
                if not isinstance(item, dict) or item.get("kind", "ConfigMap") != "ConfigMap":
                    raise ProfileValidationError(
                        f"{_what(item)}: a profile file holds profiles, or ConfigMaps",
                        source=path,
                        profile=where,
                        field=f"items[{i}]",
                    )
                found.append(((index, "items", i), item))
        else:
            raise ProfileValidationError(
                f"{_what(data)}: a profile file holds profiles, or ConfigMaps (one, a List of "
                "them, or several documents)",
                source=path,
                profile=where,
            )
    return found


def _what(item: Any) -> str:
    if isinstance(item, dict) and isinstance(item.get("kind"), str):
        return f"an object of kind {quote(item['kind'])}"
    return "not a Kubernetes object"


def _configmap_name(configmap: Mapping[str, Any], location: tuple[int | str, ...]) -> str:
    metadata = configmap.get("metadata")
    name = metadata.get("name") if isinstance(metadata, Mapping) else None
    if isinstance(name, str) and name:
        return name
    position = location[-1] if len(location) > 1 else location[0]
    return f"#{int(position) + 1}"
