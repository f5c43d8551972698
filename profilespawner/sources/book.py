"""Last-valid bookkeeping shared by every kind of source.

A document that fails to parse or validate is rejected as a whole: its error is
logged once per version (never its content), its last valid version stays in
effect if there was one, and the other documents are untouched. Sources decide
*when* a document changed (file modification time, ConfigMap resourceVersion);
this module decides what a change means.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

from .. import metrics
from ..errors import ProfileError
from ..model import ProfileSet
from ..validate import ParsedDocument

__all__ = ["SourceBook", "SourceState"]


@dataclass
class SourceState:
    """What is known of one document (a file or a ConfigMap)."""

    name: str
    version: Hashable = None
    valid: ProfileSet | None = None
    valid_version: Hashable = None
    error: ProfileError | None = None


class SourceBook:
    """The states of a family of documents, keyed by their names."""

    def __init__(self, log: logging.Logger | logging.LoggerAdapter[logging.Logger]) -> None:
        self.log = log
        self.states: dict[str, SourceState] = {}

    def is_current(self, name: str, version: Hashable) -> bool:
        """True when ``version`` of ``name`` has been recorded already."""
        state = self.states.get(name)
        return state is not None and state.version == version

    def record(self, name: str, version: Hashable, result: ParsedDocument | ProfileError) -> None:
        """Record the outcome of parsing ``version`` of ``name``; log it once."""
        state = self.states.setdefault(name, SourceState(name))
        state.version = version
        if isinstance(result, ProfileError):
            metrics.SOURCE_REJECTIONS.labels(name).inc()
            metrics.SOURCE_VALID.labels(name).set(0)
            state.error = result
            kept = "keeping its last valid version" if state.valid is not None else "it is not used"
            self.log.error("Rejected profile source %s (%s): %s", name, kept, result)
            return
        metrics.SOURCE_LOADS.labels(name).inc()
        metrics.SOURCE_VALID.labels(name).set(1)
        state.error = None
        state.valid = result.profile_set
        state.valid_version = version
        for warning in result.warnings:
            self.log.warning("%s", warning)
        self.log.info(
            "Loaded profile source %s: %d profiles, %d sizes, %d GPU types",
            name,
            len(result.profile_set.profiles),
            len(result.profile_set.sizes),
            len(result.profile_set.gpu_types),
        )

    def forget(self, name: str) -> None:
        """``name`` is gone (file deleted, ConfigMap deleted or unlabelled)."""
        if self.states.pop(name, None) is not None:
            metrics.SOURCE_VALID.remove(name)
            self.log.info("Profile source %s is gone; it no longer applies", name)

    def profile_sets(self, names: Iterable[str]) -> list[ProfileSet]:
        """The valid profile sets of ``names``, in that order."""
        return [s.valid for n in names if (s := self.states.get(n)) and s.valid is not None]
