"""``make demo``: JupyterHub with profilespawner on a local cluster, until Ctrl-C.

Starts (see :class:`tests.e2e.stack.LocalStack`) the control plane (etcd,
kube-apiserver, kube-controller-manager, kube-scheduler), the Nodes of
``tests/e2e/nodes.yaml`` (CPU nodes, an SSD node, an A100 and a T4 GPU pool)
played by the test kubelet, namespace ``demo`` with the ConfigMaps and the
Secret of ``examples/configmaps.yaml`` and the volume the example profiles
mount, and a hub at http://127.0.0.1:8000 configured by
``examples/jupyterhub_config.py`` (profiles from ``examples/profiles.yaml``,
then the ConfigMaps), plus what a laptop needs: users with one shared
password, a choice of three images, every address on loopback. Prints what to
open, how to log in, and a kubeconfig for the kubectl built with the control
plane, to watch where the scheduler puts each server; Ctrl-C (or SIGTERM)
stops everything.

Run from the repository root: ``python -m tests.e2e.demo [--port 8000]``.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.controlplane.harness import (
    BUILD_HINT,
    ControlPlane,
    ControlPlaneError,
    find_binaries,
    missing_binaries,
)

from .stack import CHP_HINT, REPO_ROOT, LocalStack, NodeSet, StackError, chp_path, load_manifests

__all__ = ["DEMO_USERS", "demo_stack", "demo_storage", "main"]

EXAMPLES = REPO_ROOT / "examples"
NAMESPACE = "demo"
PASSWORD = "profiles-demo"

#: user -> JupyterHub groups, as the example profiles use them.
DEMO_USERS = {
    "alice": ["data-science"],
    "bob": ["analytics"],
    "carol": [],
}

#: Where a server lands: JupyterLab (the e2e extra installs it), whose
#: terminal shows what the profiles gave the server (``env``). Said outright,
#: not left to jupyterhub-singleuser's search for a UI extension.
LANDING = """
c.Spawner.default_url = "/lab"
"""

#: Three images to pick from, so that the image-matched profiles of
#: examples/profiles.yaml can be seen ("Spark"; "GPU notebooks", which sends
#: the server to a GPU node); the test kubelet runs the same local
#: jupyterhub-singleuser for all three.
IMAGE_CHOICE = """
c.KubeSpawner.profile_list = [
    {
        "display_name": "Minimal notebook",
        "slug": "minimal",
        "default": True,
        "kubespawner_override": {"image": "quay.io/thoth-station/s2i-minimal-notebook:3.6"},
    },
    {
        "display_name": "Spark notebook",
        "slug": "spark",
        "kubespawner_override": {"image": "quay.io/thoth-station/s2i-spark-notebook:3.6"},
    },
    {
        "display_name": "TensorFlow notebook (GPU)",
        "slug": "tensorflow-gpu",
        "kubespawner_override": {"image": "quay.io/thoth-station/s2i-tensorflow-gpu-notebook:latest"},
    },
]
"""


def demo_storage(namespace: str) -> list[dict[str, Any]]:
    """The claim ``shared-datasets`` that the "globals" profile of
    examples/profiles.yaml mounts, and a read-only volume reserved for it (the
    controller-manager binds them; the scheduler places no pod whose claim is
    unbound). The test kubelet mounts nothing, so the NFS export is never reached."""
    return [
        {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": f"{namespace}-shared-datasets"},
            "spec": {
                "capacity": {"storage": "100Gi"},
                "accessModes": ["ReadOnlyMany"],
                "persistentVolumeReclaimPolicy": "Retain",
                "nfs": {"server": "nfs.example.com", "path": "/exports/datasets", "readOnly": True},
                "claimRef": {"namespace": namespace, "name": "shared-datasets"},
            },
        },
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "shared-datasets"},
            "spec": {
                "accessModes": ["ReadOnlyMany"],
                "storageClassName": "",
                "resources": {"requests": {"storage": "100Gi"}},
            },
        },
    ]


def demo_stack(
    workdir: Path,
    *,
    port: int = 8000,
    password: str = PASSWORD,
    control_plane: ControlPlane | None = None,
    nodes: NodeSet | None = None,
    namespace: str = NAMESPACE,
) -> LocalStack:
    """The demo's stack (not started): examples/ configuration, users, ConfigMaps
    and the volume they mount; the Nodes of ``nodes`` (a running NodeSet of
    ``control_plane``) or, without, of tests/e2e/nodes.yaml."""
    return LocalStack(
        workdir,
        control_plane=control_plane,
        nodes=nodes,
        namespace=namespace,
        manifests=[*load_manifests(EXAMPLES / "configmaps.yaml"), *demo_storage(namespace)],
        users=DEMO_USERS,
        password=password,
        port=port,
        base_config=str(EXAMPLES / "jupyterhub_config.py"),
        extra_config=IMAGE_CHOICE + LANDING,
    )


def _instructions(stack: LocalStack) -> str:
    width = max(len(user) for user in DEMO_USERS)
    users = "\n".join(
        f"    {user:<{width}}  groups: {', '.join(groups) or '(none)'}" for user, groups in DEMO_USERS.items()
    )
    assert stack.control_plane is not None and stack.nodes is not None
    binaries = find_binaries()
    kubectl = str(binaries.kubectl) if binaries else "kubectl"
    return f"""
