"""Why a spawn gets what it gets: which profiles matched, and who set each field.

From a :class:`~profilespawner.model.ProfileSet` and one spawn's facts (user,
groups, image, size, GPU type, values within the size's ranges) to an
:class:`Explanation` -- a verdict with reasons for every profile, the chosen
size and the values it got within its ranges, and for every field of the
result (each env var, resource, toleration, selector key, volume, label,
annotation, the GPU count) the profile, size or gpuType that set it and the
earlier ones it replaced. Nothing here decides: the resolution is the
spawner's own :func:`~profilespawner.resolve.resolve`, who set what is its
merge's :class:`~profilespawner.merge.Record`, and the reasons are
:func:`~profilespawner.match.who_reason` and
:func:`~profilespawner.match.image_reason`. When KubeSpawner's pod and the
final pod are given, what KubeSpawner set itself is attributed too, by
comparing the two. An explanation holds names and keys, never env values:
those may be secrets.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .. import quantities
from ..k8srules import toleration_identity
from ..match import image_reason, who_reason
from ..merge import Origin, Setter
from ..model import JSON, MOUNT_FIELDS, NO_SIZE, NOTEBOOK_CONTAINER, RESOURCE_ENV, ProfileSet
from ..resolve import Resolution, allowed_sizes, resolve

__all__ = [
    "KUBESPAWNER",
    "Explanation",
    "FieldOrigin",
    "RangeChoice",
    "Verdict",
    "explain",
    "range_choices",
    "setter_labels",
]

#: ``FieldOrigin.set_by`` of what KubeSpawner (or JupyterHub) set, not a profile.
KUBESPAWNER = "KubeSpawner"


@dataclass(frozen=True)
class Verdict:
    """Whether one profile applies to the spawn, and why (or why not)."""

    label: str
    source: str
    applies: bool
    who: str
    who_ok: bool
    image: str
    image_ok: bool


@dataclass(frozen=True)
class FieldOrigin:
    """Who set one item of the result, and whom it replaced.

    ``field`` is the profile field (``env``, ``resources``, ...); ``key``
    names the item (a variable name, ``limits.cpu``, a volume name);
    ``detail`` says what it is without revealing a value (``from Secret
    team-s3``, ``mounted at /data``); ``replaced`` lists earlier setters that
    this one overrode, in order.
    """

    field: str
    key: str
    set_by: str
    detail: str = ""
    replaced: tuple[str, ...] = ()


@dataclass(frozen=True)
class RangeChoice:
    """The value a spawn got within one range of its size, and that range
    (canonical quantities: ``12``, ``2Gi``)."""

    key: str
    value: str
    minimum: str
    maximum: str
    default: str


def range_choices(resolution: Resolution) -> tuple[RangeChoice, ...]:
    """The values ``resolution`` got within its size's ranges, with the ranges."""
    size = resolution.size
    if size is None:
        return ()
    return tuple(
        RangeChoice(
            key,
            value,
            quantities.canonical(key, size.ranges[key].minimum),
            quantities.canonical(key, size.ranges[key].maximum),
            quantities.canonical(key, size.ranges[key].default),
        )
        for key, value in resolution.range_values.items()
    )


@dataclass(frozen=True)
class Explanation:
    """Everything :func:`explain` found out about one spawn."""

    user: str
    groups: tuple[str, ...]
    image: str
    verdicts: tuple[Verdict, ...]
    size: str | None
    size_source: str
    allowed_sizes: tuple[str, ...]
    gpu: int | None
    gpu_set_by: str
    gpu_types: tuple[str, ...]
    origins: tuple[FieldOrigin, ...]
    ranges: tuple[RangeChoice, ...] = ()
    limit_factor: str = "1"
    #: The budgets covering the user, which the server would count against (SPEC §10).
    budgets: tuple[str, ...] = ()
    #: The resolution explained, for a caller that checks it further (the profiles page).
    resolution: Resolution | None = dataclasses.field(default=None, compare=False, repr=False)

    def of(self, field: str) -> tuple[FieldOrigin, ...]:
        """The origins of one field, in result order."""
        return tuple(o for o in self.origins if o.field == field)


