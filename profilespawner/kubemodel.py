"""Kubernetes objects held as kubernetes_asyncio models (``V1Pod``), as JSON dicts, or both.

KubeSpawner builds a ``V1Pod`` whose models hold plain camelCase dicts where it
was given dicts (volumes, affinity terms, ``extra_pod_config`` values), and the
client's ``ApiClient.sanitize_for_serialization`` sends such a mix as it is.
:func:`field` and :func:`with_fields` read and write a field of either kind by
its JSON name, copy-on-write, so that one applier serves the model and the
dict; :func:`build` makes what is added look like its neighbours, as KubeSpawner
would have built it. :func:`to_json` and :func:`from_json` convert without an
API client (constructing one would open an HTTP session) by walking the
models' ``openapi_types``/``attribute_map`` tables, and :func:`shape_problems`
checks JSON against the same tables (the validator's check of the volume
sources it passes through). A value whose JSON type does not fit the model is
passed on as it is, and so is a key the model does not know: the API server
has the last word on both.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any, TypeVar

import kubernetes_asyncio.client.models as k8s_models
from kubernetes_asyncio.client import Configuration

__all__ = [
    "build",
    "builder",
    "copy_tree",
    "field",
    "from_json",
    "shape_problems",
    "to_json",
    "volume_source_type",
    "with_fields",
]

_LIST = re.compile(r"^list\[(.*)\]$")
_DICT = re.compile(r"^dict\(([^,]*), (.*)\)$")
_PRIMITIVES = {"str", "int", "float", "bool", "object", "date", "datetime"}

_T = TypeVar("_T")


@cache
def _configuration() -> Configuration:
    # The API server validates what we send; client-side checks of required
    # fields would only reject partial objects that are valid to send.
    config = Configuration()
    config.client_side_validation = False
    return config


def to_json(obj: Any) -> Any:
    """A model object (or a list/dict of them) as the API server's JSON."""
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    if isinstance(obj, (list, tuple)):
        return [to_json(item) for item in obj]
    if isinstance(obj, dict):
        return {key: to_json(value) for key, value in obj.items()}
    if isinstance(obj, (datetime.datetime, datetime.date)):
        return obj.isoformat()
    return {
        obj.attribute_map[attr]: to_json(value)
        for attr in obj.openapi_types
        if (value := getattr(obj, attr)) is not None
    }


@cache
def _kind(type_name: str) -> tuple[str, Any]:
    """How to build ``type_name``: ("list"|"dict", item type), ("primitive", None)
    or ("model", (class, [(attribute, JSON key, attribute type)]))."""
    if match := _LIST.match(type_name):
        return "list", match[1]
    if match := _DICT.match(type_name):
        return "dict", match[2]
    if type_name in _PRIMITIVES:
        return "primitive", None
    model = getattr(k8s_models, type_name)
    fields = [(attr, key, model.openapi_types[attr]) for attr, key in model.attribute_map.items()]
    return "model", (model, fields)


def from_json(data: Any, type_name: str) -> Any:
    """JSON ``data`` as an instance of the model named ``type_name`` (``"V1Pod"``)."""
    if data is None:
        return None
    kind, detail = _kind(type_name)
    if kind == "list":
        return [from_json(item, detail) for item in data] if isinstance(data, list) else data
    if kind == "dict":
        return (
            {key: from_json(value, detail) for key, value in data.items()} if isinstance(data, dict) else data
        )
    if kind == "primitive" or not isinstance(data, dict):
        return data
    model, fields = detail
    kwargs = {attr: from_json(data[key], sub) for attr, key, sub in fields if key in data}
    return model(local_vars_configuration=_configuration(), **kwargs)


@cache
def _attributes(model: Any) -> dict[str, str]:
    """JSON key → attribute of a model class (``"volumeMounts"`` → ``"volume_mounts"``)."""
    table: dict[str, str] = model.attribute_map
    return {key: attribute for attribute, key in table.items()}


