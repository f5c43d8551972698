"""Profile documents from YAML files, re-read when their modification time changes.

A ConfigMap mounted as a volume updates its files in place (an atomic symlink
swap), which changes what ``stat`` reports; so does an editor. Reading and
parsing happen in a worker thread, never on the hub's event loop. A missing
file is not an error: it simply defines nothing (debug log). A file's version
on a pod is the hash of the content read (:func:`~.documents.file_version`),
whatever its modification time.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Sequence

from ..errors import ProfileError
from ..model import ProfileSet
from ..parse import MAX_DOCUMENT_BYTES, ParsedDocument, parse_document
from ..policy import DEFAULT_POLICY, Policy
from .book import SourceBook
from .documents import file_version

__all__ = ["FileSource"]


def _version(path: str) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def _read_and_parse(
    path: str, default_mount_path: str, policy: Policy
) -> tuple[str | None, ParsedDocument | ProfileError]:
    """The version of the content read, and what it gives."""
    try:
        with open(path, "rb") as f:
            # A byte more than a document may have is enough to refuse it.
            text = f.read(MAX_DOCUMENT_BYTES + 1)
    except OSError as e:
        return None, ProfileError(f"cannot be read ({e.strerror})", source=path)
    try:
        return file_version(text), parse_document(
            text, source=path, default_mount_path=default_mount_path, policy=policy
        )
    except ProfileError as e:
        return file_version(text), e


class FileSource:
    """The documents in ``paths``, in the listed order; one that asks for more
    than ``policy`` allows is rejected like an invalid one."""

    def __init__(
        self,
        paths: Sequence[str],
        *,
        default_mount_path: str,
        log: logging.Logger | logging.LoggerAdapter[logging.Logger],
        policy: Policy = DEFAULT_POLICY,
    ) -> None:
        self.paths = list(paths)
        self.default_mount_path = default_mount_path
        self.policy = policy
        self.log = log
        self.book = SourceBook(log)
        self._missing: set[str] = set()
        self._lock = asyncio.Lock()

    async def profile_sets(self) -> list[ProfileSet]:
        """Re-read what changed since the last call; return the valid sets in order."""
        if not self.paths:
            return []
        async with self._lock:
            # One trip to a worker thread for every stat: a slow file system
            # never blocks the loop, and many files do not mean many trips.
            versions = await asyncio.to_thread(lambda: [_version(path) for path in self.paths])
            for path, version in zip(self.paths, versions, strict=True):
                if version is None:
                    if path not in self._missing:
                        self.log.debug("Profile file %s does not exist; skipping it", path)
                        self._missing.add(path)
                    self.book.forget(path)
                    continue
                self._missing.discard(path)
                if self.book.is_current(path, version):
                    continue
                content, result = await asyncio.to_thread(
                    _read_and_parse, path, self.default_mount_path, self.policy
                )
                self.book.record(path, version, result, content_version=content)
            return self.book.profile_sets(self.paths)
