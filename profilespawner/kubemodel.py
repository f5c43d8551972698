"""Between kubernetes_asyncio model objects (``V1Pod``) and API-server JSON dicts.

KubeSpawner builds and sends ``V1Pod`` objects; our applier works on the JSON
dict the API server sees. These two functions convert without an API client
(constructing one would open an HTTP session) by walking the models'
``openapi_types``/``attribute_map`` tables.
"""

from __future__ import annotations

import datetime
import re
from functools import cache
from typing import Any

import kubernetes_asyncio.client.models as k8s_models
from kubernetes_asyncio.client import Configuration

__all__ = ["from_json", "to_json"]

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
        return [from_json(item, detail) for item in data]
    if kind == "dict":
        return {key: from_json(value, detail) for key, value in data.items()}
    if kind == "primitive":
        return data
    model, fields = detail
    kwargs = {attr: from_json(data[key], sub) for attr, key, sub in fields if key in data}
    return model(local_vars_configuration=_configuration(), **kwargs)