JupyterHub with profilespawner is running.

  Open      {stack.url}/
  Log in as one of these users, password: {stack.password}
{users}

  The spawn form offers three images, the sizes each user may pick, and a GPU
  type, which matters for the GPU image (it gets a GPU). The server opens in
  JupyterLab: in a terminal (File > New > Terminal), `env` shows the variables
  the profiles set, `echo $MEM_LIMIT` what the size gave. Profiles come from
  examples/profiles.yaml, then the ConfigMaps of examples/configmaps.yaml in
  namespace "{stack.namespace}". Edit a ConfigMap while the hub runs; the next
  server start uses it.

  The cluster: its nodes are those of tests/e2e/nodes.yaml (CPU nodes, an SSD
  node, A100 and T4 GPU pools); kube-scheduler places each server, the test
  kubelet runs it as a local process. See where each one lands:

    export KUBECONFIG={stack.control_plane.kubeconfig_path}
    alias kubectl={kubectl}
    kubectl get nodes -L node.kubernetes.io/instance-type,nvidia.com/gpu.product
    kubectl get pods -n {stack.namespace} -o wide
    kubectl get events -n {stack.namespace} --field-selector involvedObject.kind=Pod
    kubectl edit -n {stack.namespace} configmap jupyter-singleuser-profiles

  Logs: {stack.hub_log}
        {stack.nodes.log}
        {stack.nodes.pods_dir}/*/container.log
        {stack.control_plane.workdir}/kube-*.log

Ctrl-C stops everything.
"""


def main(argv: list[str] | None = None) -> int:
    """Run the demo until Ctrl-C; 1 if a part could not start."""
    parser = argparse.ArgumentParser(prog="python -m tests.e2e.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000, help="the hub's port on 127.0.0.1 (default: 8000)")
    parser.add_argument("--password", default=PASSWORD, help=f"the users' password (default: {PASSWORD})")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs) at the end")
    args = parser.parse_args(argv)

    missing = []
    if find_binaries() is None:
        missing.append(f"{', '.join(missing_binaries())}: {BUILD_HINT} (make controlplane)")
    if chp_path() is None:
        missing.append(f"configurable-http-proxy: {CHP_HINT}")
    if missing:
        print("Cannot start the demo; missing:\n  " + "\n  ".join(missing), file=sys.stderr)
        return 1

    # SIGTERM ends the demo like Ctrl-C does.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started in the background
    workdir = Path(tempfile.mkdtemp(prefix="profilespawner-demo-"))
    print(f"Starting the control plane, the nodes and JupyterHub (work directory {workdir}) ...")
    try:
        with demo_stack(workdir, port=args.port, password=args.password) as stack:
            print(_instructions(stack), flush=True)
            try:
                while True:
                    signal.pause()
            except KeyboardInterrupt:
                print("\nStopping: servers, JupyterHub, the nodes, the control plane ...", flush=True)
    except KeyboardInterrupt:
        print("\nInterrupted while starting; stopped.", file=sys.stderr)
        return 130
    except (StackError, ControlPlaneError) as error:
        print(f"The demo could not start: {error}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print(f"Logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print("Stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