def setter_labels(profile_set: ProfileSet, *, gpu: int | None = None) -> Callable[[Setter], str]:
    """How a :class:`~profilespawner.merge.Setter` reads: ``profile 'X'`` (with
    its source and position when another profile has the same name),
    ``size 'X'``, ``gpuType 'X' (gpu: N)``, and its ``via`` after it:
    ``size 'Custom' (range cpu: 12)``."""
    counts = Counter(p.name for p in profile_set.profiles)

    def label(setter: Setter) -> str:
        if setter.kind == "profile":
            text = f"profile {setter.name!r}"
            if counts[setter.name] > 1:
                text += f" ({setter.source} #{(setter.position or 0) + 1})"
        elif setter.kind == "size":
            text = f"size {setter.name!r}"
        else:
            text = f"gpuType {setter.name!r} (gpu: {gpu})"
        return f"{text} ({setter.via})" if setter.via else text

    return label


# -- what an item is, in words (never a value) ---------------------------------------


def _env_detail(var: Mapping[str, Any]) -> str:
    if "valueFrom" not in var:
        return "literal value"
    source = var["valueFrom"]
    if "secretKeyRef" in source:
        ref = source["secretKeyRef"]
        return f"from Secret {ref.get('name')!r}, key {ref.get('key')!r}"
    if "configMapKeyRef" in source:
        ref = source["configMapKeyRef"]
        return f"from ConfigMap {ref.get('name')!r}, key {ref.get('key')!r}"
    if "fieldRef" in source:
        return f"from field {source['fieldRef'].get('fieldPath')!r}"
    if "resourceFieldRef" in source:
        return f"from resource {source['resourceFieldRef'].get('resource')!r}"
    return "from a reference"


def _env_from_text(item: Mapping[str, Any]) -> str:
    text = ", ".join(
        f"{kind} {item[kind].get('name')!r}" for kind in ("secretRef", "configMapRef") if kind in item
    )
    if item.get("prefix"):
        text += f" (prefix {item['prefix']!r})"
    return text


def _toleration_text(tol: Mapping[str, Any]) -> str:
    operator = tol.get("operator", "Equal")
    text = tol.get("key") or "(any key)"
    text += f"={tol.get('value', '')}" if operator == "Equal" else " exists"
    if tol.get("effect"):
        text += f":{tol['effect']}"
    if "tolerationSeconds" in tol:
        text += f" for {tol['tolerationSeconds']}s"
    return text


def _volume_detail(volume: Mapping[str, Any]) -> str:
    kinds = [k for k in volume if k not in ("name", *MOUNT_FIELDS)]
    text = f"{kinds[0] if kinds else 'volume'} at {volume.get('mountPath')}"
    if volume.get("subPath"):
        text += f" (subPath {volume['subPath']!r})"
    if volume.get("readOnly"):
        text += ", read-only"
    return text


def _notebook(pod: JSON | None) -> JSON:
    for container in ((pod or {}).get("spec") or {}).get("containers") or []:
        if container.get("name") == NOTEBOOK_CONTAINER:
            return container  # type: ignore[no-any-return]
    return {}


def _split(key: str) -> tuple[str, str]:
    """``"requests.cpu"`` as (kind, resource name)."""
    kind, _, name = key.partition(".")
    return kind, name


