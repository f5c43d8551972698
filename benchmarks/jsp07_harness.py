"""Benchmark worker for jupyterhub-singleuser-profiles 0.7 (its own virtualenv).

Run by ``benchmarks/run.py`` with ``benchmarks/.venv-jsp07/bin/python`` as
``jsp07_harness.py JOB.json RESULT.json``. Imports only the standard library,
jsp07 and what jsp07 itself depends on (the sync ``kubernetes`` client, PyYAML).

How jsp07 is driven, as a deployment of it does (its docs point at the
``modify_pod_hook`` of opendatahub's ``jupyterhub_config.py``):

- ``load_profiles()`` reads the ConfigMap ``jupyter-singleuser-profiles`` and
  then every ConfigMap labelled ``jupyterhub=singleuser-profiles``, sorted by
  name, and parses each with ``yaml.load``. Deployments call it on every spawn.
  Here the Kubernetes API is an in-memory stand-in that returns ready-made
  ``V1ConfigMap`` objects (no HTTP, no JSON decoding): jsp07's real cost per
  spawn is higher by the requests it makes (see B2). It is called without
  ``username``, which would add per-user ConfigMap, Secret and ImageStream reads.
- ``get_merged_profile(image, user, size)`` then ``apply_pod_profile(...)`` on
  the pod KubeSpawner built, as a sync-client ``V1Pod`` (a fresh one per call,
  prepared outside the timed region: jsp07 changes the pod in place).
- Sizes: jsp07 lists the cluster's nodes (an API request) for every size on
  every lookup; the stand-in returns one large node without a request.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import time
import tracemalloc
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import kubernetes
import yaml
from common import Budget, GcWatch, LagProbe, idle_window, lag_summary, measure, read_job, write_result

# jsp07 calls yaml.load(text) without a Loader, which PyYAML >= 6 rejects: the shim gives it SafeLoader.
yaml.load = lambda stream, Loader=yaml.SafeLoader, _load=yaml.load: _load(stream, Loader=Loader)

from jupyterhub_singleuser_profiles.openshift import OpenShift  # noqa: E402
from jupyterhub_singleuser_profiles.profiles import SingleuserProfiles  # noqa: E402

KEY = "jupyterhub-singleuser-profiles.yaml"
LABEL = "jupyterhub=singleuser-profiles"
DEFAULT_MOUNT_PATH = "/opt/app-root/src"
NAMESPACE = "bench"


class InMemoryCoreV1Api:
    """The two CoreV1Api calls ``OpenShift`` makes for profiles, from memory."""

    def __init__(self, documents: list[tuple[str, str]]) -> None:
        self.configmaps = {
            name: kubernetes.client.V1ConfigMap(
                metadata=kubernetes.client.V1ObjectMeta(name=name, namespace=NAMESPACE), data={KEY: text}
            )
            for name, text in documents
        }
        self.named = documents[0][0]
        self.requests = 0

    def list_namespaced_config_map(self, namespace: str, label_selector: str = "") -> Any:
        self.requests += 1
        assert label_selector == LABEL
        items = [cm for name, cm in self.configmaps.items() if name != self.named]
        return kubernetes.client.V1ConfigMapList(items=items)

    def read_namespaced_config_map(self, name: str, namespace: str) -> Any:
        self.requests += 1
        return self.configmaps[name]


def _openshift(core_api: Any, namespace: str = NAMESPACE) -> OpenShift:
    """jsp07's OpenShift wrapper without its constructor (which loads a kubeconfig
    and runs API discovery) and with one large node for the size checks."""
    openshift = OpenShift.__new__(OpenShift)
    openshift.namespace = namespace
    openshift.api_client = core_api
    openshift.oapi_client = None
    node = SimpleNamespace(
        status=SimpleNamespace(
            capacity={"cpu": "64", "memory": "256Gi"}, allocatable={"cpu": "63", "memory": "250Gi"}
        )
    )
    openshift.get_nodes = lambda: SimpleNamespace(items=[node])  # type: ignore[method-assign]
    return openshift


def _profiles(core_api: Any, namespace: str = NAMESPACE) -> SingleuserProfiles:
    profiles = SingleuserProfiles.__new__(SingleuserProfiles)
    profiles.profiles = []
    profiles.gpu_types = []
    profiles.sizes = []
    profiles.ui = {}
    profiles.gpu_mode = None
    profiles.openshift = _openshift(core_api, namespace)
    profiles.namespace = namespace
    return profiles


class Response:
    """What ``ApiClient.deserialize`` reads: an object with ``data``."""

    def __init__(self, data: str) -> None:
        self.data = data


class PodFactory:
    """Fresh sync-client V1Pods made from KubeSpawner's pod (API-server JSON)."""

    def __init__(self, pod_json: dict[str, Any]) -> None:
        self.text = json.dumps(pod_json)
        self.client = kubernetes.client.ApiClient()

    def __call__(self, n: int) -> list[Any]:
        return [self.client.deserialize(Response(self.text), "V1Pod") for _ in range(n)]


def _documents(job: dict[str, Any]) -> list[tuple[str, str]]:
    """(ConfigMap name, profiles YAML) in jsp07's reading order."""
    return [(name, Path(path).read_text()) for name, path in zip(job["names"], job["files"], strict=True)]


