"""The ``profilespawner`` command (:mod:`profilespawner.cli`), in process.

The tables of cases (messages, lines, refusals, exit codes) call ``main()``
in process; tests/cli runs every command through its real entry point
(``python -m profilespawner`` in a subprocess), which takes seconds a run.
Profiles are YAML files in tmp_path; the tools behind the commands have their
own tests in tests/unit/tools/.
"""

from __future__ import annotations

import json
import os
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from kubespawner import KubeSpawner

from profilespawner.tools.offline import offline_kubeconfig
from tests.support import Result, load_yaml, notebook

# -- validate: the messages (in process) ------------------------------------------------

# (id, YAML, exit code, beginnings of stdout lines; {f} is the file's path)
VALIDATE_CASES = [
    ("unknown-key-with-line", "profiles:\n- name: a\n  resouces: {}\n", 1,
     ["{f}:3:3: error: profile 'a': unknown key 'resouces' (did you mean 'resources'?)",
      "1 error, 0 warnings in 1 file"]),
    ("every-error-of-the-document", textwrap.dedent("""\
        profiles:
        - name: a
          env:
          - {name: A, value: 1}
        - name: b
          gpu: -1
        sizes:
        - name: Small
          resources: {limit: {}}
        """), 1,
     ["{f}:4:15: error: profile 'a': env[0].value: must be a string, not an integer",
      "{f}:6:3: error: profile 'b': gpu: must be at least 0",
      "{f}:9:15: error: size 'Small': resources: unknown key 'limit' (did you mean 'limits'?)",
      "3 errors, 0 warnings in 1 file"]),
    ("every-semantic-error",
     "profiles:\n- name: a\n  env: [{name: JPY_X, value: x}]\nsizes:\n- name: Default\n", 1,
     ["{f}:3:9: error: profile 'a': env[0]: 'JPY_X' is reserved for JupyterHub (JUPYTERHUB_*, JPY_*)",
      "{f}:5:3: error: size 'Default': name: 'Default' is reserved for 'no size'"]),
    ("key-with-dots", "profiles:\n- name: a\n  node_selector:\n    kubernetes.io/arch: 'no way'\n", 1,
     ["{f}:4:5: error: profile 'a': node_selector.kubernetes.io/arch: is not a valid label value"]),
    ("request-above-limit", "profiles:\n- name: a\n  resources:\n    requests: {cpu: '2'}\n"
     "    limits: {cpu: '1'}\n", 1,
     ["{f}:4:16: error: profile 'a': resources.requests.cpu: the request of 'cpu' is above its limit"]),
    ("syntax-error-line-column", "profiles:\n- name: a\n  env: [\n", 1,
     ["{f}:4:1: error: expected the node content"]),
    ("duplicate-key", "profiles: []\nprofiles: []\n", 1, ["{f}:2:1: error: duplicate key 'profiles'"]),
    ("not-utf8", b"profiles: [{name: \xff}]\n", 1, ["{f}: error: the document is not valid UTF-8"]),
    ("empty", "", 1, ["{f}: error: the document is empty"]),
    ("legacy-keys-warn-only", "ui: {}\nprofiles:\n- name: a\n  services: {}\n", 0,
     ["{f}:1:1: warning: ui: 'ui' is not supported and is ignored",
      "{f}:4:3: warning: profile 'a': services: 'services' is not supported and is ignored",
      "{f}: ok (1 profile, 0 sizes, 0 GPU types)", "0 errors, 2 warnings in 1 file"]),
    ("legacy-list-form", "- name: a\n  env: {A: 1}\n", 0, ["{f}: ok (1 profile, 0 sizes, 0 GPU types)"]),
    # hostile input: a message with a line, never a traceback
    ("non-string-key-has-a-line", "profiles:\n- name: a\n  resources:\n    requests: {1: 2}\n", 1,
     ["{f}:4:5: error: profile 'a': resources.requests: key 1 is an integer, not a string"]),
    ("placeholder-has-a-line", "profiles:\n- name: a\n  env:\n  - {name: X, value: '{username:>9}'}\n", 1,
     ["{f}:4:15: error: profile 'a': env[0].value: has a placeholder at character 1 that is not"]),
    ("deep-profiles", "profiles: " + "[" * 3000 + "]" * 3000 + "\n", 1,
     ["{f}:1:110: error: the document nests collections more than 100 levels deep"]),
    ("deep-configmap-manifest", "kind: ConfigMap\napiVersion: v1\ndata: " + "[" * 3000 + "]" * 3000 + "\n", 1,
     ["{f}:3:106: error: the document nests collections more than 100 levels deep"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "code", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in VALIDATE_CASES],
)
def test_validate(
    cli: Callable[..., Result], tmp_path: Path, text: str | bytes, code: int, expected: list[str]
) -> None:
    path = tmp_path / "profiles.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    result = cli("validate", str(path))
    assert result.returncode == code, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    for start in expected:
        start = start.format(f=path)
        assert any(line.startswith(start) for line in lines), result.stdout


def test_validate_a_clean_file(cli: Callable[..., Result], profiles_file: str) -> None:
    result = cli("validate", profiles_file)
    assert (result.returncode, result.stdout) == (
        0,
        f"{profiles_file}: ok (5 profiles, 2 sizes, 1 GPU type)\n",
    )


def test_validate_several_files_one_missing(
    cli: Callable[..., Result], write_yaml: Callable[..., str], tmp_path: Path
) -> None:
    good = write_yaml("profiles: []\n", "good.yaml")
    missing = str(tmp_path / "missing.yaml")
    result = cli("validate", good, missing)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{good}: ok (0 profiles, 0 sizes, 0 GPU types)",
        f"{missing}: error: cannot be read (No such file or directory)",
        "1 error, 0 warnings in 2 files",
    ]


