"""Profile documents from YAML files, re-read when their modification time changes.

A ConfigMap mounted as a volume updates its files in place (an atomic symlink
swap), which changes what ``stat`` reports; so does an editor. Reading and
parsing happen in a worker thread, never on the hub's event loop, without
the garbage collector's full collections (:mod:`.collector`). A missing
file is not an error: it simply defines nothing (debug log). What a file may
hold -- a profile document, or ConfigMap manifests -- and how it reads is
:func:`~profilespawner.sources.documents.read_file`'s, which the tools use too.
A file's version on a pod is the hash of the content read
(:func:`~.documents.file_version`), whatever its modification time.

The files are checked at most once per ``check_interval`` (one second in the
hub, :data:`CHECK_INTERVAL`): a spawn within that time of the last check uses
what that check found, without a trip to a worker thread. An edit therefore
takes effect at most that long after it is made.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Hashable, Sequence

from ..errors import ProfileError
from ..model import ProfileSet
from ..parse import MAX_DOCUMENT_BYTES
from ..policy import DEFAULT_POLICY, Policy
from .book import SourceBook, SourceStatus
from .collector import parse_uncollected
from .documents import DEFAULT_CONFIGMAP_KEY, FileReading, read_file

__all__ = ["CHECK_INTERVAL", "FileSource", "read_path", "record_reading"]

#: Seconds between two checks of the files for changes, in the hub.
CHECK_INTERVAL = 1.0


def _version(path: str) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def read_path(path: str, *, key: str, default_mount_path: str, policy: Policy) -> FileReading:
    """Read the profile file at ``path`` as the hub does; blocking."""
    try:
        with open(path, "rb") as f:
            # A byte more than a document may have is enough to refuse it.
            text = f.read(MAX_DOCUMENT_BYTES + 1)
    except OSError as e:
        return FileReading(path, key, error=ProfileError(f"cannot be read ({e.strerror})", source=path))
    return read_file(text, path=path, key=key, default_mount_path=default_mount_path, policy=policy)


def record_reading(book: SourceBook, version: Hashable, reading: FileReading) -> None:
    """Record ``version`` of a file's reading in ``book``, logged as the hub
    logs it (once per version: loaded or rejected, its warnings, the
    ConfigMaps it skips)."""
    if book.record(reading.path, version, reading.result, content_version=reading.content_version):
        for name in reading.skipped:
            book.log.debug(
                "Profile file %s: ConfigMap %r has no key %r; skipping it", reading.path, name, reading.key
            )


class FileSource:
    """The documents in ``paths``, in the listed order; one that asks for more
    than ``policy`` allows is rejected like an invalid one. ``key`` is where
    a ConfigMap held in a file keeps its profiles."""

    def __init__(
        self,
        paths: Sequence[str],
        *,
        default_mount_path: str,
        log: logging.Logger | logging.LoggerAdapter[logging.Logger],
        policy: Policy = DEFAULT_POLICY,
        key: str = DEFAULT_CONFIGMAP_KEY,
        check_interval: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.paths = list(paths)
        self.check_interval = check_interval
        self._clock = clock
        self._checked_at: float | None = None
        self._sets: list[ProfileSet] = []
        self.key = key
        self.default_mount_path = default_mount_path
        self.policy = policy
        self.log = log
        self.book = SourceBook(log)
        self._missing: set[str] = set()
        self._lock = asyncio.Lock()

    async def profile_sets(self) -> list[ProfileSet]:
        """Re-read what changed since the last check (at most one check per
        ``check_interval``); return the valid sets in order."""
        if not self.paths:
            return []
        checked_at = self._checked_at
        if checked_at is not None and self._clock() - checked_at < self.check_interval:
            return list(self._sets)
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
                reading = await asyncio.to_thread(
                    parse_uncollected,
                    read_path,
                    path,
                    key=self.key,
                    default_mount_path=self.default_mount_path,
                    policy=self.policy,
                )
                record_reading(self.book, version, reading)
            self._sets = self.book.profile_sets(self.paths)
            self._checked_at = self._clock()
            return list(self._sets)

    def statuses(self) -> list[SourceStatus]:
        """Each file as last read (by :meth:`profile_sets`), in the listed order;
        one that does not exist (or was never read) is ``missing``."""
        return [self.book.status(path) or SourceStatus(path, "missing") for path in self.paths]
