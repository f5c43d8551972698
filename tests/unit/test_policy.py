"""What a profile source may ask for: every field that names a Secret or a volume
type, held to ``allowed_secrets`` and ``allowed_volume_types``.

The tables of the policy are held against the Kubernetes client's models, so
that a volume source or Secret reference the API gains fails here first. Then
the rule on documents (one case per field), the settings (defaults, checks,
widening), the hub's sources (a rejected source keeps its last valid version)
and the command (``validate`` without and with ``--config``).
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable, Iterator
from typing import Any

import kubernetes_asyncio.client.models as k8s_models
import pytest
from traitlets import TraitError
from traitlets.config import Config

from profilespawner import ProfileKubeSpawner, SingleuserProfiles
from profilespawner.errors import ProfileValidationError
from profilespawner.model import PodSettings, Profile, ProfileSet
from profilespawner.parse import load_schema, parse_document
from profilespawner.policy import (
    DEFAULT_ALLOWED_VOLUME_TYPES,
    DEFAULT_POLICY,
    PROJECTED_SOURCES,
    SECRET_NAME_IN_ENV,
    SECRET_NAME_IN_ENV_FROM,
    SECRET_NAME_IN_PROJECTION,
    SECRET_NAME_IN_VOLUME,
    VOLUME_SOURCES,
    VOLUME_TYPES,
    Policy,
    Reference,
    references,
)
from profilespawner.sources.documents import parse_configmap
from profilespawner.tools.lint import check_configmap, check_text
from profilespawner.tools.offline import offline_spawner
from tests.support import VOLUME_EXAMPLES, Result

SOURCE = "ns/team-profiles"
KEY = "jupyterhub-singleuser-profiles.yaml"

# A valid example of every source of a projected volume.
PROJECTION_EXAMPLES: dict[str, dict[str, Any]] = {
    "clusterTrustBundle": {"signerName": "example.com/ca", "path": "ca.pem"},
    "configMap": {"name": "notebook-settings"},
    "downwardAPI": {"items": [{"path": "name", "fieldRef": {"fieldPath": "metadata.name"}}]},
    "podCertificate": {
        "signerName": "example.com/pods",
        "keyType": "ED25519",
        "credentialBundlePath": "credentials.pem",
    },
    "secret": {"name": "team-s3"},
    "serviceAccountToken": {"path": "token", "audience": "vault", "expirationSeconds": 3600},
}


def document(*profiles: dict[str, Any], sizes: tuple[dict[str, Any], ...] = ()) -> str:
    """A profile document (JSON is YAML) of ``profiles`` and ``sizes``."""
    return json.dumps({"profiles": list(profiles), "sizes": list(sizes)})


def volume(source: str, spec: dict[str, Any], name: str = "v") -> dict[str, Any]:
    return {"name": name, source: spec, "mountPath": f"/mnt/{name}"}


def rejection(text: str, policy: Policy) -> ProfileValidationError:
    """The error holding ``text`` (valid) to ``policy`` raises."""
    parsed = parse_document(text, source=SOURCE)
    with pytest.raises(ProfileValidationError) as info:
        policy.check(parsed.profile_set, source=SOURCE)
    return info.value


def passes(text: str, policy: Policy) -> bool:
    parsed = parse_document(text, source=SOURCE)
    policy.check(parsed.profile_set, source=SOURCE)
    return True


# -- the tables, against the Kubernetes API's models ---------------------------------

_LIST = re.compile(r"^list\[(.*)\]$")
_DICT = re.compile(r"^dict\(([^,]*), (.*)\)$")


def model_keys(type_name: str) -> set[str]:
    model = getattr(k8s_models, type_name)
    return set(model.attribute_map.values())


def fields_mentioning_secret(type_name: str, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Paths (JSON keys; lists and maps left out) to every key of the model
    ``type_name`` and of the models inside it whose name mentions a Secret; not
    below such a key."""
    if match := _LIST.match(type_name) or _DICT.match(type_name):
        yield from fields_mentioning_secret(match.groups()[-1], path)
        return
    model = getattr(k8s_models, type_name, None)
    if model is None:  # a primitive
        return
    for attr, key in model.attribute_map.items():
        if "secret" in key.lower():
            yield (*path, key)
        else:
            yield from fields_mentioning_secret(model.openapi_types[attr], (*path, key))