def test_validate_json_lists_every_problem(
    cli: Callable[..., Result], write_yaml: Callable[..., str]
) -> None:
    bad = write_yaml("profiles:\n- name: a\n  resouces: {}\n- name: b\n  gpu: x\n", "bad.yaml")
    warn = write_yaml("ui: {}\nprofiles:\n- name: c\n  env: [{name: A}]\n", "warn.yaml")
    result = cli("validate", "--format", "json", bad, warn)
    assert result.returncode == 1
    problems = json.loads(result.stdout)
    assert [(p["severity"], p["source"], p["profile"], p["field"], p["line"]) for p in problems] == [
        ("error", bad, "profile 'a'", "", 3),
        ("error", bad, "profile 'b'", "gpu", 5),
        ("warning", warn, "", "ui", 1),
        ("warning", warn, "profile 'c'", "env[0]", 4),
    ]
    assert problems[0]["problem"] == "unknown key 'resouces' (did you mean 'resources'?)"
    assert problems[0]["column"] == 3
    # a warning has the parts an error has: the profile and field are not inside the problem
    assert problems[2]["problem"] == "'ui' is not supported and is ignored"
    assert problems[2]["message"] == f"{warn}: ui: 'ui' is not supported and is ignored"
    assert problems[3]["problem"] == (
        "variable 'A' has neither 'value' nor 'valueFrom': it is set to the empty string"
    )


MANIFEST = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: team-profiles
  labels: {jupyterhub: singleuser-profiles}
data:
  jupyterhub-singleuser-profiles.yaml: |
    profiles:
    - name: a
      resouces: {}
