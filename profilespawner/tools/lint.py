"""Every problem of a profile document, with its line, for tools (the CLI, CI).

The hub needs only the first problem of a source; a person fixing a file wants
all of them, each with a line to jump to. This module turns the
:class:`~profilespawner.errors.ProfileError` raised by
:func:`~profilespawner.parse.parse_document` (whose ``errors`` hold every
problem) and its warnings into :class:`Problem` records. Validation errors carry
a profile and a field path but no line, so the line is found by walking the
document again with ruamel.yaml's round-trip loader, which keeps positions.
A file may also be a ConfigMap manifest (``kind: ConfigMap``), as kept in git
for ``kubectl apply``: then the profiles YAML under ``data[configmap_key]`` is
checked, as the hub will read it from the cluster, and lines point into the
manifest. A ConfigMap read from the cluster (:func:`check_configmap`) is named
``namespace/name``, and its lines count in the profiles YAML of its key. Like
every message of the package, a problem quotes keys and names, never values.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import LiteralScalarString

from ..errors import ProfileError, ProfileSyntaxError, ProfileValidationError
from ..model import DEFAULT_MOUNT_PATH, ProfileSet
from ..parse import MAX_DOCUMENT_BYTES, load_yaml, parse_document
from ..policy import DEFAULT_POLICY, Policy
from ..sources.documents import DEFAULT_CONFIGMAP_KEY, file_version, profile_text

__all__ = ["FileReport", "Problem", "check_configmap", "check_file", "check_text"]

Severity = Literal["error", "warning"]

_SECTIONS = {"profile": "profiles", "size": "sizes", "gpuType": "gpuTypes", "budget": "budgets"}
_ENTRY = re.compile(r"^(?P<kind>profile|size|gpuType|budget) (?:#(?P<index>\d+)|(?P<name>'.*'|\".*\"))$")
_QUOTED = re.compile(r"'([^']*)'")


@dataclass(frozen=True)
class Problem:
    """One error or warning, located as precisely as the document allows.

    ``line`` and ``column`` count from 1; either may be ``None`` when the
    position is unknown (a file that cannot be read, a warning).
    """

    severity: Severity
    source: str
    problem: str
    profile: str = ""
    field: str = ""
    line: int | None = None
    column: int | None = None

    @property
    def message(self) -> str:
        """The message as the hub logs it: source, profile, field, problem."""
        return ": ".join(p for p in (self.source, self.profile, self.field, self.problem) if p)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (for ``--format json``)."""
        return {**asdict(self), "message": self.message}

    def __str__(self) -> str:
        # file:line:column: severity: ... -- the form editors and CI annotate from
        where = self.source
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        detail = ": ".join(p for p in (self.profile, self.field, self.problem) if p)
        return f"{where}: {self.severity}: {detail}"


@dataclass(frozen=True)
class FileReport:
    """The outcome of checking one document: its problems and, if valid, its contents.

    ``configmap`` is the ConfigMap's name when the file is a ConfigMap manifest.
    ``version`` is the version of the content checked as a pod records it
    (SPEC §8: ``sha256:...`` of a file, a ConfigMap's resourceVersion; ``""``
    for text of no known source); a valid ``profile_set`` carries it.
    """

    source: str
    problems: tuple[Problem, ...] = ()
    profile_set: ProfileSet | None = None
    configmap: str | None = None
    version: str = ""

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "warning")


def check_text(
    text: str | bytes,
    *,
    source: str,
    default_mount_path: str = DEFAULT_MOUNT_PATH,
    configmap_key: str = DEFAULT_CONFIGMAP_KEY,
    policy: Policy = DEFAULT_POLICY,
) -> FileReport:
    """Validate one document's text, hold it to ``policy`` as the hub does, and
    report every problem, with lines.

    A ConfigMap manifest is checked by its ``data[configmap_key]``.
    """
    manifest = _configmap_manifest(text)
    if manifest is not None:
        return _check_manifest(manifest, text, source, default_mount_path, configmap_key, policy)
    return _check_profiles(text, source, default_mount_path, policy)


