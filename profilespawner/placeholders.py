"""Placeholders in profile values: ``{username}`` and its kin, and nothing more.

Environment variable values and volume claim names may hold the placeholders
KubeSpawner fills in its own ``environment`` (``_expand_user_properties``, a
``str.format`` call). Only a bare name is a placeholder here: ``{username}``.
What ``str.format`` would also accept -- attribute or index access
(``{username.x}``, ``{username[0]}``), conversions (``{username!r}``), format
specs (``{username:>200000000}``, which allocates what it asks for), positional
fields (``{}``, ``{0}``) -- is an error, found when the profiles are validated;
``{{`` and ``}}`` are literal braces. Text that passes :func:`problems` formats
without error and to a bounded length.

One rule for every field that expands; the validator checks it and
:func:`expand` checks it again before filling in. Problems say where in the
field (the character position), never what the text is: it is part of a value.
Pure.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .errors import PlaceholderError

__all__ = ["PLACEHOLDERS", "expand", "problems"]

#: The placeholders KubeSpawner's ``_expand_user_properties`` fills in.
PLACEHOLDERS = frozenset(
    {
        "userid",
        "unescaped_username",
        "unescaped_servername",
        "hubnamespace",
        "username",
        "servername",
        "user_server",
        "safe_username",
        "safe_servername",
        "safe_user_server",
        "escaped_username",
        "escaped_servername",
        "escaped_user_server",
        "pod_name",
        "pvc_name",
        "namespace",
    }
)

# A literal brace ({{ or }}), a field ({...} without braces inside), or a lone brace.
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_LITERAL = "write '{{' or '}}' for a literal brace"


def problems(text: str) -> list[str]:
    """What is wrong with the placeholders of ``text``, in order; ``[]`` when nothing.

    Each problem gives the position (from 1) of the offending brace, not the
    text around it.
    """
    found = []
    for match in _TOKEN.finditer(text):
        token = match[0]
        if token in ("{{", "}}"):
            continue
        at = f"at character {match.start() + 1}"
        name = match[1]
        if name is None:
            found.append(f"has a lone {token!r} {at} ({_LITERAL})")
        elif name in PLACEHOLDERS:
            continue
        elif not name:
            found.append(f"has an empty placeholder {at}; name one (known: {_known()})")
        elif _NAME.fullmatch(name):
            found.append(f"has an unknown placeholder {at} (known: {_known()}; {_LITERAL})")
        else:
            found.append(
                f"has a placeholder {at} that is not a bare name: write '{{username}}', without "
                f"'.', '[', '!' or ':' ({_LITERAL})"
            )
    return found


def expand(text: str, fill: Callable[[str], str]) -> str:
    """``text`` with its placeholders filled in by ``fill`` (KubeSpawner's
    ``_expand_user_properties``); text without braces is returned as it is.

    Raises :class:`PlaceholderError` when ``text`` breaks the rule, before
    ``fill`` sees it.
    """
    if "{" not in text and "}" not in text:
        return text
    found = problems(text)
    if found:
        raise PlaceholderError(found[0])
    return fill(text)


def _known() -> str:
    return ", ".join(sorted(PLACEHOLDERS))
