"""The migration page (docs/migrating.md) tells the truth about
jupyterhub-singleuser-profiles 0.7's own example ConfigMap: the check it shows
prints what the command prints."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.docs import DOCS, blocks
from tests.support import Result

PAGE = DOCS / "migrating.md"
JSP07_EXAMPLE = Path(__file__).parent / "data" / "jsp07" / "example-configmap.yaml"


def test_the_check_of_jsp07s_example_prints_what_the_page_shows(
    cli: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (block,) = [b for b in blocks(PAGE, "console") if "validate jsp.yaml" in b]
    line, *output = block.removeprefix("$ ").splitlines()
    (tmp_path / "jsp.yaml").write_text(JSP07_EXAMPLE.read_text())
    monkeypatch.chdir(tmp_path)
    result = cli(*shlex.split(line)[1:])
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines() == output
