"""What the hub answers when profilespawner refuses a spawn: an HTTP error.

The rules raise errors of the tree in :mod:`profilespawner.errors`; only the
hub's two entry points -- :class:`~profilespawner.ProfileKubeSpawner` (its
spawn form, ``load_user_options`` and ``get_pod_manifest``) and the
``modify_pod_hook`` (:mod:`profilespawner.hooks`) -- turn them into the
``tornado.web.HTTPError`` JupyterHub shows on the spawn page and answers the
REST API with, through :func:`refusals_as_http_errors`: a
:class:`~profilespawner.errors.UserOptionError` (a size or GPU type the user
may not pick) is 400; a :class:`~profilespawner.errors.ResourceConflictError`
or :class:`~profilespawner.errors.MountConflictError` (the profiles that apply
to this spawn contradict each other, or KubeSpawner's settings) is 409
Conflict: the request is fine, the current profiles cannot serve it -- an
administrator fixes them, or the user picks another size or image; a
:class:`~profilespawner.errors.BudgetExceededError` (the server would take
a budget past its limit, SPEC §10) is 403; a
:class:`~profilespawner.errors.ConfigMapsUnavailableError`
(``on_api_unavailable = "fail"`` and the ConfigMaps cannot be listed) and a
:class:`~profilespawner.errors.UsageUnknownError` (the pods cannot be listed to
count the budgets) are 503.
The message is the error's own (names, never values); JupyterHub shows
``jupyterhub_message``, which a ``ConfigMapsUnavailableError`` words for users.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from tornado import web

from .errors import (
    BudgetExceededError,
    ConfigMapsUnavailableError,
    MountConflictError,
    ResourceConflictError,
    UsageUnknownError,
    UserOptionError,
)

__all__ = ["HTTP_STATUS", "http_error", "refusal_status", "refusals_as_http_errors"]

#: The HTTP status of each refusal.
HTTP_STATUS: dict[type[Exception], int] = {
    UserOptionError: 400,
    ResourceConflictError: 409,
    MountConflictError: 409,
    BudgetExceededError: 403,
    ConfigMapsUnavailableError: 503,
    UsageUnknownError: 503,
}

_Log = logging.Logger | logging.LoggerAdapter[logging.Logger]


def http_error(status: int, error: Exception | str) -> web.HTTPError:
    """``error`` (or a message) as the HTTP error JupyterHub answers with; the
    page and the REST API show ``jupyterhub_message``."""
    message = str(getattr(error, "jupyterhub_message", None) or error)
    http = web.HTTPError(status, "%s", str(error))
    http.jupyterhub_message = message  # type: ignore[attr-defined]
    return http


def refusal_status(error: Exception) -> int | None:
    """The HTTP status of a refusal (:data:`HTTP_STATUS`); None for any other error."""
    return next((code for kind, code in HTTP_STATUS.items() if isinstance(error, kind)), None)


@contextmanager
def refusals_as_http_errors(log: _Log, user: str) -> Iterator[None]:
    """Let a refusal raised inside out as its HTTP error (:data:`HTTP_STATUS`),
    chained to it; a choice the user may not make, a conflict of the profiles
    and a budget exceeded are logged as a warning (the ConfigMap source has
    logged why it cannot list)."""
    try:
        yield
    except tuple(HTTP_STATUS) as error:
        if not isinstance(error, ConfigMapsUnavailableError):
            log.warning("Refusing to spawn for %s: %s", user, error)
        status = refusal_status(error)
        assert status is not None
        raise http_error(status, error) from error
