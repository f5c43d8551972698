"""YAML text → :class:`~profilespawner.model.ProfileSet`, or a :class:`ProfileError`.

Three steps, all pure: safe YAML loading (ruamel.yaml's C loader when it is
installed; no Python object tags; bounded size so alias bombs cannot blow up),
the JSON Schema shipped in ``schema/profiles.schema.json`` for structure, then
the Kubernetes-level checks a schema cannot express (quantities, names,
reserved variables and keys, request ≤ limit, mount paths, placeholders). Legacy
jupyterhub-singleuser-profiles 0.7 forms are normalised here, so nothing
downstream sees them. Messages quote keys and names, never values.
"""

from __future__ import annotations

import datetime
import difflib
import json
import posixpath
import re
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import CollectionEndEvent, CollectionStartEvent, DocumentStartEvent, NodeEvent

from . import k8srules, placeholders, quantities
from .errors import (
    MAX_QUOTED,
    ProfileError,
    ProfileSyntaxError,
    ProfileValidationError,
    ProfileWarning,
    QuantityRangeError,
    ValidatorBugError,
    quote,
)
from .model import (
    BUDGET_KEYS,
    DEFAULT_MOUNT_PATH,
    EMPTY_MAP,
    MOUNT_FIELDS,
    NO_SIZE,
    RANGE_KEYS,
    RESERVED_KEY_PREFIX,
    Budget,
    GpuType,
    PodSettings,
    Profile,
    ProfileSet,
    Range,
    Size,
    Who,
    frozen_map,
)

if TYPE_CHECKING:
    import jsonschema

    from .policy import Policy  # which imports this module

__all__ = [
    "MAX_DOCUMENT_BYTES",
    "MAX_DOCUMENT_NODES",
    "MAX_NESTING",
    "MAX_PROBLEMS",
    "LoadedDocument",
    "ParsedDocument",
    "load_documents",
    "load_schema",
    "parse_document",
    "parse_loaded",
    "prepare",
    "release_loaded",
]

#: Problems reported for one document at most; a broken 1 MiB document could
#: otherwise produce thousands.
MAX_PROBLEMS = 50

#: Upper bound on the nodes of a loaded document, aliases counted at every use:
#: far above any real profile set, far below what an alias bomb expands to.
MAX_DOCUMENT_NODES = 200_000

#: Largest document read, in bytes: four times what a ConfigMap can hold (1 MiB).
MAX_DOCUMENT_BYTES = 4 * 2**20

#: Deepest nesting of mappings and lists: a real document needs about 12 (a
#: volume source's selector), YAML loaders build documents recursively.
MAX_NESTING = 100

RESERVED_ENV_PREFIXES = ("JUPYTERHUB_", "JPY_")
# Labels KubeSpawner sets for itself and selects its pods by: overriding them
# would make the spawner lose track of the pod.
RESERVED_LABEL_KEYS = frozenset({"app", "component", "heritage", "release", "chart"})
RESERVED_LABEL_PREFIXES = ("hub.jupyter.org/", "app.kubernetes.io/")
#: The sections of a document whose entries are named, and what an entry is called.
_SECTIONS = {"profiles": "profile", "sizes": "size", "gpuTypes": "gpuType", "budgets": "budget"}
_LEGACY_RESOURCE_KEYS = {"mem_limit": "memory", "cpu_limit": "cpu"}
_RESERVED_FOR_RECORD = (
    f"keys under {RESERVED_KEY_PREFIX!r} are reserved: profilespawner records there what the pod got"
)
# jupyterhub-singleuser-profiles 0.7 made a volume name of anything this way
# (re.sub('[^a-zA-Z0-9\.]', '-', name).lower()); a name it made valid still is.
_LEGACY_VOLUME_NAME = re.compile(r"[^a-zA-Z0-9.]")
# The schema's pattern of an integer that may be written as a string ("1").
_DIGITS_PATTERN = "^[0-9]+$"
_MAX_GPU = 2**63 - 1


@dataclass(frozen=True)
class ParsedDocument:
    """A validated document and what in it is worth a warning (a legacy key
    ignored, a name defined twice, ...)."""

    profile_set: ProfileSet
    warnings: tuple[ProfileWarning, ...] = ()


