"""Benchmark worker for B4: concurrent spawns through a real JupyterHub.

Run by ``benchmarks/run.py`` as ``python benchmarks/e2e.py JOB.json RESULT.json``.
Uses the end-to-end stack of the tests (``tests/e2e/stack.py``: control plane
with its scheduler and controller-manager, the test kubelet playing the Nodes
of ``benchmarks/nodes.yaml``, JupyterHub with ``ProfileKubeSpawner``,
configurable-http-proxy; every address on loopback) with the generated profile
set in ConfigMaps, and the volumes its profiles mount.

``spawns`` users ask for their server at the same time through the hub's REST
API (size ``Medium``) and follow its progress until ready. Measured: each
spawn's time from request to ready, how many failed, the ConfigMap requests the
API server counted meanwhile (B2 under load), and the hub's own event-loop lag:
the hub configuration starts a probe task in the hub process (sleeps 1 ms,
writes every lateness above 2 ms to a file) and records the garbage
collector's pauses; and, from the hub's ``/hub/metrics``, profilespawner's own
``profilespawner_resolve_duration_seconds`` (the profile step of each spawn,
wall time inside the loaded hub). Then every server is stopped.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from apiserver import KEY, LABELS, configmap_requests, delta
from common import lag_summary, read_job, write_result
from profilegen import SPAWN, VOLUMES, document_names, dump, generate

from tests.e2e.stack import LocalStack

NODES = Path(__file__).resolve().parent / "nodes.yaml"
NAMESPACE = "bench"

PROBE = """
# -- benchmarks/e2e.py: event-loop lag probe and GC watch in the hub process ----
import asyncio as _asyncio, gc as _gc, time as _time

_bench_out = open({path!r}, "a", buffering=1)
_bench_gc_start = [0.0]


def _bench_gc(phase, info):
    if phase == "start":
        _bench_gc_start[0] = _time.perf_counter()
    else:
        pause = _time.perf_counter() - _bench_gc_start[0]
        if pause > 0.002:
            _bench_out.write(f"gc {{_time.time():.6f}} {{pause:.6f}}\\n")


_gc.callbacks.append(_bench_gc)


async def _bench_lag_probe():
    while True:
        start = _time.perf_counter()
        await _asyncio.sleep(0.001)
        late = _time.perf_counter() - start - 0.001
        if late > 0.002:
            _bench_out.write(f"lag {{_time.time():.6f}} {{late:.6f}}\\n")


try:
    _asyncio.get_running_loop().create_task(_bench_lag_probe())
except RuntimeError:  # no loop yet: start with the hub's
    _asyncio.get_event_loop().call_soon(lambda: _asyncio.ensure_future(_bench_lag_probe()))
