"""Deterministic profile sets for the benchmarks, valid for profilespawner and jsp07 alike.

Only the features both implementations share are generated (``users``,
``images`` by exact ``name:tag``, ``env`` in the list form, ``resources``,
``gpu``, ``node_tolerations``, ``node_affinity``, PVC ``volumes``, ``sizes``,
``gpuTypes``), so both engines get the very same documents. The shape aims at
a large deployment: one global base profile (jsp07 needs the first matching
profile to set resources, see :data:`BASE_PROFILE`), a few more global
profiles, some per image and most per user, with variable names drawn from a
shared pool so that later profiles override earlier ones.

Pure: :func:`generate` returns plain dicts; :func:`dump` turns one into YAML.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML

__all__ = ["BASE_PROFILE", "SPAWN", "Spawn", "document_names", "dump", "generate", "generate_bytes"]

IMAGES = [
    f"s2i-{kind}-notebook:{tag}"
    for kind in ("minimal", "scipy", "spark", "tensorflow", "pytorch")
    for tag in ("3.6", "3.8", "3.9", "2023a")
]
USERS = [f"user-{i:04d}" for i in range(500)]
ENV_NAMES = [f"TEAM_SETTING_{i:02d}" for i in range(60)]
TAINTS = [f"dedicated-{i}" for i in range(5)]
VOLUMES = [f"dataset-{i}" for i in range(10)]

#: jsp07 merges the first matching profile into an empty one; when that one sets
#: no ``resources`` its ``parse_resources`` stores None and the next merge fails
#: (``{**None}``). Real jsp07 deployments therefore start with a global profile
#: that sets resources; so do ours.
BASE_PROFILE: dict[str, Any] = {
    "name": "globals",
    "env": [
        {"name": "S3_ENDPOINT_URL", "value": "https://s3.example.com"},
        {
            "name": "AWS_SECRET_ACCESS_KEY",
            "valueFrom": {"secretKeyRef": {"name": "notebook-s3", "key": "secret-access-key"}},
        },
    ],
    "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "4Gi"}},
}

SIZES = [
    {
        "name": name,
        "resources": {"requests": {"cpu": cpu, "memory": mem}, "limits": {"cpu": cpu, "memory": mem}},
    }
    for name, cpu, mem in (("Small", "1", "2Gi"), ("Medium", "2", "8Gi"), ("Large", "4", "16Gi"))
]

GPU_TYPES = [
    {
        "type": gpu,
        "node_tolerations": [{"key": f"nvidia.com/{gpu}", "operator": "Exists", "effect": "NoSchedule"}],
    }
    for gpu in ("a100", "t4")
]


@dataclass(frozen=True)
class Spawn:
    """The spawn every benchmark measures: who, which image, which size."""

    user: str = "user-0007"
    image: str = "s2i-spark-notebook:3.8"
    size: str = "Medium"


SPAWN = Spawn()


def _profile(rng: random.Random, index: int) -> dict[str, Any]:
    profile: dict[str, Any] = {"name": f"profile-{index:05d}"}
    kind = rng.random()
    if kind < 0.05:
        pass  # for everyone
    elif kind < 0.30:
        profile["images"] = rng.sample(IMAGES, 2)
    else:
        profile["users"] = rng.sample(USERS, rng.randint(1, 5))
        if SPAWN.user not in profile["users"] and rng.random() < 0.02:
            profile["users"].append(SPAWN.user)  # the measured user is in a few team profiles
    env = []
    for name in rng.sample(ENV_NAMES, rng.randint(2, 4)):
        if rng.random() < 0.15:
            env.append(
                {"name": name, "valueFrom": {"secretKeyRef": {"name": f"team-{index}", "key": "token"}}}
            )
        else:
            env.append({"name": name, "value": f"value-{index}-{{username}}"})
    profile["env"] = env
    if rng.random() < 0.3:
        cpu = rng.choice(["500m", "1", "2"])
        mem = rng.choice(["1Gi", "2Gi", "4Gi"])
        # both kinds of both resources, request == limit: whatever order profiles
        # merge in, no request ends up above its limit
        profile["resources"] = {
            "requests": {"cpu": cpu, "memory": mem},
            "limits": {"cpu": cpu, "memory": mem},
        }
    if rng.random() < 0.05:
        profile["gpu"] = rng.choice([0, 1])
    if rng.random() < 0.15:
        taint = rng.choice(TAINTS)
        profile["node_tolerations"] = [
            {"key": taint, "operator": "Equal", "value": "true", "effect": "NoSchedule"}
        ]
    if rng.random() < 0.05:
        profile["node_affinity"] = {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "zone", "operator": "In", "values": [f"zone-{index % 3}"]}]}
                ]
            }
        }
    if rng.random() < 0.05:
        name = rng.choice(VOLUMES)
        profile["volumes"] = [
            {
                "name": name,
                "persistentVolumeClaim": {"claimName": name, "readOnly": True},
                "mountPath": f"data/{name}",
            }
        ]
    return profile


def generate(n_profiles: int, n_sources: int, *, seed: int = 0) -> list[dict[str, Any]]:
    """``n_profiles`` profiles spread evenly over ``n_sources`` documents, in order.

    The first document also holds the base profile's siblings ``sizes`` and
    ``gpuTypes``; profile ``0`` is :data:`BASE_PROFILE`.
    """
    if n_sources < 1 or n_profiles < n_sources:
        raise ValueError("need at least one source and one profile per source")
    rng = random.Random(seed)
    profiles = [dict(BASE_PROFILE)] + [_profile(rng, i) for i in range(1, n_profiles)]
    documents = []
    for s in range(n_sources):
        chunk = profiles[s * n_profiles // n_sources : (s + 1) * n_profiles // n_sources]
        document: dict[str, Any] = {"profiles": chunk}
        if s == 0:
            document["sizes"] = SIZES
            document["gpuTypes"] = GPU_TYPES
        documents.append(document)
    return documents


def generate_bytes(min_bytes: int, *, seed: int = 1) -> bytes:
    """One document of at least ``min_bytes`` of YAML (for the re-parse stall)."""
    n = 64
    while True:
        text = dump(generate(n, 1, seed=seed)[0])
        if len(text) >= min_bytes:
            return text
        n = int(n * min_bytes / len(text) * 1.05) + 1


def document_names(n_sources: int) -> list[str]:
    """ConfigMap (and file) names in precedence order: the named one, then the labelled ones."""
    return ["jupyter-singleuser-profiles"] + [f"profiles-{i:02d}" for i in range(1, n_sources)]


def dump(document: dict[str, Any]) -> bytes:
    """Block-style YAML, as an administrator would write it."""
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.width = 4096
    out = io.BytesIO()
    yaml.dump(document, out)
    return out.getvalue()
