"""docs/security.md's objects in a real API server: its RBAC grants what the page
says and nothing more, and Pod Security admits what the page says.

The page's Roles, RoleBindings and Namespaces are created as written, in the
test's namespaces instead of ``jupyterhub`` and ``jupyterhub-profiles``. The
API server's authorizer (SubjectAccessReview, what ``kubectl auth can-i``
asks) says what each group and the hub's ServiceAccount may do; the hub, with
that ServiceAccount's token and the page's configuration, reads the teams'
ConfigMaps from their own namespace. Pods rendered with the page's KubeSpawner
settings are submitted as dry runs to namespaces labelled as the page labels
them. The pure parts of the page are checked by tests/unit/test_docs_security.py.
"""

from __future__ import annotations

import copy
import json
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from profilespawner.parse import parse_document
from profilespawner.tools.dryrun import dry_run_pod
from profilespawner.tools.preview import preview_spawn
from tests.controlplane.harness import ControlPlane
from tests.docs import RESTRICTED_VOLUME_TYPES, SECURITY_PAGE, blocks, configure, page_files
from tests.integration.helpers import LABELS, ConfigMaps, eventually, logged
from tests.support import VOLUME_EXAMPLES

RBAC = "/apis/rbac.authorization.k8s.io/v1"


def page_objects(file: str) -> list[dict[str, Any]]:
    return [doc for doc in YAML(typ="safe").load_all(page_files()[file]) if doc]


def moved(obj: dict[str, Any], namespaces: dict[str, str]) -> dict[str, Any]:
    """``obj`` with the page's namespaces replaced by the test's."""
    obj = copy.deepcopy(obj)
    metadata = obj["metadata"]
    if obj["kind"] == "Namespace":
        metadata["name"] = namespaces[metadata["name"]]
    else:
        metadata["namespace"] = namespaces[metadata["namespace"]]
    for subject in obj.get("subjects") or []:
        if "namespace" in subject:
            subject["namespace"] = namespaces[subject["namespace"]]
    return obj


def create(cp: ControlPlane, obj: dict[str, Any]) -> None:
    namespace = obj["metadata"].get("namespace")
    path = {
        "Namespace": "/api/v1/namespaces",
        "Role": f"{RBAC}/namespaces/{namespace}/roles",
        "RoleBinding": f"{RBAC}/namespaces/{namespace}/rolebindings",
        "ServiceAccount": f"/api/v1/namespaces/{namespace}/serviceaccounts",
    }[obj["kind"]]
    status, answer = cp.request("POST", path, obj)
    assert status == 201, answer


def can(
    cp: ControlPlane,
    *,
    namespace: str,
    verb: str,
    resource: str,
    name: str = "",
    user: str = "",
    group: str = "",
) -> bool:
    """What the API server's authorizer answers (``kubectl auth can-i``)."""
    attributes = {"namespace": namespace, "verb": verb, "resource": resource}
    if name:
        attributes["name"] = name
    spec: dict[str, Any] = {"resourceAttributes": attributes}
    if group:
        spec |= {"user": "jane", "groups": [group, "system:authenticated"]}
    else:
        account_namespace, account = user.split("/")
        spec |= {
            "user": f"system:serviceaccount:{account_namespace}:{account}",
            "groups": ["system:serviceaccounts", f"system:serviceaccounts:{account_namespace}"],
        }
    body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "spec": spec}
    status, answer = cp.request("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", body)
    assert status == 201, answer
    return bool(answer["status"].get("allowed"))


def granted(cp: ControlPlane, **request: str) -> None:
    """Wait until the authorizer, which reads RBAC through an informer, grants ``request``."""
    deadline = time.monotonic() + 15
    while not can(cp, **request):
        assert time.monotonic() < deadline, f"never granted: {request}"
        time.sleep(0.05)


@pytest.fixture
def other_namespace(control_plane: ControlPlane) -> Iterator[Callable[[str], str]]:
    """``other_namespace(base)``: a uniquely named name for a namespace the
    test creates (deleted after)."""
    made: list[str] = []

    def name(base: str) -> str:
        made.append(f"it-{base}-{secrets.token_hex(3)}")
        return made[-1]

    yield name
    for namespace in made:
        control_plane.delete_namespace(namespace)


def test_the_platform_team_edits_one_configmap_and_nothing_else(
    control_plane: ControlPlane, namespace: str
) -> None:
    objects = [moved(o, {"jupyterhub": namespace}) for o in page_objects("profile-authors.yaml")]
    assert [o["kind"] for o in objects] == ["Role", "RoleBinding"]
    for obj in objects:
        create(control_plane, obj)
    team = {"namespace": namespace, "group": "platform-team", "resource": "configmaps"}
    granted(control_plane, verb="update", name="jupyter-singleuser-profiles", **team)

    for verb in ("get", "update", "patch"):
        assert can(control_plane, verb=verb, name="jupyter-singleuser-profiles", **team)
        assert not can(control_plane, verb=verb, name="team-tools", **team)
    for verb in ("create", "list", "delete"):
        assert not can(control_plane, verb=verb, **team)
    for resource in ("secrets", "pods"):
        assert not can(
            control_plane, namespace=namespace, group="platform-team", verb="get", resource=resource
        )


