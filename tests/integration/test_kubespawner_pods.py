"""KubeSpawner's pod, profiles applied, as the real API server receives it.

KubeSpawner sends the ``V1Pod`` it built -- models holding plain dicts --
through its API client, which serializes such a mix as it is; the profile step
keeps the pod so. The server is the witness: a server-side dry run with strict
field validation, sent with the spawner's own client as ``KubeSpawner.start``
sends it, names a nested key that no client model knows (so the key reached
the server), and accepts the same pod without that key, every field a profile
added included.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jupyterhub.utils import maybe_future
from kubernetes_asyncio.client.rest import ApiException

from profilespawner import SingleuserProfiles
from profilespawner.tools.offline import OfflineUser
from tests.controlplane.harness import ControlPlane
from tests.integration.helpers import file_spawner

PROFILES = """\
profiles:
- name: everyone
  env:
  - {name: TEAM, value: "{username}-team"}
  - name: TEAM_TOKEN
    valueFrom: {secretKeyRef: {name: team-token, key: token}}
  envFrom: [{secretRef: {name: team-env}}]
  resources: {requests: {cpu: 250m}, limits: {cpu: "1"}}
  node_tolerations: [{key: profile, operator: Exists, effect: NoSchedule}]
  node_selector: {disktype: ssd}
  node_affinity:
    requiredDuringSchedulingIgnoredDuringExecution:
      nodeSelectorTerms:
      - matchExpressions: [{key: profile-pool, operator: In, values: [p]}]
  volumes:
  - name: team-data
    persistentVolumeClaim: {claimName: "team-{username}"}
    mountPath: /data
  labels: {team: everyone}
"""

FUTURE = "fieldNewerThanThisClient"

#: Where the unknown key goes, and the path the API server names it by.
PLACEMENTS = {
    "extra_pod_config": (
        {"dnsConfig": {"options": [{"name": "ndots", "value": "2"}], FUTURE: "x"}},
        f"spec.dnsConfig.{FUTURE}",
    ),
    "extra_container_config": (
        {"securityContext": {"allowPrivilegeEscalation": False, FUTURE: True}},
        f"spec.containers[0].securityContext.{FUTURE}",
    ),
    "volumes": (
        [{"name": "scratch", "emptyDir": {"sizeLimit": "1Gi", FUTURE: 1}}],
        f"spec.volumes[0].emptyDir.{FUTURE}",
    ),
}


@pytest.fixture
async def spawner_in(
    control_plane: ControlPlane, namespace: str, kubeconfig: Callable[[str | Path], None], tmp_path: Path
) -> Any:
    """``spawner_in(way, **KubeSpawner settings)``: a spawner of ``namespace`` on
    the control plane, profiles from a file, ``way`` "subclass" or "hook"."""
    kubeconfig(control_plane.kubeconfig_path)
    SingleuserProfiles.clear_instance()
    profiles = tmp_path / "profiles.yaml"
    profiles.write_text(PROFILES)

    def make(way: str, **settings: Any) -> Any:
        return file_spawner(
            way, namespace=namespace, profiles=profiles, user=OfflineUser("alice"), settings=settings
        )

    yield make
    SingleuserProfiles.clear_instance()


async def dry_run(spawner: Any) -> Any:
    """Build the pod as ``KubeSpawner.start`` does and send it with the
    spawner's client, the server validating strictly and storing nothing."""
    await spawner.load_user_options()
    pod = await spawner.get_pod_manifest()
    if spawner.modify_pod_hook:
        pod = await maybe_future(spawner.modify_pod_hook(spawner, pod))
    return await spawner.api.create_namespaced_pod(
        spawner.namespace, pod, dry_run="All", field_validation="Strict"
    )


@pytest.mark.parametrize("way", ["subclass", "hook"])
@pytest.mark.parametrize("placement", sorted(PLACEMENTS))
async def test_a_field_the_client_does_not_know_reaches_the_api_server(
    spawner_in: Any, way: str, placement: str
) -> None:
    value, path = PLACEMENTS[placement]
    with pytest.raises(ApiException) as refused:
        await dry_run(spawner_in(way, **{placement: value}))
    assert refused.value.status == 400, refused.value.body
    assert f'unknown field \\"{path}\\"' in refused.value.body, refused.value.body


@pytest.mark.parametrize("way", ["subclass", "hook"])
async def test_the_pod_with_its_profile_passes_strict_validation(spawner_in: Any, way: str) -> None:
    pod = await dry_run(
        spawner_in(
            way,
            volumes=[{"name": "scratch", "emptyDir": {"sizeLimit": "1Gi"}}],
            volume_mounts=[{"name": "scratch", "mountPath": "/scratch"}],
            node_affinity_required=[
                {"matchExpressions": [{"key": "pool", "operator": "In", "values": ["a"]}]}
            ],
            extra_pod_config={"dnsConfig": {"options": [{"name": "ndots", "value": "2"}]}},
        )
    )
    notebook = pod.spec.containers[0]
    env = {var.name: var for var in notebook.env}
    assert env["TEAM"].value == "alice-team"
    assert env["TEAM_TOKEN"].value_from.secret_key_ref.name == "team-token"
    assert [item.secret_ref.name for item in notebook.env_from] == ["team-env"]
    assert notebook.resources.requests["cpu"] == "250m"
    assert [v.name for v in pod.spec.volumes] == ["scratch", "team-data"]
    assert pod.spec.volumes[0].empty_dir.size_limit == "1Gi"
    assert pod.spec.volumes[1].persistent_volume_claim.claim_name == "team-alice"
    assert pod.spec.dns_config.options[0].value == "2"
    (term,) = (
        pod.spec.affinity.node_affinity.required_during_scheduling_ignored_during_execution.node_selector_terms
    )
    assert [r.key for r in term.match_expressions] == ["pool", "profile-pool"]
    assert pod.spec.node_selector == {"disktype": "ssd"}
    assert pod.metadata.labels["team"] == "everyone"