def _is_model(value: Any) -> bool:
    return hasattr(type(value), "openapi_types")


#: (model class, JSON key) → attribute, or None: :func:`field` runs for every
#: item of a pod's lists at every spawn, so its look-up is one dict access.
_FIELD_ATTRIBUTE: dict[tuple[type, str], str | None] = {}


def field(obj: Any, key: str) -> Any:
    """The value under the JSON key ``key`` (``"volumeMounts"``) of a model
    object or a JSON dict; None when it is unset, or the model has no such field."""
    if isinstance(obj, dict):
        return obj.get(key)
    cls = type(obj)
    try:
        attribute = _FIELD_ATTRIBUTE[cls, key]
    except KeyError:
        model: Any = cls  # (mypy takes a class for unhashable)
        attribute = _FIELD_ATTRIBUTE[cls, key] = _attributes(model).get(key)
    return None if attribute is None else getattr(obj, attribute)


def with_fields(obj: _T, changes: Mapping[str, Any]) -> _T:
    """``obj`` (a model object or a JSON dict) with the fields of ``changes``
    (JSON keys) set; None unsets one.

    Copy-on-write: ``obj`` is left as it is and the copy is shallow, sharing
    every other value with it; ``obj`` itself comes back when each value is
    already the one in place."""
    pending = {key: value for key, value in changes.items() if field(obj, key) is not value}
    if not pending:
        return obj
    if isinstance(obj, dict):
        out: Any = dict(obj)
        for key, value in pending.items():
            if value is None:
                out.pop(key, None)
            else:
                out[key] = value
        return out  # type: ignore[no-any-return]
    out = _shallow_copy(obj)
    model: Any = type(obj)
    attributes = _attributes(model)
    for key, value in pending.items():
        if key not in attributes:
            raise KeyError(f"{type(obj).__name__} has no field {key!r} in this kubernetes_asyncio")
        setattr(out, attributes[key], value)
    return out  # type: ignore[no-any-return]


def _shallow_copy(obj: _T) -> _T:
    # What copy.copy does for a model (a plain class: no __slots__, no
    # __copy__, its state its __dict__), without its generic protocol: a
    # pod's models are copied at every spawn.
    out = object.__new__(type(obj))
    out.__dict__.update(obj.__dict__)
    return out


_SCALARS = frozenset({str, int, float, bool, type(None)})


