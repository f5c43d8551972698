"""The profiles page (SPEC §12): ``/hub/profiles`` in the hub, for admins and the roles granted it.

One call in ``jupyterhub_config.py`` turns it on, for
:class:`~profilespawner.ProfileKubeSpawner` and for the hooks of plain
KubeSpawner alike::

    import profilespawner

    profilespawner.enable_profiles_page(c)

:func:`enable_profiles_page` registers the handlers (:mod:`.handlers`) with
``c.JupyterHub.extra_handlers`` (mounted under ``/hub/``), puts the page's
templates (:data:`TEMPLATES`, extending JupyterHub's ``page.html``, with a
*Profiles* link in its navigation bar for those who may see it) before
JupyterHub's own in ``c.JupyterHub.template_paths``, and declares the custom
scope :data:`~.handlers.VIEW_SCOPE` in ``c.JupyterHub.custom_scopes``. What
the page shows is :mod:`.view`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

__all__ = ["HANDLERS", "TEMPLATES", "enable_profiles_page"]

#: The page's templates.
TEMPLATES = str(Path(__file__).resolve().parent / "templates")

#: ``(path under /hub/, handler class)``, by import path: the hub imports them.
HANDLERS = (
    (r"/profiles", "ProfilesPageHandler"),
    (r"/profiles/api/state", "ProfilesStateAPIHandler"),
    (r"/profiles/api/preview", "ProfilesPreviewAPIHandler"),
)


def enable_profiles_page(c: Any) -> None:
    """Turn the profiles page on in a JupyterHub configuration ``c``.

    Call it after any ``c.JupyterHub.template_paths`` of your own: your
    templates keep precedence over the page's (a ``page.html`` of yours
    replaces the page's, and with it the *Profiles* link in the navigation
    bar; the page itself still works).
    """
    from . import handlers  # the hub's modules: loaded when the hub's configuration asks

    c.JupyterHub.extra_handlers.extend((path, getattr(handlers, name)) for path, name in HANDLERS)
    paths = c.JupyterHub.template_paths
    if isinstance(paths, list):
        # set explicitly: after them, before JupyterHub's own directory (which
        # JupyterHub appends when it is not there)
        if TEMPLATES not in paths:
            from jupyterhub._data import DATA_FILES_PATH

            own = os.path.join(DATA_FILES_PATH, "templates")
            paths.insert(paths.index(own) if own in paths else len(paths), TEMPLATES)
    else:
        # not set: JupyterHub's own directory is the default, ours goes first
        paths.prepend([TEMPLATES])
    c.JupyterHub.custom_scopes.update({handlers.VIEW_SCOPE: dict(handlers.VIEW_SCOPE_DEFINITION)})
