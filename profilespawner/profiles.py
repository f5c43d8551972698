"""``SingleuserProfiles``: the settings, the shared instance, and one spawn's profile.

One instance per hub process (a traitlets ``SingletonConfigurable``), created by
the first spawner with its config, so every spawner shares one set of sources
and one cache. It turns a spawner (user, groups, image, ``user_options``) into a
:class:`~profilespawner.resolve.Resolution` and applies it to the pod; the rules
themselves live in the pure modules it calls. It raises the errors of
:mod:`profilespawner.errors`; the hub's entry points (the spawner and the hook)
turn refusals into HTTP errors.

Sources, lowest precedence first: the files, then the ConfigMaps. The ConfigMap
source needs a spawner (for the namespace and the API client settings), so the
first spawn creates it; with neither ``configmap_name`` nor ``label_selector``
nothing talks to Kubernetes.

Importing this module loads the settings, not the engine: the ConfigMap source
(with the Kubernetes client and aiohttp) is imported when the first spawn
creates it, and the applier (with the client's models) at the first pod. The
command line reads the traits' defaults and checks a configuration through
them; it pays for what it uses (``tests/unit/test_profiles.py`` holds it so).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import TYPE_CHECKING, Any

from traitlets import Float, Integer, List, TraitError, Unicode, default, validate
from traitlets.config import Application, SingletonConfigurable

from . import k8srules, metrics
from .failures import keep_pod_manifests_out_of
from .match import set_index
from .model import DEFAULT_MOUNT_PATH, ProfileSet
from .parse import prepare as prepare_parser
from .policy import (
    DEFAULT_ALLOWED_SECRETS,
    DEFAULT_ALLOWED_VOLUME_TYPES,
    Policy,
    secret_pattern_problems,
    volume_type_problems,
)
from .resolve import USER_OPTION_KEYS, Resolution, ResolutionCache
from .sources import files as file_source
from .sources.book import SourceStatus
from .sources.collector import release_gradually
from .sources.documents import DEFAULT_CONFIGMAP_KEY
from .sources.files import FileSource

if TYPE_CHECKING:
    from kubespawner import KubeSpawner

    from .sources.configmaps import ConfigMapSource

__all__ = [
    "ON_API_UNAVAILABLE",
    "SingleuserProfiles",
    "kubespawner_option_keys",
    "spawn_identity",
    "user_choices",
]

#: The values of :attr:`SingleuserProfiles.on_api_unavailable`.
ON_API_UNAVAILABLE = ("continue", "fail")


class SingleuserProfiles(SingletonConfigurable):
    """Profiles for single-user servers, read from files and ConfigMaps."""

    #: Whether spawns check and hold their budgets against what the hub's
    #: servers hold (SPEC §10): in the hub, yes; the tools' offline spawns
    #: (``render``, ``explain``) count no usage.
    counts_usage = True

    configmap_name = Unicode(
        "jupyter-singleuser-profiles",
        config=True,
        help="""
        Name of a ConfigMap to read profiles from, in :attr:`namespace`.

        It is read after :attr:`files` and before the labelled ConfigMaps. A
        missing ConfigMap is not an error. Set to ``""`` not to read a named
        ConfigMap. The default is the name jupyterhub-singleuser-profiles used.

        .. versionadded:: 0.1
        """,
    )

    label_selector = Unicode(
        "jupyterhub=singleuser-profiles",
        config=True,
        help="""
        Label selector of further ConfigMaps to read profiles from.

        Every ConfigMap in :attr:`namespace` that matches is read, ordered by
        name, after :attr:`configmap_name`; later ones override earlier ones.
        Set to ``""`` not to look for labelled ConfigMaps.
        Default: ``jupyterhub=singleuser-profiles``.

        .. versionadded:: 0.1
        """,
    )

    configmap_key = Unicode(
        DEFAULT_CONFIGMAP_KEY,
        config=True,
        help="""
        The key in each ConfigMap's ``data`` that holds the profiles YAML,
        in the cluster and in the ConfigMap manifests of :attr:`files`.

        Default: ``jupyterhub-singleuser-profiles.yaml``.

        .. versionadded:: 0.1
        """,
    )

    namespace = Unicode(
        "",
        config=True,
        help="""
        Namespace of the profile ConfigMaps.

        Default ``""``: the namespace configured as ``KubeSpawner.namespace``
        (by default the hub's own), for the whole hub: not one that a
        ``profile_list`` override sets for a spawn, and the hub's namespace
        when ``KubeSpawner.enable_user_namespaces`` puts pods elsewhere.

        .. versionadded:: 0.1
        """,
    )

    files = List(
        Unicode(),
        config=True,
        help="""
        YAML files to read profiles from, read first (lowest precedence).

        A file holds a profile document, or ConfigMap manifests (one
        ConfigMap, a ``kind: List`` of them, or several YAML documents, as
        ``kubectl get configmap -o yaml`` writes them) whose
        :attr:`configmap_key` is read, ConfigMaps without it skipped. Each
        file is re-read when its modification time changes, so a ConfigMap
        mounted as a volume or an edited file takes effect at the next spawn
        (checked at most once per :attr:`file_check_interval`).
        A missing file is not an error. Default: no files.

        .. versionadded:: 0.1
        """,
    )

    file_check_interval = Float(
        config=True,
        help="""
        Seconds between two checks of :attr:`files` for changes.

        A spawn checks the files' modification times (in a worker thread) only
        when the last check is at least this old; other spawns use what that
        check found. An edited file, or an updated ConfigMap volume, takes
        effect at most this long after the change. ``0`` checks at every spawn.
        Default: ``1``.

        .. versionadded:: 0.1
        """,
    )

    @default("file_check_interval")
    def _file_check_interval_default(self) -> float:
        return file_source.CHECK_INTERVAL

    default_mount_path = Unicode(
        DEFAULT_MOUNT_PATH,
        config=True,
        help="""
        Directory that relative volume ``mountPath`` values are joined to.

        A volume without ``mountPath`` is mounted at
        ``<default_mount_path>/<volume name>``. Must be absolute.
        Default: ``/opt/app-root/src`` (the home of the s2i notebook images).

        .. versionadded:: 0.1
        """,
    )

    gpu_resource_name = Unicode(
        "nvidia.com/gpu",
        config=True,
        help="""
        Extended resource name that a profile's ``gpu: N`` requests.

        Default: ``nvidia.com/gpu``; for example ``amd.com/gpu`` on AMD nodes.

        .. versionadded:: 0.1
        """,
    )

    initial_load_timeout = Float(
        5.0,
        config=True,
        help="""
        Seconds the first spawns wait for the profile ConfigMaps to be listed.

        The hub lists and then watches the ConfigMaps in the background from
        the first spawn on. Spawns that come before the first list is done wait
        for it, until this many seconds after that first spawn; then, and for
        every later spawn while the list is still missing,
        :attr:`on_api_unavailable` decides, without waiting again. ``0`` does
        not wait. Default: ``5``.

        .. versionadded:: 0.1
        """,
    )

    on_api_unavailable = Unicode(
        "continue",
        config=True,
        help="""
        What a spawn does when the profile ConfigMaps could not be listed
        within :attr:`initial_load_timeout` (Kubernetes API unreachable,
        missing RBAC).

        ``"continue"`` (the default) spawns with the profiles of :attr:`files`
        only and logs a warning: users get servers, maybe without their
        profiles. ``"fail"`` fails the spawn with a message saying why: no
        server ever starts without its profiles. Either way the hub keeps
        retrying in the background, and once the ConfigMaps are listed they
        apply.

        .. versionadded:: 0.1
        """,
    )

    max_cache_age = Float(
        600.0,
        config=True,
        help="""
        Seconds without news from the Kubernetes API after which the cached
        ConfigMaps are reported as stale.

        A healthy watch hears from the API server at least every few minutes
        (events, bookmarks, renewals). When it has not for this long (API server
        down, network cut) a warning is logged, once per period, and spawns
        keep using the last known profiles. Default: ``600``.

        .. versionadded:: 0.1
        """,
    )

    allowed_volume_types = List(
        Unicode(),
        default_value=sorted(DEFAULT_ALLOWED_VOLUME_TYPES),
        config=True,
        help="""
        Volume types a profile or size may use; a source asking for another is
        rejected whole (its last valid version stays in effect).

        Whoever may write a profile source changes the pod of every user it
        matches: with :attr:`label_selector`, everyone who may create a
        ConfigMap in the namespace. This bounds what they can mount. Names are
        the volume sources of the Kubernetes Volume API (``persistentVolumeClaim``,
        ``nfs``, ``hostPath``, ...) and the sources of a projected volume
        (``serviceAccountToken``, ``clusterTrustBundle``, ``podCertificate``;
        its ``secret``, ``configMap`` and ``downwardAPI`` sources count as the
        volume types of the same name). Default: every one but ``hostPath``
        (a directory of the node), which is what Pod Security's ``baseline``
        level allows; the documentation's security page recommends its
        ``restricted`` list.
        Widen the default with
        ``c.SingleuserProfiles.allowed_volume_types.append("hostPath")``.

        .. versionadded:: 0.1
        """,
    )

    allowed_secrets = List(
        Unicode(),
        default_value=list(DEFAULT_ALLOWED_SECRETS),
        config=True,
        help="""
        Secrets a profile or size may name, as shell-style patterns
        (``fnmatch``: ``*``, ``?``, ``[...]``); a source naming another is
        rejected whole (its last valid version stays in effect).

        Kubernetes lets whoever creates a pod name any Secret of its namespace,
        without the right to read it; the hub creates the pods, so any profile
        source could put any Secret of the namespace, the hub's own included,
        into users' servers. Every field naming a Secret counts: an env
        ``valueFrom.secretKeyRef``, ``envFrom[].secretRef``, ``secret`` and
        ``projected`` volumes, and the Secret of any other volume source
        (``csi``, ``cephfs``, ``rbd``, ``iscsi``, ``azureFile``, ``flexVolume``,
        ...). Default: ``["*"]``, every Secret, as jupyterhub-singleuser-profiles
        allowed; ``[]`` allows none. Name the Secrets meant for notebooks, for
        example ``["team-*", "shared-s3"]``.

        .. versionadded:: 0.1
        """,
    )

    resolution_cache_size = Integer(
        128,
        config=True,
        help="""
        How many spawns' resolutions the hub remembers.

        Resolving a spawn (matching the profiles, merging them with the size)
        depends only on the profile set, the user, their groups, the image and
        the choices of ``user_options``, so the hub keeps the most recently
        used results and reuses them until any source changes, which empties
        the cache. Each entry holds the merged settings and the record of who
        set what: about 20 KiB for a spawn matching 30 variables. ``0``
        resolves every spawn afresh. Default: ``128``.

        .. versionadded:: 0.1
        """,
    )

    @validate("resolution_cache_size")
    def _validate_resolution_cache_size(self, proposal: dict[str, Any]) -> int:
        value: int = proposal["value"]
        if value < 0:
            raise TraitError(f"SingleuserProfiles.resolution_cache_size must be >= 0, not {value!r}")
        return value

    @validate("allowed_volume_types")
    def _validate_allowed_volume_types(self, proposal: dict[str, Any]) -> list[str]:
        value: list[str] = proposal["value"]
        problems = volume_type_problems(value)
        if problems:
            raise TraitError(f"SingleuserProfiles.allowed_volume_types: {'; '.join(problems)}")
        return value

    @validate("allowed_secrets")
    def _validate_allowed_secrets(self, proposal: dict[str, Any]) -> list[str]:
        value: list[str] = proposal["value"]
        problems = secret_pattern_problems(value)
        if problems:
            raise TraitError(f"SingleuserProfiles.allowed_secrets: {'; '.join(problems)}")
        return value

    @validate("configmap_name")
    def _validate_configmap_name(self, proposal: dict[str, Any]) -> str:
        value: str = proposal["value"]
        if value and not k8srules.is_dns1123_subdomain(value):
            raise TraitError(
                f"SingleuserProfiles.configmap_name must be a ConfigMap name (lowercase letters, "
                f"digits, '-' and '.') or '' for none, not {value!r}"
            )
        return value

    @validate("namespace")
    def _validate_namespace(self, proposal: dict[str, Any]) -> str:
        value: str = proposal["value"]
        if value and not k8srules.is_dns1123_label(value):
            raise TraitError(
                f"SingleuserProfiles.namespace must be a namespace name or '' for the "
                f"spawner's namespace, not {value!r}"
            )
        return value

    @validate("configmap_key")
    def _validate_configmap_key(self, proposal: dict[str, Any]) -> str:
        value: str = proposal["value"]
        if not re.fullmatch(r"[-._a-zA-Z0-9]{1,253}", value):
            raise TraitError(
                f"SingleuserProfiles.configmap_key must be a ConfigMap key (letters, digits, "
                f"'-', '_' and '.'), not {value!r}"
            )
        return value

    @validate("file_check_interval", "initial_load_timeout")
    def _validate_seconds(self, proposal: dict[str, Any]) -> float:
        value: float = proposal["value"]
        if not value >= 0:  # NaN too
            raise TraitError(
                f"SingleuserProfiles.{proposal['trait'].name} must be >= 0 seconds, not {value!r}"
            )
        return value

    @validate("on_api_unavailable")
    def _validate_on_api_unavailable(self, proposal: dict[str, Any]) -> str:
        value: str = proposal["value"]
        if value not in ON_API_UNAVAILABLE:
            raise TraitError(
                f"SingleuserProfiles.on_api_unavailable must be 'continue' or 'fail', not {value!r}"
            )
        return value

    @validate("max_cache_age")
    def _validate_max_cache_age(self, proposal: dict[str, Any]) -> float:
        value: float = proposal["value"]
        if not value > 0:
            raise TraitError(f"SingleuserProfiles.max_cache_age must be > 0 seconds, not {value!r}")
        return value

    @validate("default_mount_path")
    def _validate_default_mount_path(self, proposal: dict[str, Any]) -> str:
        value: str = proposal["value"]
        if not value.startswith("/"):
            raise TraitError(f"SingleuserProfiles.default_mount_path must be an absolute path, not {value!r}")
        return value

    @validate("gpu_resource_name")
    def _validate_gpu_resource_name(self, proposal: dict[str, Any]) -> str:
        value: str = proposal["value"]
        if not k8srules.is_qualified_name(value):
            raise TraitError(
                f"SingleuserProfiles.gpu_resource_name must be a Kubernetes resource name "
                f"such as 'nvidia.com/gpu', not {value!r}"
            )
        return value

    @default("log")
    def _log_default(self) -> logging.Logger:
        # In the hub, a child of JupyterHub's logger: its handlers, format and level.
        if Application.initialized():
            app_log: logging.Logger = Application.instance().log
            return app_log.getChild("profilespawner")
        return logging.getLogger("profilespawner")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Spawns must not wait for the schema validator to be built.
        prepare_parser()
        self._files = FileSource(
            self.files,
            default_mount_path=self.default_mount_path,
            log=self.log,
            policy=self.policy,
            key=self.configmap_key,
            check_interval=self.file_check_interval,
        )
        self._configmaps: ConfigMapSource | None = None
        self._combined = ProfileSet()
        self._combined_key: tuple[int, ...] = ()
        self._combined_sources: list[ProfileSet] = []
        self._configmaps_lock = asyncio.Lock()
        self._resolutions = ResolutionCache(self.resolution_cache_size)

    @classmethod
    def clear_instance(cls) -> None:
        """Drop the shared instance, cancelling its ConfigMap watch."""
        if cls.initialized():
            instance = cls.instance()
            if instance._configmaps is not None:
                instance._configmaps.cancel()
                instance._configmaps = None
                metrics.CONFIGMAP_CACHE_AGE.set_function(lambda: 0.0)
        super().clear_instance()

    # -- the public API ------------------------------------------------------

    @property
    def policy(self) -> Policy:
        """What any profile source may ask for: :attr:`allowed_volume_types`
        and :attr:`allowed_secrets`."""
        return Policy(frozenset(self.allowed_volume_types), tuple(self.allowed_secrets))

    @property
    def reads_configmaps(self) -> bool:
        """Whether profiles come from ConfigMaps at all."""
        return bool(self.configmap_name or self.label_selector)

    async def load_profiles(self, spawner: KubeSpawner | None = None) -> ProfileSet:
        """The current merged profile set of every source, in precedence order.

        ``spawner`` starts the ConfigMap source on first use (it gives the
        namespace and the API client settings); without one, ConfigMaps are
        included once a spawner has started their source.
        """
        configmaps = await self._configmap_source(spawner) if spawner is not None else self._configmaps
        sets = await self._files.profile_sets()
        if configmaps is not None:
            sets += await configmaps.profile_sets()
        # Sources hand out the same ProfileSet objects until they change: combine
        # them again only then, so that spawns share one combined set.
        key = tuple(id(s) for s in sets)
        if key == self._combined_key:
            return self._combined
        # Combining and indexing a large set, and freeing the one it replaces,
        # take milliseconds: in worker threads, which hand the loop the GIL
        # every few milliseconds.
        before = self._combined_key
        combined = await asyncio.to_thread(_combined_and_indexed, sets)
        if self._combined_key == before:  # no other spawn swapped meanwhile
            old = [self._combined, *self._combined_sources]
            self._combined, self._combined_key = combined, key
            self._combined_sources = sets  # keeps the ids valid
            release_gradually(
                [*(p for old_set in old for p in old_set.profiles), *old, *self._resolutions.clear()]
            )
            del old
        return combined

    def source_statuses(self) -> list[SourceStatus]:
        """Every source as the hub read it last, in precedence order (the
        profiles page): :meth:`load_profiles` re-reads the files that changed.
        Makes no API request; before a spawner has started the ConfigMap
        source, the ConfigMaps are one ``not read yet`` entry."""
        statuses = self._files.statuses()
        if self._configmaps is not None:
            statuses += self._configmaps.statuses()
        elif self.reads_configmaps:
            statuses.append(SourceStatus("ConfigMaps", "not read yet", error="read from the first spawn on"))
        return statuses

    async def close(self) -> None:
        """Stop watching ConfigMaps (a later spawn starts again)."""
        configmaps, self._configmaps = self._configmaps, None
        if configmaps is not None:
            await configmaps.close()

    async def resolve(self, spawner: KubeSpawner, profile_set: ProfileSet | None = None) -> Resolution:
        """What ``spawner``'s next pod gets, from ``profile_set`` (by default,
        the profiles as :meth:`load_profiles` gives them now).

        Raises :class:`~profilespawner.errors.UserOptionError` for an unknown
        or forbidden choice in ``user_options``, and
        :class:`~profilespawner.errors.ConfigMapsUnavailableError` when the
        ConfigMaps cannot be listed with ``on_api_unavailable = "fail"``. A
        ``user_options`` key that KubeSpawner's ``profile_list`` reads for this
        spawn (a ``profile_options`` entry named ``size``, ``cpu``, ...) is
        KubeSpawner's, not a profilespawner choice.
        """
        user, groups, image = spawn_identity(spawner)
        if profile_set is None:
            profile_set = await self.load_profiles(spawner)
        choices = await user_choices(spawner)
        return self._resolutions.resolve(profile_set, user=user, groups=groups, image=image, **choices)

    async def apply_pod_profile(self, spawner: KubeSpawner, pod: Any) -> Any:
        """Return ``pod`` (a ``V1Pod`` or its JSON dict) with the profile applied.

        ``pod`` itself is left as it is; the pod returned shares every object
        the profile does not change with it, and is ``pod`` when no profile
        sets anything (see :mod:`profilespawner.apply`).
        """
        pod, _ = await self.apply_resolved(spawner, pod)
        return pod

    async def apply_resolved(
        self, spawner: KubeSpawner, pod: Any, resolution: Resolution | None = None
    ) -> tuple[Any, Resolution]:
        """:meth:`apply_pod_profile`, also returning what was applied.

        ``resolution``: what :meth:`resolve` gave for this spawn earlier (the
        spawn applies what it checked); by default, resolve now.
        """
        from .apply import apply_resolution  # with the client's models: at the first pod

        started = time.perf_counter()
        keep_pod_manifests_out_of(spawner.log)
        if resolution is None:
            resolution = await self.resolve(spawner)
        spawner.log.info("Applying %s to the server of %s", resolution.describe(), spawner.user.name)
        # On KubeSpawner's own V1Pod: every object the profile leaves alone
        # reaches the API server (and any code reading the pod) as built.
        result = apply_resolution(
            pod,
            resolution,
            expand=spawner._expand_user_properties,
            gpu_resource_name=self.gpu_resource_name,
        )
        metrics.RESOLVE_DURATION.observe(time.perf_counter() - started)
        return result, resolution

    # -- the ConfigMap source ------------------------------------------------

    async def _configmap_source(self, spawner: KubeSpawner) -> ConfigMapSource | None:
        if not self.reads_configmaps:
            return None
        async with self._configmaps_lock:
            current = self._configmaps
            if current is not None and current.loop is asyncio.get_running_loop():
                return current
            if current is not None:  # left over from another event loop (tests)
                current.cancel()
            # With the Kubernetes client: imported by the spawn that needs it.
            from .sources.configmaps import ConfigMapSource
            from .sources.kubeapi import shared_core_api

            namespace = self.namespace or await _hub_namespace(spawner)
            api = await shared_core_api(
                host=spawner.k8s_api_host,
                ssl_ca_cert=spawner.k8s_api_ssl_ca_cert,
                verify_ssl=spawner.k8s_api_verify_ssl,
            )
            self._configmaps = ConfigMapSource(
                api,
                namespace=namespace,
                configmap_name=self.configmap_name,
                label_selector=self.label_selector,
                key=self.configmap_key,
                log=self.log,
                default_mount_path=self.default_mount_path,
                policy=self.policy,
                initial_load_timeout=self.initial_load_timeout,
                fail_when_unavailable=self.on_api_unavailable == "fail",
                max_cache_age=self.max_cache_age,
            )
            self._configmaps.start()
            metrics.CONFIGMAP_CACHE_AGE.set_function(self._configmaps.cache_age)
            return self._configmaps


def _combined_and_indexed(sets: list[ProfileSet]) -> ProfileSet:
    combined = ProfileSet.combine(sets)
    set_index(combined)
    return combined


async def _hub_namespace(spawner: KubeSpawner) -> str:
    """The namespace KubeSpawner is configured with, else the hub's own.

    Not ``spawner.namespace``: a ``profile_list`` override changes it for one
    spawn, and the ConfigMaps are watched once for the whole hub. With
    ``enable_user_namespaces`` the pods go elsewhere; the hub's namespace stays.
    """
    if not spawner.enable_user_namespaces:
        configured = spawner._find_my_config(spawner.config).get("namespace")
        if isinstance(configured, str) and configured:
            return configured
    # Reads the pod's service account namespace file: not on the loop.
    namespace: str = await asyncio.to_thread(spawner._namespace_default)
    return namespace


async def kubespawner_option_keys(spawner: Any) -> frozenset[str]:
    """The ``user_options`` keys KubeSpawner's ``profile_list`` reads for this
    spawn: the ``profile_options`` of the profile chosen in
    ``user_options["profile"]`` (else of its default profile), each also with
    ``--unlisted-choice``. Empty without a ``profile_list``.
    """
    from jupyterhub.utils import maybe_future  # loaded by the hub already; not by the command line

    profile_list = spawner._sorted_dict_values(spawner.profile_list)
    if callable(profile_list):
        profile_list = await maybe_future(profile_list(spawner))
    if not profile_list:
        return frozenset()
    initialized = spawner._get_initialized_profile_list(profile_list)
    try:
        chosen = spawner._get_profile((spawner.user_options or {}).get("profile"), initialized)
    except (ValueError, StopIteration):
        return frozenset()  # KubeSpawner refuses that spawn itself
    names = list(chosen.get("profile_options") or {})
    return frozenset([*names, *(f"{name}--unlisted-choice" for name in names)])


async def user_choices(spawner: Any) -> dict[str, Any]:
    """The choices of ``user_options`` (``size``, ``gpu_type``, and the range
    values ``cpu``, ``memory``, ``gpu``), unless KubeSpawner's chosen
    ``profile_list`` entry has a ``profile_options`` entry of that name: then
    the key is KubeSpawner's, and this spawn has no such choice of ours."""
    options = spawner.user_options or {}
    if not any(key in options for key in USER_OPTION_KEYS):
        return {}
    theirs = await kubespawner_option_keys(spawner)
    return {key: options.get(key) for key in USER_OPTION_KEYS if key not in theirs}


def spawn_identity(spawner: Any) -> tuple[str, list[str], str]:
    """(user name, group names, image) of a spawn, as profiles match them."""
    user = spawner.user
    groups = [g.name for g in (getattr(user, "groups", None) or [])]
    return user.name, groups, spawner.image