def check_configmap(
    configmap: Mapping[str, Any],
    *,
    source: str,
    key: str = DEFAULT_CONFIGMAP_KEY,
    default_mount_path: str = DEFAULT_MOUNT_PATH,
    policy: Policy = DEFAULT_POLICY,
) -> FileReport:
    """Validate a ConfigMap as read from the cluster (a JSON dict), as the hub
    does, ``policy`` included.

    ``source`` is its ``namespace/name``. Lines and columns count in the
    profiles YAML under ``data[key]``.
    """
    metadata = configmap.get("metadata")
    version = str(metadata.get("resourceVersion") or "") if isinstance(metadata, Mapping) else ""
    try:
        text = profile_text(configmap, key=key, source=source)
    except ProfileError as e:
        return FileReport(source, (Problem("error", source, e.problem, field=e.field),), version=version)
    return _versioned(_check_profiles(text, source, default_mount_path, policy), version)


def _versioned(report: FileReport, version: str) -> FileReport:
    """``report`` of the content at ``version`` of its source."""
    if not version:
        return report
    profile_set = report.profile_set.versioned(report.source, version) if report.profile_set else None
    return replace(report, profile_set=profile_set, version=version)


def _check_profiles(text: str | bytes, source: str, default_mount_path: str, policy: Policy) -> FileReport:
    """Every problem of a profiles document (never read as a manifest: the hub does not)."""
    try:
        parsed = parse_document(text, source=source, default_mount_path=default_mount_path, policy=policy)
    except ProfileSyntaxError as e:
        return FileReport(
            source,
            (Problem("error", source, e.problem, line=e.line, column=e.column),),
        )
    except ProfileValidationError as e:
        tree = _positions_tree(text)
        problems = []
        for error in e.errors:
            line, column = _position(tree, error) if tree is not None else (None, None)
            problems.append(
                Problem(
                    "error",
                    source,
                    error.problem,
                    profile=error.profile,
                    field=error.field,
                    line=line,
                    column=column,
                )
            )
        # in document order, as an editor lists them
        problems.sort(key=lambda p: (p.line is None, p.line or 0, p.column or 0))
        return FileReport(source, tuple(problems))
    warnings = tuple(Problem("warning", source, _strip_source(w, source)) for w in parsed.warnings)
    return FileReport(source, warnings, parsed.profile_set)


def check_file(
    path: str,
    *,
    default_mount_path: str = DEFAULT_MOUNT_PATH,
    configmap_key: str = DEFAULT_CONFIGMAP_KEY,
    policy: Policy = DEFAULT_POLICY,
) -> FileReport:
    """Read and validate the YAML file at ``path`` (:func:`check_text`); a
    missing file is an error here."""
    try:
        with open(path, "rb") as f:
            text = f.read(MAX_DOCUMENT_BYTES + 1)  # enough to refuse a larger one
    except OSError as e:
        return FileReport(path, (Problem("error", path, f"cannot be read ({e.strerror})"),))
    report = check_text(
        text, source=path, default_mount_path=default_mount_path, configmap_key=configmap_key, policy=policy
    )
    return _versioned(report, file_version(text))


def _strip_source(message: str, source: str) -> str:
    prefix = source + ": "
    return message[len(prefix) :] if message.startswith(prefix) else message


# -- ConfigMap manifests -------------------------------------------------------------


def _configmap_manifest(text: str | bytes) -> Mapping[str, Any] | None:
    """The manifest, when ``text`` is one ConfigMap object; else None."""
    # A cheap look first: most files are profiles, not manifests.
    head = text[:4096].decode("utf-8", "replace") if isinstance(text, bytes) else text[:4096]
    if "ConfigMap" not in head:
        return None
    # The loader that keeps positions is recursive and unbounded: only a
    # document the hub's bounded loader accepts gets to it.
    try:
        data = load_yaml(text, source="")
    except ProfileError:
        return None  # reported as the profiles document it then is
    if not (isinstance(data, dict) and data.get("kind") == "ConfigMap"):
        return None
    tree = _positions_tree(text)
    if isinstance(tree, Mapping) and tree.get("kind") == "ConfigMap" and "apiVersion" in tree:
        return tree
    return None


