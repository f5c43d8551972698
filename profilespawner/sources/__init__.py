"""Where profile documents come from: files, and ConfigMaps through the API.

Each source keeps, per document, the last version that validated (see
:class:`~profilespawner.sources.book.SourceBook`); the profile engine only ever
sees validated :class:`~profilespawner.model.ProfileSet` objects.
"""

from .book import SourceBook, SourceState
from .configmaps import ON_API_UNAVAILABLE, ConfigMapSource
from .files import FileSource

__all__ = [
    "ON_API_UNAVAILABLE",
    "ConfigMapSource",
    "FileSource",
    "SourceBook",
    "SourceState",
]