"""


def test_validate_configmap_manifest(cli: Callable[..., Result], write_yaml: Callable[..., str]) -> None:
    bad = write_yaml(MANIFEST, "bad-cm.yaml")
    good = write_yaml(MANIFEST.replace("resouces", "resources"), "cm.yaml")
    other_key = write_yaml(
        MANIFEST.replace("jupyterhub-singleuser-profiles.yaml:", "profiles.yaml:"), "key.yaml"
    )
    result = cli("validate", bad, good, other_key)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        # the line and column inside the manifest, where the editor shows the key
        f"{bad}:10:7: error: ConfigMap 'team-profiles': profile 'a': unknown key 'resouces' "
        "(did you mean 'resources'?)",
        f"{good}: ok, ConfigMap 'team-profiles' (1 profile, 0 sizes, 0 GPU types)",
        # a ConfigMap without the key is skipped, as the hub skips it; a file of nothing but those
        f"{other_key}: warning: no ConfigMap in it has the key 'jupyterhub-singleuser-profiles.yaml' "
        "(SingleuserProfiles.configmap_key), so it defines no profiles; its ConfigMaps have 'profiles.yaml'",
        f"{other_key}: ok (0 profiles, 0 sizes, 0 GPU types)",
        "1 error, 1 warning in 3 files",
    ]
    config = write_yaml("c = get_config()\nc.SingleuserProfiles.configmap_key = 'profiles.yaml'\n", "hub.py")
    with_key = cli("validate", other_key, "--config", config)  # the key is found: its problem shows
    assert with_key.stdout.startswith(
        f"{other_key}:10:7: error: ConfigMap 'team-profiles': profile 'a': unknown key 'resouces'"
    )


def test_render_reads_a_configmap_manifest_as_the_hub_does(
    cli: Callable[..., Result], write_yaml: Callable[..., str]
) -> None:
    manifest = write_yaml(MANIFEST.replace("resouces: {}", "labels: {team: a}"), "cm.yaml")
    profiles = write_yaml("profiles:\n- name: a\n  labels: {team: a}\n", "profiles.yaml")
    from_manifest = cli("render", manifest, "--user", "alice")
    from_profiles = cli("render", profiles, "--user", "alice")
    assert from_manifest.returncode == 0, from_manifest.stderr
    assert load_yaml(from_manifest.stdout)["metadata"]["labels"]["team"] == "a"
    pods = [load_yaml(result.stdout) for result in (from_manifest, from_profiles)]
    sources = [json.loads(pod["metadata"]["annotations"].pop("profilespawner/sources")) for pod in pods]
    assert pods[0] == pods[1]  # the same pod, recording a source each
    assert [[entry["source"] for entry in s] for s in sources] == [[manifest], [profiles]]
    invalid = write_yaml(MANIFEST, "bad-cm.yaml")
    refused = cli("render", invalid, "--user", "alice")
    assert (refused.returncode, refused.stdout) == (1, "")
    assert f"error: {invalid} is invalid: the hub would reject it and use none of it" in refused.stderr


def test_validate_json_clean_is_an_empty_list(cli: Callable[..., Result], profiles_file: str) -> None:
    result = cli("validate", "--format", "json", profiles_file)
    assert (result.returncode, json.loads(result.stdout)) == (0, [])


def test_validate_never_prints_values(cli: Callable[..., Result], write_yaml: Callable[..., str]) -> None:
    path = write_yaml("profiles:\n- name: a\n  env:\n  - {name: 'BAD NAME', value: s3cr3t-value}\n")
    for fmt in ("text", "json"):
        result = cli("validate", "--format", fmt, path)
        assert result.returncode == 1
        assert "BAD NAME" in result.stdout
        assert "s3cr3t" not in result.stdout + result.stderr


def test_example_profiles_are_valid(cli: Callable[..., Result]) -> None:
    result = cli("validate", "examples/profiles.yaml", "--config", "examples/jupyterhub_config.py")
    assert result.returncode == 0, result.stdout
    assert result.stdout == "examples/profiles.yaml: ok (4 profiles, 4 sizes, 2 GPU types)\n"


# -- render (in process) ----------------------------------------------------------------


def test_render_applies_profiles_in_order(cli: Callable[..., Result], profiles_file: str) -> None:
    result = cli(
        "render", profiles_file, "--user", "bob", "-g", "data-science", "--image",
        "quay.io/x/s2i-spark-notebook", "--size", "Large", "--show-values",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    pod = load_yaml(result.stdout)
    container = notebook(pod)
    env = {var["name"]: var.get("value") for var in container["env"]}
    assert env["GREETING"] == "hi bob"  # replaced by the later profile, by name
    assert env["SPARK_MASTER"] == "spark://bob-cluster:7077"  # placeholders expanded
    assert container["resources"] == {
        "requests": {"cpu": "4", "memory": "1Gi", "ephemeral-storage": "1Gi"},  # the size wins per key
        "limits": {"cpu": "8", "memory": "4Gi"},
    }
    assert pod["spec"]["nodeSelector"] == {"disktype": "ssd"}
    assert pod["metadata"]["labels"]["team"] == "ds"


def test_render_hides_env_values_by_default(cli: Callable[..., Result], profiles_file: str) -> None:
    result = cli("render", profiles_file, "--user", "bob", "--image", "x/s2i-spark-notebook")
    assert result.returncode == 0, result.stderr
    env = {var["name"]: var for var in notebook(load_yaml(result.stdout))["env"]}
    assert env["GREETING"]["value"] == env["SPARK_MASTER"]["value"] == "<hidden>"
    assert env["S3_SECRET"]["valueFrom"] == {"secretKeyRef": {"name": "team-s3", "key": "secret"}}
    assert env["JUPYTERHUB_USER"]["value"] == "bob"  # JupyterHub's own
    assert env["CPU_LIMIT"]["value"] == "2.0"  # mirrors resources, shown with them
    assert "hi bob" not in result.stdout


def test_render_prints_yaml_as_kubectl_does(
    cli: Callable[..., Result], write_yaml: Callable[..., str]
) -> None:
    path = write_yaml(
        "profiles:\n- {name: a, labels: {flag: 'yes', mode: '0777'}, node_selector: {on: 'on'}}\n"
    )
    result = cli("render", path, "--user", "bob")
    assert result.returncode == 0, result.stderr
    assert not result.stdout.startswith("%YAML")
    # YAML 1.1 readers (kubectl) would take these for a boolean and a number
    assert "    flag: 'yes'\n" in result.stdout
    assert "    mode: '0777'\n" in result.stdout
    assert "    'on': 'on'\n" in result.stdout
    assert "  containers:\n  - env:\n" in result.stdout  # lists as kubectl indents them


def test_render_gpu_profile_gets_gpu_and_tolerations(cli: Callable[..., Result], profiles_file: str) -> None:
    result = cli("render", profiles_file, "--user", "bob", "--image", "reg/s2i-tf-gpu-notebook:1")
    assert result.returncode == 0, result.stderr
    pod = load_yaml(result.stdout)
    assert notebook(pod)["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod["spec"][
        "tolerations"
    ]


def test_render_default_image_is_kubespawners(cli: Callable[..., Result], profiles_file: str) -> None:
    result = cli("render", profiles_file, "--user", "carol")
    assert result.returncode == 0, result.stderr
    assert notebook(load_yaml(result.stdout))["image"] == KubeSpawner.class_traits()["image"].default()


def test_render_with_jupyterhub_config(
    cli: Callable[..., Result], write_yaml: Callable[..., str], profiles_file: str
) -> None:
    config = write_yaml(
        """\
        c = get_config()  # noqa: F821
        c.KubeSpawner.image = "quay.io/example/s2i-spark-notebook:3.6"
        c.KubeSpawner.mem_limit = "8G"
        c.KubeSpawner.environment = {"FROM_CONFIG": "config-value"}
        c.SingleuserProfiles.configmap_name = "must-not-be-read"
        """,
        "jupyterhub_config.py",
    )
    result = cli("render", profiles_file, "--user", "alice", "--config", config)
    assert result.returncode == 0, result.stderr
    container = notebook(load_yaml(result.stdout))
    env = {var["name"]: var.get("value") for var in container["env"]}
    assert container["image"] == "quay.io/example/s2i-spark-notebook:3.6"
    assert "SPARK_MASTER" in env  # the Spark profile matched the configured image
    assert env["FROM_CONFIG"] == "<hidden>"
    assert container["resources"]["limits"]["memory"] == "4Gi"  # the profile replaced KubeSpawner's 8G


def test_render_files_from_the_example_config(cli: Callable[..., Result]) -> None:
    result = cli(
        "render", "--config", "examples/jupyterhub_config.py", "--user", "alice",
        "--image", "s2i-spark-notebook:3.6",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    env = {var["name"] for var in notebook(load_yaml(result.stdout))["env"]}
    assert {"SPARK_MASTER", "AWS_SECRET_ACCESS_KEY"} <= env


# (id, extra arguments, the text of a jupyterhub_config.py or None, fragment of stderr)
REFUSED_SPAWNS = [
    ("unknown-size", ["--size", "Huge"], None,
     "size 'Huge' is not available; choose one of: 'Default', 'Small'\n"),
    ("size-of-another-group", ["--size", "Large"], None,
     "size 'Large' is not available; choose one of: 'Default', 'Small'\n"),
    ("unknown-gpu-type", ["--image", "x/a-gpu-notebook", "--gpu-type", "h100"], None,
     "GPU type 'h100' is not available; choose one of: 'a100'\n"),
    ("request-above-kubespawner-limit", [],
     "c = get_config()\nc.KubeSpawner.extra_resource_limits = {'ephemeral-storage': '500Mi'}\n",
     "resources.requests.ephemeral-storage: the request of 'ephemeral-storage' ends up above its limit"),
]  # fmt: skip


@pytest.mark.parametrize("command", ["render", "explain"])
@pytest.mark.parametrize(
    ("extra", "config", "fragment"),
    [pytest.param(*case[1:], id=case[0]) for case in REFUSED_SPAWNS],
)
def test_refused_spawn_exits_1(
    cli: Callable[..., Result],
    write_yaml: Callable[..., str],
    profiles_file: str,
    command: str,
    extra: list[str],
    config: str | None,
    fragment: str,
) -> None:
    args = [command, profiles_file, "--user", "carol", *extra]
    if config:
        args += ["--config", write_yaml(config, "jupyterhub_config.py")]
    result = cli(*args)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.startswith("error: the hub would refuse this spawn for carol: ")
    assert fragment in result.stderr


# (id, arguments, fragment of stderr)
USAGE_ERRORS = [
    ("no-command", [], "the following arguments are required: COMMAND"),
    ("no-user", ["render", "x.yaml"], "the following arguments are required: --user"),
    ("no-files", ["render", "--user", "alice"], "no profile files"),
    ("bad-format", ["validate", "--format", "xml", "x.yaml"], "invalid choice: 'xml'"),
    ("config-missing", ["explain", "x.yaml", "--user", "a", "--config", "nope.py"], "cannot load nope.py"),
    ("name-without-configmaps", ["validate", "x.yaml", "--configmap-name", "p"],
     "--configmap-name needs --configmaps"),
    ("selector-without-configmaps", ["render", "x.yaml", "-u", "a", "--label-selector", "a=b"],
     "--label-selector needs --configmaps"),
    ("namespace-without-cluster", ["validate", "x.yaml", "--namespace", "ns"],
     "--namespace needs --configmaps or --server-dry-run"),
    ("kubeconfig-without-cluster", ["explain", "x.yaml", "-u", "a", "--kubeconfig", "k"],
     "--kubeconfig needs --configmaps"),
    ("nothing-to-read", ["validate", "--configmaps", "--configmap-name", "", "--label-selector", ""],
     "--configmaps: nothing to read"),
    ("no-kubeconfig", ["validate", "--configmaps", "--kubeconfig", "nope.kubeconfig"],
     "no kubeconfig at nope.kubeconfig"),
    ("dry-run-without-sources", ["validate", "--server-dry-run"], "no profile files"),
    ("image-without-dry-run", ["validate", "x.yaml", "--image", "a:1"], "--image needs --server-dry-run"),
    ("cap-without-dry-run", ["validate", "x.yaml", "--max-combinations", "5"],
     "--max-combinations needs --server-dry-run"),
    ("dry-run-images-only-for-validate", ["render", "x.yaml", "-u", "a", "--max-combinations", "3"],
     "unrecognized arguments: --max-combinations"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "fragment"), [pytest.param(*c[1:], id=c[0]) for c in USAGE_ERRORS])
def test_usage_errors_exit_2(cli: Callable[..., Result], args: list[str], fragment: str) -> None:
    result = cli(*args)
    assert result.returncode == 2
    assert fragment in result.stderr


def test_broken_config_exits_2(cli: Callable[..., Result], write_yaml: Callable[..., str]) -> None:
    config = write_yaml("c = get_config()  # noqa: F821\n1 / 0\n", "jupyterhub_config.py")
    result = cli("render", "x.yaml", "--user", "a", "--config", config)
    assert result.returncode == 2
    assert "ZeroDivisionError" in result.stderr


def test_invalid_kubespawner_setting_exits_1_without_its_value(
    cli: Callable[..., Result], write_yaml: Callable[..., str], profiles_file: str
) -> None:
    config = write_yaml("c = get_config()  # noqa: F821\nc.KubeSpawner.environment = 's3cr3t'\n", "hub.py")
    result = cli("render", profiles_file, "--user", "a", "--config", config)
    assert (result.returncode, result.stdout) == (1, "")
    assert "error: the configuration is not valid: The 'environment' trait" in result.stderr
    assert "s3cr3t" not in result.stderr


# -- the cluster, when there is none (in process) ---------------------------------------


def test_unreachable_cluster_exits_3(cli: Callable[..., Result], profiles_file: str) -> None:
    """Nothing listens at the offline kubeconfig's address: the command says so, exit 3."""
    kubeconfig = offline_kubeconfig()
    for args in (
        ["validate", "--configmaps", "--kubeconfig", kubeconfig, "-n", "hub"],
        ["validate", profiles_file, "--server-dry-run", "--kubeconfig", kubeconfig],
        ["render", profiles_file, "--configmaps", "--kubeconfig", kubeconfig, "--user", "a"],
    ):
        result = cli(*args)
        assert (result.returncode, result.stdout) == (3, ""), args
        assert result.stderr.startswith("error: cannot ask the cluster: "), result.stderr
    assert (
        "list hub/configmaps?metadata.name=jupyter-singleuser-profiles: no answer"
        in cli("validate", "--configmaps", "--kubeconfig", kubeconfig, "-n", "hub").stderr
    )