c.KubeSpawner.start_timeout = 900
c.KubeSpawner.http_timeout = 900
c.JupyterHub.concurrent_spawn_limit = 1000
c.JupyterHub.log_level = "WARN"
c.JupyterHub.authenticate_prometheus = False  # the run reads /hub/metrics (loopback only)
"""


def manifests(n: int, m: int) -> list[dict[str, Any]]:
    """The profile ConfigMaps, and the Secrets their ``secretKeyRef`` variables name
    (the test kubelet resolves them as a kubelet does, and waits for missing ones)."""
    documents = generate(n, m)
    secrets: dict[str, set[str]] = {}
    for document in documents:
        for profile in document["profiles"]:
            for var in profile.get("env", []):
                ref = var.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    secrets.setdefault(ref["name"], set()).add(ref["key"])
    configmaps = [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name, "labels": LABELS if i else {}},
            "data": {KEY: dump(document).decode()},
        }
        for i, (name, document) in enumerate(zip(document_names(m), documents, strict=True))
    ]
    return (
        configmaps
        + [
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": name},
                "stringData": dict.fromkeys(sorted(keys), "not-a-secret"),
            }
            for name, keys in sorted(secrets.items())
        ]
        + volumes()
    )


def volumes() -> list[dict[str, Any]]:
    """A bound claim for each volume the generated profiles mount: the scheduler
    places no pod whose claim is missing or unbound (nothing mounts them)."""
    objects: list[dict[str, Any]] = []
    for name in VOLUMES:
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolume",
                "metadata": {"name": f"{NAMESPACE}-{name}"},
                "spec": {
                    "capacity": {"storage": "1Ti"},
                    "accessModes": ["ReadOnlyMany"],
                    "nfs": {"server": "nfs.example.com", "path": f"/exports/{name}", "readOnly": True},
                    "claimRef": {"namespace": NAMESPACE, "name": name},
                },
            }
        )
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {"name": name},
                "spec": {
                    "accessModes": ["ReadOnlyMany"],
                    "storageClassName": "",
                    "resources": {"requests": {"storage": "1Ti"}},
                },
            }
        )
    return objects


def histogram(metrics: str, name: str) -> dict[str, Any]:
    """A Prometheus histogram from ``/hub/metrics``: cumulative buckets, sum, count."""
    buckets: dict[str, float] = {}
    total = count = 0.0
    for line in metrics.splitlines():
        if line.startswith(f"{name}_bucket{{"):
            le = line.split('le="', 1)[1].split('"', 1)[0]
            buckets[le] = float(line.rsplit(" ", 1)[1])
        elif line.startswith(f"{name}_sum"):
            total = float(line.rsplit(" ", 1)[1])
        elif line.startswith(f"{name}_count"):
            count = float(line.rsplit(" ", 1)[1])
    return {"buckets": buckets, "sum": total, "count": count}


def hub_metrics(stack: LocalStack) -> str:
    with urllib.request.urlopen(f"{stack.url}/hub/metrics", timeout=30) as response:
        return str(response.read().decode())


def spawn_one(stack: LocalStack, user: str, go: threading.Event, timeout: float) -> dict[str, Any]:
    go.wait()
    start = time.time()
    status, body = stack.api("POST", f"/users/{user}/server", {"size": SPAWN.size}, timeout=timeout)
    if status not in (201, 202):
        return {"user": user, "start": start, "error": f"HTTP {status}: {str(body)[:200]}"}
    try:
        stack.wait_for_server(user, timeout=timeout)
    except Exception as e:  # reported, not fatal: the other spawns go on
        return {"user": user, "start": start, "error": f"{type(e).__name__}: {str(e)[:300]}"}
    return {"user": user, "start": start, "ready": time.time()}


def stop_one(stack: LocalStack, user: str) -> str | None:
    try:
        stack.stop_server(user, timeout=300)
    except Exception as e:  # reported
        return f"{user}: {type(e).__name__}: {str(e)[:200]}"
    return None


def run(job: dict[str, Any]) -> dict[str, Any]:
    workdir = Path(job["workdir"])
    workdir.mkdir(parents=True, exist_ok=True)
    lag_file = workdir / "hub-lag.txt"
    count = int(job["spawns"])
    users = {f"bench-{i:03d}": [] for i in range(count)}
    result: dict[str, Any] = {"spawns": count, "n": job["n"], "m": job["m"]}
    started = time.perf_counter()
    with LocalStack(
        workdir / "stack",
        namespace=NAMESPACE,
        topology=NODES,
        manifests=manifests(job["n"], job["m"]),
        users=users,
        image=SPAWN.image,
        extra_config=PROBE.format(path=str(lag_file)),
        hub_timeout=120,
    ) as stack:
        result["stack_start_seconds"] = time.perf_counter() - started
        assert stack.control_plane is not None
        cp = stack.control_plane
        go = threading.Event()
        before = configmap_requests(cp.metrics())
        with ThreadPoolExecutor(max_workers=count) as pool:
            futures = [pool.submit(spawn_one, stack, user, go, job["timeout"]) for user in users]
            t0 = time.time()
            go.set()
            outcomes = [f.result() for f in futures]
        t1 = time.time()
        result["configmap_requests"] = delta(before, configmap_requests(cp.metrics()))
        ready = [o for o in outcomes if "ready" in o]
        result["latencies"] = sorted(o["ready"] - o["start"] for o in ready)
        result["errors"] = [f"{o['user']}: {o['error']}" for o in outcomes if "error" in o]
        result["all_ready_seconds"] = (max(o["ready"] for o in ready) - t0) if ready else None
        metrics = hub_metrics(stack)
        result["resolve_duration"] = histogram(metrics, "profilespawner_resolve_duration_seconds")
        lags, pauses = [], []
        if lag_file.exists():
            for line in lag_file.read_text().splitlines():
                kind, when, seconds = line.split()
                if t0 <= float(when) <= t1:
                    (lags if kind == "lag" else pauses).append(float(seconds))
        window = max(t1 - t0, 1e-9)
        result["hub_lag"] = {
            **lag_summary(lags),
            "over_10ms": float(sum(1 for x in lags if x > 0.010)),
            "over_100ms": float(sum(1 for x in lags if x > 0.100)),
            "stalled_share": sum(lags) / window,
            "gc_max_pause": max(pauses, default=0.0),
            "gc_seconds": sum(pauses),
        }
        result["load_average_after"] = os.getloadavg()
        with ThreadPoolExecutor(max_workers=min(count, 50)) as pool:
            stop_errors = [e for e in pool.map(lambda u: stop_one(stack, u), users) if e]
        result["stop_errors"] = stop_errors[:10]
    result["seconds"] = time.perf_counter() - started
    return result


def main() -> None:
    job = read_job()
    result = run(job)
    result["python"] = sys.version.split()[0]
    write_result(result)


if __name__ == "__main__":
    main()
