"""Where profile documents come from: files (:mod:`.files`), and ConfigMaps
(:mod:`.configmaps`) through the Kubernetes API (:mod:`.kubeapi`, the only
module that calls it).

Each source keeps, per document, the last version that validated
(:class:`~profilespawner.sources.book.SourceBook`); the profile engine only ever
sees validated :class:`~profilespawner.model.ProfileSet` objects. What a
document is -- the profiles YAML of a ConfigMap, the order of ConfigMaps, the
order of their versions -- is pure and lives in :mod:`.documents`. Import the
modules themselves: this package's ``__init__`` imports none of them, so that
reading a file never loads the Kubernetes client.
"""

__all__: list[str] = []
