"""The tutorial and the how-to guides cannot rot: their examples are loaded here.

Every ```yaml block of docs/tutorial.md and docs/howto/*.md must be one of:
a profile document (it must validate), a ConfigMap holding profiles (they must
validate, as the hub reads them), Helm values of Zero to JupyterHub (their
``hub.extraConfig`` Python compiles and configures the hub, their
``hub.extraFiles`` profiles validate), or RBAC objects (created in a real API
server by tests/integration/test_docs_guides.py). ```python blocks must
configure the hub with valid settings, ```dockerfile blocks install the
package in the chart's hub image, and every ``profilespawner`` command of a
```console block must be accepted by the command's parser.
"""

from __future__ import annotations

import re
import shlex
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from traitlets.config import Config

from profilespawner import ProfileKubeSpawner, SingleuserProfiles
from profilespawner.check import check_configmap
from profilespawner.cli import _parser
from profilespawner.offline import offline_spawner
from profilespawner.validate import parse_document

DOCS = Path(__file__).resolve().parents[2] / "docs"
GUIDES = [DOCS / "tutorial.md", *sorted((DOCS / "howto").glob("*.md"))]
PROFILE_KEYS = {"profiles", "sizes", "gpuTypes"}
RBAC_KINDS = {"Role", "RoleBinding"}
# the keys of the jupyterhub chart's values these guides use (its values.yaml)
CHART_HUB_KEYS = {"image", "extraConfig", "extraFiles", "serviceAccount", "config"}


def blocks(path: Path, language: str) -> list[str]:
    """The fenced blocks of ``language`` in a page, dedented (they may sit in a list item)."""
    pattern = rf"^( *)```{language}\n(.*?)^\1```"
    return [textwrap.dedent(body) for _, body in re.findall(pattern, path.read_text(), flags=re.M | re.S)]


def yaml_documents() -> Iterator[Any]:
    """(block text, one of its documents) of every ```yaml block."""
    for guide in GUIDES:
        for index, block in enumerate(blocks(guide, "yaml")):
            for document in YAML(typ="safe").load_all(block):
                yield pytest.param(block, document, id=f"{guide.stem}-{index}")


def configure(source: str, name: str, config: Config | None = None) -> Config:
    """Run hub configuration Python as JupyterHub does (``c`` is the config)."""
    config = config if config is not None else Config()
    code = compile(source, name, "exec")
    exec(code, {"c": config, "get_config": lambda: config})
    return config


def test_every_guide_is_in_the_toctree() -> None:
    index = (DOCS / "index.md").read_text()
    for guide in GUIDES:
        assert str(guide.relative_to(DOCS).with_suffix("")) in index


@pytest.mark.parametrize(("block", "document"), list(yaml_documents()))
def test_yaml_blocks_are_valid(block: str, document: Any) -> None:
    assert isinstance(document, (dict, list)), "a YAML block must be a whole document"
    if isinstance(document, list) or PROFILE_KEYS & set(document):
        parse_document(block, source="guide")  # a profile document is a block of its own
    elif "kind" in document:
        kind = document["kind"]
        if kind == "ConfigMap":
            report = check_configmap(document, source=document["metadata"]["name"])
            assert not report.problems, [str(p) for p in report.problems]
        else:
            assert kind in RBAC_KINDS, f"no test for {kind} objects in the guides"
    else:
        assert set(document) <= {"hub", "singleuser", "rbac"}, f"what is this block? {sorted(document)}"
        check_chart_values(document)


def check_chart_values(values: dict[str, Any]) -> None:
    """Helm values for Zero to JupyterHub: the hub's part configures profilespawner."""
    hub = values["hub"]
    assert set(hub) <= CHART_HUB_KEYS, sorted(set(hub) - CHART_HUB_KEYS)
    assert hub["image"]["name"] and hub["image"]["tag"]
    config = Config()
    for name, source in sorted(hub.get("extraConfig", {}).items()):
        configure(source, name, config)
    assert config.JupyterHub.spawner_class == "profilespawner.ProfileKubeSpawner"
    settings = SingleuserProfiles(config=config)  # validates every setting
    mounted = {f["mountPath"]: f for f in hub.get("extraFiles", {}).values()}
    for path in settings.files:
        assert path in mounted, f"{path} is not mounted by hub.extraFiles"
        parse_document(mounted[path]["stringData"], source=path)


async def test_python_blocks_configure_the_hub() -> None:
    sources = [(guide, source) for guide in GUIDES for source in blocks(guide, "python")]
    assert sources
    for guide, source in sources:
        config = configure(source, guide.name)
        SingleuserProfiles(config=config)
        # KubeSpawner's settings are checked by building a spawner with them
        offline_spawner(ProfileKubeSpawner, user="alice", config=config)


def test_dockerfile_adds_the_package_to_the_chart_hub_image() -> None:
    (dockerfile,) = blocks(DOCS / "howto" / "zero-to-jupyterhub.md", "dockerfile")
    assert re.search(r"^FROM quay\.io/jupyterhub/k8s-hub:", dockerfile, flags=re.M)
    assert re.search(r"^RUN python3 -m pip install .*\bprofilespawner\b", dockerfile, flags=re.M)


def commands() -> Iterator[Any]:
    for guide in GUIDES:
        for block in blocks(guide, "console"):
            text = block.replace("\\\n", " ")
            for line in text.splitlines():
                _, found, rest = line.partition("profilespawner ")
                if found and line.startswith("$ ") and "pip install" not in line:
                    rest = rest.split(" | ")[0]  # the command, not what its output goes through
                    yield pytest.param(shlex.split(rest), id=f"{guide.stem}: {rest[:60]}")


@pytest.mark.parametrize("argv", list(commands()))
def test_console_commands_parse(argv: list[str]) -> None:
    _parser().parse_args(argv)


def test_the_guides_show_commands() -> None:
    assert len(list(commands())) >= 10
