"""Between kubernetes_asyncio model objects (``V1Pod``) and API-server JSON dicts.

KubeSpawner builds and sends ``V1Pod`` objects; our applier works on the JSON
dict the API server sees. These functions convert without an API client
(constructing one would open an HTTP session) by walking the models'
``openapi_types``/``attribute_map`` tables, and :func:`shape_problems` checks
JSON against the same tables (the validator's check of the volume sources it
passes through). A value whose JSON type does not fit the model is passed on
as it is: the API server has the last word on it.
"""

from __future__ import annotations

import datetime
import re
from functools import cache
from typing import Any

import kubernetes_asyncio.client.models as k8s_models
from kubernetes_asyncio.client import Configuration

__all__ = ["from_json", "shape_problems", "to_json", "volume_source_type"]

_LIST = re.compile(r"^list\[(.*)\]$")
_DICT = re.compile(r"^dict\(([^,]*), (.*)\)$")
_PRIMITIVES = {"str", "int", "float", "bool", "object", "date", "datetime"}


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