def _setup(job: dict[str, Any]) -> tuple[SingleuserProfiles, InMemoryCoreV1Api, PodFactory, dict[str, str]]:
    core_api = InMemoryCoreV1Api(_documents(job))
    profiles = _profiles(core_api)
    profiles.load_profiles(secret_name=job["names"][0], key_name=KEY)
    with open(job["pod"]) as f:
        pods = PodFactory(json.load(f))
    return profiles, core_api, pods, job["spawn"]


def _merge_and_apply(profiles: SingleuserProfiles, spawn: dict[str, str], pod: Any) -> Any:
    profile = profiles.get_merged_profile(spawn["image"], user=spawn["user"], size=spawn["size"])
    return SingleuserProfiles.apply_pod_profile(
        spawn["user"], pod, profile, profiles.get_gpu_types(), DEFAULT_MOUNT_PATH, None
    )


def _hook_as_deployed(profiles: SingleuserProfiles, names: list[str], spawn: dict[str, str], pod: Any) -> Any:
    profiles.load_profiles(secret_name=names[0], key_name=KEY)
    return _merge_and_apply(profiles, spawn, pod)


def job_b1(job: dict[str, Any]) -> dict[str, Any]:
    budget = Budget.from_json(job["budget"])
    profiles, core_api, pods, spawn = _setup(job)
    merged = profiles.get_merged_profile(spawn["image"], user=spawn["user"], size=spawn["size"])
    result: dict[str, Any] = {"matched_profiles": len([n for n in merged["name"].split(", ") if n])}
    result["merge_apply"] = measure(lambda pod: _merge_and_apply(profiles, spawn, pod), pods, budget)
    result["deployed"] = measure(
        lambda pod: _hook_as_deployed(profiles, job["names"], spawn, pod), pods, budget
    )
    before = core_api.requests
    profiles.load_profiles(secret_name=job["names"][0], key_name=KEY)
    result["api_requests_per_load"] = core_api.requests - before
    return result


async def _b3(job: dict[str, Any]) -> dict[str, Any]:
    profiles, _, pods, spawn = _setup(job)
    spawns = int(job["spawns"])
    hooks = {
        "merge_apply": lambda pod: _merge_and_apply(profiles, spawn, pod),
        "deployed": lambda pod: _hook_as_deployed(profiles, job["names"], spawn, pod),
    }
    result: dict[str, Any] = {"spawn_count": spawns}
    with GcWatch() as gcw:
        async with LagProbe() as probe:
            result["idle"] = await idle_window(probe, gcw, job["idle_seconds"])
            for name, hook in hooks.items():
                count = spawns if name == "merge_apply" else max(3, spawns // 10)
                prepared = pods(count)
                probe.mark()
                gcw.mark()
                for pod in prepared:
                    # KubeSpawner: pod = await maybe_future(self.modify_pod_hook(self, pod));
                    # a sync hook runs right here, on the event loop.
                    hook(pod)
                    await asyncio.sleep(0.003)
                result[name] = {**lag_summary(probe.window()), **gcw.window(), "spawns": count}
    return result


def job_b3(job: dict[str, Any]) -> dict[str, Any]:
    return asyncio.run(_b3(job))


def job_memory(job: dict[str, Any]) -> dict[str, Any]:
    core_api = InMemoryCoreV1Api(_documents(job))
    warm = _profiles(core_api)
    warm.load_profiles(secret_name=job["names"][0], key_name=KEY)
    del warm
    profiles = _profiles(core_api)
    gc.collect()
    tracemalloc.start()
    profiles.load_profiles(secret_name=job["names"][0], key_name=KEY)
    gc.collect()
    held, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    budget = Budget.from_json(job["budget"])
    load = measure(
        lambda _: profiles.load_profiles(secret_name=job["names"][0], key_name=KEY),
        lambda n: [None] * n,
        budget,
    )
    return {"held_bytes": held, "peak_bytes": peak, "load": load}


def job_b2(job: dict[str, Any]) -> dict[str, Any]:
    """``spawns`` spawns through the hook as deployed, against a real API server
    (the caller counts the requests); nothing else here makes a request."""
    kubernetes.config.load_kube_config(config_file=job["kubeconfig"])
    profiles = _profiles(kubernetes.client.CoreV1Api(), job["namespace"])
    with open(job["pod"]) as f:
        prepared = PodFactory(json.load(f))(int(job["spawns"]))
    spawn = job["spawn"]
    gc.collect()
    c0, w0 = time.process_time(), time.perf_counter()
    for pod in prepared:
        _hook_as_deployed(profiles, job["names"], spawn, pod)
    w1, c1 = time.perf_counter(), time.process_time()
    count = len(prepared)
    return {"spawns": count, "timing": {"cpu": (c1 - c0) / count, "wall": (w1 - w0) / count}}


JOBS = {"b1": job_b1, "b2": job_b2, "b3": job_b3, "memory": job_memory}


def main() -> None:
    job = read_job()
    start = time.perf_counter()
    result = JOBS[job["kind"]](job)
    result["seconds"] = time.perf_counter() - start
    result["python"] = sys.version.split()[0]
    write_result(result)


if __name__ == "__main__":
    main()