def up_to_the_secret(path: tuple[str, ...]) -> tuple[str, ...]:
    """``path`` cut after its first key that mentions a Secret."""
    for i, key in enumerate(path):
        if "secret" in key.lower():
            return path[: i + 1]
    raise AssertionError(f"{path} names no Secret")


#: Keys that mention a Secret without naming one: files on the node that the
#: kubelet reads Ceph credentials from (``rbd.keyring`` is the other one).
NOT_SECRET_NAMES = {("cephfs", "secretFile")}


# Sources newer than the oldest kubernetes_asyncio setup.cfg allows (tox -e min):
# the tables follow the newest API, an older client knows fewer.
NEWER_THAN_THE_CLIENT_FLOOR = {"image", "clusterTrustBundle", "podCertificate"}


def test_volume_sources_are_those_of_the_volume_api_and_of_the_format() -> None:
    known = model_keys("V1Volume") - {"name"}
    assert known <= VOLUME_SOURCES  # a source the API gains fails here
    assert VOLUME_SOURCES - known <= NEWER_THAN_THE_CLIENT_FLOOR
    schema_volume = set(load_schema()["$defs"]["volume"]["properties"])
    assert schema_volume - {"name", "mountPath", "readOnly", "subPath"} == VOLUME_SOURCES
    assert set(VOLUME_EXAMPLES) == VOLUME_SOURCES


def test_projected_sources_are_those_of_the_api() -> None:
    known = model_keys("V1VolumeProjection")
    assert known <= PROJECTED_SOURCES
    assert PROJECTED_SOURCES - known <= NEWER_THAN_THE_CLIENT_FLOOR
    assert set(PROJECTION_EXAMPLES) == PROJECTED_SOURCES


def test_every_secret_reference_of_a_volume_is_in_the_table() -> None:
    found = set(fields_mentioning_secret("V1Volume")) - NOT_SECRET_NAMES
    expected = {up_to_the_secret((source, *keys)) for source, keys in SECRET_NAME_IN_VOLUME.items()}
    expected |= {("projected", "sources", *up_to_the_secret(keys_of)) for keys_of in _projection_paths()}
    assert found == expected


def _projection_paths() -> list[tuple[str, ...]]:
    return [(source, *keys) for source, keys in SECRET_NAME_IN_PROJECTION.items()]


@pytest.mark.parametrize(
    ("model", "table"),
    [("V1EnvVar", SECRET_NAME_IN_ENV), ("V1EnvFromSource", SECRET_NAME_IN_ENV_FROM)],
)
def test_every_secret_reference_of_env_and_env_from_is_in_the_table(
    model: str, table: tuple[str, ...]
) -> None:
    assert set(fields_mentioning_secret(model)) == {up_to_the_secret(table)}


def test_the_names_in_the_tables_are_the_models_own() -> None:
    """Each table path leads, key by key, through the model to a string."""

    def leads_to_a_string(type_name: str, keys: tuple[str, ...]) -> bool:
        for key in keys:
            model = getattr(k8s_models, type_name)
            by_key = {json_key: attr for attr, json_key in model.attribute_map.items()}
            type_name = model.openapi_types[by_key[key]]
        return type_name == "str"

    for source, keys in SECRET_NAME_IN_VOLUME.items():
        assert leads_to_a_string("V1Volume", (source, *keys)), source
    for source, keys in SECRET_NAME_IN_PROJECTION.items():
        assert leads_to_a_string("V1VolumeProjection", (source, *keys)), source
    assert leads_to_a_string("V1EnvVar", SECRET_NAME_IN_ENV)
    assert leads_to_a_string("V1EnvFromSource", SECRET_NAME_IN_ENV_FROM)


# -- every field that names a Secret --------------------------------------------------


def _with_name(spec: dict[str, Any], keys: tuple[str, ...], name: str) -> dict[str, Any]:
    spec = json.loads(json.dumps(spec))
    node = spec
    for key in keys[:-1]:
        node = node.setdefault(key, {})
    node[keys[-1]] = name
    return spec