def test_server_dry_run_refuses_too_many_combinations(cli: Callable[..., Result], profiles_file: str) -> None:
    """Counted before anything is submitted: no cluster needed to be refused."""
    args = ["validate", profiles_file, "--server-dry-run", "--kubeconfig", offline_kubeconfig()]
    result = cli(*args, "--image", "a:1", "--image", "b:2", "--max-combinations", "10")
    assert result.returncode == 2
    # anyone, bob, data-science: 3 images x (2 + 2 + 3) sizes
    assert (
        "--server-dry-run: the profiles target 21 spawns (users and groups x images x sizes), more than "
        "--max-combinations 10; raise it, or give fewer --image examples"
    ) in result.stderr


def test_server_dry_run_spawns_the_hub_refuses_are_errors(
    cli: Callable[..., Result], write_yaml: Callable[..., str]
) -> None:
    """A request above KubeSpawner's limit: refused by the hub, so never submitted (no cluster here)."""
    profiles = write_yaml("profiles:\n- name: big\n  resources: {requests: {cpu: '4'}}\n")
    config = write_yaml("c = get_config()  # noqa: F821\nc.KubeSpawner.cpu_limit = 2\n", "hub.py")
    args = ["validate", profiles, "--server-dry-run", "--kubeconfig", offline_kubeconfig(), "-n", "hub"]
    result = cli(*args, "--config", config)
    assert result.returncode == 1
    assert result.stdout.splitlines()[1:] == [
        "server dry run in hub: error: any user (as 'anyone'), the configured image, no size: the hub would "
        "refuse the spawn: resources.requests.cpu: the request of 'cpu' ends up above its limit (profiles "
        "'big'; size none; KubeSpawner's own resource settings count too)",
        "server dry run in hub: 1 spawn tried, 0 accepted, 0 rejected, 1 refused by the hub",
        "1 error, 0 warnings in 1 file and the server dry run",
    ]


