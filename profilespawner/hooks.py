"""The hub's entry points as functions of a KubeSpawner: the form, the check, the pod.

Deployments that keep KubeSpawner (or another subclass of it) configure::

    c.KubeSpawner.options_form = profilespawner.options_form
    c.KubeSpawner.options_from_form = profilespawner.options_from_form
    c.KubeSpawner.pre_spawn_hook = profilespawner.pre_spawn_hook
    c.KubeSpawner.modify_pod_hook = profilespawner.apply_pod_profile

and get what :class:`~profilespawner.ProfileKubeSpawner` gives, which is built
on the same functions: the spawn form (KubeSpawner's own ``profile_list``
form, then the sizes and GPU types the user may pick: :func:`spawn_form`),
the form's choices in ``user_options`` (:func:`form_options`), the check of
those choices before anything is created (:func:`check_spawn`: HTTP 400 for
a choice the user may not make, 409 for a request the profiles put above its
limit, 403 for a server that would exceed a budget, for the form and the REST
API alike), and the
pod with the checked resolution applied and recorded (:func:`apply_checked`).
A spawn applies what was checked for it, even when a source changes in
between. These functions are where refusals become the HTTP errors JupyterHub
shows (:mod:`profilespawner.httperrors`).
"""

from __future__ import annotations

import copy
import logging
import weakref
from collections.abc import Callable
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from jupyterhub.utils import maybe_future
from kubespawner import KubeSpawner

from . import ledger
from .budgets import covering, left_text
from .errors import UserOptionError
from .form import CHOICE_FIELDS, choices_from_form, is_choice_field, render_budgets_left, render_choices
from .httperrors import http_error, refusals_as_http_errors
from .model import NO_SIZE
from .profiles import SingleuserProfiles, spawn_identity
from .resolve import Resolution, allowed_sizes, may_get_gpu

if TYPE_CHECKING:
    FormData = dict[str, list[str]]

__all__ = [
    "apply_checked",
    "apply_pod_profile",
    "check_spawn",
    "form_options",
    "options_form",
    "options_from_form",
    "pre_spawn_hook",
    "spawn_form",
]

_log = logging.getLogger(__name__)

#: What check_spawn resolved, per spawner, and for which spawn (its spawn key).
_checked: weakref.WeakKeyDictionary[Any, tuple[Any, Resolution]] = weakref.WeakKeyDictionary()


def _profiles(spawner: Any) -> SingleuserProfiles:
    return SingleuserProfiles.instance(config=spawner.config)


def _spawn_key(spawner: Any) -> Any:
    """What a resolution depends on: user, groups, image and ``user_options``."""
    return (spawn_identity(spawner), copy.deepcopy(spawner.user_options or {}))


# -- the shared implementation -------------------------------------------------------


async def spawn_form(spawner: Any, base: Any) -> str:
    """``base`` (KubeSpawner's form: HTML, or a function of the spawner that
    gives it), then the sizes and GPU types the user may pick, from the
    current profiles (a size added to a ConfigMap shows without a restart),
    and what the user's budgets have left."""
    if callable(base):
        base = await maybe_future(base(spawner))
    user, groups, _ = spawn_identity(spawner)
    with refusals_as_http_errors(spawner.log, user):
        profile_set = await _profiles(spawner).load_profiles(spawner)
    options = spawner.user_options or {}
    choices = render_choices(
        allowed_sizes(profile_set, user=user, groups=groups),
        profile_set.gpu_types if may_get_gpu(profile_set, user=user, groups=groups) else {},
        selected_size=options.get("size"),
        selected_gpu_type=options.get("gpu_type"),
        selected_values=options,
    )
    return f"{base or ''}{choices}{_budgets_left(spawner, profile_set, user, groups)}"


def _budgets_left(spawner: Any, profile_set: Any, user: str, groups: list[str]) -> str:
    budgets = covering(profile_set.budgets, user=user, groups=groups)
    if not budgets:
        return ""
    gpu_resource_name = _profiles(spawner).gpu_resource_name
    ledger.remember(profile_set.budgets, gpu_resource_name)
    # The pods as the reflector holds them now: the form does not wait for its first list.
    standing = ledger.standing_for(budgets, user, gpu_resource_name=gpu_resource_name)
    return render_budgets_left(left_text(standing))


