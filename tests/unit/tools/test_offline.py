"""profilespawner.tools.offline: the offline kubeconfig, one per process, gone when it exits,
its cluster's certificate authority its own."""

from __future__ import annotations

import base64
import json
import os
import ssl
import subprocess
import sys

from profilespawner.tools.offline import offline_kubeconfig


def test_one_kubeconfig_per_process_removed_at_exit() -> None:
    assert offline_kubeconfig() == offline_kubeconfig()
    assert os.path.isfile(offline_kubeconfig())
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os; from profilespawner.tools.offline import offline_kubeconfig as k; "
            "print(k()); assert os.path.isfile(k())",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    path = proc.stdout.strip()
    assert path.endswith(".kubeconfig") and path != offline_kubeconfig()
    assert not os.path.exists(path)


def test_the_client_trusts_the_offline_certificate_authority_alone() -> None:
    """One certificate, loaded instead of the system's CA store."""
    with open(offline_kubeconfig()) as f:
        (cluster,) = json.load(f)["clusters"]
    context = ssl.create_default_context(
        cadata=base64.b64decode(cluster["cluster"]["certificate-authority-data"]).decode()
    )
    assert context.cert_store_stats()["x509_ca"] == 1