async def test_teams_write_in_their_own_namespace_and_the_hub_reads_them_there(
    control_plane: ControlPlane,
    namespace: str,
    other_namespace: Callable[[str], str],
    hub: Any,
    kubeconfig: Callable[[str | Path], None],
    tmp_path: Path,
    log: pytest.LogCaptureFixture,
) -> None:
    profiles = other_namespace("profiles")
    namespaces = {"jupyterhub": namespace, "jupyterhub-profiles": profiles}
    objects = [moved(o, namespaces) for o in page_objects("profiles-namespace.yaml")]
    assert [o["kind"] for o in objects] == ["Namespace", "Role", "RoleBinding", "Role", "RoleBinding"]
    create(
        control_plane,
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "hub", "namespace": namespace}},
    )
    for obj in objects:
        create(control_plane, obj)

    hub_account = f"{namespace}/hub"
    granted(control_plane, user=hub_account, namespace=profiles, verb="watch", resource="configmaps")
    granted(control_plane, group="spark", namespace=profiles, verb="create", resource="configmaps")
    assert not can(control_plane, user=hub_account, namespace=profiles, verb="update", resource="configmaps")
    for group in ("data-science", "spark"):
        for verb in ("create", "update", "patch", "delete"):
            assert can(control_plane, group=group, namespace=profiles, verb=verb, resource="configmaps")
        # nothing in the hub's namespace: not its ConfigMaps, Secrets or pods
        for verb, resource in (("create", "configmaps"), ("get", "secrets"), ("create", "pods")):
            assert not can(control_plane, group=group, namespace=namespace, verb=verb, resource=resource)

    # The hub, with its ServiceAccount's token and the page's settings, reads them there.
    status, answer = control_plane.request(
        "POST",
        f"/api/v1/namespaces/{namespace}/serviceaccounts/hub/token",
        {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {"expirationSeconds": 600},
        },
    )
    assert status == 201, answer
    kubeconfig(control_plane.write_kubeconfig(tmp_path / "hub.kubeconfig", token=answer["status"]["token"]))
    (source,) = [s for s in blocks(SECURITY_PAGE, "python") if "jupyterhub-profiles" in s]
    section = configure(source, "jupyterhub_config.py").SingleuserProfiles
    settings = {name: section[name] for name in section} | {"namespace": profiles}
    spawner = hub(**settings)
    authors = ConfigMaps(control_plane, profiles)
    await authors.create("data-science", _env_from("team-data-science-s3"), labels=LABELS)
    await authors.create("spark", _env_from("hub"), labels=LABELS)

    async def secrets_named() -> list[str]:
        resolution = await spawner.singleuser_profiles.resolve(spawner)
        return [item["secretRef"]["name"] for item in resolution.settings.env_from]

    # the data science team's Secret applies; the hub's own, named by another team, never
    await eventually(secrets_named, lambda names: names == ["team-data-science-s3"])
    (rejected,) = await eventually(lambda: logged(log, f"Rejected profile source {profiles}/spark"), bool)
    assert "Secret 'hub' is not allowed by SingleuserProfiles.allowed_secrets" in rejected.getMessage()
    assert await secrets_named() == ["team-data-science-s3"]


def _env_from(secret: str) -> str:
    return f"profiles:\n- name: Credentials\n  envFrom:\n  - secretRef: {{name: {secret}}}\n"


async def _pod(namespace: str, volume: dict[str, Any] | None = None, env_from: str = "") -> dict[str, Any]:
    """The pod the hub renders with the page's KubeSpawner settings and one profile."""
    profile: dict[str, Any] = {"name": "p"}
    if volume is not None:
        profile["volumes"] = [volume]
    if env_from:
        profile["envFrom"] = [{"secretRef": {"name": env_from}}]
    profile_set = parse_document(json.dumps({"profiles": [profile]}), source="page").profile_set
    (source,) = [s for s in blocks(SECURITY_PAGE, "python") if "container_security_context" in s]
    preview = await preview_spawn(
        (), user="alice", config=configure(source, "hub.py"), profile_sets=[profile_set]
    )
    return dry_run_pod(preview.pod, namespace)


def _submit(cp: ControlPlane, namespace: str, pod: dict[str, Any]) -> tuple[int, str]:
    status, answer = cp.request("POST", f"/api/v1/namespaces/{namespace}/pods?dryRun=All", pod)
    return status, "" if status == 201 else str(answer.get("message"))


@pytest.mark.parametrize("enforce", ["baseline", "restricted"])
async def test_pod_security_admits_what_the_page_says(
    control_plane: ControlPlane, other_namespace: Callable[[str], str], enforce: str
) -> None:
    (manifest,) = page_objects("jupyterhub-namespace.yaml")
    labels = manifest["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "baseline"
    assert labels["pod-security.kubernetes.io/warn"] == "restricted"
    name = other_namespace(enforce)
    manifest = moved(manifest, {"jupyterhub": name})
    manifest["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] = enforce  # the page's warn level
    create(control_plane, manifest)

    admitted = set()
    for source, spec in sorted(VOLUME_EXAMPLES.items()):
        pod = await _pod(name, {"name": "data", source: spec, "mountPath": "/data"})
        status, message = _submit(control_plane, name, pod)
        assert status in (201, 403), message
        if status == 201:
            admitted.add(source)
        else:
            assert f'violates PodSecurity "{enforce}:latest"' in message
    if enforce == "baseline":
        assert admitted == set(VOLUME_EXAMPLES) - {"hostPath"}
    else:
        # the page's list, and image volumes, which recent Pod Security allows too
        assert admitted == {*RESTRICTED_VOLUME_TYPES, "image"}
    # Pod Security does not look at Secrets: only allowed_secrets bounds them
    assert _submit(control_plane, name, await _pod(name, env_from="hub")) == (201, "")
