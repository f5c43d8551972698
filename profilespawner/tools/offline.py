"""A KubeSpawner that builds pods without a cluster: for the CLI and for tests.

``get_pod_manifest`` makes no API call, but KubeSpawner's constructor loads a
kubeconfig (and needs a running event loop). :func:`offline_spawner` points the
client's default kubeconfig at one for an address nothing listens on, so it
works on machines without a cluster and never runs a credential plugin; the
file goes when the process exits. It logs as ``profilespawner.spawner`` (a
hub's spawner logs as the hub).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import tempfile
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from traitlets.config import Config

from ..sources.kubeapi import set_default_kubeconfig

__all__ = ["OfflineGroup", "OfflineUser", "offline_kubeconfig", "offline_spawner"]

_KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters:
- name: offline
  cluster: {server: "https://127.0.0.1:9"}
users:
- name: offline
  user: {token: offline}
contexts:
- name: offline
  context: {cluster: offline, user: offline}
current-context: offline
"""


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
        f.write(_KUBECONFIG)
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
