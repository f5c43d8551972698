"""A :class:`Resolution` onto KubeSpawner's pod: its ``V1Pod``, or that pod as JSON.

Pure, idempotent and copy-on-write, one set of rules for both forms (through
:mod:`.kubemodel`'s :func:`~.kubemodel.field` and :func:`~.kubemodel.with_fields`):
the pod passed in is never changed, nor anything in it (KubeSpawner puts some of
its configuration objects, such as ``node_selector``, into every pod it
builds). The pod returned shares with it every object a profile leaves alone,
with its type -- KubeSpawner's models, the plain dicts it keeps inside them
(volumes, affinity terms, ``extra_pod_config`` values), keys this client's
models do not know. Every pod gets the record of what it got, the annotations
of :func:`profilespawner.provenance.pod_annotations` (SPEC §8): when the
resolution sets nothing else, they are the only change, and the pod returned
differs from the one passed in by its ``metadata.annotations`` alone.

What a profile adds takes the form of its neighbours (:func:`~.kubemodel.build`):
in a ``V1Pod``, the models KubeSpawner itself makes from its configuration
(``V1EnvVar``, ``V1Volume``, ``V1VolumeMount``, ``V1Toleration``,
``V1NodeSelectorTerm``, ...) with camelCase dicts inside, so that code reading
the pod after us (a subclass, a ``modify_pod_hook``) finds one type per list;
dicts where KubeSpawner holds dicts, and in a JSON pod.

Only the ``notebook`` container is changed. Placeholders (``{username}``, ...)
are filled by the ``expand`` function the caller passes in: KubeSpawner's own
``_expand_user_properties``, given only text that follows
:mod:`profilespawner.placeholders`' rule; a text that breaks it, or an
expansion that fails, is a :class:`ProfileSpawnError` naming the field.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from . import k8srules, placeholders, provenance
from .errors import MountConflictError, PlaceholderError, ProfileSpawnError, ResourceConflictError, quote
from .kubemodel import build, builder, copy_tree, field, to_json, with_fields
from .model import (
    JSON,
    MOUNT_FIELDS,
    NOTEBOOK_CONTAINER,
    RESERVED_KEY_PREFIX,
    RESOURCE_ENV,
    PodSettings,
    once,
)
from .resolve import Resolution

__all__ = ["apply_resolution", "notebook_resources"]

_REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"
_PREFERRED = "preferredDuringSchedulingIgnoredDuringExecution"

Expand = Callable[[str], str]
#: Fills in the placeholders of a text; the second argument names its field, with
#: ``{}`` where the third (quoted) goes -- formatted only for an error message.
_FieldExpand = Callable[[str, str, str], str]
#: A ``V1Pod`` or its JSON dict: what comes in goes out.
Pod = TypeVar("Pod")
#: What a resolution that sets nothing holds.
_NOTHING = PodSettings()


def apply_resolution(
    pod: Pod,
    resolution: Resolution,
    *,
    expand: Expand,
    gpu_resource_name: str = "nvidia.com/gpu",
) -> Pod:
    """Return ``pod`` (a ``V1Pod`` or its JSON dict) with ``resolution`` applied
    and recorded.

    Raises :class:`ResourceConflictError` when a request ends up above its
    limit, counting KubeSpawner's own values, and :class:`MountConflictError`
    when a profile's volume is mounted where one of KubeSpawner's is.
    """
    settings = resolution.settings
    metadata = _metadata(pod, settings.labels, _annotations(resolution))
    if not _sets_anything(resolution):
        return with_fields(pod, {"metadata": metadata})
    fill = _placeholder_filler(expand, resolution)
    spec = field(pod, "spec")
    containers = list((field(spec, "containers") if spec is not None else None) or [])
    index = _notebook_index(containers)
    container = containers[index]

    resources, resource_env = _final_resources(container, resolution, gpu_resource_name)
    container_changes = {
        "env": _env(container, resolution, resource_env, fill),
        "envFrom": _appended(container, "envFrom", settings.env_from),
        "resources": resources,
    }
    spec_changes = {
        "tolerations": _appended(
            spec,
            "tolerations",
            [*settings.tolerations, *resolution.gpu_tolerations],
            identity=k8srules.toleration_identity,
        ),
        "nodeSelector": _merged_map(field(spec, "nodeSelector"), settings.node_selector),
    }
    if settings.node_affinity:
        spec_changes["affinity"] = _with_node_affinity(spec, settings.node_affinity)
    if settings.volumes:
        spec_changes["volumes"], container_changes["volumeMounts"] = _volumes(
            spec, container, settings.volumes, fill
        )
        _check_mounts(container_changes["volumeMounts"], settings.volumes, resolution)
    notebook = with_fields(container, container_changes)
    if notebook is not container:
        containers[index] = notebook
        spec_changes["containers"] = containers

    return with_fields(pod, {"spec": with_fields(spec, spec_changes), "metadata": metadata})


def notebook_resources(container: Any, resolution: Resolution, *, gpu_resource_name: str) -> JSON:
    """The resources (as JSON) that ``container`` -- the notebook container as
    KubeSpawner builds it, or one holding only its resources -- ends up with
    once ``resolution`` is applied: the very step :func:`apply_resolution`
    takes, check included, so that the hub can refuse a spawn and count what
    it asks of its budgets before anything is created.

    Raises :class:`ResourceConflictError` when a request ends up above its
    limit, counting KubeSpawner's own values.
    """
    resources, _ = _final_resources(container, resolution, gpu_resource_name)
    return to_json(resources) if resources is not None else {}


def _sets_anything(resolution: Resolution) -> bool:
    """Whether ``resolution`` changes more than the pod's record; once per resolution."""
    return once(
        resolution.derived,
        "sets_anything",
        lambda: bool(resolution.settings != _NOTHING or resolution.gpu_tolerations),
    )


