"""Every problem of a profile file, with its line, for tools (the CLI, CI).

The hub needs only a file's verdict; a person fixing it wants every problem,
each with a line to jump to. A file is read exactly as the hub reads it, by
:func:`~profilespawner.sources.documents.read_file` (a profile document or
ConfigMap manifests, held to the hub's policy), and this module turns what
that reading found -- the errors of every profile document in it (a
:class:`~profilespawner.errors.ProfileError` keeps every problem in
``errors``) and, for a valid file, the warnings the hub logs -- into
:class:`Problem` records. Errors and warnings carry a profile and a field
path but no line, so the line is found by walking the document again with
ruamel.yaml's round-trip loader, which keeps positions; in a ConfigMap
manifest, lines point into the manifest when the profiles are a literal
block (``key: |``). A ConfigMap read from the cluster
(:func:`check_configmap`) is named ``namespace/name``, and its lines count in
the profiles YAML of its key. Like every message of the package, a problem
quotes keys and names, never values.
"""

from __future__ import annotations

import ast
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal, Protocol

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import LiteralScalarString

from ..errors import ProfileError, ProfileSyntaxError
from ..model import DEFAULT_MOUNT_PATH, ProfileSet
from ..parse import ParsedDocument
from ..policy import DEFAULT_POLICY, Policy
from ..sources.book import SourceBook
from ..sources.documents import (
    DEFAULT_CONFIGMAP_KEY,
    FilePart,
    FileReading,
    configmap_in_file,
    parse_configmap,
    profile_text,
    read_file,
)
from ..sources.files import read_path, record_reading

__all__ = ["FileReport", "Problem", "check_configmap", "check_file", "check_text"]

Severity = Literal["error", "warning"]

_SECTIONS = {"profile": "profiles", "size": "sizes", "gpuType": "gpuTypes", "budget": "budgets"}
_ENTRY = re.compile(
    r"^(?P<kind>profile|size|gpuType|budget) "
    r"(?:#(?P<index>\d+)|(?P<name>'.*'|\".*\")(?: \(#(?P<position>\d+)\))?)$"
)
_DOCUMENT = re.compile(r"^document (\d+)$")
_QUOTED = re.compile(r"'([^']*)'")


class _Located(Protocol):
    """What an error and a warning both have: the parts of their message."""

    @property
    def source(self) -> str: ...
    @property
    def profile(self) -> str: ...
    @property
    def field(self) -> str: ...
    @property
    def problem(self) -> str: ...


