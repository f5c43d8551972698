"""``SingleuserProfiles``: the settings, the shared instance, and one spawn's profile.

One instance per hub process (a traitlets ``SingletonConfigurable``), created by
the first spawner with its config, so every spawner shares one set of sources
and one cache. It turns a spawner (user, groups, image, ``user_options``) into a
:class:`~profilespawner.resolve.Resolution` and applies it to the pod; the rules
themselves live in the pure modules it calls.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from tornado import web
from traitlets import List, TraitError, Unicode, default, validate
from traitlets.config import SingletonConfigurable

from . import k8srules
from .apply import apply_resolution
from .errors import UserOptionError
from .kubemodel import from_json, to_json
from .model import ProfileSet
from .resolve import Resolution, allowed_sizes, resolve
from .sources import FileSource
from .validate import DEFAULT_MOUNT_PATH

if TYPE_CHECKING:
    from kubespawner import KubeSpawner

__all__ = ["SingleuserProfiles", "apply_pod_profile", "spawn_identity"]


class SingleuserProfiles(SingletonConfigurable):
    """Profiles for single-user servers, read from files and ConfigMaps."""

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
        "jupyterhub-singleuser-profiles.yaml",
        config=True,
        help="""
        The key in each ConfigMap's ``data`` that holds the profiles YAML.

        Default: ``jupyterhub-singleuser-profiles.yaml``.

        .. versionadded:: 0.1
        """,
    )

    namespace = Unicode(
        "",
        config=True,
        help="""
        Namespace of the profile ConfigMaps.

        Default ``""``: the spawner's own namespace (the hub's namespace, also
        when ``KubeSpawner.enable_user_namespaces`` puts pods elsewhere).

        .. versionadded:: 0.1
        """,
    )

    files = List(
        Unicode(),
        config=True,
        help="""
        YAML files to read profiles from, read first (lowest precedence).

        Each file is re-read when its modification time changes, so a
        ConfigMap mounted as a volume or an edited file takes effect at the
        next spawn. A missing file is not an error. Default: no files.

        .. versionadded:: 0.1
        """,
    )

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
        return logging.getLogger("profilespawner")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._files = FileSource(self.files, default_mount_path=self.default_mount_path, log=self.log)

    # -- the public API ------------------------------------------------------

    async def load_profiles(self) -> ProfileSet:
        """The current merged profile set of every source, in precedence order."""
        return ProfileSet.combine(await self._files.profile_sets())

    async def resolve(self, spawner: KubeSpawner) -> Resolution:
        """What ``spawner``'s next pod gets; an unknown or forbidden choice in
        ``user_options`` raises ``tornado.web.HTTPError(400)``."""
        user, groups, image = spawn_identity(spawner)
        options = spawner.user_options or {}
        profile_set = await self.load_profiles()
        try:
            return resolve(
                profile_set,
                user=user,
                groups=groups,
                image=image,
                size=options.get("size"),
                gpu_type=options.get("gpu_type"),
            )
        except UserOptionError as e:
            spawner.log.warning("Refusing to spawn for %s: %s", user, e)
            error = web.HTTPError(400, "%s", str(e))
            error.jupyterhub_message = str(e)  # type: ignore[attr-defined]
            raise error from e

    async def sizes_for(self, spawner: KubeSpawner) -> list[Any]:
        """The sizes the spawner's user may pick, from the current profiles."""
        user, groups, _ = spawn_identity(spawner)
        return allowed_sizes(await self.load_profiles(), user=user, groups=groups)

    async def apply_pod_profile(self, spawner: KubeSpawner, pod: Any) -> Any:
        """Return ``pod`` (a ``V1Pod`` or its JSON dict) with the profile applied."""
        resolution = await self.resolve(spawner)
        spawner.log.info("Applying %s to the server of %s", resolution.describe(), spawner.user.name)
        is_model = not isinstance(pod, dict)
        result = apply_resolution(
            to_json(pod) if is_model else pod,
            resolution,
            expand=spawner._expand_user_properties,
            gpu_resource_name=self.gpu_resource_name,
        )
        return from_json(result, "V1Pod") if is_model else result


def spawn_identity(spawner: Any) -> tuple[str, list[str], str]:
    """(user name, group names, image) of a spawn, as profiles match them."""
    user = spawner.user
    groups = [g.name for g in (getattr(user, "groups", None) or [])]
    return user.name, groups, spawner.image


async def apply_pod_profile(spawner: KubeSpawner, pod: Any) -> Any:
    """``c.KubeSpawner.modify_pod_hook`` for deployments that keep KubeSpawner.

    Gives the same pod as :class:`~profilespawner.ProfileKubeSpawner`.
    """
    profiles = SingleuserProfiles.instance(config=spawner.config)
    return await profiles.apply_pod_profile(spawner, pod)
