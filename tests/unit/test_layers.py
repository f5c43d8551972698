"""The layers of .importlinter (checked by `lint-imports` in `tox -e lint`) name
every module of the package, so that a new module cannot slip past them."""

from __future__ import annotations

import configparser
import pkgutil
import re
from pathlib import Path

import profilespawner

ROOT = Path(profilespawner.__file__).resolve().parent.parent


def contracts() -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    parser.read(ROOT / ".importlinter")
    return parser


def names(text: str) -> list[str]:
    return [name for name in re.split(r"[\s|:]+", text) if name]


def test_every_module_is_in_a_layer() -> None:
    layers = names(contracts()["importlinter:contract:layers"]["layers"])
    modules = [m.name for m in pkgutil.walk_packages(profilespawner.__path__, "profilespawner.")]
    assert len(modules) > 30
    outside = [m for m in modules if not any(m == layer or m.startswith(layer + ".") for layer in layers)]
    assert outside == []


def test_the_pure_core_is_the_bottom_layer() -> None:
    config = contracts()
    bottom = names(config["importlinter:contract:layers"]["layers"].strip().splitlines()[-1])
    assert sorted(names(config["importlinter:contract:pure-core"]["source_modules"])) == sorted(bottom)
