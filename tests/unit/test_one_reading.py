"""One reading of every file (SPEC §2): the hub's file source and ``validate``
give every file the same verdict and the same warnings.

The files: every file of the bad-input corpus (tests/unit/data/bad), every
example (examples/*.yaml), every ```yaml block of the guides (one file each,
as an administrator would save it), and the forms a file of ConfigMap
manifests takes. Each is read twice under one policy (a configuration that
limits Secrets and volume types, as the security page recommends): by a
:class:`~profilespawner.SingleuserProfiles` with the file in ``files``, as a
hub reads it, and by ``profilespawner validate --config``. Both accept it or
both reject it; when accepted, the hub logs exactly the warnings ``validate``
prints and uses the profiles, sizes and GPU types ``validate`` counts; when
rejected, the error the hub logs is one of those ``validate`` prints.
"""

from __future__ import annotations

import json
import logging
import re
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from profilespawner import SingleuserProfiles
from tests.docs import DOCS, blocks
from tests.support import Result

ROOT = Path(__file__).resolve().parents[2]
BAD = ROOT / "tests" / "unit" / "data" / "bad"
GUIDES = [
    DOCS / "tutorial.md",
    DOCS / "install.md",
    DOCS / "quickstart.md",
    *sorted((DOCS / "howto").glob("*.md")),
]

ALLOWED_SECRETS = ["team-*", "shared-s3", "spark-*", "s3-*", "aws-*"]
ALLOWED_VOLUME_TYPES = ["persistentVolumeClaim", "configMap", "emptyDir", "secret", "nfs"]
CONFIG = textwrap.dedent(
    f"""\
    c = get_config()
    c.SingleuserProfiles.allowed_secrets = {ALLOWED_SECRETS!r}
    c.SingleuserProfiles.allowed_volume_types = {ALLOWED_VOLUME_TYPES!r}
    """
)

CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata: {{name: {name}}}
data:
  jupyterhub-singleuser-profiles.yaml: |
{profiles}
"""


def configmap(name: str, profiles: str) -> str:
    return CONFIGMAP.format(name=name, profiles=textwrap.indent(profiles, "    "))


ROOT_CA = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kube-root-ca.crt}\ndata: {ca.crt: x}\n"
GOOD = "profiles: [{name: a, env: [{name: A, value: a}]}]\nsizes: [{name: S}]\n"
SECOND = "profiles: [{name: b}]\nsizes: [{name: S, gpu: 1}]\n"

MANIFESTS = {
    "one-configmap": configmap("one", GOOD),
    "several-documents": configmap("one", GOOD) + "---\n" + ROOT_CA + "---\n" + configmap("two", SECOND),
    "a-list": textwrap.dedent(
        """\
        apiVersion: v1
        kind: List
        items:
        - apiVersion: v1
          kind: ConfigMap
          metadata: {name: one}
          data:
            jupyterhub-singleuser-profiles.yaml: |
              profiles: [{name: a, env: [{name: A, value: a}]}]
        - {apiVersion: v1, kind: ConfigMap, metadata: {name: kube-root-ca.crt}, data: {ca.crt: x}}
        """
    ),
    "a-configmap-list": "apiVersion: v1\nkind: ConfigMapList\nitems:\n- metadata: {name: one}\n"
    "  data:\n    jupyterhub-singleuser-profiles.yaml: 'profiles: [{name: a}]'\n",
    "only-configmaps-without-the-key": ROOT_CA,
    "another-kind": "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n",
    "a-list-with-another-kind": "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod}\n",
    "a-bad-configmap-among-good-ones": configmap("one", GOOD)
    + "---\n"
    + configmap("two", "profiles: [{nam: b}]\n"),
    "a-profile-document-after-a-configmap": configmap("one", GOOD) + "---\n" + GOOD,
    "two-profile-documents": GOOD + "---\n" + SECOND,
    "a-secret-the-policy-forbids": configmap(
        "one", "profiles:\n- name: a\n  envFrom: [{secretRef: {name: hub-secret}}]\n"
    ),
    "a-host-path-in-the-second": configmap("one", GOOD)
    + "---\n"
    + configmap("two", "profiles:\n- name: b\n  volumes: [{name: h, hostPath: {path: /}}]\n"),
    "names-twice-across-configmaps": configmap("one", GOOD) + "---\n" + configmap("two", GOOD),
    "names-twice-in-one": configmap(
        "one", "profiles: [{name: a}, {name: a}]\nsizes: [{name: S}, {name: S}]\n"
    ),
    "empty-data-value": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: e}\n"
    "data: {jupyterhub-singleuser-profiles.yaml: ''}\n",
    "no-name": "apiVersion: v1\nkind: ConfigMap\n"
    "data: {jupyterhub-singleuser-profiles.yaml: 'profiles: [{x: 1}]'}\n",
}


def corpus() -> Iterator[Any]:
    for path in sorted(BAD.iterdir()):
        if path.suffix != ".expect":
            yield pytest.param(path.read_bytes(), id=f"bad-{path.name}")
    for path in sorted((ROOT / "examples").glob("*.yaml")):
        yield pytest.param(path.read_bytes(), id=f"example-{path.name}")
    for guide in GUIDES:
        for index, block in enumerate(blocks(guide, "yaml")):
            yield pytest.param(block.encode(), id=f"guide-{guide.stem}-{index}")
    for name, text in MANIFESTS.items():
        yield pytest.param(text.encode(), id=f"manifest-{name}")


def test_the_corpus_holds_every_form() -> None:
    ids = [p.id for p in corpus()]
    assert sum(i.startswith("bad-") for i in ids) >= 70
    assert sum(i.startswith("guide-") for i in ids) >= 10
    assert {"example-profiles.yaml", "example-configmaps.yaml"} <= set(ids)


async def hub_reading(path: Path, caplog: pytest.LogCaptureFixture) -> tuple[Any, list[str], list[str]]:
    """What a hub with ``path`` in ``files`` uses, and the warnings and errors it logs."""
    profiles = SingleuserProfiles(
        files=[str(path)],
        configmap_name="",
        label_selector="",
        allowed_secrets=ALLOWED_SECRETS,
        allowed_volume_types=ALLOWED_VOLUME_TYPES,
    )
    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        loaded = await profiles.load_profiles()
    records = [r for r in caplog.records if r.name.startswith(profiles.log.name)]
    warnings = [r.getMessage() for r in records if r.levelno == logging.WARNING]
    errors = [r.getMessage() for r in records if r.levelno >= logging.ERROR]
    rejected = [m for m in errors if m.startswith(f"Rejected profile source {path}")]
    return (None if rejected else loaded), warnings, errors


@pytest.mark.parametrize("text", list(corpus()))
async def test_the_hub_and_validate_read_a_file_alike(
    text: bytes, tmp_path: Path, cli: Callable[..., Result], caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "profiles.yaml"
    path.write_bytes(text)
    config = tmp_path / "jupyterhub_config.py"
    config.write_text(CONFIG)
    loaded, hub_warnings, hub_errors = await hub_reading(path, caplog)

    result = cli("validate", "--format", "json", "--config", str(config), str(path))
    assert result.returncode in (0, 1), result.stderr
    problems = json.loads(result.stdout)
    errors = [p["message"] for p in problems if p["severity"] == "error"]
    warnings = [p["message"] for p in problems if p["severity"] == "warning"]

    assert (loaded is not None) == (result.returncode == 0), (hub_errors, errors)
    if loaded is None:
        (logged,) = hub_errors
        prefix = f"Rejected profile source {path} (it is not used): "
        assert logged.startswith(prefix), logged
        message = re.sub(r" \(and (at least )?\d+ more problems?\)$", "", logged.removeprefix(prefix))
        assert message in errors, (message, errors)
        return
    assert hub_errors == []
    assert sorted(hub_warnings) == sorted(warnings)
    summary = cli("validate", "--config", str(config), str(path)).stdout
    counts = f"({len(loaded.profiles)} profile{'s' * (len(loaded.profiles) != 1)}, "
    assert counts in summary, summary