@cache
def load_schema() -> dict[str, Any]:
    """The JSON Schema of the profile format, as shipped with the package."""
    text = resources.files(__package__).joinpath("schema/profiles.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def prepare() -> None:
    """Build the validator now, so the first document does not wait for it.

    Importing jsonschema can take seconds in a process that has not imported
    it yet (a JupyterHub has, at start-up).
    """
    _document_validator()


@cache
def _document_validator() -> jsonschema.Draft202012Validator:
    # The schema has no recursion, so its $refs can be inlined: resolving them
    # at every node is half of the validation time of a large document.
    # jsonschema is imported here, not at the top: with its optional format
    # libraries it takes seconds, and only parsing a document needs it.
    import jsonschema

    definitions = load_schema()["$defs"]

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return inline(definitions[node["$ref"].rsplit("/", 1)[-1]])
            return {key: inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(item) for item in node]
        return node

    return jsonschema.Draft202012Validator(inline(definitions["document"]))


def parse_document(
    text: str | bytes,
    *,
    source: str,
    default_mount_path: str = DEFAULT_MOUNT_PATH,
    policy: Policy | None = None,
) -> ParsedDocument:
    """Parse and validate one source's YAML text, and hold it to ``policy``
    (:mod:`profilespawner.policy`) when one is given.

    ``source`` names it in messages (a file path or ``namespace/ConfigMap``).
    Raises :class:`ProfileSyntaxError` or :class:`ProfileValidationError`; the
    latter carries every problem found in ``errors``. Nothing else escapes:
    should checking fail in an unforeseen way, the document is rejected with a
    :class:`ValidatorBugError` whose ``__cause__`` is what went wrong.
    """
    try:
        parsed = _parse(text, source, default_mount_path)
        if policy is not None:
            policy.check(parsed.profile_set, source=source)
        return parsed
    except ProfileError:
        raise
    except Exception as e:
        raise ValidatorBugError(e, source=source) from e


def load_documents(text: str | bytes, *, source: str) -> tuple[LoadedDocument, ...]:
    """Every YAML document of ``text`` (documents separated by ``---``), loaded
    safely and within the bounds of one document (size, nesting, nodes), which
    count over the whole text: what a file of ConfigMap manifests is read with
    (:mod:`profilespawner.sources.documents`), before its profiles are parsed
    (:func:`parse_loaded`). Raises :class:`ProfileSyntaxError`."""
    try:
        return _load_yaml(text, source, stream=True)
    except ProfileError:
        raise
    except Exception as e:
        raise ValidatorBugError(e, source=source) from e


def parse_loaded(
    document: LoadedDocument,
    *,
    source: str,
    default_mount_path: str = DEFAULT_MOUNT_PATH,
    policy: Policy | None = None,
) -> ParsedDocument:
    """:func:`parse_document` for a document :func:`load_documents` loaded."""
    try:
        parsed = _parse_data(document, source, default_mount_path)
        if policy is not None:
            policy.check(parsed.profile_set, source=source)
        return parsed
    except ProfileError:
        raise
    except Exception as e:
        raise ValidatorBugError(e, source=source) from e


def _parse(text: str | bytes, source: str, default_mount_path: str) -> ParsedDocument:
    loaded = list(_load_yaml(text, source, stream=False))
    try:
        return _parse_data(loaded[0], source, default_mount_path)
    finally:
        release_loaded(loaded)


def release_loaded(documents: list[LoadedDocument]) -> None:
    """Free what :func:`load_documents` loaded and a parse did not keep, a
    little at a time (see :func:`_load`). Empties ``documents``; call it with
    the only references to them."""
    data = [document.data for document in documents]
    documents.clear()
    _take_apart(data)


def _parse_data(document: LoadedDocument, source: str, default_mount_path: str) -> ParsedDocument:
    data = document.data
    if data is None:
        raise ProfileValidationError(
            "the document is empty (write 'profiles: []' for a source that defines nothing)",
            source=source,
        )
    if isinstance(data, list):
        data = {"profiles": data}
    elif not isinstance(data, dict):
        raise ProfileValidationError(
            f"the top level must be a mapping with 'profiles', 'sizes', 'gpuTypes' and 'budgets' "
            f"(or a list of profiles), not {_kind(data)}",
            source=source,
        )
    checker = _Checker(source, data, default_mount_path)
    profile_set = checker.run(plain=document.plain)
    return ParsedDocument(profile_set, tuple(checker.warnings))


# -- YAML --------------------------------------------------------------------


@dataclass(frozen=True)
class LoadedDocument:
    """One YAML document, loaded safely and within bounds.

    ``plain`` says that it holds only plain data (see :func:`_measure`);
    ``line`` is the line its content starts on, from 1.
    """

    data: Any
    plain: bool = True
    line: int = 1


def _load_yaml(text: str | bytes, source: str, *, stream: bool) -> tuple[LoadedDocument, ...]:
    """The loaded documents of ``text``: exactly one unless ``stream``."""
    if len(text) > MAX_DOCUMENT_BYTES:
        raise ProfileSyntaxError(
            f"the document is larger than {MAX_DOCUMENT_BYTES // 2**20} MiB", source=source
        )
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ProfileSyntaxError(
                f"the document is not valid UTF-8 (byte offset {e.start})", source=source
            ) from None
    try:
        documents, lines = _safe_load(text, stream=stream)
    except _LimitError as e:
        raise ProfileSyntaxError(
            e.problem,
            source=source,
            line=e.mark.line + 1 if e.mark else None,
            column=e.mark.column + 1 if e.mark else None,
        ) from None
    except DuplicateKeyError as e:
        key = _duplicate_key(e)
        mark = e.problem_mark
        raise ProfileSyntaxError(
            f"duplicate key {key}" if key else "duplicate key",
            source=source,
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
        ) from None
    except MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line, column = (mark.line, mark.column) if mark else (None, None)
        problem = _yaml_problem(e.problem or e.context or "invalid YAML")
        tab = _tab_in_indentation(text, line, column) if line is not None else None
        if tab is not None:
            problem, column = "YAML does not allow tabs for indentation; indent with spaces", tab
        raise ProfileSyntaxError(
            problem,
            source=source,
            line=line + 1 if line is not None else None,
            column=column + 1 if column is not None else None,
        ) from None
    except YAMLError as e:
        raise ProfileSyntaxError(f"invalid YAML ({type(e).__name__})", source=source) from None
    except (ValueError, ArithmeticError, LookupError, TypeError) as e:
        # The constructors raise these for scalars their tag cannot hold: an
        # integer of more than 4300 digits, a date that does not exist
        # (2024-02-30), ``!!int abc``, ``!!int ""`` (IndexError), ``!!bool x``
        # (KeyError). Their messages quote the scalar.
        raise ProfileSyntaxError(
            f"a value cannot be read as the type YAML gives it ({type(e).__name__}: an integer "
            "too long, a date that does not exist, or a '!!' tag that does not fit); quote it "
            "to keep it a string",
            source=source,
        ) from None
    # Only escapes make lone surrogates; a str handed in may hold them already.
    surrogates = "\\u" in text or "\\U" in text or bool(_SURROGATE.search(text))
    # The aliases of every document count against one budget, as their nodes do.
    budget = [MAX_DOCUMENT_NODES]
    return tuple(
        LoadedDocument(data, _measure(data, source, surrogates=surrogates, budget=budget), line)
        for data, line in zip(documents, [*lines, *[1] * (len(documents) - len(lines))], strict=False)
    )


def _tab_in_indentation(text: str, line: int, column: int | None) -> int | None:
    """The column (from 0) of the first tab in the indentation of ``line``
    (from 0), when YAML's complaint at ``column`` is about it; else None.

    The indentation is the white space and block sequence indicators (``- ``)
    that begin the line. YAML forbids tabs there; its parsers say "found
    character '\\t' that cannot start any token" or worse.
    """
    lines = text.splitlines()
    if line >= len(lines):
        return None
    current = lines[line]
    indentation = len(current) - len(current.lstrip(" \t-"))
    tab = current.find("\t", 0, indentation)
    if tab < 0 or (column is not None and column < tab):
        return None
    return tab


def _safe_load(text: str, *, stream: bool) -> tuple[list[Any], list[int]]:
    """The documents of ``text`` (one unless ``stream``) and the lines (from 1)
    they start on."""
    # The C loader is five times faster, but its bundled libyaml rejects some
    # plain scalars YAML allows (``[image:v0.1]`` in jupyterhub-singleuser-profiles'
    # own example); the pure loader then decides, and gives the better message.
    # Both build documents recursively (the C one overflows the C stack and
    # kills the process), so the events are checked first, without building.
    fast = YAML(typ="safe", pure=False)
    try:
        lines = _check_events(fast, text)
        return _load(fast, text, stream=stream), lines
    except DuplicateKeyError:
        raise
    except YAMLError:
        pure = YAML(typ="safe", pure=True)
        lines = _check_events(pure, text)
        return _load(pure, text, stream=stream), lines


def _load(yaml: YAML, text: str, *, stream: bool) -> list[Any]:
    """``yaml.load_all(text)`` (``yaml.load`` unless ``stream``), the loader's
    node trees taken apart a node at a time afterwards.

    A large document's node tree is some 10^5 objects; freed in one go, as
    the loader drops it, it holds the GIL -- and a hub's event loop, while a
    worker thread parses -- for 20 ms (1 MiB). Taken apart here, it is freed
    in small steps, between which the interpreter can hand the loop the GIL.
    """
    roots: list[Any] = []

    class Keeping(yaml.Constructor):  # type: ignore[name-defined,misc]
        def construct_document(self, node: Any) -> Any:
            roots.append(node)
            return super().construct_document(node)

    yaml.Constructor = Keeping
    try:
        return list(yaml.load_all(text)) if stream else [yaml.load(text)]
    finally:
        _take_apart(roots)


def _take_apart(items: list[Any]) -> None:
    """Free ``items`` and what they hold, one object at a time, the way a
    large tree can be freed without holding the GIL for long (see
    :func:`_load`): lists, dicts, tuples and the loader's nodes that nothing
    but this walk refers to are emptied, their contents freed in turn; an
    object something else refers to (a value the profile set keeps) is left
    whole, and lives on."""
    while items:
        item = items.pop()
        # 2: ``item`` and getrefcount's argument; more: someone else's too
        if sys.getrefcount(item) > 2:
            continue
        kind = type(item)
        if kind is list:
            while item:
                items.append(item.pop())
        elif kind is dict:
            while item:
                items.append(item.popitem()[1])
        elif kind is tuple:
            items.extend(item)
        elif type(getattr(item, "value", None)) is list:  # a node: its children
            items.append(item.value)
            item.value = None


def _check_events(yaml: YAML, text: str) -> list[int]:
    """Bound nesting and size on the parser's events, before anything is
    built; return the line (from 1) where each document's content starts."""
    depth = 0
    nodes = 0
    lines: list[int] = []
    starting = False
    for event in yaml.parse(text):
        if isinstance(event, DocumentStartEvent):
            starting = True
        elif starting:
            lines.append(event.start_mark.line + 1)
            starting = False
        if isinstance(event, CollectionStartEvent):
            depth += 1
            if depth > MAX_NESTING:
                raise _LimitError(
                    f"the document nests collections more than {MAX_NESTING} levels deep",
                    event.start_mark,
                )
        elif isinstance(event, CollectionEndEvent):
            depth -= 1
        if isinstance(event, NodeEvent):
            nodes += 1
            if nodes > MAX_DOCUMENT_NODES:
                raise _LimitError(f"the document has more than {MAX_DOCUMENT_NODES} nodes", event.start_mark)
    return lines


class _LimitError(Exception):
    """A document beyond :data:`MAX_NESTING` or :data:`MAX_DOCUMENT_NODES`
    (not a ``YAMLError``: the other loader would find the same)."""

    def __init__(self, problem: str, mark: Any = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.mark = mark


def _duplicate_key(error: DuplicateKeyError) -> str:
    # ruamel's message goes on to quote both values; keep only the key.
    problem = error.problem or ""
    start = problem.find('key "')
    end = problem.find('" with value')
    if start >= 0 and end > start:
        return quote(problem[start + 5 : end])
    return ""


# A quoted part of a YAML error message, and the quoted parts that are YAML's
# own vocabulary (a token such as '<block end>', an indicator, a tab) rather
# than a piece of the document's text.
_YAML_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_YAML_VOCABULARY = re.compile(r"^(['\"])(<[a-z ]+>|[-?:,\[\]{}#&*!|>'\"%@`]|\\t| )\1$")
# Messages whose quoted part names YAML markup (a tag, an anchor), not a value.
_YAML_MARKUP = ("could not determine a constructor for the tag", "found undefined alias")


def _yaml_problem(problem: str) -> str:
    """ruamel.yaml's message, without the piece of the document it may quote.

    "found unknown escape character 'q'" would show a character of a value.
    """
    problem = " ".join(problem.split())
    if problem.startswith(_YAML_MARKUP):
        return problem if len(problem) < 200 else problem[:200] + "..."
    return _YAML_QUOTED.sub(lambda m: m[0] if _YAML_VOCABULARY.match(m[0]) else "(not shown)", problem)


def _measure(data: Any, source: str, *, surrogates: bool, budget: list[int]) -> bool:
    """Bound the nodes of a loaded document, aliases counted at every use, and
    tell whether it is plain data (see :func:`_key_problem`,
    :func:`_scalar_problem`); strings are searched for lone surrogates only
    when ``surrogates`` says the text may hold some. ``budget`` holds the nodes
    still allowed, shared by the documents of one text."""
    plain = True
    stack = [data]
    while stack:
        node = stack.pop()
        budget[0] -= 1
        if budget[0] < 0:
            raise ProfileSyntaxError(
                f"the document expands to more than {MAX_DOCUMENT_NODES} nodes "
                "(too large, or aliases that multiply)",
                source=source,
            )
        if isinstance(node, dict):
            stack.extend(node.values())
            plain = plain and not any(_key_problem(key, surrogates=surrogates) for key in node)
        elif isinstance(node, list):
            stack.extend(node)
        elif plain:
            plain = _scalar_problem(node, surrogates=surrogates) is None
    return plain


def _key_problem(key: Any, *, surrogates: bool = True) -> str | None:
    """Why ``key`` cannot be a key of plain data (a string), or None."""
    if type(key) is not str:
        shown = _yaml_scalar(key) if isinstance(key, _PLAIN_SCALARS) else "(not shown)"
        return f"key {shown} is {_kind(key)}, not a string: keys are text (quote it, as in '1': or 'true':)"
    if surrogates and _SURROGATE.search(key):
        return "a key holds a lone surrogate (an escape in \\ud800-\\udfff), which is not text"
    return None


def _scalar_problem(node: Any, *, surrogates: bool = True) -> str | None:
    """Why ``node`` (not a mapping or list) is not a value of plain data, or None:
    JSON's values, and dates (the legacy env form turns them into text)."""
    if not isinstance(node, _PLAIN_SCALARS):
        return (
            f"must be a string, number, boolean, list or mapping, not {_kind(node)} "
            "(a '!!binary', '!!set' or '!!pairs' tag)"
        )
    if type(node) is int and not _MIN_INT <= node <= _MAX_INT:
        return "is an integer beyond 64 bits"
    if surrogates and isinstance(node, str) and _SURROGATE.search(node):
        return "holds a lone surrogate (an escape in \\ud800-\\udfff), which is not text"
    return None


def _yaml_scalar(key: Any) -> str:
    """A key that is not a string, as YAML spells it: ``true``, ``null``, ``2024-01-31``."""
    if key is None:
        return "null"
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, datetime.date):
        return key.isoformat()
    return quote(key)


#: What a loaded document may hold besides mappings and lists.
_PLAIN_SCALARS = (str, bool, int, float, type(None), datetime.date)
_SURROGATE = re.compile("[\ud800-\udfff]")
# Integers Kubernetes can hold (int64, and uint64 for good measure); beyond
# them a number only costs time (a 6,000-digit integer takes a while to print).
_MIN_INT, _MAX_INT = -(2**63), 2**64 - 1


# -- checks --------------------------------------------------------------------


def _kind(value: Any) -> str:
    names = {
        dict: "a mapping",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        type(None): "null",
    }
    return names.get(type(value), f"a {type(value).__name__}")


_TYPE_NAMES = {
    "string": "a string",
    "array": "a list",
    "object": "a mapping",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}


def _field(path: Sequence[str | int]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            # a key with a line break or of a megabyte would forge or flood the log
            text = part if part.isprintable() and len(part) <= MAX_QUOTED else quote(part)
            out += f".{text}" if out else text
    return out


class _Checker:
    """Walks one document, collecting every problem before raising."""

    def __init__(self, source: str, data: dict[str, Any], default_mount_path: str) -> None:
        self.source = source
        self.data = data
        self.default_mount_path = default_mount_path
        self.errors: list[ProfileValidationError] = []
        self.truncated = False
        self.warnings: list[ProfileWarning] = []
        self._names: dict[str, Counter[str]] = {}

    # where an error is: ("profile 'Spark'", "env[0].name") from a document path;
    # an entry without a name by its position, one whose name another has too with it
    def _locate(self, path: Sequence[str | int], *, by_index: bool = False) -> tuple[str, str]:
        if len(path) >= 2 and isinstance(path[1], int) and path[0] in _SECTIONS:
            section, index = str(path[0]), int(path[1])
            kind = _SECTIONS[section]
            entries = self.data.get(section)
            entry = entries[index] if isinstance(entries, list) and index < len(entries) else None
            key = "type" if section == "gpuTypes" else "name"
            name = entry.get(key) if isinstance(entry, dict) else None
            if not isinstance(name, str) or not name:
                label = f"{kind} #{index + 1}"
            elif by_index or self._repeated(section, key, name):
                label = f"{kind} {quote(name)} (#{index + 1})"
            else:
                label = f"{kind} {quote(name)}"
            return label, _field(path[2:])
        return "", _field(path)

    def _repeated(self, section: str, key: str, name: str) -> bool:
        """Whether another entry of ``section`` has ``name`` too."""
        if section not in self._names:
            entries = self.data.get(section)
            names = [e.get(key) for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []
            self._names[section] = Counter(n for n in names if isinstance(n, str))
        return self._names[section][name] > 1

    def error(self, path: Sequence[str | int], problem: str) -> None:
        if len(self.errors) >= MAX_PROBLEMS:
            self.truncated = True
            return
        profile, field = self._locate(path)
        self.errors.append(ProfileValidationError(problem, source=self.source, profile=profile, field=field))

    def warn(self, path: Sequence[str | int], problem: str, *, by_index: bool = False) -> None:
        """A warning about ``path``; ``by_index`` names its entry with its
        position too (``size 'S' (#3)``)."""
        profile, field = self._locate(path, by_index=by_index)
        self.warnings.append(ProfileWarning(problem, source=self.source, profile=profile, field=field))

    def raise_if_errors(self) -> None:
        if self.errors:
            first = self.errors[0]
            raise ProfileValidationError(
                first.problem,
                source=first.source,
                profile=first.profile,
                field=first.field,
                errors=tuple(self.errors),
                truncated=self.truncated,
            )

    def run(self, *, plain: bool = True) -> ProfileSet:
        if not plain:
            # Keys that are not strings (1:, true:, a list), binary data,
            # sets, lone surrogates: no schema or rule below expects them.
            self._plain_data()
            self.raise_if_errors()
        # Entries that break the schema are reported as such; the Kubernetes
        # checks still run on every other entry, so one pass reports everything.
        broken: set[tuple[str, int]] = set()
        for error in _document_validator().iter_errors(self.data):
            if self.truncated:
                break
            where = list(error.absolute_path)
            if len(where) < 2 or not isinstance(where[1], int):
                broken.add(("*", -1))
            else:
                broken.add((str(where[0]), where[1]))
            self._schema_error(error)
        # Past MAX_PROBLEMS the schema's errors are no longer collected, so the
        # entries they would mark broken are not known: stop here.
        if ("*", -1) in broken or self.truncated:
            self.raise_if_errors()

        if "ui" in self.data:
            self.warn(["ui"], "'ui' is not supported and is ignored")

        def entries(section: str) -> list[tuple[int, dict[str, Any]]]:
            items = self.data.get(section) or []
            return [(i, e) for i, e in enumerate(items) if (section, i) not in broken]

        for section, key in (("profiles", "name"), ("sizes", "name"), ("gpuTypes", "type")):
            self._warn_about_repeated_names(section, key, entries(section))
        profiles = [self._profile(entry, ["profiles", i], i) for i, entry in entries("profiles")]
        sizes: dict[str, Size] = {}
        for i, entry in entries("sizes"):
            size = self._size(entry, ["sizes", i])
            sizes[size.name] = size
        gpu_types: dict[str, GpuType] = {}
        for i, entry in entries("gpuTypes"):
            path: list[str | int] = ["gpuTypes", i]
            if not entry["type"]:
                self.error([*path, "type"], "must not be empty")
            gpu_types[entry["type"]] = GpuType(
                type=entry["type"],
                source=self.source,
                tolerations=self._tolerations(
                    entry.get("node_tolerations") or [], [*path, "node_tolerations"]
                ),
                description=entry.get("description", ""),
            )
        budgets: dict[str, Budget] = {}
        for i, entry in entries("budgets"):
            budget = self._budget(entry, ["budgets", i])
            budgets[budget.name] = budget
        self.raise_if_errors()
        return ProfileSet(
            profiles=tuple(profiles),
            sizes=MappingProxyType(sizes),
            gpu_types=MappingProxyType(gpu_types),
            budgets=MappingProxyType(budgets),
        )

    def _warn_about_repeated_names(
        self, section: str, key: str, items: Sequence[tuple[int, dict[str, Any]]]
    ) -> None:
        """A name given twice in one document: say which entry wins."""
        first: dict[str, int] = {}
        kind = _SECTIONS[section]
        for index, entry in items:
            name = entry.get(key)
            if not isinstance(name, str) or not name:
                continue
            if name not in first:
                first[name] = index
                continue
            earlier = f"{kind} #{first[name] + 1}"
            if section == "profiles":
                outcome = (
                    "both apply, and where both set a field this later one wins; give each "
                    "profile a name of its own"
                )
            else:
                outcome = f"this later one replaces it whole, and {earlier} is not used"
            self.warn([section, index, key], f"{quote(name)} is also the {key} of {earlier}: {outcome}")

    def _plain_data(self) -> None:
        stack: list[tuple[Any, list[str | int]]] = [(self.data, [])]
        while stack and not self.truncated:
            node, path = stack.pop()
            if isinstance(node, dict):
                for key, value in reversed(node.items()):
                    problem = _key_problem(key)
                    if problem:
                        self.error(path, problem)
                    else:
                        stack.append((value, [*path, key]))
            elif isinstance(node, list):
                stack.extend((item, [*path, i]) for i, item in reversed(list(enumerate(node))))
            elif problem := _scalar_problem(node):
                self.error(path, problem)

    # -- JSON Schema errors, in words ---------------------------------------

    def _schema_error(self, error: jsonschema.ValidationError) -> None:
        path = list(error.absolute_path)
        kind = error.validator
        expected: Any = error.validator_value
        instance: Any = error.instance
        schema: dict[str, Any] = error.schema if isinstance(error.schema, dict) else {}
        if kind == "oneOf":
            branch = _matching_branch(error)
            if branch is not None:
                for sub in branch:
                    self._schema_error(sub)
                return
            self.error(path, "is not in any of the accepted forms")
        elif kind == "additionalProperties":
            known = sorted(schema.get("properties", {}))
            for key in instance:
                if key not in known:
                    hint = difflib.get_close_matches(str(key), known, n=1)
                    more = f" (did you mean {hint[0]!r}?)" if hint else ""
                    where = "unknown top-level key" if not path else "unknown key"
                    self.error(path, f"{where} {quote(str(key))}{more}")
        elif kind == "type":
            types = [expected] if isinstance(expected, str) else list(expected)
            if schema.get("pattern") == _DIGITS_PATTERN:
                types = ["integer"]  # "1" is an integer written as 0.7 wrote it, not a string
            wanted = " or ".join(_TYPE_NAMES.get(t, t) for t in types)
            self.error(path, f"must be {wanted}, not {_kind(instance)}")
        elif kind == "pattern" and expected == _DIGITS_PATTERN:
            self.error(
                path, "must be an integer, not a string (a string of digits, such as '1', is read as one)"
            )
        elif kind == "required":
            for key in expected:
                if key not in instance:
                    self.error(path, f"missing required key {quote(key)}")
        elif kind == "enum":
            self.error(path, "must be one of: " + ", ".join(repr(v) for v in expected))
        elif kind == "minimum":
            self.error(path, f"must be at least {expected}")
        elif kind == "maximum":
            self.error(path, f"must be at most {expected}")
        elif kind == "minItems":
            self.error(path, "must not be empty")
        elif kind in ("minProperties", "maxProperties"):
            choices = ", ".join(sorted(schema.get("properties", {})))
            how = "exactly one" if "maxProperties" in schema else "one"
            self.error(path, f"must set {how} of: {choices}")
        else:
            self.error(path, f"is not valid here ({kind})")

    # -- entries ---------------------------------------------------------------

    def _profile(self, entry: dict[str, Any], path: list[str | int], index: int) -> Profile:
        if "services" in entry:
            self.warn([*path, "services"], "'services' is not supported and is ignored")
        if not entry["name"]:
            self.error([*path, "name"], "must not be empty")
        images = tuple(entry.get("images") or ())
        for i, pattern in enumerate(images):
            if not pattern:
                self.error([*path, "images", i], "must not be empty")
        return Profile(
            name=entry["name"],
            source=self.source,
            index=index,
            settings=self._settings(entry, path),
            who=self._who(entry, path),
            images=images,
            description=entry.get("description", ""),
        )

    def _size(self, entry: dict[str, Any], path: list[str | int]) -> Size:
        name = entry["name"]
        if not name:
            self.error([*path, "name"], "must not be empty")
        elif name == NO_SIZE:
            self.error(
                [*path, "name"],
                f"{NO_SIZE!r} is reserved for 'no size' (what the spawn form offers first); rename this size",
            )
        settings = self._settings(entry, path)
        ranges = self._ranges(entry.get("ranges") or {}, [*path, "ranges"])
        limit_factor = Decimal(1)
        if entry.get("limit_factor") is not None:
            # a YAML float is read back as written (1.5, not its binary approximation)
            limit_factor = Decimal(str(entry["limit_factor"]))
            self._limit_factor(limit_factor, entry.get("ranges") or {}, ranges, [*path, "limit_factor"])
        for key in ranges:
            replaced = [
                f"{kind}.{key}" for kind in ("requests", "limits") if key in settings.resources.get(kind, {})
            ]
            if key == "gpu" and settings.gpu is not None:
                replaced.append("gpu")
            if replaced:
                self.warn(
                    [*path, "ranges", key],
                    f"replaces this size's own {' and '.join(replaced)}: those are never used",
                )
        return Size(
            name=name,
            source=self.source,
            settings=settings,
            who=self._who(entry, path),
            description=entry.get("description", ""),
            ranges=ranges,
            limit_factor=limit_factor,
        )

    def _ranges(self, ranges: dict[str, Any], path: list[str | int]) -> Mapping[str, Range]:
        out: dict[str, Range] = {}
        for key in RANGE_KEYS:
            if key not in ranges:
                continue
            where = [*path, key]
            spec = ranges[key]
            amounts: dict[str, Decimal] = {}
            for bound in ("min", "max", "default"):
                if bound not in spec:
                    continue
                if key == "gpu":
                    amounts[bound] = Decimal(int(spec[bound]))
                    continue
                text = self._quantity(spec[bound], [*where, bound])
                try:
                    amount = k8srules.parse_quantity(text)
                except ValueError:
                    continue  # reported by _quantity
                if not 0 <= amount <= k8srules.MAX_QUANTITY:
                    continue  # reported by _quantity
                if not quantities.is_exact(key, amount):
                    unit = "a whole number of millicores (1m)" if key == "cpu" else "a whole number of bytes"
                    self.error([*where, bound], f"must be {unit}")
                amounts[bound] = amount
            if len(amounts) != len([b for b in ("min", "max", "default") if b in spec]):
                continue
            low, high = amounts["min"], amounts["max"]
            default = amounts.get("default", low)
            if low > high:
                self.error(where, "min is above max")
            elif not low <= default <= high:
                self.error([*where, "default"], "must lie between min and max")
            out[key] = Range(minimum=low, maximum=high, default=default)
        return MappingProxyType(out)

    def _limit_factor(
        self, factor: Decimal, written: Mapping[str, Any], ranges: Mapping[str, Range], path: list[str | int]
    ) -> None:
        if not any(key in written for key in ("cpu", "memory")):
            self.error(
                path,
                "applies to the cpu and memory chosen within 'ranges', and this size has no cpu or "
                "memory range (a GPU's limit is its request)",
            )
        for key in ("cpu", "memory"):
            if key in ranges and quantities.scaled(key, ranges[key].maximum, factor) > k8srules.MAX_QUANTITY:
                self.error(path, f"makes the limit of the largest {key} out of range (at most 2^63-1)")

    def _budget(self, entry: dict[str, Any], path: list[str | int]) -> Budget:
        name = entry["name"]
        if not name:
            self.error([*path, "name"], "must not be empty")
        if not entry.get("total") and not entry.get("per_user"):
            self.error(path, "sets no limit: give 'total', 'per_user' or both")
        limits: dict[str, Mapping[str, Decimal]] = {}
        for scope in ("total", "per_user"):
            amounts: dict[str, Decimal] = {}
            written = entry.get(scope) or {}
            for key in BUDGET_KEYS:
                if key not in written:
                    continue
                value = written[key]
                if key in ("gpu", "servers"):
                    amounts[key] = Decimal(int(value))  # the schema has checked it
                    continue
                text = self._quantity(value, [*path, scope, key])
                try:
                    amount = k8srules.parse_quantity(text)
                except ValueError:
                    continue  # reported by _quantity
                if 0 <= amount <= k8srules.MAX_QUANTITY:
                    try:
                        amounts[key] = quantities.read(key, text)
                    except ValueError as e:
                        self.error([*path, scope, key], str(e))
            limits[scope] = MappingProxyType(amounts)
        return Budget(
            name=name,
            source=self.source,
            who=self._who(entry, path),
            total=limits["total"],
            per_user=limits["per_user"],
        )

    def _who(self, entry: dict[str, Any], path: list[str | int]) -> Who:
        for key in ("users", "groups"):
            for i, name in enumerate(entry.get(key) or ()):
                if not name:
                    self.error([*path, key, i], "must not be empty")
        return Who(users=tuple(entry.get("users") or ()), groups=tuple(entry.get("groups") or ()))

    def _settings(self, entry: dict[str, Any], path: list[str | int]) -> PodSettings:
        return PodSettings(
            env=self._env(entry.get("env"), [*path, "env"]),
            env_from=self._env_from(entry.get("envFrom") or [], [*path, "envFrom"]),
            resources=self._resources(entry.get("resources"), [*path, "resources"]),
            gpu=self._gpu(entry.get("gpu"), [*path, "gpu"]),
            tolerations=self._tolerations(entry.get("node_tolerations") or [], [*path, "node_tolerations"]),
            node_affinity=self._node_affinity(entry.get("node_affinity") or {}, [*path, "node_affinity"]),
            node_selector=self._selector(entry.get("node_selector") or {}, [*path, "node_selector"]),
            volumes=self._volumes(entry.get("volumes") or [], [*path, "volumes"]),
            labels=self._labels(entry.get("labels") or {}, [*path, "labels"]),
            annotations=self._annotations(entry.get("annotations") or {}, [*path, "annotations"]),
        )

    def _gpu(self, gpu: Any, path: list[str | int]) -> int | None:
        if gpu is None:
            return None
        if isinstance(gpu, str):
            # jupyterhub-singleuser-profiles 0.7 took int(gpu): "1" is 1. The
            # schema's pattern lets "1\n" through ($ before a final newline).
            if not gpu.isascii() or not gpu.isdigit():
                self.error(
                    path, "must be an integer, not a string (a string of digits, such as '1', is read as one)"
                )
                return None
            if len(gpu) > 19 or int(gpu) > _MAX_GPU:
                self.error(path, f"must be at most {_MAX_GPU}")
                return None
        return int(gpu)

    # -- env ---------------------------------------------------------------------

    def _env(self, env: Any, path: list[str | int]) -> tuple[dict[str, Any], ...]:
        if not env:
            return ()
        if isinstance(env, dict):
            # legacy mapping form: NAME: scalar
            items: list[dict[str, Any]] = [{"name": str(k), "value": _scalar_text(v)} for k, v in env.items()]
            paths: list[list[str | int]] = [[*path, str(k)] for k in env]
        else:
            items = [dict(var) for var in env]
            paths = [[*path, i] for i in range(len(env))]
        seen: set[str] = set()
        for var, var_path in zip(items, paths, strict=True):
            name = var["name"]
            if not k8srules.is_env_var_name(name):
                self.error(var_path, f"{quote(name)} is not a valid environment variable name")
            elif name.startswith(RESERVED_ENV_PREFIXES):
                self.error(var_path, f"{quote(name)} is reserved for JupyterHub (JUPYTERHUB_*, JPY_*)")
            if name in seen:
                self.error(var_path, f"variable {quote(name)} is set twice in this entry")
            seen.add(name)
            if "value" in var and "valueFrom" in var:
                self.error(var_path, f"variable {quote(name)} sets both 'value' and 'valueFrom'")
            elif "value" not in var and "valueFrom" not in var:
                self.warn(
                    var_path,
                    f"variable {quote(name)} has neither 'value' nor 'valueFrom': it is set to the "
                    "empty string",
                )
            if "value" in var:
                self._placeholders(var["value"], var_path if isinstance(env, dict) else [*var_path, "value"])
            ref = var.get("valueFrom", {}).get("resourceFieldRef")
            if ref and "divisor" in ref:
                ref = dict(
                    ref,
                    divisor=self._quantity(
                        ref["divisor"], [*var_path, "valueFrom", "resourceFieldRef", "divisor"]
                    ),
                )
                var["valueFrom"] = dict(var["valueFrom"], resourceFieldRef=ref)
        return tuple(items)

    def _placeholders(self, text: str, path: list[str | int]) -> None:
        found = placeholders.problems(text)
        if found:
            more = f" (and {len(found) - 1} more in this value)" if len(found) > 1 else ""
            self.error(path, found[0] + more)

    def _env_from(self, items: list[dict[str, Any]], path: list[str | int]) -> tuple[dict[str, Any], ...]:
        for i, item in enumerate(items):
            refs = [k for k in ("configMapRef", "secretRef") if k in item]
            if len(refs) != 1:
                self.error([*path, i], "must set exactly one of 'configMapRef' and 'secretRef'")
            prefix = item.get("prefix")
            if prefix and not k8srules.is_env_var_name(prefix):
                self.error([*path, i, "prefix"], "is not a valid environment variable prefix")
        return tuple(dict(item) for item in items)

    # -- resources -------------------------------------------------------------

    def _quantity(self, value: Any, path: list[str | int]) -> str:
        text = str(value) if not isinstance(value, str) else value
        try:
            amount = k8srules.parse_quantity(text)
        except QuantityRangeError:
            amount = None
        except ValueError:
            self.error(path, "is not a Kubernetes quantity (examples: 500m, 2, 1.5Gi, 512Mi)")
            return text
        if amount is None or abs(amount) > k8srules.MAX_QUANTITY:
            self.error(path, "is out of range (a Kubernetes quantity is at most 2^63-1)")
        elif amount < 0:
            self.error(path, "must not be negative")
        return text

    def _resources(self, resources: Any, path: list[str | int]) -> Mapping[str, Mapping[str, str]]:
        if not resources:
            return EMPTY_MAP
        legacy = [k for k in _LEGACY_RESOURCE_KEYS if k in resources]
        modern = [k for k in ("requests", "limits") if k in resources]
        if legacy and modern:
            self.error(
                path, "mixes the legacy 'mem_limit'/'cpu_limit' with 'requests'/'limits'; use one form"
            )
            return EMPTY_MAP
        out: dict[str, dict[str, str]] = {}
        if legacy:
            # jupyterhub-singleuser-profiles 0.7: the value is both request and limit
            for key in legacy:
                if resources[key] is None:
                    continue
                quantity = self._quantity(resources[key], [*path, key])
                name = _LEGACY_RESOURCE_KEYS[key]
                out.setdefault("requests", {})[name] = quantity
                out.setdefault("limits", {})[name] = quantity
        for kind in modern:
            for name, value in (resources[kind] or {}).items():
                if not k8srules.is_qualified_name(name):
                    self.error([*path, kind], f"{quote(name)} is not a valid resource name")
                out.setdefault(kind, {})[name] = self._quantity(value, [*path, kind, name])
        for name, request in out.get("requests", {}).items():
            limit = out.get("limits", {}).get(name)
            if limit is not None and _above(request, limit):
                self.error([*path, "requests", name], f"the request of {quote(name)} is above its limit")
        return frozen_map({k: frozen_map(v) for k, v in out.items()})

    # -- scheduling -------------------------------------------------------------

    def _tolerations(self, items: list[dict[str, Any]], path: list[str | int]) -> tuple[dict[str, Any], ...]:
        for i, tol in enumerate(items):
            where = [*path, i]
            operator = tol.get("operator", "Equal")
            if tol.get("key") and not k8srules.is_qualified_name(tol["key"]):
                self.error([*where, "key"], f"{quote(tol['key'])} is not a valid taint key")
            if not tol.get("key") and operator != "Exists":
                self.error(where, "a toleration without 'key' must use operator 'Exists'")
            if operator == "Exists" and tol.get("value"):
                self.error([*where, "value"], "must be empty when operator is 'Exists'")
            if "tolerationSeconds" in tol and tol.get("effect") != "NoExecute":
                self.error([*where, "tolerationSeconds"], "is only allowed with effect 'NoExecute'")
        return tuple(dict(t) for t in items)

    def _node_affinity(self, affinity: dict[str, Any], path: list[str | int]) -> Mapping[str, Any]:
        required = affinity.get("requiredDuringSchedulingIgnoredDuringExecution")
        if required:
            key = "requiredDuringSchedulingIgnoredDuringExecution"
            for i, term in enumerate(required["nodeSelectorTerms"]):
                self._selector_term(term, [*path, key, "nodeSelectorTerms", i])
        preferred = affinity.get("preferredDuringSchedulingIgnoredDuringExecution") or []
        for i, item in enumerate(preferred):
            key = "preferredDuringSchedulingIgnoredDuringExecution"
            self._selector_term(item["preference"], [*path, key, i, "preference"])
        return frozen_map(affinity)

    def _selector_term(self, term: dict[str, Any], path: list[str | int]) -> None:
        for kind in ("matchExpressions", "matchFields"):
            for i, req in enumerate(term.get(kind) or []):
                where = [*path, kind, i]
                values = req.get("values") or []
                operator = req["operator"]
                if kind == "matchFields" and req["key"] != "metadata.name":
                    self.error([*where, "key"], "matchFields supports only 'metadata.name'")
                elif kind == "matchExpressions" and not k8srules.is_qualified_name(req["key"]):
                    self.error([*where, "key"], f"{quote(req['key'])} is not a valid label key")
                if operator in ("In", "NotIn") and not values:
                    self.error([*where, "values"], f"must not be empty for operator {operator!r}")
                elif operator in ("Exists", "DoesNotExist") and values:
                    self.error([*where, "values"], f"must be empty for operator {operator!r}")
                elif operator in ("Gt", "Lt") and (len(values) != 1 or not _is_int(values[0])):
                    self.error([*where, "values"], f"must be one integer for operator {operator!r}")

    def _selector(self, selector: dict[str, str], path: list[str | int]) -> Mapping[str, str]:
        for key, value in selector.items():
            if not k8srules.is_qualified_name(key):
                self.error(path, f"{quote(key)} is not a valid label key")
            elif not k8srules.is_label_value(value):
                self.error(
                    [*path, key],
                    "is not a valid label value (63 characters at most, alphanumeric, '-', '_', '.')",
                )
        return frozen_map(selector)

    def _labels(self, labels: dict[str, str], path: list[str | int]) -> Mapping[str, str]:
        for key in labels:
            if key in RESERVED_LABEL_KEYS or key.startswith(RESERVED_LABEL_PREFIXES):
                self.error(path, f"label {quote(key)} is set by KubeSpawner and cannot be overridden")
            elif key.startswith(RESERVED_KEY_PREFIX):
                self.error(path, f"label {quote(key)}: {_RESERVED_FOR_RECORD}")
        return self._selector(labels, path)

    def _annotations(self, annotations: dict[str, str], path: list[str | int]) -> Mapping[str, str]:
        for key in annotations:
            if not k8srules.is_qualified_name(key):
                self.error(path, f"{quote(key)} is not a valid annotation key")
            elif key.startswith(RESERVED_KEY_PREFIX):
                self.error(path, f"annotation {quote(key)}: {_RESERVED_FOR_RECORD}")
        return frozen_map(annotations)

    # -- volumes -------------------------------------------------------------------

    def _volumes(self, items: list[dict[str, Any]], path: list[str | int]) -> tuple[dict[str, Any], ...]:
        out = []
        seen: set[str] = set()
        for i, item in enumerate(items):
            where = [*path, i]
            volume = dict(item)
            name = volume["name"]
            legacy = _LEGACY_VOLUME_NAME.sub("-", name).lower()
            if not k8srules.is_dns1123_label(name) and k8srules.is_dns1123_label(legacy):
                self.warn(
                    [*where, "name"],
                    f"{quote(name)} is not a valid volume name; it is used as {quote(legacy)}, the name "
                    "jupyterhub-singleuser-profiles 0.7 made of it (write that name to silence this warning)",
                )
                name = volume["name"] = legacy
            elif not k8srules.is_dns1123_label(name):
                self.error(
                    [*where, "name"],
                    f"{quote(name)} is not a valid volume name (lower-case letters, digits, '-')",
                )
            if name in seen:
                self.error([*where, "name"], f"volume {quote(name)} is defined twice in this entry")
            seen.add(name)
            sources = [k for k in volume if k not in ("name", *MOUNT_FIELDS)]
            if len(sources) != 1:
                self.error(
                    where,
                    "must have exactly one volume source (persistentVolumeClaim, configMap, secret, ...)",
                )
            for key in sources:
                if key in _passed_through_volume_sources():
                    self._volume_source_shape(volume[key], key, [*where, key])
            claim = volume.get("persistentVolumeClaim")
            if claim:
                self._placeholders(claim["claimName"], [*where, "persistentVolumeClaim", "claimName"])
            empty_dir = volume.get("emptyDir")
            if empty_dir and empty_dir.get("sizeLimit") is not None:
                size_limit = self._quantity(empty_dir["sizeLimit"], [*where, "emptyDir", "sizeLimit"])
                volume["emptyDir"] = dict(empty_dir, sizeLimit=size_limit)
            volume["mountPath"] = self._mount_path(volume.get("mountPath"), name, [*where, "mountPath"])
            sub_path = volume.get("subPath")
            if sub_path and (sub_path.startswith("/") or ".." in sub_path.split("/")):
                self.error([*where, "subPath"], "must be a relative path without '..'")
            out.append(volume)
        for earlier, later in k8srules.shared_mount_paths((i, v["mountPath"]) for i, v in enumerate(out)):
            self.error(
                [*path, later, "mountPath"],
                f"volume {quote(out[later]['name'])} is mounted at the path of volume "
                f"{quote(out[earlier]['name'])}; Kubernetes mounts one volume per path",
            )
        return tuple(out)

    def _volume_source_shape(self, source: Any, key: str, path: list[str | int]) -> None:
        # The schema lets these sources through as any mapping; the API server
        # wants the JSON types the client's models declare: say so here, with
        # the field's path, rather than at every spawn.
        # Imported here: the models take half a second to import.
        from .kubemodel import shape_problems, volume_source_type

        type_name = volume_source_type(key)
        if type_name is not None:
            for where, problem in shape_problems(source, type_name):
                self.error([*path, *where], problem)

    def _mount_path(self, mount_path: str | None, name: str, path: list[str | int]) -> str:
        if not mount_path:
            return posixpath.join(self.default_mount_path, name)
        if ".." in mount_path.split("/"):
            self.error(path, "must not contain '..'")
        if ":" in mount_path:
            self.error(path, "must not contain ':'")
        if mount_path.startswith("/"):
            return posixpath.normpath(mount_path)
        return posixpath.normpath(posixpath.join(self.default_mount_path, mount_path))


@cache
def _passed_through_volume_sources() -> frozenset[str]:
    """Volume sources the schema accepts as any mapping (``csi``, ``projected``, ...)."""
    properties = load_schema()["$defs"]["volume"]["properties"]
    return frozenset(key for key, schema in properties.items() if schema == {"type": "object"})


def _matching_branch(error: jsonschema.ValidationError) -> list[jsonschema.ValidationError] | None:
    """Of a failed ``oneOf``, the errors of the one branch whose type fits the value."""
    branches: dict[int, list[jsonschema.ValidationError]] = {}
    for sub in error.context or []:
        branches.setdefault(int(sub.relative_schema_path[0]), []).append(sub)
    fitting = [
        errs
        for errs in branches.values()
        if not any(e.validator == "type" and not e.relative_path for e in errs)
    ]
    return fitting[0] if len(fitting) == 1 else None


def _scalar_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _is_int(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


def _above(request: str, limit: str) -> bool:
    try:
        return k8srules.parse_quantity(request) > k8srules.parse_quantity(limit)
    except ValueError:
        return False  # reported as an invalid quantity already