def _annotations(resolution: Resolution) -> Mapping[str, str]:
    """The profiles' annotations and the record of ``resolution`` (SPEC §8),
    which is the pod's only annotation under the reserved prefix; once per
    resolution, merged into a new dict of each pod."""
    return once(
        resolution.derived,
        "annotations",
        lambda: {**resolution.settings.annotations, **provenance.pod_annotations(resolution)},
    )


def _metadata(pod: Any, labels: Mapping[str, str], annotations: Mapping[str, str]) -> Any:
    """The pod's metadata with ``labels`` and ``annotations`` merged in per
    key; of the keys under the reserved prefix, only those of ``annotations``."""
    metadata = field(pod, "metadata")
    if metadata is None:
        metadata = build(pod, "metadata", {})
    current = field(metadata, "annotations") or {}
    # No profile may set a key under the prefix (parse.py); KubeSpawner's
    # extra_annotations may, and must not pass for the record.
    foreign = [key for key in current if key.startswith(RESERVED_KEY_PREFIX) and key not in annotations]
    if foreign:
        current = {k: v for k, v in current.items() if k not in foreign}
    return with_fields(
        metadata,
        {
            "labels": _merged_map(field(metadata, "labels"), labels),
            "annotations": _merged_map(current, annotations),
        },
    )


def _placeholder_filler(expand: Expand, resolution: Resolution) -> _FieldExpand:
    """``expand`` behind the placeholder rule, called only for text with braces,
    once per distinct text; a failure names the field, never the text.

    KubeSpawner's expansion recomputes every slug of the user at each call,
    so the texts of a resolution are expanded in one call, joined by a NUL
    (which no text of a profile holds) and split again -- each part stripped
    of the trailing ``-`` KubeSpawner strips from a text that does not end
    with one. Should that not give one part per text (a NUL in a text or a
    user's name), or the call fail, each text is expanded alone, which names the
    field of a failure.
    """
    memo = _expanded_together(expand, _placeholder_texts(resolution))

    def fill(text: str, where: str, name: str) -> str:
        if not _has_braces(text):
            return text
        if text not in memo:
            try:
                memo[text] = placeholders.expand(text, expand)
            except PlaceholderError as e:
                raise ProfileSpawnError(
                    f"{e} ({resolution.describe()})", field=where.format(quote(name))
                ) from None
            except Exception as e:
                # not chained: the error's own message may quote the text
                raise ProfileSpawnError(
                    f"its placeholders cannot be filled in ({type(e).__name__}; {resolution.describe()})",
                    field=where.format(quote(name)),
                ) from None
        return memo[text]

    return fill


