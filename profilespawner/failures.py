"""Why a server did not start, in words for its user: pure.

KubeSpawner lets a spawn fail with a bare timeout when its pod is not running
after ``start_timeout``, and with an internal error (the API client's whole
exception) when the API server refuses the pod. :class:`~profilespawner.ProfileKubeSpawner`
says why instead:

- :func:`not_started_reason`, from the pod's status at the timeout: the
  scheduler's reason when no node can take it (condition ``PodScheduled`` is
  ``False``, as with a size larger than any node or a GPU type no node has),
  else the reason the notebook container is waiting (an image that cannot be
  pulled, a Secret that does not exist);
- :func:`refusal_reason`, from the API server's answer when it forbids the pod
  (HTTP 403: a ResourceQuota, a LimitRange, Pod Security admission): its
  ``Status`` message, which names the rule and the quantities.

Both messages name objects, keys and quantities, never an environment value
(a 422 ``Invalid`` message may quote one: it is not passed on). They are cut
to :data:`MAX_REASON` characters all the same.

KubeSpawner also logs the whole pod manifest, environment values included,
when the API server refuses a pod; :func:`keep_pod_manifests_out_of` puts a
:class:`PodManifestRedaction` on the logger it writes to, which replaces the
manifest with the pod's name.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from typing import Any

from .errors import shorten

__all__ = [
    "MAX_REASON",
    "PodManifestRedaction",
    "keep_pod_manifests_out_of",
    "not_started_reason",
    "refusal_reason",
]

#: The longest reason given (the scheduler lists one entry per kind of node).
MAX_REASON = 500


def not_started_reason(pod: Mapping[str, Any] | None, container: str = "notebook") -> str | None:
    """What keeps ``pod`` (the API server's JSON) from running, or None when its
    status does not say (no pod, or nothing is known to be wrong)."""
    if not pod:
        return None
    name = (pod.get("metadata") or {}).get("name", "")
    status = pod.get("status") or {}
    for condition in status.get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
            why = condition.get("message") or condition.get("reason") or "no reason given"
            return _cut(f"pod {name} cannot be scheduled: {why}")
    for state in status.get("containerStatuses") or []:
        waiting = (state.get("state") or {}).get("waiting")
        if state.get("name") == container and waiting and waiting.get("reason"):
            detail = f": {waiting['message']}" if waiting.get("message") else ""
            return _cut(f"pod {name} is waiting: container {container}: {waiting['reason']}{detail}")
    return None


def refusal_reason(status: int | None, body: str | bytes | None) -> str | None:
    """The API server's reason for forbidding an object (HTTP 403, a ``Status``
    in ``body``), or None for any other answer."""
    if status != 403 or not body:
        return None
    try:
        answer = json.loads(body)
    except ValueError:
        return None
    message = answer.get("message") if isinstance(answer, dict) else None
    if not isinstance(message, str) or not message:
        return None
    return _cut(f"the cluster refused the server: {message}")


def _cut(text: str) -> str:
    return shorten(text, MAX_REASON)


#: The record KubeSpawner writes when the API server refuses a pod:
#: ``self.log.exception("Failed for %s", pod.to_str())``.
_POD_MANIFEST_RECORD = "Failed for %s"
#: The pod's name in ``pod.to_str()`` (the client's pprint of the pod's dict).
_POD_NAME = re.compile(r"'metadata': \{.*?'name': '([a-z0-9.-]{1,253})'", re.S)


class PodManifestRedaction(logging.Filter):
    """Replaces the pod manifest KubeSpawner logs on an API refusal with the
    pod's name: the manifest holds the environment's literal values. The
    record (and its exception, the API server's answer) is kept."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg == _POD_MANIFEST_RECORD and isinstance(record.args, tuple) and record.args:
            manifest = record.args[0]
            found = _POD_NAME.search(manifest) if isinstance(manifest, str) else None
            name = found.group(1) if found else "(unnamed)"
            record.msg = "Failed to create pod %s (its manifest is not logged: it holds environment values)"
            record.args = (name,)
        return True


_REDACTION = PodManifestRedaction()


def keep_pod_manifests_out_of(logger: logging.Logger | logging.LoggerAdapter[Any]) -> None:
    """Put the :class:`PodManifestRedaction` on ``logger`` (a spawner's ``log``); idempotent."""
    target = logger.logger if isinstance(logger, logging.LoggerAdapter) else logger
    target.addFilter(_REDACTION)
