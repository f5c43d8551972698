"""The profiles page's handlers: ``/hub/profiles`` and its JSON endpoints, in the hub process.

They read the hub's own state, never a copy: the shared
:class:`~profilespawner.SingleuserProfiles` instance (its sources and cache:
no second watch) and the pods of KubeSpawner's pod reflector (already in the
hub's memory: no request per page view). The page makes no request of its own
to the Kubernetes API; what the servers hold of the budgets is the hub's own
count (:func:`profilespawner.ledger.claims`), and the preview's budget check
the hub's own decision (:func:`profilespawner.ledger.check_fits`), reserving
nothing. Only when nothing has started them yet, the first
view starts the ConfigMap watch and KubeSpawner's pod reflector as the first
spawn would, with the hub's own RBAC. It never writes to Kubernetes.

Who may see it: holders of ``admin-ui`` (every JupyterHub admin: the scope of
the admin page) or of :data:`VIEW_SCOPE`, which a role grants; everyone else
gets 403, on the page and on its endpoints alike. The check is JupyterHub's
own ``needs_scope``. The page and the preview are GET requests without side
effects (no XSRF token needed; the JSON endpoints are JupyterHub API handlers,
which check it on GETs with cookie authentication); every value goes through
Jinja's autoescaping or ``json.dumps``.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from jupyterhub.apihandlers.base import APIHandler
from jupyterhub.handlers.base import BaseHandler
from jupyterhub.scopes import needs_scope, scope_definitions
from jupyterhub.user import User
from kubespawner import KubeSpawner
from tornado import web

from .. import ledger
from ..budgets import Claim
from ..errors import ConfigMapsUnavailableError
from ..model import ProfileSet
from ..profiles import SingleuserProfiles
from ..resolve import Resolution
from ..sources.book import SourceStatus
from . import view

__all__ = [
    "ADMIN_SCOPE",
    "VIEW_SCOPE",
    "VIEW_SCOPE_DEFINITION",
    "PageState",
    "ProfilesPageHandler",
    "ProfilesPreviewAPIHandler",
    "ProfilesStateAPIHandler",
    "gather",
]

#: The custom scope that grants the page to a role (JupyterHub >= 3.0).
VIEW_SCOPE = "custom:profilespawner:view"
VIEW_SCOPE_DEFINITION = {
    "description": "See the profiles page: every profile source, the merged profiles, "
    "what any user would get, and the running servers."
}
#: Seconds between two renderings of an unchanged live part (the sources' ages move on).
AGE_STEP = 10

#: The scope every JupyterHub admin has, and that JupyterHub's admin page needs.
ADMIN_SCOPE = "admin-ui"


def viewers_only(method: Callable[..., Any]) -> Callable[..., Any]:
    """JupyterHub's ``needs_scope(ADMIN_SCOPE, VIEW_SCOPE)``: any of them (403 otherwise).

    Decorated at each call, not at import: ``needs_scope`` refuses a scope
    JupyterHub does not know yet, and the hub defines the custom scopes of its
    configuration after the configuration has imported this module. Without
    :data:`VIEW_SCOPE` defined (``c.JupyterHub.custom_scopes``), admins only.
    """

    @functools.wraps(method)
    def checked(self: BaseHandler, *args: Any, **kwargs: Any) -> Any:
        scopes = [s for s in (ADMIN_SCOPE, VIEW_SCOPE) if s in scope_definitions]
        return needs_scope(*scopes)(method)(self, *args, **kwargs)

    return checked


@dataclass
class PageState:
    """What the hub holds now: sources, the merged set, the notebook pods."""

    profile_set: ProfileSet
    statuses: list[SourceStatus]
    pods: list[dict[str, Any]]
    pods_watched: bool
    default_image: str
    gpu_resource_name: str
    problems: list[str] = field(default_factory=list)
    #: The pod keys of the hub's spawns in flight that hold a budget's share.
    in_flight: list[str] = field(default_factory=list)
    #: What the hub's servers hold of budgets: running ones and spawns in flight
    #: (counted by :meth:`count_claims` only for what is rendered).
    claims: list[Claim] = field(default_factory=list)
    #: The viewer's KubeSpawner, whose settings a server's requests start from.
    kubespawner: Any = None

    @property
    def in_use(self) -> dict[str, str | None]:
        return view.in_use(self.profile_set)

    def count_claims(self) -> PageState:
        """This state with :attr:`claims` counted: the hub's own count (reading
        every pod's record costs more than the live part's ETag may)."""
        self.claims = ledger.claims(gpu_resource_name=self.gpu_resource_name)
        return self

    @property
    def fingerprint(self) -> str:
        """Changes when the merged set does: the sources in use and their versions."""
        return json.dumps(sorted((s, v or "") for s, v in self.in_use.items()))

    def live_etag(self, now: float) -> str:
        """Changes when the live part does: a source's state, the set in use, a
        pod (its resourceVersion), and every :data:`AGE_STEP` seconds (the ages)."""
        pods = sorted(
            (str(m.get("namespace")), str(m.get("name")), str(m.get("resourceVersion")))
            for m in (pod.get("metadata") or {} for pod in self.pods)
        )
        # A spawn in flight holds its budgets before its pod exists; the pods'
        # shares change with their resourceVersions.
        key = repr(
            (self.statuses, self.fingerprint, pods, self.in_flight, self.problems, int(now // AGE_STEP))
        )
        return '"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"'


def _kubespawner(handler: BaseHandler) -> KubeSpawner | None:
    """The viewer's own (default) spawner when it is a KubeSpawner: it carries
    the hub's settings that the ConfigMap watch and the pod reflector start with."""
    user = handler.current_user
    if not isinstance(user, User):
        return None  # a service
    spawner = user.spawner
    return spawner if isinstance(spawner, KubeSpawner) else None


