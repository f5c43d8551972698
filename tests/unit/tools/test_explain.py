"""profilespawner.tools.explain: who set what, read from the merge's record."""

from __future__ import annotations

import textwrap
from typing import Any

from profilespawner.merge import Setter
from profilespawner.model import ProfileSet
from profilespawner.parse import parse_document
from profilespawner.tools.explain import KUBESPAWNER, explain, setter_labels


def profile_set(text: str) -> ProfileSet:
    return parse_document(textwrap.dedent(text), source="f.yaml").profile_set


def pod(*tolerations: dict[str, Any]) -> dict[str, Any]:
    return {
        "spec": {
            "containers": [{"name": "notebook"}],
            **({"tolerations": list(tolerations)} if tolerations else {}),
        }
    }


def test_a_toleration_kubespawner_gives_already_is_kubespawners() -> None:
    """The applier keeps KubeSpawner's own spelling; explain says so, by the same rule."""
    profiles = profile_set(
        """\
        profiles:
        - name: dedicated
          node_tolerations: [{key: hub.jupyter.org/dedicated, value: user}, {key: gpu, operator: Exists}]
        """
    )
    kubespawners = {"key": "hub.jupyter.org/dedicated", "operator": "Equal", "value": "user"}
    gpu = {"key": "gpu", "operator": "Exists"}
    result = explain(profiles, user="u", image="i", base_pod=pod(kubespawners), pod=pod(kubespawners, gpu))
    assert [(o.key, o.set_by) for o in result.of("node_tolerations")] == [
        ("hub.jupyter.org/dedicated=user", KUBESPAWNER),
        ("gpu exists", "profile 'dedicated'"),
    ]
    # without the pods: what the profiles ask for
    alone = explain(profiles, user="u", image="i")
    assert [o.set_by for o in alone.of("node_tolerations")] == ["profile 'dedicated'"] * 2


def test_setters_read_as_the_report_names_them() -> None:
    profiles = profile_set("profiles: [{name: x}, {name: x}, {name: y}]")
    label = setter_labels(profiles, gpu=2)
    assert label(Setter("profile", "x", "f.yaml", 1)) == "profile 'x' (f.yaml #2)"
    assert label(Setter("profile", "y", "f.yaml", 2)) == "profile 'y'"
    assert label(Setter("size", "Custom", "f.yaml")) == "size 'Custom'"
    assert label(Setter("size", "Custom", "f.yaml", via="range")) == "size 'Custom' (range)"
    assert label(Setter("gpuType", "a100", "f.yaml")) == "gpuType 'a100' (gpu: 2)"
