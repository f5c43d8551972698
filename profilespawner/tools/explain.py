"""Why a spawn gets what it gets: which profiles matched, and who set each field.

Pure: from a :class:`~profilespawner.model.ProfileSet` and one spawn's facts
(user, groups, image, size, GPU type) to an :class:`Explanation` -- a verdict
with reasons for every profile, the chosen size, and for every field of the
result (each env var, resource, toleration, selector key, volume, label,
annotation, the GPU count) the profile, size or gpuType that set it and the
earlier ones it replaced. Whether a profile applies and which size is chosen
come from the spawner's own :func:`~profilespawner.resolve.resolve`; the
reasons and origins follow the same rules (SPEC §4, §5, §7). When
KubeSpawner's pod and the final pod are given, what KubeSpawner set itself is
attributed too. An explanation holds names and keys, never env values: those
may be secrets.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..match import image_matches
from ..model import (
    JSON,
    MOUNT_FIELDS,
    NO_SIZE,
    NOTEBOOK_CONTAINER,
    RESOURCE_ENV,
    PodSettings,
    Profile,
    ProfileSet,
    Size,
)
from ..resolve import allowed_sizes, resolve

__all__ = ["KUBESPAWNER", "Explanation", "FieldOrigin", "Verdict", "explain"]

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

    def of(self, field: str) -> tuple[FieldOrigin, ...]:
        """The origins of one field, in result order."""
        return tuple(o for o in self.origins if o.field == field)


# -- labels ------------------------------------------------------------------------


def _profile_labels(profiles: Iterable[Profile]) -> dict[int, str]:
    """``profile 'X'``, with source and position added where names collide."""
    profiles = list(profiles)
    counts: dict[str, int] = {}
    for p in profiles:
        counts[p.name] = counts.get(p.name, 0) + 1
    labels = {}
    for p in profiles:
        label = f"profile {p.name!r}"
        if counts[p.name] > 1:
            label += f" ({p.source} #{p.index + 1})"
        labels[id(p)] = label
    return labels


def _size_label(size: Size) -> str:
    return f"size {size.name!r}"


# -- matching ------------------------------------------------------------------------


def _who_reason(profile: Profile, user: str, groups: frozenset[str]) -> tuple[bool, str]:
    who = profile.who
    if "*" in who.users:
        return True, "everyone (users: '*')"
    if who.everyone:
        return True, "everyone (no users or groups listed)"
    if user in who.users:
        return True, f"user {user!r} is listed"
    for group in who.groups:
        if group in groups:
            return True, f"member of group {group!r}"
    listed = []
    if who.users:
        listed.append("users " + ", ".join(repr(u) for u in who.users))
    if who.groups:
        listed.append("groups " + ", ".join(repr(g) for g in who.groups))
    return False, f"only for {'; '.join(listed)}"


def _image_reason(profile: Profile, image: str) -> tuple[bool, str]:
    if not profile.images:
        return True, "every image (no images listed)"
    for pattern in profile.images:
        if image_matches(pattern, image):
            return True, f"pattern {pattern!r} matches"
    patterns = ", ".join(repr(p) for p in profile.images)
    return False, f"no pattern matches ({patterns})"


# -- provenance ----------------------------------------------------------------------


class _Tracker:
    """Last-setter bookkeeping per key, in first-seen order (as the merge keeps it).

    ``base_keys`` are keys KubeSpawner's pod has already: a profile setting one
    is recorded as replacing KubeSpawner's.
    """

    def __init__(self, base_keys: Iterable[Any] = ()) -> None:
        self.base_keys = frozenset(base_keys)
        self.setters: dict[Any, list[str]] = {}
        self.details: dict[Any, str] = {}

    def set(self, key: Any, who: str, detail: str = "") -> None:
        if key not in self.setters and key in self.base_keys:
            self.setters[key] = [KUBESPAWNER]
        self.setters.setdefault(key, []).append(who)
        self.details[key] = detail

    def add_once(self, key: Any, who: str, detail: str = "") -> None:
        # concatenated fields: the first occurrence stays, duplicates are dropped
        if key not in self.setters:
            self.set(key, who, detail)

    def origin(self, field: str, key: Any, text: str | None = None) -> FieldOrigin:
        setters = self.setters[key]
        return FieldOrigin(
            field,
            text if text is not None else str(key),
            setters[-1],
            self.details.get(key, ""),
            tuple(setters[:-1]),
        )


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


def _origins(
    layers: list[tuple[str, PodSettings]],
    gpu_layer: tuple[str, int | None],
    gpu_tolerations: list[tuple[str, JSON]],
    *,
    gpu_resource_name: str,
    base_pod: JSON | None,
    pod: JSON | None,
) -> list[FieldOrigin]:
    base = _notebook(base_pod)
    base_spec = (base_pod or {}).get("spec") or {}
    base_meta = (base_pod or {}).get("metadata") or {}
    final = _notebook(pod)
    out: list[FieldOrigin] = []

    # resources first: the MEM_*/CPU_* variables mirror them
    resources = _Tracker()
    for kind, values in (base.get("resources") or {}).items():
        for name, quantity in (values or {}).items():
            resources.set((kind, name), KUBESPAWNER, str(quantity))
    for label, settings in layers:
        for kind, values in settings.resources.items():
            for name, quantity in values.items():
                resources.set((kind, name), label, str(quantity))
    gpu_label, gpu = gpu_layer
    if gpu is not None:
        for kind in ("requests", "limits"):
            resources.set((kind, gpu_resource_name), f"{gpu_label} (gpu: {gpu})", str(gpu))
    if pod is not None:
        final_resources = final.get("resources") or {}
        resource_keys = [k for k in resources.setters if k[1] in (final_resources.get(k[0]) or {})]
    else:
        resource_keys = [k for k in resources.setters if not (gpu == 0 and k[1] == gpu_resource_name)]

    # env: by name, a later setter replaces an earlier one (KubeSpawner's included)
    env = _Tracker(var.get("name") for var in base.get("env") or [])
    for label, settings in layers:
        for var in settings.env:
            env.set(var["name"], label, _env_detail(var))
    if pod is not None:
        for var in final.get("env") or []:
            name = var.get("name")
            if name in RESOURCE_ENV:
                kind, resource = RESOURCE_ENV[name]
                who = resources.setters.get((kind, resource), [KUBESPAWNER])[-1]
                out.append(FieldOrigin("env", name, who, f"mirrors resources {kind}.{resource}"))
            elif name in env.setters:
                out.append(env.origin("env", name))
            else:
                out.append(FieldOrigin("env", name, KUBESPAWNER))
    else:
        out.extend(env.origin("env", name) for name in env.setters)

    env_from = _Tracker()
    for label, settings in layers:
        for item in settings.env_from:
            env_from.add_once(_env_from_text(item), label)
    out.extend(env_from.origin("envFrom", key) for key in env_from.setters)

    out.extend(
        resources.origin("resources", key, f"{key[0]}.{key[1]}")
        for key in sorted(resource_keys, key=lambda k: (k[0] != "requests", k[1]))
    )

    tolerations = _Tracker()
    for label, settings in layers:
        for tol in settings.tolerations:
            tolerations.add_once(_toleration_text(tol), label)
    for label, tol in gpu_tolerations:
        tolerations.add_once(_toleration_text(tol), label)
    out.extend(tolerations.origin("node_tolerations", key) for key in tolerations.setters)

    # node_affinity: per top-level key between profiles; ANDed with the pod's own
    affinity = _Tracker()
    for label, settings in layers:
        for key in settings.node_affinity:
            affinity.set(key, label)
    out.extend(affinity.origin("node_affinity", key) for key in affinity.setters)

    selector = _Tracker(base_spec.get("nodeSelector") or {})
    for label, settings in layers:
        for key, value in settings.node_selector.items():
            selector.set(key, label, f"= {value}")
    out.extend(selector.origin("node_selector", key) for key in selector.setters)

    volumes = _Tracker(v.get("name") for v in base_spec.get("volumes") or [])
    for label, settings in layers:
        for volume in settings.volumes:
            volumes.set(volume["name"], label, _volume_detail(volume))
    out.extend(volumes.origin("volumes", key) for key in volumes.setters)

    labels = _Tracker(base_meta.get("labels") or {})
    for label, settings in layers:
        for key, value in settings.labels.items():
            labels.set(key, label, f"= {value}")  # label values are short and public
    out.extend(labels.origin("labels", key) for key in labels.setters)

    annotations = _Tracker(base_meta.get("annotations") or {})
    for label, settings in layers:
        for key in settings.annotations:
            annotations.set(key, label)  # an annotation value may be anything: not shown
    out.extend(annotations.origin("annotations", key) for key in annotations.setters)
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
    gpu_resource_name: str = "nvidia.com/gpu",
    base_pod: JSON | None = None,
    pod: JSON | None = None,
) -> Explanation:
    """Explain one spawn. ``base_pod`` is KubeSpawner's pod before profiles,
    ``pod`` the final one; give both to attribute what KubeSpawner set.

    Raises :class:`~profilespawner.errors.UserOptionError`, exactly as the
    spawner would, for a size or GPU type the user may not pick.
    """
    groups = tuple(groups)
    group_set = frozenset(groups)
    resolution = resolve(profile_set, user=user, groups=groups, image=image, size=size, gpu_type=gpu_type)
    labels = _profile_labels(profile_set.profiles)

    verdicts = []
    for profile in profile_set.profiles:
        who_ok, who = _who_reason(profile, user, group_set)
        image_ok, image_reason = _image_reason(profile, image)
        verdicts.append(
            Verdict(
                label=labels[id(profile)],
                source=f"{profile.source} #{profile.index + 1}",
                # the resolution decides; the reasons use the same rules (match.py)
                applies=any(profile is p for p in resolution.profiles),
                who=who,
                who_ok=who_ok,
                image=image_reason,
                image_ok=image_ok,
            )
        )

    layers = [(labels[id(p)], p.settings) for p in resolution.profiles]
    if resolution.size is not None:
        layers.append((_size_label(resolution.size), resolution.size.settings))
    gpu_label = ""
    for label, settings in layers:
        if settings.gpu is not None:
            gpu_label = label

    gpu = resolution.settings.gpu
    chosen_types: tuple[str, ...] = ()
    gpu_tolerations: list[tuple[str, JSON]] = []
    if gpu:
        types = profile_set.gpu_types
        chosen_types = (gpu_type,) if gpu_type not in (None, "") else tuple(types)
        for name in chosen_types:
            gpu_tolerations.extend((f"gpuType {name!r} (gpu: {gpu})", t) for t in types[name].tolerations)

    return Explanation(
        user=user,
        groups=groups,
        image=image,
        verdicts=tuple(verdicts),
        size=resolution.size.name if resolution.size else None,
        size_source=resolution.size.source if resolution.size else "",
        allowed_sizes=(NO_SIZE, *(s.name for s in allowed_sizes(profile_set, user=user, groups=groups))),
        gpu=gpu,
        gpu_set_by=gpu_label,
        gpu_types=chosen_types,
        origins=tuple(
            _origins(
                layers,
                (gpu_label, gpu),
                gpu_tolerations,
                gpu_resource_name=gpu_resource_name,
                base_pod=base_pod,
                pod=pod,
            )
        ),
    )
