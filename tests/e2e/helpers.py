"""What the end-to-end hub holds -- its users, its profile ConfigMaps and
Secret, the canaries no log may contain -- and helpers its tests share."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .stack import LocalStack

#: user -> JupyterHub groups; each test uses its own users.
USERS = {
    "dana": ["data-science"],  # REST spawn with the team profile
    "eve": [],  # forged sizes
    "frank": [],  # ConfigMap edits
    "gina": ["data-science"],  # broken ConfigMap
    "hal": [],  # browser
    "pat": ["data-science"],  # provenance
    # placement on the Nodes of tests/e2e/nodes.yaml (test_placement.py)
    "ivy": ["placement"],
    "jay": ["placement"],
    "kim": ["placement"],
    "lou": ["placement"],
    "max": ["placement"],
    "ned": ["placement"],
    "ora": ["placement"],
    # custom sizes (SPEC §9)
    "pia": ["custom-sizes"],  # browser
    "quinn": ["custom-sizes"],  # REST spawn with values picked
    "rita": ["custom-sizes"],  # forged values
}

#: KubeSpawner.start_timeout of the stack's hub: a spawn that cannot start fails after it.
START_TIMEOUT = 30

CONFIGMAP_KEY = "jupyterhub-singleuser-profiles.yaml"
PROFILE_LABEL = {"jupyterhub": "singleuser-profiles"}

BASE_PROFILES = """\
profiles:
- name: everyone
  env:
  - {name: SITE, value: e2e}
  - name: POD_NAME
    valueFrom: {fieldRef: {fieldPath: metadata.name}}
  resources:
    requests: {cpu: 100m, memory: 256Mi}
    limits: {cpu: 500m, memory: 512Mi}
sizes:
- name: Small
  resources: {requests: {cpu: 250m, memory: 512Mi}, limits: {cpu: "1", memory: 1Gi}}
- name: Medium
  resources: {requests: {cpu: "1", memory: 2Gi}, limits: {cpu: "2", memory: 4Gi}}
- name: Large
  groups: [data-science]
  resources: {requests: {cpu: "4", memory: 16Gi}, limits: {cpu: "8", memory: 32Gi}}
"""

TEAM_PROFILES = """\
profiles:
- name: data science
  groups: [data-science]
  env:
  - {name: TEAM, value: data-science}
  - {name: TEAM_TOKEN, value: "@PROFILE_CANARY@"}
  - name: AWS_SECRET_ACCESS_KEY
    valueFrom: {secretKeyRef: {name: team-s3, key: secret-key}}
  envFrom:
  - configMapRef: {name: ds-settings}
  resources:
    requests: {cpu: 500m, memory: 1Gi}
    limits: {cpu: "2", memory: 2Gi}
"""

#: A size whose resources the user picks within ranges (SPEC §9).
CUSTOM_PROFILES = """\
sizes:
- name: Custom
  groups: [custom-sizes]
  ranges:
    cpu: {min: 500m, max: "4", default: "1"}
    memory: {min: 1Gi, max: 8Gi, default: 2Gi}
    gpu: {min: 0, max: 1, default: 0}
  limit_factor: 2
"""

#: Sizes that place servers on the Nodes of tests/e2e/nodes.yaml, and GPU types
#: that go with its GPU pools' taints (as docs/howto/gpu.md sets them up).
PLACEMENT_PROFILES = """\
sizes:
- name: GPU
  description: one GPU, of the type picked
  groups: [placement]
  gpu: 1
  resources: {requests: {cpu: "1", memory: 4Gi}, limits: {cpu: "4", memory: 16Gi}}
- name: Four GPUs
  groups: [placement]
  gpu: 4
- name: SSD
  groups: [placement]
  node_selector: {disktype: ssd}
- name: Zone B
  groups: [placement]
  node_affinity:
    requiredDuringSchedulingIgnoredDuringExecution:
      nodeSelectorTerms:
      - matchExpressions:
        - {key: topology.kubernetes.io/zone, operator: In, values: [zone-b]}
- name: GPU node, no GPU
  groups: [placement]
  node_selector: {nvidia.com/gpu.present: "true"}
- name: Larger than any node
  groups: [placement]
  resources: {requests: {cpu: "128", memory: 256Gi}, limits: {cpu: "128", memory: 256Gi}}
gpuTypes:
- type: a100
  description: NVIDIA A100
  node_tolerations:
  - {key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}
  - {key: example.com/gpu-model, operator: Equal, value: a100, effect: NoSchedule}
- type: t4
  description: NVIDIA T4
  node_tolerations:
  - {key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}
  - {key: example.com/gpu-model, operator: Equal, value: t4, effect: NoSchedule}
"""

#: Generated per session; it only ever appears in an assertion's comparison.
S3_SECRET = secrets.token_urlsafe(24)
#: Credential-like values written into a profile and into a ConfigMap the pod
#: reads with envFrom: no log may ever contain them.
PROFILE_CANARY = secrets.token_urlsafe(18)
CONFIGMAP_CANARY = secrets.token_urlsafe(18)
TEAM_PROFILES = TEAM_PROFILES.replace("@PROFILE_CANARY@", PROFILE_CANARY)


def configmap(name: str, profiles: str, *, labelled: bool = True) -> dict[str, Any]:
    """A profile ConfigMap manifest (labelled unless ``labelled`` is false)."""
    metadata: dict[str, Any] = {"name": name}
    if labelled:
        metadata["labels"] = dict(PROFILE_LABEL)
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": {CONFIGMAP_KEY: profiles}}


MANIFESTS = [
    configmap("jupyter-singleuser-profiles", BASE_PROFILES, labelled=False),
    configmap("profiles-data-science", TEAM_PROFILES),
    configmap("profiles-placement", PLACEMENT_PROFILES),
    configmap("profiles-custom", CUSTOM_PROFILES),
    {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "ds-settings"},
        "data": {"MLFLOW_TRACKING_URI": "http://mlflow.example:5000", "MLFLOW_TOKEN": CONFIGMAP_CANARY},
    },
    {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "team-s3"},
        "stringData": {"secret-key": S3_SECRET},
    },
]


def process_environment(pid: int) -> dict[str, str]:
    """The environment a process started with, from ``/proc/<pid>/environ``."""
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    pairs = (entry.decode().partition("=") for entry in raw.split(b"\0") if entry)
    return {name: value for name, _, value in pairs}


def notebook_resources(pod: dict[str, Any]) -> dict[str, Any]:
    container = next(c for c in pod["spec"]["containers"] if c["name"] == "notebook")
    return dict(container.get("resources") or {})


def wait_until(what: str, check: Callable[[], bool], timeout: float = 20.0) -> None:
    """Poll ``check`` (state outside this process: a log, a watch cache)."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def log_in(page: Any, stack: LocalStack, user: str) -> None:
    """Log ``user`` in to the hub of ``stack`` in the browser ``page`` (Playwright)."""
    page.goto(f"{stack.url}/hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", stack.password)
    page.click("#login_submit")
    page.wait_for_url(re.compile(r"/hub/(home|spawn)"))