def _has_braces(text: Any) -> bool:
    """Whether ``text`` has placeholders to fill in (or braces that break the rule)."""
    return isinstance(text, str) and ("{" in text or "}" in text)


def _placeholder_texts(resolution: Resolution) -> tuple[str, ...]:
    """The distinct texts with braces that applying ``resolution`` fills in,
    when they all follow the placeholder rule (else none: each is then
    expanded alone, and the first that breaks it named); once per resolution."""

    def texts() -> tuple[str, ...]:
        settings = resolution.settings
        found = [var["value"] for var in settings.env if "value" in var]
        found += [
            volume["persistentVolumeClaim"]["claimName"]
            for volume in settings.volumes
            if volume.get("persistentVolumeClaim")
        ]
        distinct = dict.fromkeys(text for text in found if _has_braces(text))
        return () if any(placeholders.problems(text) for text in distinct) else tuple(distinct)

    return once(resolution.derived, "placeholder_texts", texts)


def _expanded_together(expand: Expand, texts: Sequence[str]) -> dict[str, str]:
    if len(texts) < 2:
        return {}
    try:
        parts = expand("\0".join(texts)).split("\0")
    except Exception:
        return {}
    if len(parts) != len(texts):
        return {}
    return {
        text: part if text.endswith("-") or i == len(texts) - 1 else part.rstrip("-")
        for i, (text, part) in enumerate(zip(texts, parts, strict=True))
    }


def _notebook_index(containers: Sequence[Any]) -> int:
    for index, container in enumerate(containers):
        if field(container, "name") == NOTEBOOK_CONTAINER:
            return index
    raise ProfileSpawnError(f"the pod has no container named {NOTEBOOK_CONTAINER!r}")


def _unchanged_or(current: Any, new: list[Any]) -> Any:
    """``current`` when ``new`` holds the very same items (copy-on-write), else ``new``."""
    items = current or []
    if len(items) == len(new) and all(a is b for a, b in zip(items, new, strict=True)):
        return current
    return new


def _exact(item: JSON) -> JSON:
    return item


def _appended(
    parent: Any, key: str, additions: Iterable[JSON], *, identity: Callable[[JSON], Any] = _exact
) -> Any:
    """The list under ``key`` of ``parent`` with ``additions`` appended, items
    with the same ``identity`` as an earlier one dropped (the first kept; by
    default, exact duplicates)."""
    current = field(parent, key) or []
    seen: list[Any] = []
    out: list[Any] = []
    for item in current:
        data = identity(to_json(item))
        if data not in seen:
            seen.append(data)
            out.append(item)
    for addition in additions:
        data = identity(addition)
        if data not in seen:
            seen.append(data)
            out.append(build(parent, key, addition, current))
    return _unchanged_or(field(parent, key), out)


def _merged_map(current: Mapping[str, Any] | None, ours: Mapping[str, Any]) -> Any:
    """``current`` with ``ours`` merged in per key; a new dict, ``current`` itself when nothing changes."""
    if not ours:
        return current
    merged = {**(current or {}), **ours}
    return current if merged == current else merged


#: How many different resources of KubeSpawner's a resolution remembers its
#: resources step for (one per hub, in practice; a hook may vary them).
_RESOURCE_STEPS_KEPT = 8