def _origins(
    resolution: Resolution,
    label: Callable[[Setter], str],
    *,
    gpu_resource_name: str,
    base_pod: JSON | None,
    pod: JSON | None,
) -> list[FieldOrigin]:
    record = resolution.record
    settings = resolution.settings
    base = _notebook(base_pod)
    base_spec = (base_pod or {}).get("spec") or {}
    base_meta = (base_pod or {}).get("metadata") or {}
    final = _notebook(pod)
    out: list[FieldOrigin] = []

    def origin(
        field: str, key: str, o: Origin, detail: str = "", *, kubespawners: bool = False
    ) -> FieldOrigin:
        # a key KubeSpawner's pod has already: the first setter replaced KubeSpawner's
        replaced = ([KUBESPAWNER] if kubespawners else []) + [label(s) for s in o.replaced]
        return FieldOrigin(field, key, label(o.set_by), detail, tuple(replaced))

    # resources first: the MEM_*/CPU_* variables mirror them. Every setter of a
    # key, KubeSpawner's first, then the record's; the gpu count sets its resource last.
    resources: dict[str, tuple[list[str], str]] = {}
    for kind, values in (base.get("resources") or {}).items():
        for name, quantity in (values or {}).items():
            resources[f"{kind}.{name}"] = ([KUBESPAWNER], str(quantity))
    for o in record.of("resources"):
        kind, name = _split(str(o.key))
        earlier = resources.get(str(o.key), ([], ""))[0]
        setters = [*earlier, *map(label, o.replaced), label(o.set_by)]
        resources[str(o.key)] = (setters, str(settings.resources[kind][name]))
    gpu = settings.gpu
    gpu_origin = record.get("gpu", "")
    if gpu_origin is not None:
        for kind in ("requests", "limits"):
            key = f"{kind}.{gpu_resource_name}"
            earlier = resources.get(key, ([], ""))[0]
            # a range's setter says its value already: "size 'Custom' (range gpu: 2)"
            who = label(gpu_origin.set_by)
            who += "" if gpu_origin.set_by.via else f" (gpu: {gpu})"
            resources[key] = ([*earlier, who], str(gpu))
    if pod is not None:
        final_resources = final.get("resources") or {}
        resource_keys = [k for k in resources if _split(k)[1] in (final_resources.get(_split(k)[0]) or {})]
    else:
        resource_keys = [k for k in resources if not (gpu == 0 and _split(k)[1] == gpu_resource_name)]

    # env: by name, a later setter replaces an earlier one (KubeSpawner's included)
    base_env = {var.get("name") for var in base.get("env") or []}
    env = {str(o.key): o for o in record.of("env")}
    variables = {var["name"]: var for var in settings.env}

    def env_origin(name: str) -> FieldOrigin:
        return origin("env", name, env[name], _env_detail(variables[name]), kubespawners=name in base_env)

    if pod is not None:
        for var in final.get("env") or []:
            name = var.get("name")
            if name in RESOURCE_ENV:
                kind, resource = RESOURCE_ENV[name]
                who = resources.get(f"{kind}.{resource}", ([KUBESPAWNER], ""))[0][-1]
                out.append(FieldOrigin("env", name, who, f"mirrors resources {kind}.{resource}"))
            elif name in env:
                out.append(env_origin(name))
            else:
                out.append(FieldOrigin("env", name, KUBESPAWNER))
    else:
        out.extend(env_origin(name) for name in env)

    out.extend(
        origin("envFrom", _env_from_text(settings.env_from[int(o.key)]), o) for o in record.of("envFrom")
    )

    for key in sorted(resource_keys, key=lambda k: (_split(k)[0] != "requests", _split(k)[1])):
        setters, detail = resources[key]
        out.append(FieldOrigin("resources", key, setters[-1], detail, tuple(setters[:-1])))

    # tolerations: the record's, in the order the pod gets them; with the pod,
    # each of its tolerations, KubeSpawner's own by meaning as the applier keeps them
    tolerations = (*settings.tolerations, *resolution.gpu_tolerations)
    recorded = [(tolerations[int(o.key)], label(o.set_by)) for o in record.of("node_tolerations")]
    if pod is not None:
        kubespawners = {toleration_identity(t) for t in base_spec.get("tolerations") or []}
        by_identity = {toleration_identity(t): who for t, who in recorded}
        for toleration in (pod.get("spec") or {}).get("tolerations") or []:
            identity = toleration_identity(toleration)
            who = KUBESPAWNER if identity in kubespawners else by_identity.get(identity, KUBESPAWNER)
            out.append(FieldOrigin("node_tolerations", _toleration_text(toleration), who))
    else:
        out.extend(FieldOrigin("node_tolerations", _toleration_text(t), who) for t, who in recorded)

    # node_affinity: per top-level key between profiles; ANDed with the pod's own
    out.extend(origin("node_affinity", str(o.key), o) for o in record.of("node_affinity"))

    base_selector = base_spec.get("nodeSelector") or {}
    out.extend(
        origin(
            "node_selector",
            str(o.key),
            o,
            f"= {settings.node_selector[str(o.key)]}",
            kubespawners=o.key in base_selector,
        )
        for o in record.of("node_selector")
    )

    base_volumes = {v.get("name") for v in base_spec.get("volumes") or []}
    volumes = {v["name"]: v for v in settings.volumes}
    out.extend(
        origin("volumes", str(o.key), o, _volume_detail(volumes[o.key]), kubespawners=o.key in base_volumes)
        for o in record.of("volumes")
    )

    base_labels = base_meta.get("labels") or {}
    out.extend(
        # label values are short and public
        origin("labels", str(o.key), o, f"= {settings.labels[str(o.key)]}", kubespawners=o.key in base_labels)
        for o in record.of("labels")
    )

    base_annotations = base_meta.get("annotations") or {}
    out.extend(
        # an annotation value may be anything: not shown
        origin("annotations", str(o.key), o, kubespawners=o.key in base_annotations)
        for o in record.of("annotations")
    )
    return out


