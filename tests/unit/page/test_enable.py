"""``enable_profiles_page(c)``: the handlers under /hub/, the templates before
JupyterHub's own (after an administrator's), the custom scope declared -- read
back as JupyterHub reads its configuration."""

from __future__ import annotations

import os

from jupyterhub._data import DATA_FILES_PATH
from jupyterhub.app import JupyterHub
from traitlets.config import Config

import profilespawner
from profilespawner.page import TEMPLATES
from profilespawner.page.handlers import (
    VIEW_SCOPE,
    ProfilesPageHandler,
    ProfilesPreviewAPIHandler,
    ProfilesStateAPIHandler,
)

JUPYTERHUB_TEMPLATES = os.path.join(DATA_FILES_PATH, "templates")


def hub(config: Config) -> JupyterHub:
    return JupyterHub(config=config)


def test_one_line_enables_the_page() -> None:
    c = Config()
    profilespawner.enable_profiles_page(c)
    app = hub(c)
    assert app.extra_handlers == [
        (r"/profiles", ProfilesPageHandler),
        (r"/profiles/api/state", ProfilesStateAPIHandler),
        (r"/profiles/api/preview", ProfilesPreviewAPIHandler),
    ]
    assert app.template_paths == [TEMPLATES, JUPYTERHUB_TEMPLATES]
    assert list(app.custom_scopes) == [VIEW_SCOPE]
    assert app.custom_scopes[VIEW_SCOPE]["description"]


def test_an_administrators_templates_and_scopes_keep_their_place() -> None:
    c = Config()
    c.JupyterHub.template_paths = ["/srv/ours"]
    c.JupyterHub.custom_scopes = {"custom:other:read": {"description": "other"}}
    c.JupyterHub.extra_handlers = [(r"/other", ProfilesPageHandler)]
    profilespawner.enable_profiles_page(c)
    app = hub(c)
    assert app.template_paths == ["/srv/ours", TEMPLATES]
    assert set(app.custom_scopes) == {"custom:other:read", VIEW_SCOPE}
    assert len(app.extra_handlers) == 4


def test_jupyterhubs_own_directory_listed_stays_after_ours() -> None:
    c = Config()
    c.JupyterHub.template_paths = ["/srv/ours", JUPYTERHUB_TEMPLATES]
    profilespawner.enable_profiles_page(c)
    assert hub(c).template_paths == ["/srv/ours", TEMPLATES, JUPYTERHUB_TEMPLATES]