@dataclass(frozen=True)
class Problem:
    """One error or warning, located as precisely as the document allows.

    ``source`` is the file (or ``namespace/name`` of a cluster ConfigMap);
    ``configmap`` names the ConfigMap inside a file that the problem is in.
    ``line`` and ``column`` count from 1; either may be ``None`` when the
    position is unknown (a file that cannot be read). ``logged`` is the
    hub's own message for it, when the hub logs one.
    """

    severity: Severity
    source: str
    problem: str
    profile: str = ""
    field: str = ""
    line: int | None = None
    column: int | None = None
    configmap: str = ""
    logged: str = ""

    @property
    def message(self) -> str:
        """The message as the hub logs it: source, profile, field, problem."""
        if self.logged:
            return self.logged
        source = configmap_in_file(self.source, self.configmap) if self.configmap else self.source
        return ": ".join(p for p in (source, self.profile, self.field, self.problem) if p)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (for ``--format json``)."""
        fields = asdict(self)
        del fields["logged"]
        return {**fields, "message": self.message}

    def __str__(self) -> str:
        # file:line:column: severity: ... -- the form editors and CI annotate from
        where = self.source
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        inside = f"ConfigMap {self.configmap!r}" if self.configmap else ""
        detail = ": ".join(p for p in (inside, self.profile, self.field, self.problem) if p)
        return f"{where}: {self.severity}: {detail}"


@dataclass(frozen=True)
class FileReport:
    """The outcome of checking one file: its problems and, if valid, its contents.

    ``configmaps`` names the ConfigMaps whose profiles a manifest file holds.
    ``version`` is the version of the content checked as a pod records it
    (SPEC §8: ``sha256:...`` of a file, a ConfigMap's resourceVersion; ``""``
    for text of no known source); a valid ``profile_set`` carries it.
    """

    source: str
    problems: tuple[Problem, ...] = ()
    profile_set: ProfileSet | None = None
    configmaps: tuple[str, ...] = ()
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
    """The problems of a profile file's ``text`` (named ``source``), read as
    the hub reads it (``policy`` included), each with its line."""
    reading = read_file(
        text, path=source, key=configmap_key, default_mount_path=default_mount_path, policy=policy
    )
    return _report(reading)


def check_file(
    path: str,
    *,
    default_mount_path: str = DEFAULT_MOUNT_PATH,
    configmap_key: str = DEFAULT_CONFIGMAP_KEY,
    policy: Policy = DEFAULT_POLICY,
    log: logging.Logger | None = None,
) -> FileReport:
    """Read and check the profile file at ``path`` as the hub does
    (:func:`check_text`); a missing file is an error here. With ``log``, the
    reading is also logged there as the hub logs it."""
    reading = read_path(path, key=configmap_key, default_mount_path=default_mount_path, policy=policy)
    if log is not None:
        record_reading(SourceBook(log), None, reading)
    return _versioned(_report(reading), reading.content_version or "")


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
    result = parse_configmap(
        configmap, key=key, source=source, default_mount_path=default_mount_path, policy=policy
    )
    try:
        positions = _Positions(profile_text(configmap, key=key, source=source))
    except ProfileError:
        positions = None  # the ConfigMap has no profiles to point into
    problems = _problems(result, positions, source)
    if isinstance(result, ParsedDocument):
        problems += [p for w in result.warnings for p in _located("warning", source, w, positions)]
    metadata = configmap.get("metadata")
    version = str(metadata.get("resourceVersion") or "") if isinstance(metadata, Mapping) else ""
    return _versioned(FileReport(source, _in_order(problems), _profile_set(result)), version)


def _versioned(report: FileReport, version: str) -> FileReport:
    """``report`` of the content at ``version`` of its source."""
    if not version:
        return report
    profile_set = report.profile_set.versioned(report.source, version) if report.profile_set else None
    return replace(report, profile_set=profile_set, version=version)


# -- a file's reading, as problems ---------------------------------------------------


def _report(reading: FileReading) -> FileReport:
    """Every problem the hub's reading of a file found, located in the file."""
    path = reading.path
    whole = _Positions(reading.text)
    problems: list[Problem] = []
    if reading.error is not None:
        problems += _problems(reading.error, whole, path)
    for part in reading.parts:
        if part.configmap is None:
            problems += _problems(part.result, whole, path)
        else:
            problems += _configmap_problems(part, reading.key, whole, path, errors=True)
    result = reading.result
    if isinstance(result, ParsedDocument):
        # the warnings the hub logs (of a valid file only), where each is
        by_source = {p.source: p for p in reading.parts}
        for warning in result.warnings:
            about = by_source.get(warning.source)
            if about is not None and about.configmap is not None:
                problems += _configmap_problems(about, reading.key, whole, path, warnings=[warning])
            else:
                problems += _located("warning", path, warning, whole if about is not None else None)
    configmaps = tuple(p.configmap for p in reading.parts if p.configmap is not None)
    return FileReport(path, _in_order(problems), _profile_set(result), configmaps)


def _configmap_problems(
    part: FilePart,
    key: str,
    manifest: _Positions,
    path: str,
    *,
    errors: bool = False,
    warnings: Sequence[_Located] = (),
) -> list[Problem]:
    """The errors of a ConfigMap of a manifest file, or ``warnings`` about
    it, located in the manifest."""
    node = manifest.node(part.location)
    name = part.configmap or ""
    if part.text is None:  # the ConfigMap itself has no profiles under the key
        if not errors or not isinstance(part.result, ProfileError):
            return []
        return _located("error", path, part.result, manifest, node=node, configmap=name)
    inner = _Positions(part.text)
    found = _problems(part.result, inner, path) if errors else []
    found += [p for w in warnings for p in _located("warning", path, w, inner)]
    data = node.get("data") if isinstance(node, Mapping) else None
    where = _where(data, key) if isinstance(data, Mapping) else None
    if where is not None and isinstance(data, Mapping) and isinstance(data.get(key), LiteralScalarString):
        # a literal block (key: |): its lines are the manifest's, indented
        body = [line for line in manifest.lines()[where[0] :] if line.strip()]
        indent = len(body[0]) - len(body[0].lstrip(" ")) if body else 0
        return [_moved(p, name, where[0], indent) for p in found]
    # a quoted or folded string: its lines are not the manifest's; the key's are
    return [_moved(p, name, None, 0, fallback=where) for p in found]


def _problems(
    result: ParsedDocument | ProfileError, positions: _Positions | None, path: str
) -> list[Problem]:
    """The errors of ``result``, located (none for a valid document)."""
    if isinstance(result, ParsedDocument):
        return []
    if isinstance(result, ProfileSyntaxError):
        return [
            Problem("error", path, result.problem, line=result.line, column=result.column, logged=str(result))
        ]
    errors: Iterable[ProfileError] = getattr(result, "errors", (result,))
    return [p for e in errors for p in _located("error", path, e, positions)]