def test_server_dry_run_with_an_invalid_setting_exits_1_without_its_value(
    cli: Callable[..., Result], write_yaml: Callable[..., str], profiles_file: str
) -> None:
    config = write_yaml("c = get_config()  # noqa: F821\nc.KubeSpawner.environment = 's3cr3t'\n", "hub.py")
    args = ["validate", profiles_file, "--server-dry-run", "--kubeconfig", offline_kubeconfig()]
    result = cli(*args, "--config", config)
    assert result.returncode == 1
    assert "error: the configuration is not valid: The 'environment' trait" in result.stderr
    assert "s3cr3t" not in result.stderr + result.stdout


def test_server_dry_run_is_skipped_when_a_source_is_invalid(
    cli: Callable[..., Result], write_yaml: Callable[..., str]
) -> None:
    bad = write_yaml("profiles:\n- name: a\n  resouces: {}\n")
    result = cli("validate", bad, "--server-dry-run", "--kubeconfig", offline_kubeconfig(), "-n", "hub")
    assert result.returncode == 1
    assert result.stdout.splitlines()[1:] == [
        "server dry run in hub: not tried, the profiles have errors",
        "1 error, 0 warnings in 1 file",
    ]


def test_kubeconfig_from_the_environment(
    cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    result = cli("validate", "--configmaps")
    assert result.returncode == 2
    assert f"no kubeconfig at {tmp_path / 'missing'}" in result.stderr
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join([str(tmp_path / "missing"), offline_kubeconfig()]))
    assert cli("validate", "--configmaps").returncode == 3  # one of the list exists: it is used