# (field path in the profile, the profile's setting naming the Secret 'hub')
SECRET_FIELDS = [
    (
        "env[0].valueFrom.secretKeyRef.name",
        {
            "env": [
                {"name": "HUB_VALUES", "valueFrom": {"secretKeyRef": {"name": "hub", "key": "values.yaml"}}}
            ]
        },
    ),
    ("envFrom[0].secretRef.name", {"envFrom": [{"secretRef": {"name": "hub"}}]}),
    ("volumes[0].secret.secretName", {"volumes": [volume("secret", {"secretName": "hub"})]}),
    (
        "volumes[0].projected.sources[1].secret.name",
        {
            "volumes": [
                volume(
                    "projected",
                    {"sources": [{"configMap": {"name": "settings"}}, {"secret": {"name": "hub"}}]},
                )
            ]
        },
    ),
    *(
        (
            f"volumes[0].{source}.{'.'.join(keys)}",
            {"volumes": [volume(source, _with_name(VOLUME_EXAMPLES[source], keys, "hub"))]},
        )
        for source, keys in SECRET_NAME_IN_VOLUME.items()
        if source != "secret"
    ),
]


def test_the_secret_table_covers_every_reference() -> None:
    fields = {field for field, _ in SECRET_FIELDS}
    assert len(fields) == len(SECRET_FIELDS) == len(SECRET_NAME_IN_VOLUME) + 3  # env, envFrom, projected
    for source in SECRET_NAME_IN_VOLUME:
        assert any(field.startswith(f"volumes[0].{source}.") for field in fields), source


@pytest.mark.parametrize(("field", "setting"), SECRET_FIELDS, ids=[f for f, _ in SECRET_FIELDS])
def test_a_secret_named_anywhere_is_held_to_allowed_secrets(field: str, setting: dict[str, Any]) -> None:
    text = document({"name": "Hub values", **setting})
    team_only = Policy(allowed_secrets=("team-*",))

    error = rejection(text, team_only)
    assert str(error) == (
        f"{SOURCE}: profile 'Hub values': {field}: Secret 'hub' is not allowed by "
        "SingleuserProfiles.allowed_secrets (it allows 'team-*')"
    )
    assert (error.profile, error.field) == ("profile 'Hub values'", field)
    # the same in a size
    error = rejection(document(sizes=({"name": "Large", **setting},)), team_only)
    assert (error.profile, error.field) == ("size 'Large'", field)
    # allowed by name or pattern, and by the default
    assert passes(text, Policy(allowed_secrets=("team-*", "hub")))
    assert passes(text, Policy(allowed_secrets=("h?b",)))
    assert passes(text, DEFAULT_POLICY)
    # and never allowed when no Secret is
    assert "(it allows none)" in str(rejection(text, Policy(allowed_secrets=())))


@pytest.mark.parametrize(
    ("patterns", "name", "allowed"),
    [
        (("*",), "hub", True),
        (("team-*",), "team-a", True),
        (("team-*",), "team-", True),
        (("team-*",), "hub", False),
        (("team-*",), "my-team-a", False),  # a pattern matches the whole name
        (("team-?-s3",), "team-a-s3", True),
        (("team-?-s3",), "team-ab-s3", False),
        (("team-[ab]-*",), "team-b-s3", True),
        (("team-[!ab]-*",), "team-b-s3", False),
        (("shared-s3", "team-*"), "shared-s3", True),
        ((), "team-a", False),
    ],
)
def test_secret_patterns_are_fnmatch_patterns_of_whole_names(
    patterns: tuple[str, ...], name: str, allowed: bool
) -> None:
    assert Policy(allowed_secrets=patterns).allows_secret(name) is allowed


# -- every volume type ---------------------------------------------------------------


@pytest.mark.parametrize("source", sorted(VOLUME_SOURCES))
def test_every_volume_source_is_held_to_allowed_volume_types(source: str) -> None:
    other = "configMap" if source == "emptyDir" else "emptyDir"  # allowed, before it
    volumes = [
        volume(other, VOLUME_EXAMPLES[other], "first"),
        volume(source, VOLUME_EXAMPLES[source], "data"),
    ]
    text = document({"name": "Data", "volumes": volumes})
    without = Policy(allowed_volume_types=VOLUME_TYPES - {source})

    error = rejection(text, without)
    assert str(error) == (
        f"{SOURCE}: profile 'Data': volumes[1].{source}: volume type {source!r} is not allowed by "
        "SingleuserProfiles.allowed_volume_types"
    )
    assert passes(text, Policy(allowed_volume_types=VOLUME_TYPES))
    if source == "hostPath":
        assert rejection(text, DEFAULT_POLICY).field == "volumes[1].hostPath"
    else:
        assert passes(text, DEFAULT_POLICY)