def form_options(
    spawner: Any, formdata: FormData, kubespawners: Callable[[FormData], dict[str, Any]]
) -> dict[str, Any]:
    """``user_options`` from the spawn form: ``kubespawners`` (KubeSpawner's
    parser) reads its fields, and ours (``size``, ``gpu_type`` and the values
    picked within the chosen size's ranges) are added -- unless the chosen
    ``profile_list`` entry has an option of that name, which a choice of ours
    would replace: then a non-default choice is refused (400)."""
    # KubeSpawner logs a warning for every field it does not know: not ours.
    theirs = {k: v for k, v in formdata.items() if not is_choice_field(k)}
    options = kubespawners(theirs)
    for key, value in choices_from_form(formdata).items():
        if key in options:
            # An option of the chosen profile_list entry has this name: the
            # key is KubeSpawner's (see SingleuserProfiles.resolve).
            if value != NO_SIZE:
                leave = (
                    "leave the field below at its default"
                    if key in CHOICE_FIELDS
                    else f"pick a size without a {key} range"
                )
                conflict = UserOptionError(
                    f"the chosen profile has its own {key!r} option, which this choice would "
                    f"replace; {leave}",
                    field=key,
                )
                user = spawner.user.name if spawner is not None else "a user"
                (spawner.log if spawner is not None else _log).warning(
                    "Refusing the spawn form of %s: %s", user, conflict
                )
                raise http_error(400, conflict)
        else:
            options[key] = value
    return options


async def check_spawn(spawner: Any) -> Resolution:
    """Resolve the spawn now, before KubeSpawner creates a PVC, a namespace or
    a pod: a choice the user may not make is HTTP 400 (and ConfigMaps that
    cannot be listed with ``on_api_unavailable = "fail"``, 503), a request
    that ends up above its limit -- KubeSpawner's own ``cpu_limit``,
    ``mem_limit``, ... counted -- or two volumes at one mount path is 409, and
    a server that would take a budget past its limit is 403 (SPEC §10; when it fits,
    its share is held until its pod counts: :mod:`profilespawner.ledger`).
    Call it after KubeSpawner's ``load_user_options`` (which sets a
    ``profile_list`` entry's image). The resolution is kept for
    :func:`apply_checked`."""
    _checked.pop(spawner, None)  # a refused spawn leaves nothing behind
    profiles = _profiles(spawner)
    with refusals_as_http_errors(spawner.log, spawner.user.name):
        profile_set = await profiles.load_profiles(spawner)
        resolution = await profiles.resolve(spawner, profile_set)
        # What the server will request, from KubeSpawner's own settings and the
        # resolution, as its pod will get it: a request above its limit is
        # refused here (409), before KubeSpawner creates a PVC or the pod.
        asked = ledger.asked_by(spawner, resolution, gpu_resource_name=profiles.gpu_resource_name)
        if profiles.counts_usage:
            ledger.remember(profile_set.budgets, profiles.gpu_resource_name)
            await ledger.reserve(
                spawner, resolution, asked=asked, gpu_resource_name=profiles.gpu_resource_name
            )
    _checked[spawner] = (_spawn_key(spawner), resolution)
    return resolution


async def apply_checked(spawner: Any, pod: Any) -> tuple[Any, Resolution]:
    """``pod`` with the resolution :func:`check_spawn` kept for this very
    spawn applied and recorded (SPEC §8); resolved now when there is none, or
    when the user, image or options changed since."""
    checked = _checked.pop(spawner, None)
    earlier = checked[1] if checked is not None and checked[0] == _spawn_key(spawner) else None
    with refusals_as_http_errors(spawner.log, spawner.user.name):
        result: tuple[Any, Resolution] = await _profiles(spawner).apply_resolved(spawner, pod, earlier)
    return result


# -- the hooks of plain KubeSpawner ----------------------------------------------------


async def options_form(spawner: KubeSpawner) -> str:
    """``c.KubeSpawner.options_form``: KubeSpawner's own form for its
    ``profile_list``, then the sizes and GPU types the user may pick."""
    return await spawn_form(spawner, KubeSpawner._options_form_default(spawner))


def options_from_form(formdata: FormData, spawner: KubeSpawner | None = None) -> dict[str, Any]:
    """``c.KubeSpawner.options_from_form``: KubeSpawner's reading of the
    form, plus the size and GPU type picked."""
    # JupyterHub passes the spawner, except when a spawn comes from the query
    # arguments of /hub/spawn (options_from_query): KubeSpawner's reading then
    # logs with ours.
    owner = spawner if spawner is not None else SimpleNamespace(log=_log)
    return form_options(spawner, formdata, lambda fields: KubeSpawner._options_from_form(owner, fields))


async def pre_spawn_hook(spawner: KubeSpawner) -> None:
    """``c.KubeSpawner.pre_spawn_hook``: refuse a choice the user may not make
    (HTTP 400) or a server that would exceed a budget (HTTP 403) before
    anything is created, for the form and the REST API alike."""
    # KubeSpawner's start calls load_user_options too, after this hook: calling
    # it first lets the check see the image a profile_list entry sets. It only
    # applies the chosen entry's settings, so the second call changes nothing.
    await spawner.load_user_options()
    await check_spawn(spawner)


async def apply_pod_profile(spawner: KubeSpawner, pod: Any) -> Any:
    """``c.KubeSpawner.modify_pod_hook``: the pod with the profiles applied,
    as :class:`~profilespawner.ProfileKubeSpawner` makes it."""
    result, _ = await apply_checked(spawner, pod)
    return result
