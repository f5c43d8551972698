"""Every command through its real entry point, ``python -m profilespawner`` in a
subprocess, as a user or a CI job runs it: exit codes, stdout and stderr.

Each run starts Python and imports KubeSpawner (seconds), so these live apart
from the unit suite; the tables of cases are in tests/unit/test_cli.py, and
the cluster options run against a real API server in
tests/integration/test_cli_cluster.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from profilespawner import __version__
from profilespawner.parse import load_schema
from profilespawner.tools.offline import offline_kubeconfig
from tests.support import Result, RunCli, content_version, load_yaml, notebook

ROOT = Path(__file__).resolve().parents[2]
SPARK_IMAGE = "quay.io/thoth-station/s2i-spark-notebook:3.6"
#: The README's ``make render`` command.
DEMO = [
    "render", "examples/profiles.yaml", "--user", "alice", "--group", "data-science",
    "--image", SPARK_IMAGE, "--size", "Small",
]  # fmt: skip


def test_validate_exit_codes(run_cli: RunCli, write_yaml: Callable[..., str], profiles_file: str) -> None:
    bad = write_yaml("profiles:\n- name: a\n  resouces: {}\n", "bad.yaml")
    warn = write_yaml("ui: {}\nprofiles: []\n", "warn.yaml")

    clean = run_cli("validate", profiles_file)
    assert (clean.returncode, clean.stdout, clean.stderr) == (
        0,
        f"{profiles_file}: ok (5 profiles, 2 sizes, 1 GPU type)\n",
        "",
    )
    warned = run_cli("validate", warn)
    assert warned.returncode == 0
    assert f"{warn}:1:1: warning: ui: 'ui' is not supported and is ignored" in warned.stdout
    failed = run_cli("validate", profiles_file, bad)
    assert failed.returncode == 1
    assert failed.stdout.splitlines() == [
        f"{profiles_file}: ok (5 profiles, 2 sizes, 1 GPU type)",
        f"{bad}:3:3: error: profile 'a': unknown key 'resouces' (did you mean 'resources'?)",
        "1 error, 0 warnings in 2 files",
    ]


def test_validate_json_through_python_m(run_cli: RunCli, write_yaml: Callable[..., str]) -> None:
    bad = write_yaml("profiles:\n- name: a\n  resouces: {}\n", "bad.yaml")
    result = run_cli("validate", "--format", "json", bad)
    assert result.returncode == 1
    assert json.loads(result.stdout)[0]["message"] == (
        f"{bad}: profile 'a': unknown key 'resouces' (did you mean 'resources'?)"
    )


def test_render_demo_command(run_cli: RunCli) -> None:
    """The README's ``make demo``: run from the checkout, as written there."""
    result = run_cli(*DEMO)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.startswith("apiVersion: v1\nkind: Pod\nmetadata:\n")
    pod = load_yaml(result.stdout)
    container = notebook(pod)
    env = {var["name"]: var for var in container["env"]}
    assert container["image"] == SPARK_IMAGE
    assert container["resources"] == {
        "requests": {"cpu": "1", "memory": "2Gi"},
        "limits": {"cpu": "2", "memory": "4Gi"},
    }
    assert env["SPARK_MASTER"] == {"name": "SPARK_MASTER", "value": "<hidden>"}
    assert env["AWS_SECRET_ACCESS_KEY"]["valueFrom"]["secretKeyRef"]["name"] == "notebook-s3-credentials"
    assert env["MEM_LIMIT"]["value"] == str(4 * 2**30)
    assert env["CPU_GUARANTEE"]["value"] == "1.0"
    assert pod["metadata"]["labels"]["team"] == "data-science"
    mount = {"name": "datasets", "mountPath": "/opt/app-root/src/datasets", "readOnly": True}
    assert mount in container["volumeMounts"]


def test_render_the_examples_custom_size_through_python_m(run_cli: RunCli) -> None:
    """The command of examples/profiles.yaml's header: values within the Custom size's ranges."""
    args = [
        "render",
        "examples/profiles.yaml",
        "--user",
        "alice",
        "--group",
        "data-science",
        "--size",
        "Custom",
    ]
    result = run_cli(*args, "--cpu", "12", "--memory", "40Gi")
    assert (result.returncode, result.stderr) == (0, "")
    container = notebook(load_yaml(result.stdout))
    assert container["resources"] == {
        "requests": {"cpu": "12", "memory": "40Gi"},
        "limits": {"cpu": "24", "memory": "80Gi"},
    }
    refused = run_cli(*args, "--gpu", "8")
    assert (refused.returncode, refused.stdout) == (1, "")
    assert refused.stderr == (
        "error: the hub would refuse this spawn for alice: "
        "size 'Custom': gpu '8' is out of range: choose 0 to 4\n"
    )


def test_render_refused_spawn_through_python_m(run_cli: RunCli, profiles_file: str) -> None:
    result = run_cli("render", profiles_file, "--user", "carol", "--size", "Huge")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        "error: the hub would refuse this spawn for carol: size: size 'Huge' is not available; "
        "choose one of: 'Default', 'Small'\n"
    )


def test_render_invalid_file_through_python_m(
    run_cli: RunCli, write_yaml: Callable[..., str], profiles_file: str
) -> None:
    bad = write_yaml("profiles:\n- name: a\n  resouces: {}\n", "bad.yaml")
    result = run_cli("render", profiles_file, bad, "--user", "alice")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.splitlines() == [
        f"{bad}:3:3: error: profile 'a': unknown key 'resouces' (did you mean 'resources'?)",
        f"error: {bad} is invalid: the hub would reject it and use none of it",
    ]