@pytest.mark.parametrize("source", sorted(PROJECTED_SOURCES))
def test_every_projected_source_is_held_to_allowed_volume_types(source: str) -> None:
    projected = {
        "sources": [
            {"downwardAPI": PROJECTION_EXAMPLES["downwardAPI"]},
            {source: PROJECTION_EXAMPLES[source]},
        ]
    }
    text = document({"name": "Data", "volumes": [volume("projected", projected)]})
    if source != "downwardAPI":
        error = rejection(text, Policy(allowed_volume_types=VOLUME_TYPES - {source}))
        assert str(error).startswith(
            f"{SOURCE}: profile 'Data': volumes[0].projected.sources[1].{source}: projected volume source "
            f"{source!r} is not allowed by SingleuserProfiles.allowed_volume_types"
        )
    # a projected volume needs its own type too
    assert rejection(text, Policy(allowed_volume_types=VOLUME_TYPES - {"projected"})).field == (
        "volumes[0].projected"
    )
    assert passes(text, DEFAULT_POLICY)


def test_a_projected_secret_counts_as_a_secret_volume() -> None:
    """Forbidding ``secret`` volumes forbids the same Secret projected."""
    text = document(
        {"name": "p", "volumes": [volume("projected", {"sources": [{"secret": {"name": "team-s3"}}]})]}
    )
    error = rejection(text, Policy(allowed_volume_types=VOLUME_TYPES - {"secret"}))
    assert error.field == "volumes[0].projected.sources[0].secret"


def test_an_unknown_projected_source_is_never_allowed() -> None:
    settings = PodSettings(
        volumes=({"name": "v", "projected": {"sources": [{"futureToken": {}}]}, "mountPath": "/m"},)
    )
    (problem,) = [DEFAULT_POLICY.problem(r) for r in references(settings) if r.kind == "projection"]
    assert problem == (
        "projected volume source 'futureToken' is unknown: "
        "SingleuserProfiles.allowed_volume_types cannot allow it"
    )


def test_every_problem_is_reported_in_document_order() -> None:
    text = document(
        {
            "name": "a",
            "env": [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "hub", "key": "k"}}}],
            "volumes": [volume("hostPath", {"path": "/"}), volume("secret", {"secretName": "proxy"}, "s")],
        },
        sizes=(
            {"name": "Large", "envFrom": [{"secretRef": {"name": "team-a"}}, {"secretRef": {"name": "x"}}]},
        ),
    )
    error = rejection(text, Policy(allowed_secrets=("team-*",)))
    assert [(e.profile, e.field) for e in error.errors] == [
        ("profile 'a'", "env[0].valueFrom.secretKeyRef.name"),
        ("profile 'a'", "volumes[0].hostPath"),
        ("profile 'a'", "volumes[1].secret.secretName"),
        ("size 'Large'", "envFrom[1].secretRef.name"),
    ]
    assert str(error).endswith("(and 3 more problems)")


def test_problems_are_bounded() -> None:
    many = [volume("hostPath", {"path": f"/p{i}"}, f"v{i}") for i in range(200)]
    error = rejection(document({"name": "a", "volumes": many}), DEFAULT_POLICY)
    assert len(error.errors) == 50 and error.truncated
    assert str(error).endswith("(and at least 49 more problems)")


def test_a_long_secret_name_is_cut_in_the_message() -> None:
    settings = PodSettings(env_from=({"secretRef": {"name": "x" * 10_000}},))
    (reference,) = references(settings)
    problem = Policy(allowed_secrets=("team-*",)).problem(reference)
    assert problem is not None and len(problem) < 200 and "'...'" not in problem and "x..." not in problem


