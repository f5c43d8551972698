"""profilespawner.errors: one tree of exceptions, drawn in its docstring, and
how messages quote."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import profilespawner
from profilespawner import errors


def package_exceptions() -> dict[str, type[BaseException]]:
    """Every public exception class defined anywhere in the package, by name."""
    found = {}
    for info in pkgutil.walk_packages(profilespawner.__path__, "profilespawner."):
        if info.name == "profilespawner.__main__":
            continue  # runs the command when imported
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and value.__module__ == info.name
                and not name.startswith("_")
            ):
                found[f"{info.name}.{name}"] = value
    return found


def test_every_exception_of_the_package_is_in_errors_py() -> None:
    outside = [name for name in package_exceptions() if not name.startswith("profilespawner.errors.")]
    assert outside == []


def test_the_docstring_draws_the_whole_tree() -> None:
    """Each exception under its base, as ``├──``/``└──`` lines indented by level."""
    drawing = (errors.__doc__ or "").split("The tree::", 1)[1].split("\n\n", 2)[1]
    names = {name.rsplit(".", 1)[1]: cls for name, cls in package_exceptions().items()}
    assert set(names) <= set(drawing.split())
    columns = {}
    for line in drawing.splitlines():
        words = line.replace("├──", "").replace("└──", "").replace("│", "").split()
        if words:
            columns[words[0]] = len(line) - len(line.lstrip(" │├└─"))
    for name, cls in names.items():
        base = cls.__bases__[0].__name__
        assert columns[base] < columns[name], f"{name} is not drawn under {base}"


@pytest.mark.parametrize(
    ("name", "quoted"),
    [("a", "'a'"), ("a\nb", "'a\\nb'"), (1, "1"), (True, "True"), ("k" * 70, "'" + "k" * 64 + "'...")],
)
def test_quote_shows_keys_and_cuts_them_short(name: object, quoted: str) -> None:
    assert errors.quote(name) == quoted


def test_shorten_keeps_the_bound() -> None:
    assert errors.shorten("abc", 3) == "abc"
    assert errors.shorten("abcd", 3) == "ab…"
    assert (
        len(errors.KubeApiError("list x", status=403, message="m" * 1000).message) == errors.MAX_API_MESSAGE
    )