def _located(
    severity: Severity,
    path: str,
    item: _Located,
    positions: _Positions | None,
    *,
    node: Any = None,
    configmap: str = "",
) -> list[Problem]:
    """``item`` (an error or a warning) as a problem of ``path``, with its
    position when ``positions`` can tell it."""
    line = column = None
    if positions is not None:
        profile = item.profile
        if match := _DOCUMENT.match(profile):  # a document of a file of manifests
            node, profile = positions.node((int(match[1]) - 1,)), ""
        line, column = positions.position(profile, item.field, item.problem, node=node)
    return [
        Problem(
            severity,
            path,
            item.problem,
            profile=item.profile,
            field=item.field,
            line=line,
            column=column,
            configmap=configmap,
            logged=str(item),
        )
    ]


def _profile_set(result: ParsedDocument | ProfileError) -> ProfileSet | None:
    return result.profile_set if isinstance(result, ParsedDocument) else None


def _in_order(problems: list[Problem]) -> tuple[Problem, ...]:
    # in document order, as an editor lists them
    return tuple(sorted(problems, key=lambda p: (p.line is None, p.line or 0, p.column or 0)))


def _moved(
    problem: Problem,
    configmap: str,
    key_line: int | None,
    indent: int,
    *,
    fallback: tuple[int, int] | None = None,
) -> Problem:
    """``problem``, found in a ConfigMap's profiles, as a problem of the
    manifest: its position moved into the manifest (``key_line`` is the line
    of the key, the text's lines follow it), or else at ``fallback``."""
    if problem.line is None or key_line is None:
        line, column = fallback if fallback is not None else (None, None)
    else:
        line = problem.line + key_line
        column = problem.column + indent if problem.column is not None else None
    return Problem(
        problem.severity,
        problem.source,
        problem.problem,
        problem.profile,
        problem.field,
        line,
        column,
        configmap=configmap,
        logged=problem.logged,
    )


# -- positions -------------------------------------------------------------------


class _Positions:
    """Where the nodes of a text are: its round-trip tree, loaded at the first question.

    Asked only about texts the hub's bounded loader has read (it refuses
    anything too large, too deep or tagged), so the round-trip loader, which
    is recursive and keeps every node's line and column, is safe on them.
    """

    def __init__(self, text: str | bytes) -> None:
        self.text = text
        self._documents: list[Any] | None = None

    def documents(self) -> list[Any]:
        if self._documents is None:
            try:
                text = self.text.decode("utf-8") if isinstance(self.text, bytes) else self.text
                self._documents = [d for d in YAML(typ="rt", pure=True).load_all(text) if d is not None]
            except (YAMLError, UnicodeDecodeError):
                self._documents = []
        return self._documents

    def lines(self) -> list[str]:
        text = self.text.decode("utf-8", "replace") if isinstance(self.text, bytes) else self.text
        return text.splitlines()

    def node(self, location: Sequence[int | str]) -> Any:
        """The node at ``location``: a document's index, then keys inside it."""
        documents = self.documents()
        if not location or not 0 <= int(location[0]) < len(documents):
            return None
        node = documents[int(location[0])]
        for key in location[1:]:
            try:
                node = node[key]
            except (KeyError, IndexError, TypeError):
                return None
        return node

    def position(
        self, profile: str, field: str, problem: str, *, node: Any = None
    ) -> tuple[int | None, int | None]:
        """Line and column of what a message is about: the entry ``profile``
        (``profile 'X'``, ``size #2``) of the document, or ``node``, then as
        deep as ``field`` goes."""
        if node is None:
            documents = self.documents()
            node = documents[0] if len(documents) == 1 else None
        if node is None:
            return None, None
        return _position(node, profile, field, problem)


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
    position = match["index"] or match["position"]
    if position is not None:
        index = int(position) - 1
        return (section, index) if 0 <= index < len(section) else None
    name = ast.literal_eval(match["name"])
    key = "type" if section_name == "gpuTypes" else "name"
    for index, item in enumerate(section):
        if isinstance(item, Mapping) and item.get(key) == name:
            return section, index
    return None


def _position(tree: Any, profile: str, field: str, problem: str) -> tuple[int | None, int | None]:
    """Line and column of the node a message is about: as deep as its field path goes."""
    node = tree
    best: tuple[int, int] | None = None
    if profile:
        found = _entry(tree, profile)
        if found is None:
            return None, None
        section, index = found
        best = _where(section, index)
        node = section[index]
    node, best = _walk(node, field, best)
    # "unknown key 'x'", "'x' is not a valid label key": point at that key
    if isinstance(node, Mapping):
        for quoted in _QUOTED.findall(problem):
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
