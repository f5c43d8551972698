"""Every exception profilespawner raises, the warnings it gives, and how messages quote.

Messages about profile data name where the problem is -- the source (a file
path or ``namespace/ConfigMap``), the profile (its name, or its index when it
has none), the field path inside it -- and what is wrong. Messages quote keys
and names, never values: a value may be a credential. :func:`quote` is how a
key or name appears in a message: ``repr()``, cut short, so that a hostile
document cannot make a message (or a log line) arbitrarily long;
:func:`shorten` cuts other text (an API server's message, a scheduler's
reason) to a bound.

The tree::

    Exception
    ├── ProfileError                     bad profile data, anywhere
    │   ├── ProfileSyntaxError           the YAML cannot be parsed (gives line, column)
    │   ├── ProfileValidationError       parsed, but breaks the format, a Kubernetes rule or the policy
    │   │   └── ValidatorBugError        the validator itself failed on it: rejected all the same
    │   └── ProfileSpawnError            the profiles cannot be applied to this spawn
    │       ├── UserOptionError          a size / gpu_type / range value the user may not pick (400)
    │       ├── ResourceConflictError    a resource request ends up above its limit (409)
    │       ├── MountConflictError       two volumes of the merged profile at one mount path (409)
    │       └── BudgetExceededError      the server would take a budget past its limit (403)
    ├── KubeApiError                     a request to the Kubernetes API failed (sources/kubeapi.py)
    │   └── WatchExpired                 410 Gone: the watch must list again
    ├── KubeConfigError                  no Kubernetes client configuration (the tools' own client)
    └── RuntimeError
        ├── ConfigMapsUnavailableError   the ConfigMaps cannot be listed and on_api_unavailable is
        │                                "fail" (the hub answers 503)
        └── UsageUnknownError            the notebook pods cannot be listed to count budgets (503)
    ValueError
    ├── PlaceholderError                 a text breaks the placeholder rule (placeholders.expand)
    └── QuantityRangeError               a quantity too far from 1 to compute (k8srules.parse_quantity)

The last two are the pure helpers' signals to their callers, which turn them
into a :class:`ProfileError` naming the field. A document that is valid but
likely wrong (a name defined twice, a legacy key ignored) gets
:class:`ProfileWarning` records, not exceptions: they name the same parts as
an error does, and the source is used. Besides these the package
raises only what its callers expect from it: ``tornado.web.HTTPError`` at the
hub's entry points (the spawner and the ``modify_pod_hook``: see
:mod:`profilespawner.httperrors`), a ``TimeoutError``
for a server not started within ``start_timeout``, ``traitlets.TraitError``
for a setting out of bounds, and ``ValueError`` for an argument no caller
should pass.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "MAX_API_MESSAGE",
    "MAX_QUOTED",
    "BudgetExceededError",
    "ConfigMapsUnavailableError",
    "KubeApiError",
    "KubeConfigError",
    "MountConflictError",
    "PlaceholderError",
    "ProfileError",
    "ProfileSpawnError",
    "ProfileSyntaxError",
    "ProfileValidationError",
    "ProfileWarning",
    "QuantityRangeError",
    "ResourceConflictError",
    "UsageUnknownError",
    "UserOptionError",
    "ValidatorBugError",
    "WatchExpired",
    "quote",
    "shorten",
]

#: Longest key or name quoted in a message, in characters (the quotes excluded).
MAX_QUOTED = 64

#: Longest API server message quoted in a :class:`KubeApiError`.
MAX_API_MESSAGE = 256


def quote(name: object) -> str:
    """``name`` (a key or a name, never a value) as messages quote it.

    ``repr()``, so that control characters show and a key that is not a string
    (``1``, ``True``) looks like one; longer than :data:`MAX_QUOTED` characters,
    it is cut and ends with ``...``.
    """
    if not isinstance(name, str):
        text = repr(name)
        return text if len(text) <= MAX_QUOTED else text[:MAX_QUOTED] + "..."
    if len(name) > MAX_QUOTED:
        return repr(name[:MAX_QUOTED]) + "..."
    return repr(name)


def shorten(text: str, limit: int) -> str:
    """``text`` if it has at most ``limit`` characters, else its beginning and ``…``
    (``limit`` characters in all)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _message(source: str, profile: str, field: str, problem: str) -> str:
    """The parts of a message about profile data, as every message joins them."""
    return ": ".join(p for p in (source, profile, field, problem) if p)


# -- bad profile data ----------------------------------------------------------------


class ProfileError(Exception):
    """Base of every error raised on bad profile data.

    ``source``, ``profile``, ``field`` and ``problem`` are kept as attributes so
    that tools (the CLI's JSON output, logs) can use them without parsing the
    message. Any of the first three may be empty when it does not apply.
    """

    def __init__(
        self,
        problem: str,
        *,
        source: str = "",
        profile: str = "",
        field: str = "",
    ) -> None:
        self.problem = problem
        self.source = source
        self.profile = profile
        self.field = field
        super().__init__(self._render())

    def _render(self) -> str:
        return _message(self.source, self.profile, self.field, self.problem)


class ProfileSyntaxError(ProfileError):
    """The document is not valid YAML (or not YAML we accept safely)."""

    def __init__(
        self, problem: str, *, source: str = "", line: int | None = None, column: int | None = None
    ) -> None:
        self.line = line
        self.column = column
        where = f"line {line}, column {column}" if line is not None else ""
        super().__init__(problem, source=source, field=where)