@pytest.mark.parametrize(
    "settings",
    [
        PodSettings(volumes=({"name": "v", "projected": "sources", "mountPath": "/m"},)),
        PodSettings(volumes=({"name": "v", "projected": {"sources": {"secret": {}}}, "mountPath": "/m"},)),
        PodSettings(
            volumes=({"name": "v", "projected": {"sources": ["secret", None, 3]}, "mountPath": "/m"},)
        ),
        PodSettings(
            volumes=({"name": "v", "projected": {"sources": [{"secret": "hub"}]}, "mountPath": "/m"},)
        ),
        PodSettings(
            volumes=({"name": "v", "projected": {"sources": [{1: {"name": "hub"}}]}, "mountPath": "/m"},)
        ),
        PodSettings(volumes=({"name": "v", "csi": {"nodePublishSecretRef": "hub"}, "mountPath": "/m"},)),
        PodSettings(volumes=({"name": "v", "secret": {"secretName": 5}, "mountPath": "/m"},)),
        PodSettings(volumes=({"name": "v", "secret": None, "mountPath": "/m"},)),
        PodSettings(env=({"name": "X", "valueFrom": {"secretKeyRef": ["hub"]}},)),
        PodSettings(env=({"name": "X", "valueFrom": None},)),
        PodSettings(env_from=({"secretRef": {"name": ""}},)),
    ],
)
def test_shapes_the_api_server_refuses_name_no_secret_and_never_crash(settings: PodSettings) -> None:
    assert [r for r in references(settings) if r.kind == "secret"] == []
    profile_set = ProfileSet(profiles=(Profile(name="odd", source=SOURCE, index=0, settings=settings),))
    unknown = [r.field for r in references(settings) if r.name not in VOLUME_TYPES]  # the key 1
    for policy in (DEFAULT_POLICY, Policy(allowed_secrets=())):
        if not unknown:
            policy.check(profile_set, source=SOURCE)
            continue
        with pytest.raises(ProfileValidationError) as info:
            policy.check(profile_set, source=SOURCE)
        assert [e.field for e in info.value.errors] == unknown


def test_references_lists_what_a_profile_asks_for() -> None:
    settings = PodSettings(
        env=(
            {"name": "A", "value": "1"},
            {"name": "B", "valueFrom": {"secretKeyRef": {"name": "team-s3", "key": "k"}}},
        ),
        volumes=(
            {"name": "d", "persistentVolumeClaim": {"claimName": "data"}, "mountPath": "/d"},
            {
                "name": "t",
                "projected": {"sources": [{"serviceAccountToken": {"path": "token"}}]},
                "mountPath": "/t",
            },
        ),
    )
    assert list(references(settings)) == [
        Reference("secret", "team-s3", "env[1].valueFrom.secretKeyRef.name"),
        Reference("volume", "persistentVolumeClaim", "volumes[0].persistentVolumeClaim"),
        Reference("volume", "projected", "volumes[1].projected"),
        Reference("projection", "serviceAccountToken", "volumes[1].projected.sources[0].serviceAccountToken"),
    ]


# -- the settings ----------------------------------------------------------------------


def test_the_settings_default_to_every_volume_type_but_host_path_and_every_secret() -> None:
    profiles = SingleuserProfiles()
    assert profiles.allowed_volume_types == sorted(VOLUME_TYPES - {"hostPath"})
    assert profiles.allowed_secrets == ["*"]
    assert profiles.policy == DEFAULT_POLICY == Policy()
    assert VOLUME_TYPES - {"hostPath"} == DEFAULT_ALLOWED_VOLUME_TYPES


def test_the_default_can_be_widened_in_place() -> None:
    config = Config()
    config.SingleuserProfiles.allowed_volume_types.append("hostPath")
    config.SingleuserProfiles.allowed_secrets = ["team-*", "shared-s3"]
    policy = SingleuserProfiles(config=config).policy
    assert policy == Policy(allowed_volume_types=VOLUME_TYPES, allowed_secrets=("team-*", "shared-s3"))


# (trait, value, the message)
INVALID_SETTINGS = [
    ("allowed_volume_types", ["nfs", "hostpath"],
     "SingleuserProfiles.allowed_volume_types: 'hostpath' is not a volume type or a projected volume "
     "source (did you mean 'hostPath'?)"),
    ("allowed_volume_types", ["persistentVolumeClaims"],
     "(did you mean 'persistentVolumeClaim'?)"),
    ("allowed_volume_types", ["local"], "'local' is not a volume type or a projected volume source"),
    ("allowed_secrets", ["team-*", "Team-*"],
     "SingleuserProfiles.allowed_secrets: 'Team-*' is not a pattern of Secret names (lower-case letters, "
     "digits, '-' and '.', with the wildcards '*', '?' and '[...]')"),
    ("allowed_secrets", [""], "'' is not a pattern of Secret names"),
    ("allowed_secrets", ["team/*"], "'team/*' is not a pattern of Secret names"),
]  # fmt: skip