def copy_tree(value: Any) -> Any:
    """``value`` (JSON, models, or a mix) copied down to its leaves; mappings
    become dicts and sequences lists. Models keep their configuration."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is dict or isinstance(value, Mapping):
        return {key: copy_tree(item) for key, item in value.items()}
    if kind is list or kind is tuple:
        return [copy_tree(item) for item in value]
    if _is_model(value):
        out = _shallow_copy(value)
        for attribute in value.openapi_types:
            item = getattr(value, attribute)
            if item is not None:
                setattr(out, attribute, copy_tree(item))
        return out
    return value


@cache
def _field_model(parent: Any, key: str) -> Any:
    """The model class of the field ``key`` of the model class ``parent`` (of
    its items, when it is a list); None when it is not a model."""
    attribute = _attributes(parent).get(key)
    if attribute is None:
        return None
    type_name: str = parent.openapi_types[attribute]
    if match := _LIST.match(type_name):
        type_name = match[1]
    if not hasattr(k8s_models, type_name):
        return None
    kind, detail = _kind(type_name)
    return detail[0] if kind == "model" else None


def build(
    parent: Any, key: str, data: Mapping[str, Any], neighbours: Sequence[Any] = (), *, model: bool = True
) -> Any:
    """A new value from the JSON ``data`` for the field ``key`` of ``parent``,
    or for an item of that field when it is a list, in the form of what is
    already there -- as KubeSpawner would have built it:

    - a dict when its ``neighbours`` (the items already in the list) are
      dicts, or when ``parent`` is a dict;
    - else a model when the neighbours are models, or with ``model`` (the
      field's own type, from ``parent``'s tables): built as KubeSpawner's
      ``get_k8s_model`` builds one from its configuration, the top level as
      the model and the values inside it as camelCase JSON. A ``data`` key
      that the model does not know (a field newer than this client) keeps the
      whole value a dict, so that the key still reaches the API server.

    ``data`` is copied: the result shares nothing with it.
    """
    return builder(parent, key, neighbours, model=model)(data)


def builder(
    parent: Any, key: str, neighbours: Sequence[Any] = (), *, model: bool = True
) -> Callable[[Mapping[str, Any]], Any]:
    """:func:`build` for many items of one list: the form is decided once."""
    cls: Any = None
    if neighbours:
        if _is_model(neighbours[0]):
            cls = type(neighbours[0])
    elif model and _is_model(parent):
        parent_model: Any = type(parent)
        cls = _field_model(parent_model, key)
    if cls is None:
        return copy_tree
    attributes = _attributes(cls)
    configuration = _configuration()

    def make(data: Mapping[str, Any]) -> Any:
        kwargs = {}
        for name, value in data.items():
            attribute = attributes.get(name)
            if attribute is None:
                return copy_tree(data)
            kwargs[attribute] = value if type(value) in _SCALARS else copy_tree(value)
        return cls(local_vars_configuration=configuration, **kwargs)

    return make


#: What JSON values a primitive of the client's tables may be. Quantities and
#: IntOrString are "str" in the tables but numbers in JSON too.
_PRIMITIVE_JSON: dict[str, tuple[type, ...]] = {
    "str": (str, int, float),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "date": (str,),
    "datetime": (str,),
}
_JSON_KIND = {"list": "a list", "dict": "a mapping", "model": "a mapping"}


def shape_problems(data: Any, type_name: str) -> list[tuple[list[str | int], str]]:
    """Where JSON ``data`` does not have the JSON types of the model ``type_name``
    (``"V1CSIVolumeSource"``): (path inside ``data``, problem), at most one per
    value. Keys the model does not know are not problems (a newer API server
    may know them)."""
    problems: list[tuple[list[str | int], str]] = []
    stack: list[tuple[Any, str, list[str | int]]] = [(data, type_name, [])]
    while stack:
        value, name, path = stack.pop()
        if value is None:
            continue
        kind, detail = _kind(name)
        if kind == "primitive":
            allowed = _PRIMITIVE_JSON.get(name)
            fits = allowed is None or (
                isinstance(value, allowed) and (bool in allowed or not isinstance(value, bool))
            )
            if not fits:
                problems.append((path, f"must be {_primitive_kind(name)}"))
        elif kind == "list":
            if not isinstance(value, list):
                problems.append((path, "must be a list"))
            else:
                stack.extend((item, detail, [*path, i]) for i, item in enumerate(value))
        elif not isinstance(value, dict):
            problems.append((path, f"must be {_JSON_KIND[kind]}"))
        elif kind == "dict":
            stack.extend((item, detail, [*path, key]) for key, item in value.items())
        else:
            _, fields = detail
            stack.extend((value[key], sub, [*path, key]) for _, key, sub in fields if key in value)
    return sorted(problems, key=lambda p: [str(part) for part in p[0]])


def _primitive_kind(name: str) -> str:
    return {"str": "a string", "int": "an integer", "float": "a number", "bool": "true or false"}.get(
        name, "a string"
    )


def volume_source_type(key: str) -> str | None:
    """The model of the volume source under ``key`` of a Volume (``"csi"`` →
    ``"V1CSIVolumeSource"``); None when this client does not know ``key``."""
    volume: Any = k8s_models.V1Volume  # its tables are class attributes the stubs do not declare
    for attr, json_key in volume.attribute_map.items():
        if json_key == key:
            return str(volume.openapi_types[attr])
    return None