def _check_manifest(
    manifest: Mapping[str, Any],
    text: str | bytes,
    source: str,
    default_mount_path: str,
    key: str,
    policy: Policy,
) -> FileReport:
    metadata = manifest.get("metadata")
    name = str(metadata.get("name", "")) if isinstance(metadata, Mapping) else ""
    try:
        profiles = str(profile_text(manifest, key=key, source=source))  # a plain str for the C loader
    except ProfileError as e:
        line, column = _position(manifest, e)
        return FileReport(
            source,
            (Problem("error", source, e.problem, field=e.field, line=line, column=column),),
            configmap=name,
        )
    report = _check_profiles(profiles, source, default_mount_path, policy)
    data = manifest["data"]
    where = _where(data, key)
    if isinstance(data[key], LiteralScalarString) and where is not None:
        # a literal block (key: |): its lines are the manifest's, indented
        lines = (text.decode("utf-8", "replace") if isinstance(text, bytes) else text).splitlines()
        body = [line for line in lines[where[0] :] if line.strip()]
        indent = len(body[0]) - len(body[0].lstrip(" ")) if body else 0
        problems = tuple(_moved(p, where[0], indent) for p in report.problems)
    else:
        # a quoted or folded string: its lines are not the manifest's
        problems = tuple(_moved(p, None, 0) for p in report.problems)
    return FileReport(source, problems, report.profile_set, configmap=name)


def _moved(problem: Problem, key_line: int | None, indent: int) -> Problem:
    """``problem`` with its position in the embedded text moved into the manifest."""
    if problem.line is None:
        return problem
    line = problem.line + key_line if key_line is not None else None
    column = problem.column + indent if line is not None and problem.column is not None else None
    return Problem(
        problem.severity, problem.source, problem.problem, problem.profile, problem.field, line, column
    )


# -- positions -------------------------------------------------------------------


def _positions_tree(text: str | bytes) -> Any:
    # Only reached for documents that parsed safely (size-checked, no tags), so
    # the round-trip loader, which keeps every node's line and column, is safe.
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        return YAML(typ="rt", pure=True).load(text)
    except (YAMLError, UnicodeDecodeError):
        return None


def _where(node: Any, key: Any) -> tuple[int, int] | None:
    lc = getattr(node, "lc", None)
    if lc is None:
        return None
    try:
        line, column = lc.item(key) if isinstance(node, list) else lc.key(key)
    except (KeyError, IndexError, TypeError):
        return None
    return line + 1, column + 1


def _entry(tree: Any, label: str) -> tuple[Any, Any] | None:
    """The section list and index of ``profile 'X'`` / ``size #2`` / ..., or None."""
    match = _ENTRY.match(label)
    if match is None:
        return None
    section_name = _SECTIONS[match["kind"]]
    if isinstance(tree, list):
        section = tree if section_name == "profiles" else None
    else:
        section = tree.get(section_name) if isinstance(tree, Mapping) else None
    if not isinstance(section, list):
        return None
    if match["index"] is not None:
        index = int(match["index"]) - 1
        return (section, index) if 0 <= index < len(section) else None
    name = ast.literal_eval(match["name"])
    key = "type" if section_name == "gpuTypes" else "name"
    for index, item in enumerate(section):
        if isinstance(item, Mapping) and item.get(key) == name:
            return section, index
    return None


def _position(tree: Any, error: ProfileError) -> tuple[int | None, int | None]:
    """Line and column of the node an error is about: as deep as its field path goes."""
    node = tree
    best: tuple[int, int] | None = None
    if error.profile:
        found = _entry(tree, error.profile)
        if found is None:
            return None, None
        section, index = found
        best = _where(section, index)
        node = section[index]
    node, best = _walk(node, error.field, best)
    # "unknown key 'x'", "'x' is not a valid label key": point at that key
    if isinstance(node, Mapping):
        for quoted in _QUOTED.findall(error.problem):
            if quoted in node:
                best = _where(node, quoted) or best
                break
    return best if best is not None else (None, None)


def _walk(node: Any, field: str, best: tuple[int, int] | None) -> tuple[Any, tuple[int, int] | None]:
    """Follow ``env[0].name`` or ``node_selector.kubernetes.io/arch`` through the tree.

    Keys may themselves contain dots, so at each mapping the longest key that
    prefixes the rest of the path wins.
    """
    rest = field
    while rest:
        if isinstance(node, Sequence) and not isinstance(node, str):
            match = re.match(r"^\[(\d+)\]\.?", rest)
            if match is None or int(match[1]) >= len(node):
                break
            index = int(match[1])
            best = _where(node, index) or best
            node, rest = node[index], rest[match.end() :]
        elif isinstance(node, Mapping):
            keys = [
                k for k in node if isinstance(k, str) and (rest == k or rest.startswith((k + ".", k + "[")))
            ]
            if not keys:
                break
            key = max(keys, key=len)
            best = _where(node, key) or best
            node, rest = node[key], rest[len(key) :].removeprefix(".")
        else:
            break
    return node, best