# -- explain (in process) ---------------------------------------------------------------


def test_explain(cli: Callable[..., Result], profiles_file: str) -> None:
    result = cli(
        "explain", profiles_file, "--user", "alice", "--group", "data-science", "--image",
        "quay.io/odh/s2i-spark-notebook:3.6", "--size", "Small",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for line in [
        f"  + profile 'globals'  [{profiles_file} #1]",
        "      who:   yes, everyone (no users or groups listed)",
        "      image: yes, pattern 's2i-spark-notebook' matches",
        "      who:   yes, member of group 'data-science'",
        f"  - profile 'Bob only'  [{profiles_file} #4]",
        "      who:   no,  only for users 'bob'",
        "      image: no,  no pattern matches ('*-gpu-notebook')",
        f"Size:   'Small' [{profiles_file}], applied after the profiles",
        "        alice may pick: Default, Small, Large",
        "GPU:    none requested by a profile or size",
    ]:
        assert line in out.splitlines(), out
    rows = {" ".join(line.split()) for line in out.splitlines()}
    for row in [
        "GREETING <- profile 'globals' literal value",
        "S3_SECRET <- profile 'globals' from Secret 'team-s3', key 'secret'",
        "SPARK_MASTER <- profile 'Spark' literal value",
        "CPU_GUARANTEE <- size 'Small' mirrors resources requests.cpu",
        "requests.cpu 1 <- size 'Small' (replaces profile 'globals', profile 'Spark')",
        "requests.memory 1Gi <- profile 'globals'",
        "disktype = ssd <- profile 'Team'",
        "team = ds <- profile 'Team'",
    ]:
        assert row in rows, out
    assert "JUPYTERHUB_USER" in out  # KubeSpawner's variables are listed by name
    for value in ("hello", "spark://"):
        assert value not in out  # env values are never printed


BUDGETED = """\
profiles: [{name: a}]
budgets:
- {name: ds-gpus, groups: [data-science], total: {gpu: 8}}
- {name: everyone, users: ["*"], per_user: {servers: 1}}
"""


@pytest.mark.parametrize(
    ("group", "said"),
    [
        ("data-science", "Budgets: 'ds-gpus', 'everyone' cover alice; the server counts against them"),
        ("other", "Budgets: 'everyone' cover alice; the server counts against them"),
    ],
)
def test_explain_names_the_budgets_and_counts_no_usage(
    cli: Callable[..., Result], write_yaml: Callable[..., str], group: str, said: str
) -> None:
    """The budgets the resolution records, without a cluster: render and
    explain leave what the servers hold to the hub."""
    path = write_yaml(BUDGETED)
    result = cli("explain", path, "--user", "alice", "--group", group, "--image", "python")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert said in lines, result.stdout
    assert "explain and render count no usage" in result.stdout
    assert "refuses it with 403 past a limit" in result.stdout
    rendered = cli("render", path, "--user", "alice", "--group", group, "--image", "python")
    assert rendered.returncode == 0, rendered.stderr
    assert "profilespawner/budgets:" in rendered.stdout


def test_explain_says_when_no_budget_covers_the_user(cli: Callable[..., Result], profiles_file: str) -> None:
    result = cli("explain", profiles_file, "--user", "alice", "--image", "python")
    assert result.returncode == 0, result.stderr
    assert "Budgets: none cover alice" in result.stdout.splitlines()


def test_explain_gpu(cli: Callable[..., Result], profiles_file: str) -> None:
    result = cli(
        "explain", profiles_file, "--user", "bob", "--image", "r/x-gpu-notebook", "--gpu-type", "a100"
    )
    assert result.returncode == 0, result.stderr
    rows = {" ".join(line.split()) for line in result.stdout.splitlines()}
    assert "GPU: 1, set by profile 'GPU'; tolerations of gpuTypes: 'a100'" in rows
    assert "limits.nvidia.com/gpu 1 <- profile 'GPU' (gpu: 1)" in rows
    assert "nvidia.com/gpu exists:NoSchedule <- gpuType 'a100' (gpu: 1)" in rows


def test_explain_lists_the_tolerations_the_pod_gets(
    cli: Callable[..., Result], write_yaml: Callable[..., str]
) -> None:
    """Two profiles with the same toleration, one writing the default operator: one toleration, one row."""
    path = write_yaml(
        """\
        profiles:
        - name: a
          node_tolerations: [{key: pool, value: gpu, effect: NoSchedule}]
        - name: b
          node_tolerations: [{key: pool, operator: Equal, value: gpu, effect: NoSchedule}]
        """
    )
    render = cli("render", path, "--user", "u")
    assert render.returncode == 0, render.stderr
    assert load_yaml(render.stdout)["spec"]["tolerations"] == [
        {"key": "pool", "value": "gpu", "effect": "NoSchedule"}
    ]
    explained = cli("explain", path, "--user", "u")
    assert explained.returncode == 0, explained.stderr
    lines = explained.stdout.splitlines()
    rows = lines[lines.index("  tolerations") + 1 :]
    assert [" ".join(r.split()) for r in rows] == ["pool=gpu:NoSchedule <- profile 'a'"]


# -- custom sizes: --cpu, --memory, --gpu (in process) -----------------------------------

CUSTOM = """\
sizes:
- name: Custom
  groups: [data-science]
  ranges:
    cpu: {min: "1", max: "16", default: "2"}
    memory: {min: 2Gi, max: 64Gi, default: 8Gi}
    gpu: {min: 0, max: 4, default: 0}
  limit_factor: 2
gpuTypes:
- type: a100
  node_tolerations: [{key: a100, operator: Exists, effect: NoSchedule}]
"""


def test_render_with_values_within_the_ranges(
    cli: Callable[..., Result], write_yaml: Callable[..., str]
) -> None:
    path = write_yaml(CUSTOM)
    args = ["render", path, "-u", "dana", "-g", "data-science", "--size", "Custom"]
    result = cli(*args, "--cpu", "3.5", "--memory", "12Gi", "--gpu", "1")
    assert result.returncode == 0, result.stderr
    container = notebook(load_yaml(result.stdout))
    assert container["resources"] == {
        "requests": {"cpu": "3500m", "memory": "12Gi", "nvidia.com/gpu": "1"},
        "limits": {"cpu": "7", "memory": "24Gi", "nvidia.com/gpu": "1"},
    }
    env = {v["name"]: v["value"] for v in container["env"] if "value" in v}
    assert (env["CPU_LIMIT"], env["MEM_GUARANTEE"]) == ("7.0", str(12 * 2**30))
    defaults = notebook(load_yaml(cli(*args).stdout))["resources"]
    assert defaults["requests"] == {"cpu": "2", "memory": "8Gi"}  # gpu 0: no GPU resource


def test_explain_says_the_values_and_who_set_them(
    cli: Callable[..., Result], write_yaml: Callable[..., str]
) -> None:
    path = write_yaml(CUSTOM)
    result = cli(
        "explain", path, "-u", "dana", "-g", "data-science", "--size", "Custom", "--cpu", "12", "--gpu", "2"
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    start = lines.index(f"Size:   'Custom' [{path}], applied after the profiles")
    assert lines[start + 1 : start + 6] == [
        "        within its ranges: cpu 12 (1 to 16, default 2)",
        "                           memory 8Gi (2Gi to 64Gi, default 8Gi)",
        "                           gpu 2 (0 to 4, default 0)",
        "                           limits of cpu and memory: the value × 2",
        "        dana may pick: Default, Custom",
    ]
    rows = {" ".join(line.split()) for line in lines}
    for row in [
        "GPU: 2, set by size 'Custom' (range gpu: 2); tolerations of gpuTypes: 'a100'",
        "requests.cpu 12 <- size 'Custom' (range cpu: 12)",
        "limits.cpu 24 <- size 'Custom' (range cpu: 12 × 2)",
        "limits.memory 16Gi <- size 'Custom' (range memory: 8Gi × 2)",
        "limits.nvidia.com/gpu 2 <- size 'Custom' (range gpu: 2)",
        "CPU_LIMIT <- size 'Custom' (range cpu: 12 × 2) mirrors resources limits.cpu",
    ]:
        assert row in rows, result.stdout


# (id, arguments after FILE, the hub's refusal)
REFUSED_VALUES = [
    ("out-of-range", ["--size", "Custom", "--cpu", "40"],
     "size 'Custom': cpu '40' is out of range: choose 1 to 16"),
    ("not-a-quantity", ["--size", "Custom", "--memory", "8GB"],
     "size 'Custom': memory '8GB' is not a quantity: choose 2Gi to 64Gi"),
    ("gpu-not-whole", ["--size", "Custom", "--gpu", "0.5"],
     "size 'Custom': gpu '0.5' is not a whole number: choose 0 to 4"),
    ("without-a-size", ["--cpu", "4"], "cpu '4' needs a size with a cpu range: choose one of: 'Custom'"),
]  # fmt: skip


@pytest.mark.parametrize("command", ["render", "explain"])
@pytest.mark.parametrize(("extra", "message"), [pytest.param(*c[1:], id=c[0]) for c in REFUSED_VALUES])
def test_a_value_the_hub_refuses_exits_1(
    cli: Callable[..., Result], write_yaml: Callable[..., str], command: str, extra: list[str], message: str
) -> None:
    result = cli(command, write_yaml(CUSTOM), "-u", "dana", "-g", "data-science", *extra)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"error: the hub would refuse this spawn for dana: {message}\n"


@pytest.mark.parametrize("option", ["--cpu", "--memory", "--gpu"])
def test_range_values_of_validate_need_the_dry_run(cli: Callable[..., Result], option: str) -> None:
    result = cli("validate", "x.yaml", option, "1")
    assert result.returncode == 2
    assert f"{option} needs --server-dry-run" in result.stderr


def test_server_dry_run_tries_a_custom_size_at_min_default_max_and_the_values_given(
    cli: Callable[..., Result], write_yaml: Callable[..., str]
) -> None:
    """Counted before anything is submitted: the points a size with ranges adds."""
    args = ["validate", write_yaml(CUSTOM), "--server-dry-run", "--kubeconfig", offline_kubeconfig()]
    # anyone: no size; data-science: no size, Custom at min, default, max (and the values given)
    assert "the profiles target 5 spawns" in cli(*args, "--max-combinations", "1").stderr
    result = cli(*args, "--cpu", "3", "--max-combinations", "1")
    assert "the profiles target 6 spawns" in result.stderr
