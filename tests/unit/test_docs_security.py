"""docs/security.md cannot rot: its files, settings, commands and lists are the
package's own.

A fenced block whose first line is ``# <file name>`` is that file: the page's
``profilespawner`` commands run against those files, in a directory of their
own, and print what the page shows. Every ```python block configures the hub
with valid settings; every ```yaml document is a ConfigMap (rejected by the
page's policy, as the page says), Helm values of Zero to JupyterHub, or objects
that tests/integration/test_docs_security.py creates in a real API server. The
table of Secret references lists every field the policy checks.
"""

from __future__ import annotations

import logging
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from traitlets.config import Config

from profilespawner import ProfileKubeSpawner, SingleuserProfiles
from profilespawner.policy import SECRET_NAME_IN_ENV, SECRET_NAME_IN_ENV_FROM, SECRET_NAME_IN_VOLUME, Policy
from profilespawner.sources.book import SourceBook
from profilespawner.sources.documents import parse_configmap
from profilespawner.tools.lint import check_configmap
from profilespawner.tools.offline import offline_spawner
from tests.docs import DOCS, RESTRICTED_VOLUME_TYPES, SECURITY_PAGE, blocks, configure, page_files
from tests.support import Result

KEY = "jupyterhub-singleuser-profiles.yaml"
OBJECT_KINDS = {"ConfigMap", "Namespace", "Role", "RoleBinding"}


def yaml_documents() -> list[Any]:
    return [doc for block in blocks(SECURITY_PAGE, "yaml") for doc in YAML(typ="safe").load_all(block)]


def settings(source: str) -> SingleuserProfiles:
    return SingleuserProfiles(config=configure(source, "hub.py"))


def page_policy() -> Policy:
    """The policy of the page's ``jupyterhub_config.py``."""
    return settings(page_files()["jupyterhub_config.py"]).policy


def test_the_page_is_linked_from_the_readme_and_the_index() -> None:
    assert "security" in (DOCS / "index.md").read_text().split("```{toctree}")[1]
    assert "](docs/security.md)" in (DOCS.parent / "README.md").read_text()


async def test_python_blocks_configure_the_hub() -> None:
    sources = blocks(SECURITY_PAGE, "python")
    assert len(sources) >= 4
    for source in sources:
        config = configure(source, "security.md")
        SingleuserProfiles(config=config)  # validates every setting
        offline_spawner(ProfileKubeSpawner, user="alice", config=config)


def test_the_recommended_volume_types_are_pod_securitys_restricted_list() -> None:
    recommended = [s for s in blocks(SECURITY_PAGE, "python") if "allowed_volume_types = [" in s]
    assert len(recommended) == 2
    for source in recommended:
        assert settings(source).allowed_volume_types == RESTRICTED_VOLUME_TYPES
    values = next(doc for doc in yaml_documents() if "hub" in doc)
    assert values["hub"]["config"]["SingleuserProfiles"]["allowed_volume_types"] == RESTRICTED_VOLUME_TYPES


def test_yaml_blocks_are_known_objects_or_chart_values() -> None:
    documents = yaml_documents()
    kinds = [doc["kind"] for doc in documents if "kind" in doc]
    assert set(kinds) == OBJECT_KINDS
    for doc in documents:
        if "kind" not in doc:
            assert set(doc) == {"hub", "singleuser"}, sorted(doc)
            check_chart_values(doc)


def check_chart_values(values: dict[str, Any]) -> None:
    """The chart's ``hub.config`` sets traits; ``hub.extraConfig`` is Python."""
    hub = values["hub"]
    config = Config(hub["config"])
    for name, source in sorted(hub["extraConfig"].items()):
        configure(source, name, config)
    assert config.JupyterHub.spawner_class == "profilespawner.ProfileKubeSpawner"
    profiles = SingleuserProfiles(config=config)
    assert profiles.label_selector == ""
    assert profiles.allowed_secrets == ["notebook-*"]
    # Pod Security's baseline level refuses the chart's privileged init container
    assert values["singleuser"]["cloudMetadata"] == {"blockWithIptables": False}


def test_the_example_configmap_is_rejected_as_the_page_says() -> None:
    (configmap,) = [doc for doc in yaml_documents() if doc.get("kind") == "ConfigMap"]
    report = check_configmap(configmap, source="cm", policy=page_policy())
    assert [(p.field, p.problem.split(" is not allowed by ")[1].split(" ")[0]) for p in report.errors] == [
        ("env[0].valueFrom.secretKeyRef.name", "SingleuserProfiles.allowed_secrets"),
        ("volumes[0].hostPath", "SingleuserProfiles.allowed_volume_types"),
    ]
    # with the default settings, only the node's root is refused
    assert [p.field for p in check_configmap(configmap, source="cm").errors] == ["volumes[0].hostPath"]


def commands() -> list[Any]:
    """(argv, the output the page shows) of every ``$ profilespawner`` line."""
    found = []
    for block in blocks(SECURITY_PAGE, "console"):
        for command in re.split(r"^\$ ", block, flags=re.M)[1:]:
            line, *output = command.splitlines()
            if line.startswith("profilespawner "):
                found.append(pytest.param(shlex.split(line)[1:], output, id=line[:60]))
    return found


@pytest.mark.parametrize(("argv", "output"), commands())
def test_console_commands_print_what_the_page_shows(
    argv: list[str],
    output: list[str],
    cli: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, text in page_files().items():
        (tmp_path / name).write_text(text)
    monkeypatch.chdir(tmp_path)
    result: Result = cli(*argv)
    assert result.stderr == ""
    assert result.stdout.splitlines() == output


def test_the_log_line_is_what_the_hub_logs(caplog: pytest.LogCaptureFixture) -> None:
    (configmap,) = [doc for doc in yaml_documents() if doc.get("kind") == "ConfigMap"]
    source = f"{configmap['metadata']['namespace']}/{configmap['metadata']['name']}"
    result = parse_configmap(configmap, key=KEY, source=source, policy=page_policy())
    log = logging.getLogger("profilespawner.test")
    with caplog.at_level(logging.ERROR, logger="profilespawner.test"):
        SourceBook(log).record(source, "1", result)
    (record,) = caplog.records
    (text,) = blocks(SECURITY_PAGE, "text")
    shown = text.strip().split("] ", 1)[1]
    assert record.getMessage() == shown


def test_the_secret_table_lists_every_field_the_policy_checks() -> None:
    text = SECURITY_PAGE.read_text()
    fields = [
        f"env[].{'.'.join(SECRET_NAME_IN_ENV)}",
        f"envFrom[].{'.'.join(SECRET_NAME_IN_ENV_FROM)}",
        "volumes[].projected.sources[].secret.name",
        *(f"volumes[].{source}.{'.'.join(keys)}" for source, keys in SECRET_NAME_IN_VOLUME.items()),
    ]
    for field in fields:
        assert f"`{field}`" in text, field