def _pod_reflectors() -> list[Any]:
    return [r for key, r in KubeSpawner.reflectors.items() if key and key[0] == "pods"]


async def gather(handler: BaseHandler) -> PageState:
    """The hub's state, as the page shows it."""
    profiles = SingleuserProfiles.instance(config=handler.settings["config"])
    spawner = _kubespawner(handler)
    problems = []
    try:
        profile_set = await profiles.load_profiles(spawner)
    except ConfigMapsUnavailableError as error:
        profile_set = ProfileSet()
        problems.append(str(error))
    if not _pod_reflectors() and spawner is not None:
        # KubeSpawner starts its shared pod reflector at the first spawn or
        # poll; until then no server runs that the hub knows of.
        try:
            await spawner._start_watching_pods()
        except Exception as error:
            handler.log.warning("Profiles page: KubeSpawner's pod reflector did not start: %s", error)
            problems.append(f"KubeSpawner's pod reflector did not start: {error}")
    reflectors = _pod_reflectors()
    pods = [pod for reflector in reflectors for pod in list(reflector.pods.values())]
    return PageState(
        profile_set=profile_set,
        statuses=profiles.source_statuses(),
        pods=pods,
        pods_watched=bool(reflectors),
        default_image=str(spawner.image) if spawner is not None else "",
        gpu_resource_name=profiles.gpu_resource_name,
        problems=problems,
        in_flight=ledger.in_flight(),
        kubespawner=spawner,
    )


def _spawn_check(state: PageState) -> view.SpawnCheck | None:
    """The check ``hooks.check_spawn`` makes after resolving, minus the
    reservation: what the server asks for, from KubeSpawner's settings (those
    of the viewer's spawner: the hub's configuration) -- a request above its
    limit is refused -- and whether it fits the budgets with what the hub's
    servers hold now. None when the viewer has no KubeSpawner (a service)."""
    spawner = state.kubespawner
    if spawner is None:
        return None
    gpu = state.gpu_resource_name

    def check(resolution: Resolution, user: str) -> None:
        asked = ledger.asked_by(spawner, resolution, gpu_resource_name=gpu)
        ledger.check_fits(resolution, user=user, asked=asked, gpu_resource_name=gpu)

    return check


def _preview(handler: BaseHandler, state: PageState, request: view.PreviewRequest) -> view.PreviewAnswer:
    user = handler.find_user(request.user) if request.user else None
    hub_groups = [g.name for g in user.groups] if user is not None else None
    return view.preview(
        state.profile_set,
        request,
        hub_groups=hub_groups,
        gpu_resource_name=state.gpu_resource_name,
        check=_spawn_check(state),
    )


