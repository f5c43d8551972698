"""Helpers and data that several suites share. Test modules never import one
another: what they share is here, in tests/docs.py (reading the docs) and as
fixtures of tests/conftest.py."""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from ruamel.yaml import YAML

__all__ = [
    "VOLUME_EXAMPLES",
    "Result",
    "RunCli",
    "content_version",
    "load_yaml",
    "notebook",
    "rewrite",
    "unavailable",
]


@dataclass
class Result:
    """What a run of the command gave: as ``subprocess.CompletedProcess``."""

    returncode: int
    stdout: str
    stderr: str


#: The ``run_cli`` fixture: ``python -m profilespawner ARGS`` as a program.
RunCli = Callable[..., subprocess.CompletedProcess[str]]


def load_yaml(text: str) -> Any:
    """YAML as the command prints it (``render``), loaded."""
    return YAML(typ="safe", pure=True).load(text)


def notebook(pod: dict[str, Any]) -> dict[str, Any]:
    """The notebook container of a pod (the API server's JSON)."""
    (container,) = [c for c in pod["spec"]["containers"] if c["name"] == "notebook"]
    return container


def rewrite(path: str, text: str, bump: int = 1_000_000) -> None:
    """Write ``text`` to ``path`` with a modification time that differs even on
    coarse clocks (as an editor, or a ConfigMap volume's update, changes it)."""
    with open(path, "w") as f:
        f.write(text)
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + bump))


def content_version(path: str) -> str:
    """The version a pod records for the file at ``path`` (SPEC §8): ``sha256:``
    and 16 hex digits, computed here independently of the package."""
    with open(path, "rb") as f:
        return "sha256:" + hashlib.sha256(f.read()).hexdigest()[:16]


def unavailable(reason: str) -> None:
    """Skip: something a test needs (the control plane, a browser) is missing;
    fail instead when ``PROFILESPAWNER_REQUIRE_K8S=1`` (CI)."""
    if os.environ.get("PROFILESPAWNER_REQUIRE_K8S") == "1":
        pytest.fail(f"PROFILESPAWNER_REQUIRE_K8S=1 but {reason}", pytrace=False)
    pytest.skip(reason)


# A valid example of every volume source (as the Volume API documents them).
VOLUME_EXAMPLES: dict[str, dict[str, Any]] = {
    "awsElasticBlockStore": {"volumeID": "vol-0123456789abcdef0", "fsType": "ext4"},
    "azureDisk": {"diskName": "data", "diskURI": "https://example.blob.core.windows.net/vhds/data.vhd"},
    "azureFile": {"secretName": "azure-storage", "shareName": "data"},
    "cephfs": {"monitors": ["10.0.0.1:6789"], "user": "notebooks", "secretRef": {"name": "ceph"}},
    "cinder": {"volumeID": "8d0c1a5e", "secretRef": {"name": "openstack"}},
    "configMap": {"name": "notebook-settings"},
    "csi": {"driver": "secrets-store.csi.k8s.io", "nodePublishSecretRef": {"name": "csi-credentials"}},
    "downwardAPI": {"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]},
    "emptyDir": {"medium": "Memory", "sizeLimit": "1Gi"},
    "ephemeral": {
        "volumeClaimTemplate": {
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
        }
    },
    "fc": {"targetWWNs": ["500a0982991b8dc5"], "lun": 2},
    "flexVolume": {"driver": "example.com/lvm", "secretRef": {"name": "flex-credentials"}},
    "flocker": {"datasetName": "data"},
    "gcePersistentDisk": {"pdName": "data"},
    "gitRepo": {"repository": "https://github.com/jupyter/notebook.git"},
    "glusterfs": {"endpoints": "glusterfs-cluster", "path": "data"},
    "hostPath": {"path": "/"},
    "image": {"reference": "quay.io/example/datasets:2024"},
    "iscsi": {
        "targetPortal": "10.0.0.2:3260",
        "iqn": "iqn.2001-04.com.example:storage",
        "lun": 0,
        "chapAuthSession": True,
        "secretRef": {"name": "iscsi-chap"},
    },
    "nfs": {"server": "nfs.example.com", "path": "/exports/data"},
    "persistentVolumeClaim": {"claimName": "datasets"},
    "photonPersistentDisk": {"pdID": "data"},
    "portworxVolume": {"volumeID": "data"},
    "projected": {"sources": [{"configMap": {"name": "notebook-settings"}}]},
    "quobyte": {"registry": "quobyte.example.com:7861", "volume": "data"},
    "rbd": {"monitors": ["10.0.0.1:6789"], "image": "data", "secretRef": {"name": "ceph"}},
    "scaleIO": {
        "gateway": "https://sio.example.com",
        "system": "sio",
        "volumeName": "data",
        "secretRef": {"name": "sio"},
    },
    "secret": {"secretName": "team-s3"},
    "storageos": {"volumeName": "data", "secretRef": {"name": "storageos"}},
    "vsphereVolume": {"volumePath": "[datastore1] volumes/data"},
}
