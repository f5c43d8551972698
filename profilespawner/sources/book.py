"""Last-valid bookkeeping shared by every kind of source.

A document that fails to parse or validate is rejected as a whole: its error is
logged once per version (never its content), its last valid version stays in
effect if there was one, and the other documents are untouched. Sources decide
*when* a document changed (file modification time, ConfigMap resourceVersion);
this module decides what a change means.

A document's version only moves forward: when the source can order its
versions (ConfigMap resourceVersions, see ``compare``), a version older than
the one recorded is ignored, so that a late event can never bring an old
version back. The profile set a valid version gives is marked with the
document's name and that version
(:meth:`~profilespawner.model.ProfileSet.versioned`), so that whatever the
set reaches -- a spawn's resolution, a pod's provenance -- knows which version
of which source it holds. A validator failure
(:class:`~profilespawner.errors.ValidatorBugError`) is logged with the
traceback of what failed, its message left out: it may quote a value.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass

from .. import metrics
from ..errors import ProfileError, ValidatorBugError
from ..model import ProfileSet
from ..parse import ParsedDocument

__all__ = ["Compare", "SourceBook", "SourceState"]

#: Orders two versions of one document: < 0 when the first is older, 0 when
#: they are the same, > 0 when it is newer; None when they cannot be ordered.
Compare = Callable[[Hashable, Hashable], int | None]


@dataclass
class SourceState:
    """What is known of one document (a file or a ConfigMap)."""

    name: str
    version: Hashable = None
    valid: ProfileSet | None = None
    valid_version: Hashable = None
    error: ProfileError | None = None


class SourceBook:
    """The states of a family of documents, keyed by their names.

    ``compare`` orders versions; without it (files: a modification time can go
    back) any version other than the recorded one is news.
    """

    def __init__(
        self,
        log: logging.Logger | logging.LoggerAdapter[logging.Logger],
        *,
        compare: Compare | None = None,
    ) -> None:
        self.log = log
        self.compare = compare
        self.states: dict[str, SourceState] = {}

    def is_current(self, name: str, version: Hashable) -> bool:
        """True when ``version`` of ``name``, or a newer one, has been recorded."""
        state = self.states.get(name)
        if state is None:
            return False
        if state.version == version:
            return True
        order = self.compare(version, state.version) if self.compare is not None else None
        return order is not None and order <= 0

    def record(
        self,
        name: str,
        version: Hashable,
        result: ParsedDocument | ProfileError,
        *,
        content_version: str | None = None,
    ) -> bool:
        """Record the outcome of parsing ``version`` of ``name``; log it once.

        ``content_version`` is how the version reads on a pod (SPEC §8) when
        it is not ``version`` itself (a file's is the hash of its content, not
        the modification time that tells it changed).
        Returns False, and changes nothing, when that version or a newer one
        is recorded already.
        """
        if self.is_current(name, version):
            return False
        state = self.states.setdefault(name, SourceState(name))
        state.version = version
        if isinstance(result, ProfileError):
            metrics.SOURCE_REJECTIONS.labels(name).inc()
            metrics.SOURCE_VALID.labels(name).set(0)
            state.error = result
            kept = "keeping its last valid version" if state.valid is not None else "it is not used"
            if isinstance(result, ValidatorBugError) and result.__cause__ is not None:
                self.log.error(
                    "Rejected profile source %s (%s): %s\n%s", name, kept, result, _frames(result.__cause__)
                )
            else:
                self.log.error("Rejected profile source %s (%s): %s", name, kept, result)
            return True
        metrics.SOURCE_LOADS.labels(name).inc()
        metrics.SOURCE_VALID.labels(name).set(1)
        state.error = None
        shown = content_version if content_version is not None else str(version)
        state.valid = result.profile_set.versioned(name, shown)
        state.valid_version = version
        for warning in result.warnings:
            self.log.warning("%s", warning)
        self.log.info(
            "Loaded profile source %s (version %s): %s, %s, %s",
            name,
            shown,
            _count(len(result.profile_set.profiles), "profile"),
            _count(len(result.profile_set.sizes), "size"),
            _count(len(result.profile_set.gpu_types), "GPU type"),
        )
        return True

    def forget(self, name: str) -> None:
        """``name`` is gone (file deleted, ConfigMap deleted or unlabelled)."""
        if self.states.pop(name, None) is not None:
            metrics.SOURCE_VALID.remove(name)
            self.log.info("Profile source %s is gone; it no longer applies", name)

    def profile_sets(self, names: Iterable[str]) -> list[ProfileSet]:
        """The valid profile sets of ``names``, in that order."""
        return [s.valid for n in names if (s := self.states.get(n)) and s.valid is not None]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _frames(error: BaseException) -> str:
    """Where ``error`` was raised, as a traceback whose last line names its
    type but not its message (which may quote the document)."""
    frames = "".join(traceback.format_tb(error.__traceback__))
    return f"Traceback (most recent call last):\n{frames}{type(error).__qualname__} (message not shown)"
