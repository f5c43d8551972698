"""Fixtures shared by every suite: the command run in process and as a
program, profile files in tmp_path, one SingleuserProfiles per test, and the
session's real control plane (integration and end-to-end suites)."""

from __future__ import annotations

import logging
import os
import re
import secrets
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from profilespawner import SingleuserProfiles
from profilespawner.cli import main
from profilespawner.sources import files as file_source
from tests.controlplane.harness import (
    BINARY_NAMES,
    BUILD_HINT,
    ControlPlane,
    binaries_dir,
    find_binaries,
    missing_binaries,
)
from tests.support import Result, RunCli, unavailable

ROOT = Path(__file__).resolve().parent.parent

#: A profile set that exercises every command: precedence, images, groups,
#: users, sizes for a group, a GPU profile and a GPU type.
EXAMPLE_PROFILES = """\
profiles:
- name: globals
  env:
  - {name: GREETING, value: "hello {username}"}
  - name: S3_SECRET
    valueFrom: {secretKeyRef: {name: team-s3, key: secret}}
  resources:
    requests: {cpu: 500m, memory: 1Gi, ephemeral-storage: 1Gi}
    limits: {cpu: "2", memory: 4Gi}
- name: Spark
  images: [s2i-spark-notebook]
  env:
  - {name: SPARK_MASTER, value: "spark://{username}-cluster:7077"}
  resources:
    requests: {cpu: 250m}
- name: Team
  groups: [data-science]
  labels: {team: ds}
  node_selector: {disktype: ssd}
- name: Bob only
  users: [bob]
  env: [{name: GREETING, value: "hi bob"}]
- name: GPU
  images: ["*-gpu-notebook"]
  gpu: 1
sizes:
- name: Small
  resources: {requests: {cpu: "1"}, limits: {cpu: "2"}}
- name: Large
  groups: [data-science]
  resources: {requests: {cpu: "4"}, limits: {cpu: "8"}}
gpuTypes:
- type: a100
  node_tolerations: [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}]
"""


@pytest.fixture
def cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., Result]]:
    """Run ``main(args)`` in process, from the checkout's root; the logging it
    configures is undone after the test."""
    monkeypatch.chdir(ROOT)
    loggers = {name: logging.getLogger(name).level for name in ("profilespawner", "traitlets")}

    def run(*args: str) -> Result:
        capsys.readouterr()
        try:
            code = main(list(args))
        except SystemExit as e:  # argparse
            code = int(e.code or 0)
        out, err = capsys.readouterr()
        return Result(code, out, err)

    yield run
    for name, level in loggers.items():
        logging.getLogger(name).setLevel(level)


@pytest.fixture
def run_cli() -> RunCli:
    """Run ``python -m profilespawner ARGS`` as a program, with this checkout importable."""

    def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        return subprocess.run(
            [sys.executable, "-m", "profilespawner", *args],
            cwd=cwd or ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    return run


@pytest.fixture
def write_yaml(tmp_path: Path) -> Callable[..., str]:
    """Write dedented YAML to a file in tmp_path; returns its path."""

    def write(text: str, name: str = "profiles.yaml") -> str:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        return str(path)

    return write


@pytest.fixture
def example_profiles() -> str:
    """:data:`EXAMPLE_PROFILES`, the command tests' profile set."""
    return EXAMPLE_PROFILES


@pytest.fixture
def profiles_file(write_yaml: Callable[..., str], example_profiles: str) -> str:
    """:data:`EXAMPLE_PROFILES` in a file."""
    return write_yaml(example_profiles)


@pytest.fixture(autouse=True)
def files_checked_at_every_spawn(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests edit profile files and spawn at once: the hub's default checks
    the files once a second (``SingleuserProfiles.file_check_interval``),
    these tests at every spawn. tests/unit/sources/test_files.py tests the
    interval itself."""
    monkeypatch.setattr(file_source, "CHECK_INTERVAL", 0.0)


@pytest.fixture
def fresh_profiles() -> Iterator[None]:
    """A process-wide SingleuserProfiles of the test's own (the suites that
    spawn in process use it for every test)."""
    SingleuserProfiles.clear_instance()
    yield
    SingleuserProfiles.clear_instance()


# -- the real control plane --------------------------------------------------------------
#
# ``control_plane`` (session): one ControlPlane for the whole session, or the
# cluster of ``PROFILESPAWNER_TEST_KUBECONFIG`` when that is set (plain
# ``KUBECONFIG`` is never used); ``restartable_control_plane`` skips the test
# on an existing cluster (it cannot be killed and restarted); ``namespace``: a
# fresh namespace per test, deleted after. Without binaries (kube-apiserver,
# kube-controller-manager, kube-scheduler, kubectl, etcd) the tests skip with
# a hint to run ``bash tests/controlplane/build.sh``; with
# ``PROFILESPAWNER_REQUIRE_K8S=1`` they fail instead.


@pytest.fixture(scope="session")
def control_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    workdir = tmp_path_factory.mktemp("controlplane")
    kubeconfig = os.environ.get("PROFILESPAWNER_TEST_KUBECONFIG")
    if kubeconfig:
        cp = ControlPlane.from_kubeconfig(kubeconfig, workdir=workdir)
        cp.wait_ready(timeout=30)
        yield cp
        return
    binaries = find_binaries()
    if binaries is None:
        unavailable(
            f"{', '.join(missing_binaries())} not found in {binaries_dir()}: {BUILD_HINT}, "
            "or set PROFILESPAWNER_CONTROLPLANE_DIR to a directory holding all of "
            f"{', '.join(BINARY_NAMES)}, or PROFILESPAWNER_TEST_KUBECONFIG to use an existing cluster"
        )
    with ControlPlane(workdir=workdir, binaries=binaries) as cp:
        yield cp


@pytest.fixture
def restartable_control_plane(control_plane: ControlPlane) -> ControlPlane:
    if not control_plane.can_restart:
        pytest.skip("PROFILESPAWNER_TEST_KUBECONFIG cluster: cannot kill/restart its apiserver")
    return control_plane


@pytest.fixture
def namespace(control_plane: ControlPlane, request: pytest.FixtureRequest) -> Iterator[str]:
    base = re.sub(r"[^a-z0-9-]+", "-", request.node.name.lower()).strip("-")
    name = f"it-{base[:45].strip('-')}-{secrets.token_hex(3)}"
    control_plane.create_namespace(name, labels={"profilespawner-test": "true"})
    try:
        yield name
    finally:
        control_plane.delete_namespace(name)