@pytest.mark.parametrize(("trait", "value", "message"), INVALID_SETTINGS)
def test_invalid_settings_are_refused_naming_the_setting(trait: str, value: Any, message: str) -> None:
    config = Config()
    setattr(config.SingleuserProfiles, trait, value)
    with pytest.raises(TraitError) as info:
        SingleuserProfiles(config=config)
    assert message in str(info.value)


# -- the hub's sources -------------------------------------------------------------------

TEAM = """\
profiles:
- name: Team S3
  env:
  - name: AWS_SECRET_ACCESS_KEY
    valueFrom: {secretKeyRef: {name: team-s3, key: secret}}
"""

NODE_ROOT = """\
profiles:
- name: Team S3
  volumes:
  - name: node
    hostPath: {path: /}
    mountPath: /host
"""

HUB_SECRET = """\
profiles:
- name: Team S3
  envFrom:
  - secretRef: {name: hub}
"""


def settings_of(profile_set: ProfileSet) -> list[PodSettings]:
    return [p.settings for p in profile_set.profiles]


def rewrite(path: str, text: str) -> None:
    """Replace the file so that its modification time surely changes."""
    before = os.stat(path).st_mtime_ns
    with open(path, "w") as f:
        f.write(text)
    os.utime(path, ns=(before + 1_000_000_000, before + 1_000_000_000))