def _final_resources(
    container: Any, resolution: Resolution, gpu_resource_name: str
) -> tuple[Any, Mapping[str, str | None]]:
    """The container's resources once ``resolution`` is applied -- a request
    above its limit refused -- and the ``MEM_*``/``CPU_*`` variables they
    give, as JupyterHub writes them: name → value, None to remove; a name
    that is absent is left as KubeSpawner wrote it (a quantity beyond what we
    read).

    The step depends on the resolution and on KubeSpawner's own values only,
    so a resolution remembers it per set of those values; each pod gets new
    dicts."""
    current = field(container, "resources")
    key = _resources_key(current, gpu_resource_name)
    steps: dict[Any, tuple[dict[str, Any], dict[str, str | None]]] = resolution.derived.setdefault(
        "resource_steps", {}
    )
    step = steps.get(key) if key is not None else None
    if step is None:
        step = _resources_step(current, resolution, gpu_resource_name)
        if key is not None:
            if len(steps) >= _RESOURCE_STEPS_KEPT:
                steps.clear()
            steps[key] = step
    changes, env = step
    if not changes:
        return current, env
    resources = with_fields(
        current if current is not None else build(container, "resources", {}),
        {kind: dict(values) if values is not None else None for kind, values in changes.items()},
    )
    return resources, env


def _resources_key(current: Any, gpu_resource_name: str) -> Hashable | None:
    """KubeSpawner's requests and limits as a key (types included: ``2`` is not
    ``"2"`` to the API server); None when they are not plain values."""
    parts: list[Any] = [gpu_resource_name]
    for kind in ("requests", "limits"):
        values = field(current, kind) if current is not None else None
        if not values:
            parts.append(None)
        elif isinstance(values, dict):
            parts.append(tuple((name, type(value), value) for name, value in values.items()))
        else:
            return None
    key = tuple(parts)
    try:
        hash(key)
    except TypeError:
        return None
    return key


def _resources_step(
    current: Any, resolution: Resolution, gpu_resource_name: str
) -> tuple[dict[str, Any], dict[str, str | None]]:
    """What the resolution changes in the resources (kind → the new map, None
    to remove it), checked, and the variables the result gives."""
    settings = resolution.settings
    changes: dict[str, Any] = {}
    final: dict[str, Mapping[str, Any]] = {}
    for kind in ("requests", "limits"):
        values = field(current, kind) if current is not None else None
        merged = {**(values or {}), **settings.resources.get(kind, {})}
        if settings.gpu is not None:
            if settings.gpu > 0:
                merged[gpu_resource_name] = str(settings.gpu)
            else:
                merged.pop(gpu_resource_name, None)
        if merged != (values or {}):
            changes[kind] = merged or None
        final[kind] = merged
    _check_requests(final["requests"], final["limits"], resolution)
    env: dict[str, str | None] = {}
    for var, (kind, name) in RESOURCE_ENV.items():
        quantity = final[kind].get(name)
        if quantity is None:
            env[var] = None
            continue
        try:
            if name == "memory":
                env[var] = str(k8srules.memory_bytes(str(quantity)))
            else:
                env[var] = str(k8srules.cpu_cores(str(quantity)))
        except ValueError:
            pass  # KubeSpawner's own value, beyond what we read: left as it wrote it
    return changes, env


def _check_requests(requests: Mapping[str, Any], limits: Mapping[str, Any], resolution: Resolution) -> None:
    for name, request in requests.items():
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


