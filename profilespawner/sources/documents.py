"""Profile documents as the sources hold them: pure rules, no I/O.

Where a ConfigMap keeps its profiles (the ``configmap_key`` of its ``data``:
:func:`profile_text`, :func:`parse_configmap`), in which order ConfigMaps
apply (:func:`source_order`, SPEC §2), how two versions of one ConfigMap
compare (:func:`compare_resource_versions`), and how a file's version reads
on a pod (:func:`file_version`, SPEC §8). The hub's ConfigMap cache
(:mod:`.configmaps`) and the tools that read a cluster or a manifest file
once share them, so that both read a ConfigMap the same way. Messages quote
keys and names, never values.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import ProfileError, ProfileValidationError, quote
from ..model import DEFAULT_MOUNT_PATH
from ..parse import ParsedDocument, parse_document
from ..policy import DEFAULT_POLICY, Policy

__all__ = [
    "DEFAULT_CONFIGMAP_KEY",
    "compare_resource_versions",
    "file_version",
    "parse_configmap",
    "profile_text",
    "source_order",
]

#: Where a ConfigMap holds the profiles YAML (``SingleuserProfiles.configmap_key``'s
#: default, the key jupyterhub-singleuser-profiles used).
DEFAULT_CONFIGMAP_KEY = "jupyterhub-singleuser-profiles.yaml"

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