def _arguments(handler: BaseHandler, names: Iterable[str]) -> dict[str, str]:
    return {name: handler.get_argument(name, "") for name in names}


_PREVIEW_FIELDS = ("user", "groups", "image", "size", "gpu_type", "cpu", "memory", "gpu")


class ProfilesPageHandler(BaseHandler):  # type: ignore[misc]
    """``GET /hub/profiles``: the page; ``?part=live`` its sources and servers,
    ``?part=merged`` its merged set (what the page's script refreshes);
    ``?user=...&image=...`` with the preview answered."""

    @web.authenticated
    @viewers_only
    async def get(self) -> None:
        state = await gather(self)
        part = self.get_argument("part", "")
        namespace: dict[str, Any] = {"state": state, "view": view}
        if part == "live":
            # The page's script asks every half second: answer "no change"
            # (304) without rendering, unless something it shows changed.
            etag = state.live_etag(time.time())
            self.set_header("ETag", etag)
            self.set_header("Cache-Control", "no-store")
            if self.request.headers.get("If-None-Match") == etag:
                self.set_status(304)
                self.finish()
                return
            namespace["sources"] = view.source_rows(state.statuses)
            namespace["servers"] = view.server_rows(state.pods, state.in_use)
            namespace["budget_use"] = view.budget_use_rows(state.profile_set, state.count_claims().claims)
            self.finish(await self.render_template("profilespawner_live.html", **namespace))
            return
        if part == "merged":
            self.finish(await self.render_template("profilespawner_merged.html", **namespace))
            return
        request = view.PreviewRequest.from_arguments(_arguments(self, _PREVIEW_FIELDS))
        if not request.image:
            request = dataclasses.replace(request, image=state.default_image)
        answer = _preview(self, state, request) if request.user and request.image else None
        namespace.update(
            sources=view.source_rows(state.statuses),
            servers=view.server_rows(state.pods, state.in_use),
            budget_use=view.budget_use_rows(state.profile_set, state.count_claims().claims),
            form=request,
            answer=answer,
            sizes=view.size_choices(state.profile_set),
        )
        self.finish(await self.render_template("profilespawner_profiles.html", **namespace))


class ProfilesStateAPIHandler(APIHandler):  # type: ignore[misc]
    """``GET /hub/profiles/api/state``: sources, merged set and servers, as JSON."""

    @viewers_only
    async def get(self) -> None:
        state = (await gather(self)).count_claims()
        servers = view.server_rows(state.pods, state.in_use)
        body = {
            "sources": [dataclasses.asdict(row) for row in view.source_rows(state.statuses)],
            "profiles": [dataclasses.asdict(row) for row in view.profile_rows(state.profile_set)],
            "sizes": [dataclasses.asdict(row) for row in view.size_rows(state.profile_set)],
            "gpu_types": [dataclasses.asdict(row) for row in view.gpu_type_rows(state.profile_set)],
            "budgets": [dataclasses.asdict(row) for row in view.budget_rows(state.profile_set)],
            "budget_use": [
                dataclasses.asdict(row) for row in view.budget_use_rows(state.profile_set, state.claims)
            ],
            "servers": [{**row.pod.as_dict(), "phase": row.phase} for row in servers],
            "servers_watched": state.pods_watched,
            "problems": state.problems,
        }
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(json.dumps(body))


class ProfilesPreviewAPIHandler(APIHandler):  # type: ignore[misc]
    """``GET /hub/profiles/api/preview?user=...&image=...``: what a spawn would
    get (``status`` 200 and who set what), or the ``status`` and ``message``
    of the HTTP error it would fail with."""

    @viewers_only
    async def get(self) -> None:
        request = view.PreviewRequest.from_arguments(_arguments(self, _PREVIEW_FIELDS))
        state = await gather(self)
        if not request.image:
            request = dataclasses.replace(request, image=state.default_image)
        if not request.user or not request.image:
            raise web.HTTPError(400, "user and image are required")
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(json.dumps(_preview(self, state, request).as_dict()))