def test_explain_through_python_m(run_cli: RunCli, profiles_file: str) -> None:
    ok = run_cli("explain", profiles_file, "--user", "alice", "--image", "x/s2i-spark-notebook")
    assert ok.returncode == 0, ok.stderr
    assert "  + profile 'Spark'" in ok.stdout
    refused = run_cli("explain", profiles_file, "--user", "alice", "--size", "Large")
    assert refused.returncode == 1
    assert "size 'Large' is not available; choose one of: 'Default', 'Small'" in refused.stderr


def test_schema_through_python_m(run_cli: RunCli) -> None:
    result = run_cli("schema")
    assert result.returncode == 0
    assert json.loads(result.stdout) == load_schema()


def test_version_through_python_m(run_cli: RunCli) -> None:
    result = run_cli("--version")
    assert (result.returncode, result.stdout.strip()) == (0, f"profilespawner {__version__}")


def test_usage_errors_through_python_m(run_cli: RunCli, tmp_path: Path) -> None:
    no_user = run_cli("render", "x.yaml", cwd=tmp_path)
    assert no_user.returncode == 2
    assert "the following arguments are required: --user" in no_user.stderr
    no_command = run_cli(cwd=tmp_path)
    assert no_command.returncode == 2


def test_unreachable_cluster_through_python_m(run_cli: RunCli) -> None:
    """Exit 3 when the cluster cannot be asked; nothing listens at the offline kubeconfig's address."""
    result = run_cli("validate", "--configmaps", "--kubeconfig", offline_kubeconfig(), "--namespace", "hub")
    assert (result.returncode, result.stdout) == (3, "")
    assert result.stderr.startswith(
        "error: cannot ask the cluster: list hub/configmaps?metadata.name=jupyter-singleuser-profiles: "
        "no answer: "
    )


def test_verbose_shows_what_the_hub_logs_and_nothing_of_the_libraries(run_cli: RunCli) -> None:
    quiet = run_cli(*DEMO)
    loud = run_cli("-v", *DEMO, "--config", "examples/jupyterhub_config.py")
    assert quiet.returncode == loud.returncode == 0, loud.stderr
    assert quiet.stderr == ""
    lines = loud.stderr.splitlines()
    assert lines[0] == (
        "INFO: profilespawner: Loaded profile source examples/profiles.yaml "
        f"(version {content_version('examples/profiles.yaml')}): 4 profiles, 4 sizes, 2 GPU types"
    )
    assert any(line.startswith("INFO: profilespawner.spawner: Applying profiles 'globals'") for line in lines)
    # only profilespawner's own loggers: no traitlets, alembic, KubeSpawner or asyncio lines
    assert all(line.startswith(("INFO: profilespawner", "WARNING: profilespawner")) for line in lines), lines


#: What only render, explain and the cluster options need: seconds of imports
#: (KubeSpawner, JupyterHub and its database layer, the Kubernetes client), and
#: jsonschema's format libraries, which the profile schema does not use.
HEAVY = [
    "kubespawner",
    "jupyterhub",
    "sqlalchemy",
    "alembic",
    "kubernetes_asyncio",
    "aiohttp",
    "rfc3987_syntax",
]


def test_validate_imports_only_what_it_needs(run_cli: RunCli) -> None:
    probe = (
        "import sys; from profilespawner.cli import main; code = main(sys.argv[1:]); "
        f"print(code, sorted(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)"
    )
    for args in (
        ["validate", "examples/profiles.yaml", "--config", "examples/jupyterhub_config.py"],
        ["validate", "--format", "json", "tests/unit/data/jsp07/example-configmap.yaml"],
    ):
        proc = subprocess.run(
            [sys.executable, "-c", probe, *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert proc.stderr.strip().splitlines()[-1] == "0 []", proc.stderr[-2000:]


@pytest.mark.parametrize(
    "args",
    [
        DEMO,
        [*DEMO, "--show-values", "--config", "examples/jupyterhub_config.py"],
        ["explain", "examples/profiles.yaml", "--user", "alice", "--group", "data-science"],
        ["render", "examples/profiles.yaml", "--user", "alice", "--size", "Huge"],  # refused
    ],
    ids=["render", "render-values-config", "explain", "refused"],
)
def test_the_program_prints_what_main_prints_in_a_callers_process(
    run_cli: RunCli, cli: Callable[..., Result], args: list[str]
) -> None:
    """The program runs with the garbage collector set for its short life
    (profilespawner.tools.process); main in this process runs without: the
    same bytes out, the same exit status."""
    program = run_cli(*args)
    here = cli(*args)
    assert (program.returncode, program.stdout, program.stderr) == (here.returncode, here.stdout, here.stderr)
    assert program.stdout or program.returncode == 1


def test_the_program_sets_the_collector_and_the_hub_never_does() -> None:
    """The program: collector on again after its imports, which it froze. The
    hub: neither the command nor its process settings are imported."""
    program = (
        "import contextlib, gc, io, sys; from profilespawner.cli import program\n"
        f"sys.argv = ['profilespawner', *{DEMO!r}]\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    code = program()\n"
        "print(code, gc.isenabled(), gc.get_freeze_count() > 100_000)\n"
    )
    hub = (
        "import gc, sys, profilespawner\n"
        "for name in ('ProfileKubeSpawner', 'apply_pod_profile', 'options_form', 'enable_profiles_page'):\n"
        "    getattr(profilespawner, name)\n"
        "print(gc.isenabled(), gc.get_freeze_count(), "
        "sorted(m for m in ('profilespawner.cli', 'profilespawner.tools.process') if m in sys.modules))\n"
    )
    for code, expected in ((program, "0 True True"), (hub, "True 0 []")):
        proc = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
        )
        assert proc.stdout.strip() == expected, proc.stderr[-2000:]
