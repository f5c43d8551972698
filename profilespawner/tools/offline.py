"""A KubeSpawner that builds pods without a cluster: for the CLI and for tests.

``get_pod_manifest`` makes no API call, but KubeSpawner's constructor loads a
kubeconfig (and needs a running event loop). :func:`offline_spawner` points the
client's default kubeconfig at one for an address nothing listens on, so it
works on machines without a cluster and never runs a credential plugin; the
file goes when the process exits. The certificate authority of that cluster
is one of its own, self-signed, its key thrown away: the client trusts
nothing else, and loads it instead of the system's whole CA store (about
25 ms at every start of ``render``). It logs as ``profilespawner.spawner`` (a
hub's spawner logs as the hub).
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from traitlets.config import Config

from ..sources.kubeapi import set_default_kubeconfig

__all__ = ["OfflineGroup", "OfflineUser", "offline_kubeconfig", "offline_spawner"]

_CERTIFICATE_AUTHORITY = """\
-----BEGIN CERTIFICATE-----
MIIBqjCCAU+gAwIBAgIUMmH+V/eGdValTl0TNRydJ4k55oYwCgYIKoZIzj0EAwIw
KTEnMCUGA1UEAwwecHJvZmlsZXNwYXduZXIgb2ZmbGluZSBjbHVzdGVyMCAXDTI2
MTEzMDExMDExNVoYDzIxMjYxMTA2MTEwMTE1WjApMScwJQYDVQQDDB5wcm9maWxl
c3Bhd25lciBvZmZsaW5lIGNsdXN0ZXIwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNC
AARttG7rYLUwGahERkeNr9AjAsf+JPabdQy5w8xptHmHBYLktwnUWa9QKN0ubWan
+Zzj2nAIHyg8nMQfhjvNVcDWo1MwUTAdBgNVHQ4EFgQUrl8FbM1IbpAUDd1yYqAm
f4O4fKwwHwYDVR0jBBgwFoAUrl8FbM1IbpAUDd1yYqAmf4O4fKwwDwYDVR0TAQH/
BAUwAwEB/zAKBggqhkjOPQQDAgNJADBGAiEA8X1Ki9K2FBlmGMrK/ivUMH3xayIr
500KwQC+P4itHwsCIQCMpaaxT+GHLixixotwh0dk6gy0qHLHddiN531L1xMtqw==
-----END CERTIFICATE-----
"""

_KUBECONFIG = {
    "apiVersion": "v1",
    "kind": "Config",
    "clusters": [
        {
            "name": "offline",
            "cluster": {
                "server": "https://127.0.0.1:9",
                "certificate-authority-data": base64.b64encode(_CERTIFICATE_AUTHORITY.encode()).decode(),
            },
        }
    ],
    "users": [{"name": "offline", "user": {"token": "offline"}}],
    "contexts": [{"name": "offline", "context": {"cluster": "offline", "user": "offline"}}],
    "current-context": "offline",
}


@dataclass
class OfflineGroup:
    """Stands in for a JupyterHub group: only ``name`` is read."""

    name: str


@dataclass
class OfflineUser:
    """Stands in for a JupyterHub user: what KubeSpawner and profiles read."""

    name: str
    groups: list[OfflineGroup] = field(default_factory=list)
    id: int = 1
    url: str = "/user/"


@cache
def offline_kubeconfig() -> str:
    """Path of a kubeconfig whose server is never contacted, removed at exit."""
    fd, path = tempfile.mkstemp(prefix="profilespawner-offline-", suffix=".kubeconfig")
    with os.fdopen(fd, "w") as f:
        json.dump(_KUBECONFIG, f)  # a kubeconfig in JSON is YAML too
    atexit.register(_remove, path)
    return path


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)


def offline_spawner(
    spawner_class: type[Any],
    *,
    user: str,
    groups: list[str] | None = None,
    image: str | None = None,
    user_options: dict[str, Any] | None = None,
    config: Config | None = None,
) -> Any:
    """A spawner of ``spawner_class`` for ``user``; call inside a running event loop."""
    # Never a real kubeconfig: loading one may run exec credential plugins.
    set_default_kubeconfig(offline_kubeconfig())
    spawner = spawner_class(
        _mock=True,
        user=OfflineUser(user, [OfflineGroup(g) for g in groups or []]),
        config=config or Config(),
        log=logging.getLogger("profilespawner.spawner"),
    )
    if image is not None:
        spawner.image = image
    spawner.user_options = dict(user_options or {})
    return spawner