@pytest.mark.parametrize(
    ("edit", "field"), [(NODE_ROOT, "volumes[0].hostPath"), (HUB_SECRET, "envFrom[0].secretRef.name")]
)
async def test_a_file_asking_for_more_keeps_its_last_valid_version(
    write_yaml: Callable[..., str], caplog: pytest.LogCaptureFixture, edit: str, field: str
) -> None:
    path = write_yaml(TEAM)
    config = Config()
    config.SingleuserProfiles.files = [path]
    config.SingleuserProfiles.configmap_name = ""
    config.SingleuserProfiles.label_selector = ""
    config.SingleuserProfiles.allowed_secrets = ["team-*"]
    profiles = SingleuserProfiles.instance(config=config)
    first = await profiles.load_profiles()
    assert [p.name for p in first.profiles] == ["Team S3"]

    rewrite(path, edit)
    with caplog.at_level(logging.ERROR, logger="profilespawner"):
        later = await profiles.load_profiles()
    assert settings_of(later) == settings_of(first)  # the last valid version, unchanged
    (record,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    kept = f"Rejected profile source {path} (keeping its last valid version)"
    assert record.getMessage().startswith(f"{kept}: {path}: profile 'Team S3': {field}: ")


async def test_a_spawn_never_gets_what_the_policy_rejected(write_yaml: Callable[..., str]) -> None:
    team, node = write_yaml(TEAM, "team.yaml"), write_yaml(NODE_ROOT.replace("Team S3", "Node"), "node.yaml")

    async def pod(**settings: Any) -> Any:
        SingleuserProfiles.clear_instance()
        config = Config()
        config.SingleuserProfiles.files = [team, node]
        config.SingleuserProfiles.configmap_name = ""
        config.SingleuserProfiles.label_selector = ""
        for name, value in settings.items():
            setattr(config.SingleuserProfiles, name, value)
        spawner = offline_spawner(ProfileKubeSpawner, user="alice", config=config)
        return await spawner.get_pod_manifest()

    rejected = await pod()
    assert rejected.spec.volumes is None or "node" not in {v.name for v in rejected.spec.volumes}
    assert "AWS_SECRET_ACCESS_KEY" in {
        e.name for e in rejected.spec.containers[0].env
    }  # the valid file applies
    widened = await pod(allowed_volume_types=sorted(VOLUME_TYPES))
    (mounted,) = [v for v in widened.spec.volumes if v.name == "node"]
    assert mounted.host_path == {"path": "/"}  # a V1Volume holding JSON, as KubeSpawner's volumes do
    assert "/host" in {m.mount_path for m in widened.spec.containers[0].volume_mounts}


def test_a_configmap_asking_for_more_is_rejected_like_an_invalid_one() -> None:
    configmap = {"metadata": {"name": "team-profiles"}, "data": {KEY: HUB_SECRET}}
    result = parse_configmap(configmap, key=KEY, source=SOURCE, policy=Policy(allowed_secrets=("team-*",)))
    assert isinstance(result, ProfileValidationError)
    assert str(result) == (
        f"{SOURCE}: profile 'Team S3': envFrom[0].secretRef.name: Secret 'hub' is not allowed by "
        "SingleuserProfiles.allowed_secrets (it allows 'team-*')"
    )
    assert not isinstance(parse_configmap(configmap, key=KEY, source=SOURCE), ProfileValidationError)


# -- the command ----------------------------------------------------------------------


def test_validate_applies_the_default_policy_without_config(
    cli: Callable[..., Result], write_yaml: Callable[..., str]
) -> None:
    path = write_yaml(NODE_ROOT)
    result = cli("validate", path)
    assert (result.returncode, result.stderr) == (1, "")
    assert result.stdout.splitlines() == [
        f"{path}:5:5: error: profile 'Team S3': volumes[0].hostPath: volume type 'hostPath' is not allowed "
        "by SingleuserProfiles.allowed_volume_types",
        "1 error, 0 warnings in 1 file",
    ]


def test_validate_applies_the_policy_of_config(
    cli: Callable[..., Result], write_yaml: Callable[..., str]
) -> None:
    node, secret = write_yaml(NODE_ROOT, "node.yaml"), write_yaml(HUB_SECRET, "hub.yaml")
    widened = write_yaml(
        'c = get_config()  # noqa: F821\nc.SingleuserProfiles.allowed_volume_types.append("hostPath")\n',
        "widened.py",
    )
    narrowed = write_yaml(
        'c = get_config()  # noqa: F821\nc.SingleuserProfiles.allowed_secrets = ["team-*"]\n', "narrowed.py"
    )

    assert cli("validate", "--config", widened, node, secret).returncode == 0
    assert cli("validate", secret).returncode == 0  # the default allows every Secret
    result = cli("validate", "--config", narrowed, "--format", "json", secret)
    assert result.returncode == 1
    (problem,) = json.loads(result.stdout)
    assert {k: problem[k] for k in ("profile", "field", "line", "column")} == {
        "profile": "profile 'Team S3'",
        "field": "envFrom[0].secretRef.name",
        "line": 4,
        "column": 17,
    }
    assert (
        problem["problem"]
        == "Secret 'hub' is not allowed by SingleuserProfiles.allowed_secrets (it allows 'team-*')"
    )


def test_render_refuses_a_source_the_hub_would_reject(
    cli: Callable[..., Result], write_yaml: Callable[..., str]
) -> None:
    result = cli("render", write_yaml(NODE_ROOT), "--user", "alice")
    assert (result.returncode, result.stdout) == (1, "")
    assert "volume type 'hostPath' is not allowed by SingleuserProfiles.allowed_volume_types" in result.stderr
    assert "the hub would reject it and use none of it" in result.stderr


def test_an_invalid_setting_of_config_fails_validate(
    cli: Callable[..., Result], write_yaml: Callable[..., str]
) -> None:
    config = write_yaml(
        'c = get_config()  # noqa: F821\nc.SingleuserProfiles.allowed_volume_types = ["hostpath"]\n', "hub.py"
    )
    result = cli("validate", "--config", config, write_yaml(TEAM))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        "error: the configuration is not valid: SingleuserProfiles.allowed_volume_types: 'hostpath' is not "
        "a volume type or a projected volume source (did you mean 'hostPath'?)\n"
    )


def test_a_configmap_manifest_is_held_to_the_policy_with_lines() -> None:
    manifest = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: team-profiles}\ndata:\n"
        f"  {KEY}: |\n" + "".join(f"    {line}\n" for line in NODE_ROOT.splitlines())
    )
    report = check_text(manifest, source="cm.yaml")
    (problem,) = report.errors
    assert (problem.line, problem.column, problem.field) == (10, 9, "volumes[0].hostPath")
    assert (
        check_configmap(
            {"data": {KEY: NODE_ROOT}}, source=SOURCE, policy=Policy(allowed_volume_types=VOLUME_TYPES)
        ).errors
        == ()
    )