# -- the whole story -----------------------------------------------------------------


def explain(
    profile_set: ProfileSet,
    *,
    user: str,
    groups: Iterable[str] = (),
    image: str,
    size: Any = None,
    gpu_type: Any = None,
    cpu: Any = None,
    memory: Any = None,
    gpu: Any = None,
    gpu_resource_name: str = "nvidia.com/gpu",
    base_pod: JSON | None = None,
    pod: JSON | None = None,
) -> Explanation:
    """Explain one spawn. ``base_pod`` is KubeSpawner's pod before profiles,
    ``pod`` the final one; give both to attribute what KubeSpawner set.

    Raises :class:`~profilespawner.errors.UserOptionError`, exactly as the
    spawner would, for a size, GPU type or range value the user may not pick.
    """
    groups = tuple(groups)
    resolution = resolve(
        profile_set,
        user=user,
        groups=groups,
        image=image,
        size=size,
        gpu_type=gpu_type,
        cpu=cpu,
        memory=memory,
        gpu=gpu,
    )
    gpu_count = resolution.settings.gpu
    label = setter_labels(profile_set, gpu=gpu_count)
    applied = {id(p) for p in resolution.profiles}
    verdicts = []
    for profile in profile_set.profiles:
        who_ok, who = who_reason(profile.who, user, groups)
        image_ok, image_text = image_reason(profile.images, image)
        verdicts.append(
            Verdict(
                label=label(Setter.of(profile)),
                source=f"{profile.source} #{profile.index + 1}",
                applies=id(profile) in applied,  # the resolution decides; the reasons say its rules
                who=who,
                who_ok=who_ok,
                image=image_text,
                image_ok=image_ok,
            )
        )
    gpu_origin = resolution.record.get("gpu", "")
    return Explanation(
        user=user,
        groups=groups,
        image=image,
        verdicts=tuple(verdicts),
        size=resolution.size.name if resolution.size else None,
        size_source=resolution.size.source if resolution.size else "",
        allowed_sizes=(NO_SIZE, *(s.name for s in allowed_sizes(profile_set, user=user, groups=groups))),
        gpu=gpu_count,
        gpu_set_by=label(gpu_origin.set_by) if gpu_origin is not None else "",
        gpu_types=resolution.gpu_types,
        origins=tuple(
            _origins(resolution, label, gpu_resource_name=gpu_resource_name, base_pod=base_pod, pod=pod)
        ),
        ranges=range_choices(resolution),
        limit_factor=format(resolution.size.limit_factor.normalize(), "f") if resolution.size else "1",
        budgets=resolution.budgets,
        resolution=resolution,
    )
