"""A :class:`Resolution` onto KubeSpawner's pod, as the API server's JSON dict.

Pure and idempotent: it returns a new dict and applying the same resolution
twice gives the same pod as once. Only the ``notebook`` container is changed.
Placeholders (``{username}``, ...) are filled by the ``expand`` function the
caller passes in: KubeSpawner's own ``_expand_user_properties``, given only
text that follows :mod:`profilespawner.placeholders`' rule; a text that breaks
it, or an expansion that fails, is a :class:`ProfileSpawnError` naming the field.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

from . import k8srules, placeholders
from .errors import PlaceholderError, ProfileSpawnError, ResourceConflictError, quote
from .merge import by_key, unique
from .model import JSON, NOTEBOOK_CONTAINER, RESOURCE_ENV
from .model import MOUNT_FIELDS as _MOUNT_FIELDS
from .resolve import Resolution

__all__ = ["apply_resolution"]

Expand = Callable[[str], str]
#: Fills in the placeholders of a text; the second argument names its field.
_FieldExpand = Callable[[str, str], str]


def apply_resolution(
    pod: JSON,
    resolution: Resolution,
    *,
    expand: Expand,
    gpu_resource_name: str = "nvidia.com/gpu",
) -> JSON:
    """Return ``pod`` with ``resolution`` applied.

    Raises :class:`ResourceConflictError` when a request ends up above its
    limit, counting KubeSpawner's own values.
    """
    pod = copy.deepcopy(pod)
    settings = resolution.settings
    fill = _placeholder_filler(expand, resolution)
    spec = pod.setdefault("spec", {})
    container = _notebook_container(spec)

    env = [
        dict(var, value=fill(var["value"], f"env {quote(var['name'])}")) if "value" in var else dict(var)
        for var in settings.env
    ]
    container["env"] = list(by_key([*(container.get("env") or []), *env]))
    if settings.env_from:
        container["envFrom"] = list(unique([*(container.get("envFrom") or []), *settings.env_from]))

    resources = container.setdefault("resources", {})
    for kind, values in settings.resources.items():
        resources.setdefault(kind, {}).update(values)
    if settings.gpu is not None:
        for kind in ("requests", "limits"):
            if settings.gpu > 0:
                resources.setdefault(kind, {})[gpu_resource_name] = str(settings.gpu)
            else:
                (resources.get(kind) or {}).pop(gpu_resource_name, None)
    for kind in ("requests", "limits"):
        if kind in resources and not resources[kind]:
            del resources[kind]
    _check_requests(resources, resolution)
    container["env"] = _sync_resource_env(container["env"], resources)

    tolerations = [*(spec.get("tolerations") or []), *settings.tolerations, *resolution.gpu_tolerations]
    if tolerations:
        spec["tolerations"] = list(k8srules.unique_tolerations(tolerations))
    if settings.node_selector:
        spec["nodeSelector"] = {**(spec.get("nodeSelector") or {}), **settings.node_selector}
    if settings.node_affinity:
        affinity = spec.setdefault("affinity", {})
        affinity["nodeAffinity"] = _merge_node_affinity(
            affinity.get("nodeAffinity") or {}, settings.node_affinity
        )

    metadata = pod.setdefault("metadata", {})
    if settings.labels:
        metadata["labels"] = {**(metadata.get("labels") or {}), **settings.labels}
    if settings.annotations:
        metadata["annotations"] = {**(metadata.get("annotations") or {}), **settings.annotations}

    if settings.volumes:
        _add_volumes(spec, container, settings.volumes, fill)
    return pod


def _placeholder_filler(expand: Expand, resolution: Resolution) -> _FieldExpand:
    """``expand`` behind the placeholder rule, called only for text with braces,
    once per distinct text (KubeSpawner's expansion recomputes every slug of
    the user at each call); a failure names the field, never the text."""
    memo: dict[str, str] = {}

    def fill(text: str, field: str) -> str:
        if "{" not in text and "}" not in text:
            return text
        if text not in memo:
            try:
                memo[text] = placeholders.expand(text, expand)
            except PlaceholderError as e:
                raise ProfileSpawnError(f"{e} ({resolution.describe()})", field=field) from None
            except Exception as e:
                # not chained: the error's own message may quote the text
                raise ProfileSpawnError(
                    f"its placeholders cannot be filled in ({type(e).__name__}; {resolution.describe()})",
                    field=field,
                ) from None
        return memo[text]

    return fill


def _notebook_container(spec: JSON) -> JSON:
    for container in spec.get("containers") or []:
        if container.get("name") == NOTEBOOK_CONTAINER:
            return container  # type: ignore[no-any-return]
    raise ProfileSpawnError(f"the pod has no container named {NOTEBOOK_CONTAINER!r}")


def _check_requests(resources: JSON, resolution: Resolution) -> None:
    limits = resources.get("limits") or {}
    for name, request in (resources.get("requests") or {}).items():
        if name not in limits:
            continue
        try:
            above = k8srules.parse_quantity(str(request)) > k8srules.parse_quantity(str(limits[name]))
        except ValueError:
            continue  # KubeSpawner's own value; the API server has the last word
        if above:
            raise ResourceConflictError(
                f"the request of {name!r} ends up above its limit ({resolution.describe()}; "
                "KubeSpawner's own resource settings count too)",
                field=f"resources.requests.{name}",
            )


def _sync_resource_env(env: list[JSON], resources: JSON) -> list[JSON]:
    values: dict[str, str] = {}
    unreadable: set[str] = set()
    for var, (kind, name) in RESOURCE_ENV.items():
        quantity = (resources.get(kind) or {}).get(name)
        if quantity is None:
            continue
        try:
            if name == "memory":
                values[var] = str(k8srules.memory_bytes(str(quantity)))
            else:
                values[var] = str(k8srules.cpu_cores(str(quantity)))
        except ValueError:
            unreadable.add(var)  # KubeSpawner's own value, beyond what we read: left as it wrote it
    out = [
        {"name": var["name"], "value": values.pop(var["name"])} if var["name"] in values else var
        for var in env
        if var["name"] not in RESOURCE_ENV or var["name"] in values or var["name"] in unreadable
    ]
    out.extend({"name": name, "value": value} for name, value in values.items())
    return out


def _merge_node_affinity(pod_affinity: JSON, profile_affinity: Any) -> JSON:
    """Both sets of constraints must hold: required terms are ANDed, preferred added."""
    merged = dict(pod_affinity)
    required_key = "requiredDuringSchedulingIgnoredDuringExecution"
    preferred_key = "preferredDuringSchedulingIgnoredDuringExecution"
    if required_key in profile_affinity:
        ours = profile_affinity[required_key]["nodeSelectorTerms"]
        theirs = (pod_affinity.get(required_key) or {}).get("nodeSelectorTerms") or []
        merged[required_key] = {"nodeSelectorTerms": _and_terms(theirs, ours) if theirs else list(ours)}
    if preferred_key in profile_affinity:
        merged[preferred_key] = list(
            unique([*(pod_affinity.get(preferred_key) or []), *profile_affinity[preferred_key]])
        )
    return merged


def _and_terms(left: Iterable[JSON], right: Iterable[JSON]) -> list[JSON]:
    # Terms are ORed and the requirements inside a term ANDed, so (A or B) and
    # (C or D) is (A+C) or (A+D) or (B+C) or (B+D).
    terms = []
    for a in left:
        for b in right:
            term = {}
            for kind in ("matchExpressions", "matchFields"):
                reqs = list(unique([*(a.get(kind) or []), *(b.get(kind) or [])]))
                if reqs:
                    term[kind] = reqs
            terms.append(term)
    return list(unique(terms))


def _add_volumes(spec: JSON, container: JSON, volumes: Iterable[JSON], fill: _FieldExpand) -> None:
    pod_volumes = list(spec.get("volumes") or [])
    mounts = list(container.get("volumeMounts") or [])
    for item in volumes:
        volume = {k: v for k, v in item.items() if k not in _MOUNT_FIELDS}
        claim = volume.get("persistentVolumeClaim")
        if claim:
            where = f"volume {quote(volume['name'])}: persistentVolumeClaim.claimName"
            volume["persistentVolumeClaim"] = dict(claim, claimName=fill(claim["claimName"], where))
        mount = {"name": item["name"], "mountPath": item["mountPath"]}
        if item.get("readOnly"):
            mount["readOnly"] = True
        if item.get("subPath"):
            mount["subPath"] = item["subPath"]
        # a profile volume named like one of KubeSpawner's replaces it and its mounts
        pod_volumes = [v for v in pod_volumes if v.get("name") != volume["name"]]
        mounts = [m for m in mounts if m.get("name") != volume["name"]]
        pod_volumes.append(volume)
        mounts.append(mount)
    spec["volumes"] = pod_volumes
    container["volumeMounts"] = mounts
