"""The tutorial, the installation page and the how-to guides cannot rot: their
examples are loaded here.

Every ```yaml block of docs/tutorial.md, docs/install.md and docs/howto/*.md
must be one of: a profile document (it must validate), a ConfigMap holding
profiles (they must validate, as the hub reads them), Helm values of Zero to
JupyterHub (their ``hub.extraConfig`` Python compiles and configures the hub,
and every file it reads is mounted, by ``hub.extraFiles`` or as a ConfigMap of
the same page through ``hub.extraVolumes``, and validates), or RBAC objects
(created in a real API server by tests/integration/test_docs_guides.py).
```python blocks must configure the hub with valid settings, the hub image is
examples/Containerfile (the chart's image plus the wheel), and every
``profilespawner`` command of a ```console block must be accepted by the
command's parser.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from traitlets.config import Config

from profilespawner import ProfileKubeSpawner, SingleuserProfiles
from profilespawner.cli import build_parser
from profilespawner.parse import parse_document
from profilespawner.tools.lint import check_configmap
from profilespawner.tools.offline import offline_spawner
from tests.docs import CONTAINERFILE, DOCS, blocks, configure, instructions

GUIDES = [DOCS / "tutorial.md", DOCS / "install.md", *sorted((DOCS / "howto").glob("*.md"))]
PROFILE_KEYS = {"profiles", "sizes", "gpuTypes", "budgets"}
RBAC_KINDS = {"Role", "RoleBinding"}
# the keys of the jupyterhub chart's values these guides use (its values.yaml)
CHART_HUB_KEYS = {
    "image",
    "extraConfig",
    "extraFiles",
    "extraVolumes",
    "extraVolumeMounts",
    "serviceAccount",
    "config",
}


def documents(guide: Path) -> Iterator[tuple[str, Any]]:
    """(block text, one of its documents) of every ```yaml block of a page."""
    for block in blocks(guide, "yaml"):
        for document in YAML(typ="safe").load_all(block):
            yield block, document


def yaml_documents() -> Iterator[Any]:
    for guide in GUIDES:
        for index, (block, document) in enumerate(documents(guide)):
            yield pytest.param(guide, block, document, id=f"{guide.stem}-{index}")


def test_every_guide_is_in_the_toctree() -> None:
    index = (DOCS / "index.md").read_text()
    for guide in GUIDES:
        assert str(guide.relative_to(DOCS).with_suffix("")) in index


@pytest.mark.parametrize(("guide", "block", "document"), list(yaml_documents()))
def test_yaml_blocks_are_valid(guide: Path, block: str, document: Any) -> None:
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
        check_chart_values(document, guide)


def hub_settings(hub: dict[str, Any]) -> SingleuserProfiles:
    """The settings the chart's ``hub.extraConfig`` gives profilespawner."""
    config = Config()
    for name, source in sorted(hub.get("extraConfig", {}).items()):
        configure(source, name, config)
    assert config.JupyterHub.spawner_class == "profilespawner.ProfileKubeSpawner"
    return SingleuserProfiles(config=config)  # validates every setting


def mounted_files(hub: dict[str, Any], guide: Path) -> dict[str, str]:
    """The text of every file the chart's values mount into the hub pod, by path:
    ``hub.extraFiles``, and the keys of the page's ConfigMaps that
    ``hub.extraVolumes`` mount as a directory."""
    files = {f["mountPath"]: f["stringData"] for f in hub.get("extraFiles", {}).values()}
    configmaps = {
        document["metadata"]["name"]: document
        for _, document in documents(guide)
        if isinstance(document, dict) and document.get("kind") == "ConfigMap"
    }
    volumes = {volume["name"]: volume for volume in hub.get("extraVolumes", [])}
    for mount in hub.get("extraVolumeMounts", []):
        assert "subPath" not in mount, "the kubelet never updates a file mounted with subPath"
        configmap = configmaps[volumes[mount["name"]]["configMap"]["name"]]
        for key, text in configmap["data"].items():
            files[f"{mount['mountPath'].rstrip('/')}/{key}"] = text
    return files


def check_chart_values(values: dict[str, Any], guide: Path) -> None:
    """Helm values for Zero to JupyterHub: the hub's part configures profilespawner."""
    hub = values["hub"]
    assert set(hub) <= CHART_HUB_KEYS, sorted(set(hub) - CHART_HUB_KEYS)
    assert hub["image"]["name"] and hub["image"]["tag"]
    settings = hub_settings(hub)
    mounted = mounted_files(hub, guide)
    for path in settings.files:
        assert path in mounted, f"{path} is not mounted by hub.extraFiles or hub.extraVolumeMounts"
        parse_document(mounted[path], source=path)


def test_the_path_without_rbac_reads_only_a_mounted_configmap() -> None:
    page = DOCS / "install.md"
    (hub,) = (document["hub"] for _, document in documents(page) if "hub" in document)
    settings = hub_settings(hub)
    # nothing read through the Kubernetes API (SPEC §1): no RBAC to grant
    assert (settings.configmap_name, settings.label_selector) == ("", "")
    assert settings.files
    assert "extraFiles" not in hub
    assert set(settings.files) <= set(mounted_files(hub, page))


async def test_python_blocks_configure_the_hub() -> None:
    sources = [(guide, source) for guide in GUIDES for source in blocks(guide, "python")]
    assert sources
    for guide, source in sources:
        config = configure(source, guide.name)
        SingleuserProfiles(config=config)
        # KubeSpawner's settings are checked by building a spawner with them
        offline_spawner(ProfileKubeSpawner, user="alice", config=config)


def test_the_hub_image_is_the_chart_image_plus_the_wheel() -> None:
    wheel = "profilespawner-*-py3-none-any.whl"
    steps = instructions(CONTAINERFILE.read_text())
    assert [name for name, _ in steps] == ["ARG", "FROM", "USER", "COPY", "RUN", "USER"]
    (_, arg), (_, image), (_, root), (_, copy), (_, run), (_, user) = steps
    assert re.fullmatch(r"CHART_VERSION=\d+\.\d+\.\d+", arg)
    assert image == "quay.io/jupyterhub/k8s-hub:${CHART_VERSION}"
    # the chart's image installs its packages as root and runs the hub as jovyan
    assert (root, user) == ("root", "jovyan")
    assert copy == f"{wheel} /tmp/"
    assert run == f"python3 -m pip install --no-cache-dir /tmp/{wheel} && rm /tmp/{wheel}"


def test_the_guides_show_the_containerfile_itself() -> None:
    for page in (DOCS / "install.md", DOCS / "howto" / "zero-to-jupyterhub.md"):
        text = page.read_text()
        assert not blocks(page, "dockerfile"), f"{page.name}: include examples/Containerfile instead"
        include = f"```{{literalinclude}} {os.path.relpath(CONTAINERFILE, page.parent)}\n"
        assert include in text, page.name


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
    build_parser().parse_args(argv)


def test_the_guides_show_commands() -> None:
    assert len(list(commands())) >= 10
