"""The documentation site: Read the Docs builds docs/ as ``tox -e docs`` does,
and every schema URL the pages give is where that build publishes the schema
(docs/conf.py copies the package's schema to ``schema/`` of the HTML output;
``tox -e docs`` checks the copy is there).
"""

from __future__ import annotations

import re
from configparser import ConfigParser
from pathlib import Path

from packaging.version import Version
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[2]
# Read the Docs serves the main branch's build under en/latest/
SCHEMA_URL = "https://profilespawner.readthedocs.io/en/latest/schema/profiles.schema.json"


def setup_cfg() -> ConfigParser:
    config = ConfigParser()
    config.read(ROOT / "setup.cfg")
    return config


def test_read_the_docs_builds_the_sphinx_docs_with_the_docs_extra() -> None:
    config = YAML(typ="safe").load((ROOT / ".readthedocs.yaml").read_text())
    assert config["version"] == 2
    assert config["sphinx"] == {"configuration": "docs/conf.py", "fail_on_warning": True}
    assert (ROOT / config["sphinx"]["configuration"]).is_file()
    assert config["python"]["install"] == [{"method": "pip", "path": ".", "extra_requirements": ["docs"]}]
    assert "docs" in setup_cfg()["options.extras_require"]
    python_floor = setup_cfg()["options"]["python_requires"].removeprefix(">=")
    assert Version(config["build"]["tools"]["python"]) >= Version(python_floor)


def test_every_schema_url_is_the_published_one() -> None:
    pages = [ROOT / "README.md", *(ROOT / "docs").rglob("*.md"), *(ROOT / "examples").glob("*.yaml")]
    urls = {
        url
        for page in pages
        if "_build" not in page.parts
        for url in re.findall(r"\$schema=(\S+)", page.read_text())
        if "://" in url
    }
    assert urls == {SCHEMA_URL}
