"""Profile documents from ConfigMaps, kept in a cache that list+watch keeps current.

Which ConfigMaps, in which order (SPEC §2): the one named ``configmap_name``,
then every one matching ``label_selector`` in ``sorted()`` order of their names;
one that is both named and labelled is read once, at the named position. The
profiles are under ``configmap_key`` in ``data``; documents are named
``namespace/name`` in messages.

How the cache is fed: one list+watch per query, per hub process -- one for the
named ConfigMap (``fieldSelector=metadata.name=...``) and one for the label
selector, each only when configured. The API server filters both, so the hub
never receives the other ConfigMaps of its namespace (nor their data), and the
Role needs only get/list/watch on configmaps (see ``docs/rbac.md``). Each watch
tracks its resourceVersion, asks for bookmarks, and is renewed from where it
stopped when the server ends it; after an error or a 410 Gone it lists again,
after a capped exponential backoff that starts again only once a watch has
been healthy (delivered an event, ended on time, or stayed open
``HEALTHY_WATCH_SECONDS``): a list that succeeds before a watch that fails
proves nothing, and must not make the hub hammer the API server.

Rules:

- A spawn never calls the API and never parses: :meth:`ConfigMapSource.profile_sets`
  answers from the cache. Only the very first calls wait, at most
  ``initial_load_timeout`` seconds, for the first lists.
- Parsing and validation run in a worker thread, once per resourceVersion.
- An invalid version keeps the last valid one in effect (:class:`SourceBook`);
  a deleted or unlabelled ConfigMap stops applying. Whatever a ConfigMap
  holds, parsing it gives a profile set or a ``ProfileError``: a ConfigMap can
  never make the watch fail, list again and meet it again.
- A ConfigMap's version only moves forward (resourceVersions compared as
  KEP-5504 defines): the two watches both see a ConfigMap that is named and
  labelled, and the late one must not bring back what the other replaced.
- Logs name ConfigMaps, keys and resourceVersions, never their data.
- The watcher tasks never end on an error and never fail silently; they stop
  only when :meth:`ConfigMapSource.close` cancels them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigMapsUnavailableError, KubeApiError, ProfileError, WatchExpired
from ..model import DEFAULT_MOUNT_PATH, ProfileSet
from ..parse import ParsedDocument
from ..policy import DEFAULT_POLICY, Policy
from . import kubeapi
from .book import SourceBook, SourceStatus
from .collector import parse_uncollected
from .documents import compare_resource_versions, parse_configmap, source_order

__all__ = [
    "HEALTHY_WATCH_SECONDS",
    "ConfigMapSource",
]

#: Seconds between two warnings that spawns go on without the ConfigMaps.
UNAVAILABLE_WARNING_INTERVAL = 60.0

#: A watch that stayed open this long, or delivered an event, was healthy: the
#: backoff starts again from its initial delay after it ends. Anything less
#: (a watch refused by RBAC, cut by a proxy, expired at once) makes it grow.
HEALTHY_WATCH_SECONDS = 10.0

_Log = logging.Logger | logging.LoggerAdapter[logging.Logger]


# -- the cache -----------------------------------------------------------------


@dataclass(eq=False)
class _Follower:
    """The state of one list+watch: which ConfigMaps it currently sees."""

    query: kubeapi.ConfigMapQuery
    members: dict[str, str] = field(default_factory=dict)  # name -> resourceVersion
    resource_version: str | None = None  # None: list before watching
    listed: bool = False  # the first list succeeded
    last_sync: float | None = None  # time.monotonic() of the last sign of life
    stale_warned: float | None = None  # when the last "stale" warning was logged
    failures: int = 0  # errors since the last healthy watch
    last_error: BaseException | None = None
    task: asyncio.Task[None] | None = None


class ConfigMapSource:
    """The ConfigMaps holding profiles, read through a list+watch cache.

    ``api`` is a ``kubernetes_asyncio`` ``CoreV1Api`` (KubeSpawner's shared
    client in the hub, see :func:`~profilespawner.sources.kubeapi.shared_core_api`).
    Create it inside the event loop that will use it; one per hub process.
    With ``fail_when_unavailable`` (``SingleuserProfiles.on_api_unavailable =
    "fail"``), a spawn that finds the ConfigMaps not listed in time fails with
    :class:`~profilespawner.errors.ConfigMapsUnavailableError` instead of going
    on without them.
    """

    def __init__(
        self,
        api: Any,
        *,
        namespace: str,
        configmap_name: str,
        label_selector: str,
        key: str,
        log: _Log,
        default_mount_path: str = DEFAULT_MOUNT_PATH,
        policy: Policy = DEFAULT_POLICY,
        initial_load_timeout: float = 5.0,
        fail_when_unavailable: bool = False,
        max_cache_age: float = 600.0,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
        watch_timeout: int = 300,
    ) -> None:
        if not (configmap_name or label_selector):
            raise ValueError("ConfigMapSource needs a configmap_name or a label_selector")
        self.api = api
        self.namespace = namespace
        self.configmap_name = configmap_name
        self.label_selector = label_selector
        self.key = key
        self.log = log
        self.default_mount_path = default_mount_path
        self.policy = policy
        self.initial_load_timeout = initial_load_timeout
        self.fail_when_unavailable = fail_when_unavailable
        self.max_cache_age = max_cache_age
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.watch_timeout = watch_timeout
        # Both list+watches record into one book (a ConfigMap may be named and
        # labelled): resourceVersions keep a late event from going back in time.
        self.book = SourceBook(log, compare=compare_resource_versions)
        self.loop = asyncio.get_running_loop()
        by_name = kubeapi.ConfigMapQuery(namespace, field_selector=f"metadata.name={configmap_name}")
        by_label = kubeapi.ConfigMapQuery(namespace, label_selector=label_selector)
        self._named = _Follower(by_name) if configmap_name else None
        self._labelled = _Follower(by_label) if label_selector else None
        self._followers = [f for f in (self._named, self._labelled) if f is not None]
        # Set once every follower has listed, or one met an error that waiting
        # cannot fix (bad selector, credentials, RBAC): first spawns stop waiting then.
        self._settled = asyncio.Event()
        self._started_at = time.monotonic()
        self._wait_until: float | None = None  # set by start(): the first spawns' deadline
        self._unavailable_warned: float | None = None
        self._closed = False

    # -- the interface every source has ----------------------------------------

    async def profile_sets(self) -> list[ProfileSet]:
        """The valid profile sets of the current ConfigMaps, in precedence order.

        Makes no API request. Until the first lists are done, calls wait for
        them, until ``initial_load_timeout`` after :meth:`start`; later calls
        read the cache.
        """
        self.start()
        if not self.loaded:
            await self._wait_for_first_lists()
        self.check_stale()
        return self.snapshot()

    # -- lifecycle ----------------------------------------------------------------

    @property
    def loaded(self) -> bool:
        """Every list+watch has listed its ConfigMaps at least once."""
        return all(f.listed for f in self._followers)

    def start(self) -> None:
        """Start the watcher tasks (idempotent; needs the running event loop)."""
        if self._closed:
            return
        if self._wait_until is None:
            self._wait_until = time.monotonic() + self.initial_load_timeout
        for follower in self._followers:
            if follower.task is None:
                follower.task = self.loop.create_task(
                    self._follow(follower), name=f"profilespawner watch {follower.query.describe()}"
                )
                follower.task.add_done_callback(self._task_done)

    async def close(self) -> None:
        """Stop watching; the cache keeps answering with what it has."""
        tasks = self.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def cancel(self) -> list[asyncio.Task[None]]:
        """Cancel the watcher tasks without waiting (for synchronous teardown)."""
        self._closed = True
        tasks = [f.task for f in self._followers if f.task is not None and not f.task.done()]
        if not self.loop.is_closed():
            for task in tasks:
                task.cancel()
        return tasks

    # -- reading the cache -------------------------------------------------------

    def order(self) -> list[str]:
        """``namespace/name`` of the current ConfigMaps, in precedence order."""
        named = self.configmap_name if self._named and self.configmap_name in self._named.members else None
        labelled = self._labelled.members if self._labelled else ()
        return [self._source(name) for name in source_order(named, labelled)]

    def snapshot(self) -> list[ProfileSet]:
        """The valid profile sets, all taken at once (no await in between)."""
        return self.book.profile_sets(self.order())

    def statuses(self) -> list[SourceStatus]:
        """Each current ConfigMap as the cache holds it, in precedence order;
        the named one when it does not exist (``missing``); and, for each
        list+watch that has not listed yet, its query (``not read yet``, with
        the last error). Makes no API request."""
        out = [self.book.status(source) or SourceStatus(source, "not read yet") for source in self.order()]
        named = self._named
        if named is not None and named.listed and self.configmap_name not in named.members:
            out.insert(0, SourceStatus(self._source(self.configmap_name), "missing"))
        out.extend(
            SourceStatus(f.query.describe(), "not read yet", error=str(f.last_error or ""))
            for f in self._followers
            if not f.listed
        )
        return out

    def cache_age(self) -> float:
        """Seconds since the least recently heard-from list+watch last heard from the API."""
        now = time.monotonic()
        return max(
            (now - (f.last_sync if f.last_sync is not None else self._started_at) for f in self._followers),
            default=0.0,
        )

    def check_stale(self) -> None:
        """Warn, once per ``max_cache_age``, about a list+watch that has not
        heard from the API server for longer than that."""
        now = time.monotonic()
        for f in self._followers:
            age = now - (f.last_sync if f.last_sync is not None else self._started_at)
            if age <= self.max_cache_age:
                continue
            if f.stale_warned is not None and now - f.stale_warned < self.max_cache_age:
                continue
            f.stale_warned = now
            self.log.warning(
                "Profile ConfigMaps %s: no news from the Kubernetes API for %.0f s "
                "(SingleuserProfiles.max_cache_age = %g); spawns use the last known profiles%s",
                f.query.describe(),
                age,
                self.max_cache_age,
                f" (last error: {f.last_error})" if f.last_error else "",
            )

    async def _wait_for_first_lists(self) -> None:
        # One deadline for every early spawn: while the API stays unreachable,
        # later spawns go on (or fail) at once instead of each waiting again.
        remaining = (self._wait_until or 0.0) - time.monotonic()
        if remaining > 0:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._settled.wait(), remaining)
        if self.loaded:
            return
        errors = [f"{f.last_error}" for f in self._followers if not f.listed and f.last_error]
        reason = "; ".join(errors) if errors else f"no answer within {self.initial_load_timeout:g} s"
        if self.fail_when_unavailable:
            raise ConfigMapsUnavailableError(
                f"Cannot list the profile ConfigMaps in namespace {self.namespace!r} ({reason}); "
                f"failing the spawn (SingleuserProfiles.on_api_unavailable = 'fail')"
            )
        now = time.monotonic()
        quiet = (
            self._unavailable_warned is not None
            and now - self._unavailable_warned < UNAVAILABLE_WARNING_INTERVAL
        )
        if not quiet:
            self._unavailable_warned = now
        self.log.log(
            logging.DEBUG if quiet else logging.WARNING,
            "Cannot list the profile ConfigMaps in namespace %r (%s); spawning without them "
            "(SingleuserProfiles.on_api_unavailable = 'continue')",
            self.namespace,
            reason,
        )

    # -- the watcher ---------------------------------------------------------------

    async def _follow(self, f: _Follower) -> None:
        # The delay grows with every failure and starts again only after a
        # healthy watch (one that delivered an event or stayed open for
        # HEALTHY_WATCH_SECONDS): a successful list alone proves nothing when
        # the watch after it is refused, cut or expired at once.
        delay = self.backoff_initial
        self.log.info("Watching profile ConfigMaps %s (key %r)", f.query.describe(), self.key)
        while True:
            listed = False  # this round listed before watching
            healthy = False  # this round's watch delivered, lived, or ended on time
            opened: float | None = None
            try:
                if f.resource_version is None:
                    listing = await kubeapi.list_configmaps(self.api, f.query)
                    await self._replace(f, listing.items)
                    f.resource_version = listing.resource_version
                    listed = True
                    self._synced(f)
                timeout = int(self.watch_timeout * random.uniform(0.8, 1.0)) or 1
                events = kubeapi.watch_configmaps(
                    self.api, f.query, resource_version=f.resource_version, timeout_seconds=timeout
                )
                opened = time.monotonic()
                async with contextlib.aclosing(events):
                    async for event in events:
                        await self._apply(f, event)
                        f.resource_version = event.resource_version or f.resource_version
                        self._synced(f)
                        if not healthy:
                            healthy = True
                            self._recovered(f)
                            delay = self.backoff_initial
                # the server ended the watch on time: all is well
                self._synced(f)
                self._recovered(f)
                delay = self.backoff_initial
            except asyncio.CancelledError:
                raise
            except Exception as e:
                f.resource_version = None
                if not healthy and opened is not None and time.monotonic() - opened >= HEALTHY_WATCH_SECONDS:
                    healthy = True
                    self._recovered(f)
                if healthy:
                    delay = self.backoff_initial
                if isinstance(e, WatchExpired) and not listed:
                    # Normal after a long disconnection or an API server restart:
                    # list again at once. (Expired right after a list, it is not.)
                    self.log.info("Watch of %s expired (%s); listing again", f.query.describe(), e)
                    continue
                await self._back_off(f, e, delay)
                delay = min(delay * 2, self.backoff_max)

    async def _back_off(self, f: _Follower, error: Exception, delay: float) -> None:
        f.failures += 1
        f.last_error = error
        pause = random.uniform(delay / 2, delay)
        if isinstance(error, KubeApiError):
            self.log.warning("Profile ConfigMaps: %s; retrying in %.1f s", error, pause)
            if error.permanent and not f.listed:
                self._settled.set()  # waiting will not fix RBAC: let first spawns go on
        else:
            self.log.exception(
                "Profile ConfigMaps %s: unexpected error; retrying in %.1f s", f.query.describe(), pause
            )
        self.check_stale()
        await asyncio.sleep(pause)

    def _synced(self, f: _Follower) -> None:
        """The API server answered ``f``'s list or watch."""
        if f.stale_warned is not None:
            self.log.info("Profile ConfigMaps %s are up to date again", f.query.describe())
        f.stale_warned = None
        f.last_sync = time.monotonic()
        if not f.listed:
            f.listed = True
            if self.loaded:
                self._settled.set()

    def _recovered(self, f: _Follower) -> None:
        """``f``'s watch works (again)."""
        if f.failures:
            self.log.info("Watching profile ConfigMaps %s again", f.query.describe())
        f.failures = 0
        f.last_error = None

    def _task_done(self, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            return
        # _follow only returns by cancellation; anything else is a bug worth shouting about.
        self.log.error(
            "The watch of profile ConfigMaps stopped unexpectedly; ConfigMap changes no longer "
            "apply until the hub restarts",
            exc_info=task.exception(),
        )

    # -- applying what the API server says -----------------------------------------

    async def _apply(self, f: _Follower, event: kubeapi.WatchEvent) -> None:
        if event.type in ("ADDED", "MODIFIED"):
            parsed = await self._parse_new([event.object])
            self._record(parsed)
            f.members[event.name] = event.resource_version
        elif event.type == "DELETED":
            # Also what a label selector watch sends when the label is removed.
            if f.members.pop(event.name, None) is not None:
                self.log.debug("ConfigMap %s left %s", self._source(event.name), f.query.describe())
                self._forget_unless_seen(event.name)
        elif event.type != "BOOKMARK":
            self.log.debug("Ignoring %s event from %s", event.type, f.query.describe())

    async def _replace(self, f: _Follower, items: list[dict[str, Any]]) -> None:
        parsed = await self._parse_new(items)
        # From here on, no await: the new state replaces the old one at once.
        self._record(parsed)
        members = {_name(i): _resource_version(i) for i in items}
        gone = set(f.members) - set(members)
        f.members = members
        for name in gone:
            self._forget_unless_seen(name)
        if f is self._named and not members:
            self.log.debug(
                "ConfigMap %s does not exist; no profiles from it", self._source(self.configmap_name)
            )

    async def _parse_new(
        self, items: list[dict[str, Any]]
    ) -> list[tuple[str, str, ParsedDocument | ProfileError]]:
        results = []
        for item in items:
            source, version = self._source(_name(item)), _resource_version(item)
            if self.book.is_current(source, version):
                continue
            result = await asyncio.to_thread(
                parse_uncollected,
                parse_configmap,
                item,
                key=self.key,
                source=source,
                default_mount_path=self.default_mount_path,
                policy=self.policy,
            )
            results.append((source, version, result))
        return results

    def _record(self, parsed: list[tuple[str, str, ParsedDocument | ProfileError]]) -> None:
        for source, version, result in parsed:
            # The other follower may have recorded this version while we parsed.
            if not self.book.is_current(source, version):
                self.book.record(source, version, result)

    def _forget_unless_seen(self, name: str) -> None:
        if not any(name in f.members for f in self._followers):
            self.book.forget(self._source(name))

    def _source(self, name: str) -> str:
        return f"{self.namespace}/{name}"


def _name(item: Mapping[str, Any]) -> str:
    return str(item.get("metadata", {}).get("name", ""))


def _resource_version(item: Mapping[str, Any]) -> str:
    return str(item.get("metadata", {}).get("resourceVersion", ""))