class ProfileValidationError(ProfileError):
    """The document parsed, but does not follow the format or Kubernetes' rules.

    A document with several problems raises one error for the first and keeps
    the rest in ``errors`` (the first included), so a tool can report them all;
    ``truncated`` says that there were more than were kept.
    """

    def __init__(
        self,
        problem: str,
        *,
        source: str = "",
        profile: str = "",
        field: str = "",
        errors: tuple[ProfileValidationError, ...] = (),
        truncated: bool = False,
    ) -> None:
        self.errors: tuple[ProfileValidationError, ...] = errors or (self,)
        self.truncated = truncated
        super().__init__(problem, source=source, profile=profile, field=field)

    def _render(self) -> str:
        text = super()._render()
        extra = len(self.errors) - 1
        if extra > 0:
            at_least = "at least " if self.truncated else ""
            text += f" (and {at_least}{extra} more problem{'s' if extra > 1 else ''})"
        return text


class ValidatorBugError(ProfileValidationError):
    """Checking the document raised something other than a :class:`ProfileError`.

    That is a bug in profilespawner, not (only) in the document; the source is
    rejected all the same, like an invalid one, so that one document can never
    break a spawn or stall the ConfigMap watch. ``__cause__`` is the original
    exception; its message is not repeated, as it may quote a value.
    """

    def __init__(self, error: BaseException, *, source: str = "") -> None:
        super().__init__(
            f"the document could not be checked ({type(error).__name__} in the validator); "
            "it is rejected. This is a bug in profilespawner: please report it with the "
            "traceback the hub logged",
            source=source,
        )


class ProfileSpawnError(ProfileError):
    """The merged profile cannot be applied to this spawn; no pod is created."""


class UserOptionError(ProfileSpawnError):
    """The user asked for a size or GPU type that is not defined or not theirs,
    or for a value outside the ranges of their size.

    ``allowed`` lists what this user may pick instead (names of sizes or GPU
    types); ``profile`` is the size whose range refused a value (``size 'X'``).
    """

    def __init__(
        self, problem: str, *, allowed: tuple[str, ...] = (), field: str = "", profile: str = ""
    ) -> None:
        self.allowed = allowed
        super().__init__(problem, profile=profile, field=field)


class ResourceConflictError(ProfileSpawnError):
    """A resource request is above its limit once profiles and KubeSpawner meet."""


class BudgetExceededError(ProfileSpawnError):
    """The server would take a budget past one of its limits (SPEC §10).

    ``budget`` is the budget's name, ``scope`` ``"total"`` or ``"per_user"``,
    ``key`` what is limited (``gpu``, ``cpu``, ``memory``, ``servers``);
    ``limit``, ``in_use`` and ``asked`` are amounts as Kubernetes writes them.
    The message names no user.
    """

    def __init__(
        self, problem: str, *, budget: str, scope: str, key: str, limit: str, in_use: str, asked: str
    ) -> None:
        self.budget = budget
        self.scope = scope
        self.key = key
        self.limit = limit
        self.in_use = in_use
        self.asked = asked
        super().__init__(problem, profile=f"budget {quote(budget)}", field=f"{scope}.{key}")


class MountConflictError(ProfileSpawnError):
    """Two volumes of the merged profile are mounted at one path, which
    Kubernetes refuses; the message names both and who set them."""


@dataclass(frozen=True)
class ProfileWarning:
    """A problem that does not reject the source: it is used, and the warning
    logged once per version (``validate`` prints it). Its parts are those of
    a :class:`ProfileError`; ``str()`` joins them the same way."""

    problem: str
    source: str = ""
    profile: str = ""
    field: str = ""

    def __str__(self) -> str:
        return _message(self.source, self.profile, self.field, self.problem)


# -- the Kubernetes API --------------------------------------------------------------


class KubeApiError(Exception):
    """A request to the Kubernetes API failed.

    ``status`` is the HTTP status (``None`` when no answer came: connection
    refused, timeout, stream cut). ``permanent`` is true for answers that
    retrying cannot change until an administrator acts (400: a bad selector;
    401, 403: credentials or RBAC). The API server's message is cut to
    :data:`MAX_API_MESSAGE` characters.
    """

    def __init__(self, what: str, *, status: int | None = None, message: str = "") -> None:
        self.what = what
        self.status = status
        self.message = shorten(message, MAX_API_MESSAGE)
        detail = f"HTTP {status}" if status is not None else "no answer"
        super().__init__(f"{what}: {detail}" + (f": {self.message}" if self.message else ""))

    @property
    def permanent(self) -> bool:
        return self.status in (400, 401, 403)


class WatchExpired(KubeApiError):
    """410 Gone: the resourceVersion is too old to watch from; list again."""


class KubeConfigError(Exception):
    """No client configuration could be loaded (no kubeconfig, a broken one,
    not in a cluster)."""


class ConfigMapsUnavailableError(RuntimeError):
    """The profile ConfigMaps could not be listed in time and the hub is set to
    fail spawns then (``SingleuserProfiles.on_api_unavailable = "fail"``)."""

    #: What JupyterHub shows the user instead of the technical message.
    jupyterhub_message = (
        "Server profiles cannot be read from Kubernetes right now. Please try again in a minute."
    )


# -- the pure helpers' signals -------------------------------------------------------


class UsageUnknownError(RuntimeError):
    """A spawn covered by a budget cannot be checked: the hub could not list
    the notebook pods in time to count what the budgets hold."""

    jupyterhub_message = (
        "The hub cannot count the servers its budgets hold right now; please try again in a minute."
    )


class PlaceholderError(ValueError):
    """Text whose braces break the placeholder rule (see
    :func:`profilespawner.placeholders.problems`)."""


class QuantityRangeError(ValueError):
    """A well-formed quantity whose value is too far from 1 to be computed
    (see :func:`profilespawner.k8srules.parse_quantity`)."""