def _env(
    container: Any,
    resolution: Resolution,
    resource_env: Mapping[str, str | None],
    fill: _FieldExpand,
    current: Sequence[Any] | None = None,
) -> Any:
    """The container's variables with the profiles': one replaces the
    container's of the same name, in its position, the others are appended;
    then the ``MEM_*``/``CPU_*`` variables of ``resource_env`` (set, replaced
    or removed, the new ones last). One pass over KubeSpawner's variables,
    which are many (JupyterHub's own)."""
    if current is None:
        current = field(container, "env") or []
    ours = _profile_env(container, current, resolution, fill)
    remaining = {name: value for name, value in resource_env.items() if value is not None}
    out: list[Any] = []
    seen: set[Any] = set()

    def keep(name: Any, var: Any) -> None:
        if name in resource_env:
            value = remaining.pop(name, None)
            if value is None:
                return  # the resource is unset: so is its variable
            if field(var, "value") != value or field(var, "valueFrom") is not None:
                var = build(container, "env", {"name": name, "value": value}, current)
        out.append(var)

    for var in current:
        # field(var, "name"), for the many variables of JupyterHub's
        name: Any = var.get("name") if isinstance(var, dict) else getattr(var, "name", None)
        if name in seen:
            # Two of KubeSpawner's variables with one name: as one, in the
            # first's position with the last's value.
            collapsed = list({field(v, "name"): v for v in current}.values())
            return _unchanged_or(
                field(container, "env"), _env(container, resolution, resource_env, fill, collapsed)
            )
        seen.add(name)
        keep(name, ours.pop(name, var))
    for name, var in ours.items():
        keep(name, var)
    out.extend(build(container, "env", {"name": n, "value": v}, current) for n, v in remaining.items())
    return _unchanged_or(field(container, "env"), out)


def _profile_env(
    container: Any, neighbours: Sequence[Any], resolution: Resolution, fill: _FieldExpand
) -> dict[str, Any]:
    """The profiles' variables, filled in (name → the object the pod gets, in
    the form of ``neighbours``). Built anew for each pod: building one costs
    less than copying one kept from an earlier pod would."""
    make = builder(container, "env", neighbours)
    ours: dict[str, Any] = {}
    for var in resolution.settings.env:
        name = var["name"]
        ours[name] = make(dict(var, value=fill(var["value"], "env {}", name)) if "value" in var else var)
    return ours


def _with_node_affinity(spec: Any, profile_affinity: Mapping[str, Any]) -> Any:
    """The pod's affinity with the profile's node affinity: both sets of
    constraints must hold, required terms are ANDed, preferred ones added."""
    affinity = field(spec, "affinity")
    if affinity is None:
        affinity = build(spec, "affinity", {})
    node_affinity = field(affinity, "nodeAffinity")
    if node_affinity is None:
        node_affinity = build(affinity, "nodeAffinity", {})
    changes: dict[str, Any] = {}
    if _REQUIRED in profile_affinity:
        ours = profile_affinity[_REQUIRED]["nodeSelectorTerms"]
        required = field(node_affinity, _REQUIRED)
        if required is None:
            required = build(node_affinity, _REQUIRED, {})
        theirs = field(required, "nodeSelectorTerms") or []
        terms = (
            _and_terms(theirs, ours)
            if theirs
            else [build(required, "nodeSelectorTerms", term, theirs) for term in ours]
        )
        changes[_REQUIRED] = with_fields(required, {"nodeSelectorTerms": _without_implied(terms)})
    if _PREFERRED in profile_affinity:
        changes[_PREFERRED] = _appended(node_affinity, _PREFERRED, profile_affinity[_PREFERRED])
    return with_fields(affinity, {"nodeAffinity": with_fields(node_affinity, changes)})


_TERM_KINDS = ("matchExpressions", "matchFields")


def _and_terms(theirs: Iterable[Any], ours: Iterable[JSON]) -> list[Any]:
    # Terms are ORed and the requirements inside a term ANDed, so (A or B) and
    # (C or D) is (A+C) or (A+D) or (B+C) or (B+D). Each combination is a copy
    # of the pod's term (its type and every other field kept) with ours added.
    terms = []
    for a in theirs:
        for b in ours:
            term = copy_tree(a)
            terms.append(
                with_fields(
                    term, {kind: _requirements(term, kind, b.get(kind) or []) for kind in _TERM_KINDS}
                )
            )
    return terms


