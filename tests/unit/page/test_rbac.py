"""The profiles page needs no RBAC of its own: the hub's documented Role is
what it was before the page (get, list and watch on ConfigMaps), and the page
makes no API request of its own (import-linter's ``page-reads-the-hub``)."""

from __future__ import annotations

import re
from pathlib import Path

from ruamel.yaml import YAML

RBAC_DOC = Path(__file__).resolve().parents[3] / "docs" / "rbac.md"

READ_CONFIGMAPS = {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch"]}


def test_the_hubs_documented_role_did_not_grow() -> None:
    rules = []
    for block in re.findall(r"```yaml\n(.*?)```", RBAC_DOC.read_text(), flags=re.S):
        for doc in YAML(typ="safe").load_all(block):
            if isinstance(doc, dict) and (doc.get("kind") == "Role" or set(doc) == {"rules"}):
                rules.append(doc["rules"])
    assert rules == [
        [READ_CONFIGMAPS],
        [{**READ_CONFIGMAPS, "resourceNames": ["jupyter-singleuser-profiles"]}],
    ]