def _without_implied(terms: Sequence[Any]) -> list[Any]:
    """``terms`` (ORed) without those another term implies: X or (X and Y) is X.

    Besides duplicates, the AND of a pod's terms with a profile's makes such
    terms when applied again, ((A+C) or (B+C)) and (C or D) holding A+C+D;
    dropping them keeps applying idempotent. Terms with other fields (newer
    than this client) are compared only to terms with the same ones.
    """
    parts = []
    for term in terms:
        data = to_json(term)
        requirements: list[Any] = []
        for kind in _TERM_KINDS:
            for requirement in data.get(kind) or []:
                if (kind, requirement) not in requirements:
                    requirements.append((kind, requirement))
        rest = {key: value for key, value in data.items() if key not in _TERM_KINDS}
        parts.append((requirements, rest))

    def implied(i: int) -> bool:
        mine, rest = parts[i]
        for j, (other, other_rest) in enumerate(parts):
            if j == i or other_rest != rest or not all(r in mine for r in other):
                continue
            if len(other) < len(mine) or j < i:  # fewer requirements, or the same ones earlier
                return True
        return False

    return [term for i, term in enumerate(terms) if not implied(i)]


def _requirements(term: Any, kind: str, additions: Iterable[JSON]) -> Any:
    # KubeSpawner keeps a term's requirements as dicts (get_k8s_model converts
    # the term only); ours join them as dicts, or as models among models.
    current = field(term, kind) or []
    out = list(current)
    seen = [to_json(item) for item in current]
    for data in additions:
        if data not in seen:
            seen.append(data)
            out.append(build(term, kind, data, current, model=False))
    return _unchanged_or(field(term, kind), out)


def _check_mounts(mounts: Sequence[Any], volumes: Iterable[JSON], resolution: Resolution) -> None:
    """A profile's volume mounted at the path of one of KubeSpawner's, which
    the API server would refuse (the profiles' own were checked by the resolver)."""
    ours = {volume["name"] for volume in volumes}
    paths = ((field(m, "name"), field(m, "mountPath")) for m in mounts)
    for earlier, later in k8srules.shared_mount_paths(paths):
        if (earlier in ours) == (later in ours):
            continue  # KubeSpawner's own mounts are KubeSpawner's business
        theirs, profile = (later, earlier) if earlier in ours else (earlier, later)
        origin = resolution.record.get("volumes", profile)
        who = f" ({origin.set_by.describe()})" if origin is not None else ""
        raise MountConflictError(
            f"volume {quote(profile)}{who} is mounted at the path of KubeSpawner's volume "
            f"{quote(theirs)}, which Kubernetes refuses; give it another mountPath",
            field="volumes",
        )


def _volumes(
    spec: Any, container: Any, volumes: Iterable[JSON], fill: _FieldExpand
) -> tuple[list[Any], list[Any]]:
    """The pod's volumes and the container's mounts with the profile's; a
    profile volume named like one of KubeSpawner's replaces it and its mounts."""
    current_volumes = field(spec, "volumes") or []
    current_mounts = field(container, "volumeMounts") or []
    added_volumes, added_mounts = [], []
    make_volume = builder(spec, "volumes", current_volumes)
    make_mount = builder(container, "volumeMounts", current_mounts)
    for item in volumes:  # one per name: merged by name
        name = item["name"]
        volume = {k: v for k, v in item.items() if k not in MOUNT_FIELDS}
        claim = volume.get("persistentVolumeClaim")
        if claim:
            claim_name = fill(claim["claimName"], "volume {}: persistentVolumeClaim.claimName", name)
            volume["persistentVolumeClaim"] = dict(claim, claimName=claim_name)
        mount = {"name": name, "mountPath": item["mountPath"]}
        if item.get("readOnly"):
            mount["readOnly"] = True
        if item.get("subPath"):
            mount["subPath"] = item["subPath"]
        added_volumes.append(make_volume(volume))
        added_mounts.append(make_mount(mount))
    names = {field(volume, "name") for volume in added_volumes}
    return (
        [*(v for v in current_volumes if field(v, "name") not in names), *added_volumes],
        [*(m for m in current_mounts if field(m, "name") not in names), *added_mounts],
    )
