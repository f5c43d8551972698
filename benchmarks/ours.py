"""Benchmark worker for profilespawner and plain KubeSpawner (the dev virtualenv).

Run by ``benchmarks/run.py`` as ``python benchmarks/ours.py JOB.json RESULT.json``;
one process per job, so that no measurement inherits another's heap. Jobs:

``pod``
    KubeSpawner's own pod for the measured spawn, as API-server JSON (the input
    every implementation starts from; jsp07 gets it as a sync-client ``V1Pod``).
``b1``
    CPU time per spawn with the profile set loaded from files and cached:
    the profile step (``profilespawner.apply_pod_profile``, the hook and
    ``ProfileKubeSpawner`` run the same code) warm (its resolution cached) and
    cold (resolved afresh), ``ProfileKubeSpawner.get_pod_manifest``
    whole, plain ``KubeSpawner.get_pod_manifest`` with the same result hard-coded
    (the floor), and a breakdown of the profile step.
``b3``
    Longest event-loop stall while spawns run the profile step, and while a
    spawn finds a large file source changed and has it re-parsed.
``memory``
    Memory held by a loaded profile set (tracemalloc), and the one-off time to
    parse and validate it.
``hotspots``
    cProfile of the profile step: where its time goes.

INFO logging is off in every run: a log line costs tens of microseconds in any
implementation and would only blur what is measured.
"""

from __future__ import annotations

import asyncio
import cProfile
import gc
import logging
import os
import pstats
import re
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

from common import (
    Budget,
    GcWatch,
    LagProbe,
    idle_window,
    lag_summary,
    measure,
    measure_async,
    read_job,
    write_result,
)
from kubespawner import KubeSpawner
from profilegen import SPAWN
from traitlets.config import Config

import profilespawner
from profilespawner import ProfileKubeSpawner, SingleuserProfiles
from profilespawner.tools.offline import offline_spawner

REPO = Path(__file__).resolve().parent.parent


def _quiet() -> None:
    for name in ("profilespawner", "traitlets", "kubespawner", "asyncio"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _config(files: list[str], file_check_interval: float | None = None) -> Config:
    config = Config()
    config.SingleuserProfiles.files = files
    if file_check_interval is not None:
        config.SingleuserProfiles.file_check_interval = file_check_interval
    config.SingleuserProfiles.configmap_name = ""
    config.SingleuserProfiles.label_selector = ""
    return config


def _spawner(spawner_class: type[Any], config: Config) -> Any:
    spawner = offline_spawner(
        spawner_class,
        user=SPAWN.user,
        image=SPAWN.image,
        user_options={"size": SPAWN.size},
        config=config,
    )
    spawner.log.setLevel(logging.WARNING)
    return spawner


async def _profiles(
    files: list[str], file_check_interval: float | None = None
) -> tuple[Any, SingleuserProfiles, Any]:
    """A ProfileKubeSpawner, its loaded SingleuserProfiles, and KubeSpawner's own pod
    (the files checked as the hub checks them, once a second, unless told)."""
    SingleuserProfiles.clear_instance()
    spawner = _spawner(ProfileKubeSpawner, _config(files, file_check_interval))
    profiles = SingleuserProfiles.instance(config=spawner.config)
    profiles.log.setLevel(logging.WARNING)
    base_pod = await KubeSpawner.get_pod_manifest(spawner)
    await profilespawner.apply_pod_profile(spawner, base_pod)  # loads and caches every source
    return spawner, profiles, base_pod


# -- pod ------------------------------------------------------------------------


async def job_pod(job: dict[str, Any]) -> dict[str, Any]:
    from profilespawner.kubemodel import to_json

    spawner = _spawner(KubeSpawner, Config())
    pod = await spawner.get_pod_manifest()
    return {"pod": to_json(pod)}


# -- b1 -------------------------------------------------------------------------


def _static_config(base: dict[str, Any], final: dict[str, Any]) -> Config:
    """KubeSpawner settings that make its own pod equal to ``final`` (ours)."""

    def notebook(pod: dict[str, Any]) -> dict[str, Any]:
        return next(c for c in pod["spec"]["containers"] if c["name"] == "notebook")

    base_c, final_c = notebook(base), notebook(final)
    config = Config()
    ks = config.KubeSpawner
    base_env = {e["name"]: e for e in base_c.get("env") or []}
    environment: dict[str, Any] = {}
    for var in final_c.get("env") or []:
        if base_env.get(var["name"]) == var:
            continue
        environment[var["name"]] = var["value"] if "value" in var else {"valueFrom": var["valueFrom"]}
    ks.environment = environment
    resources = final_c.get("resources") or {}
    ks.extra_resource_limits = dict(resources.get("limits") or {})
    ks.extra_resource_guarantees = dict(resources.get("requests") or {})
    spec = final["spec"]
    ks.tolerations = list(spec.get("tolerations") or [])
    ks.node_selector = dict(spec.get("nodeSelector") or {})
    node_affinity = (spec.get("affinity") or {}).get("nodeAffinity") or {}
    required = node_affinity.get("requiredDuringSchedulingIgnoredDuringExecution") or {}
    ks.node_affinity_required = list(required.get("nodeSelectorTerms") or [])
    ks.node_affinity_preferred = list(
        node_affinity.get("preferredDuringSchedulingIgnoredDuringExecution") or []
    )
    base_volumes = {v["name"] for v in base["spec"].get("volumes") or []}
    ks.volumes = [v for v in spec.get("volumes") or [] if v["name"] not in base_volumes]
    base_mounts = {m["name"] for m in base_c.get("volumeMounts") or []}
    ks.volume_mounts = [m for m in final_c.get("volumeMounts") or [] if m["name"] not in base_mounts]
    ks.extra_labels = {
        k: v
        for k, v in (final["metadata"].get("labels") or {}).items()
        if base["metadata"]["labels"].get(k) != v
    }
    # KubeSpawner expands {placeholders} in annotation values; the provenance
    # record's JSON holds braces that are literal.
    ks.extra_annotations = {
        k: v.replace("{", "{{").replace("}", "}}")
        for k, v in (final["metadata"].get("annotations") or {}).items()
    }
    return config


def _normalized(pod: dict[str, Any]) -> dict[str, Any]:
    """Compare pods regardless of env order (KubeSpawner sorts its own)."""
    for container in pod["spec"]["containers"]:
        container["env"] = sorted(container.get("env") or [], key=lambda e: e["name"])
    return pod


async def job_b1(job: dict[str, Any]) -> dict[str, Any]:
    from profilespawner.apply import apply_resolution
    from profilespawner.kubemodel import to_json
    from profilespawner.resolve import resolve

    budget = Budget.from_json(job["budget"])
    spawner, profiles, base_pod = await _profiles(job["files"])
    result: dict[str, Any] = {}

    async def profile_step() -> None:
        await profilespawner.apply_pod_profile(spawner, base_pod)

    # Warm: a user and image seen before (the resolution cached). Cold: the
    # first spawn of a user, as if every spawn were someone's first: the
    # resolution cache emptied before each one (internal name; see below).
    result["ours_step"] = await measure_async(profile_step, budget)

    async def cold_step() -> None:
        profiles._resolutions.clear()
        await profilespawner.apply_pod_profile(spawner, base_pod)

    result["ours_cold"] = await measure_async(cold_step, budget)
    result["ours_full"] = await measure_async(spawner.get_pod_manifest, budget)

    resolution = await profiles.resolve(spawner)
    result["matched_profiles"] = len(resolution.profiles)
    base_json = to_json(base_pod)
    final_json = to_json(await profilespawner.apply_pod_profile(spawner, base_pod))
    result["final_env_vars"] = len(
        next(c for c in final_json["spec"]["containers"] if c["name"] == "notebook")["env"]
    )

    static = _spawner(KubeSpawner, _static_config(base_json, final_json))
    static_json = to_json(await static.get_pod_manifest())
    result["static_equals_ours"] = _normalized(static_json) == _normalized(dict(final_json))
    result["static"] = await measure_async(static.get_pod_manifest, budget)

    # Where the profile step's time goes. Internal names: a refactoring may
    # move them, which must not break the run (the figures above stay valid).
    try:
        profile_set = await profiles.load_profiles(spawner)
        expand = spawner._expand_user_properties
        groups: list[str] = []

        async def sources() -> None:
            await profiles.load_profiles(spawner)

        async def resolve_cached() -> None:
            await profiles.resolve(spawner)

        breakdown = {"sources": await measure_async(sources, budget)}
        breakdown["resolve"] = measure(
            lambda _: resolve(
                profile_set, user=SPAWN.user, groups=groups, image=SPAWN.image, size=SPAWN.size
            ),
            lambda n: [None] * n,
            budget,
        )
        breakdown["resolve_cached"] = await measure_async(resolve_cached, budget)
        # on KubeSpawner's own V1Pod, as the spawn does (no JSON round trip)
        breakdown["apply_resolution"] = measure(
            lambda _: apply_resolution(base_pod, resolution, expand=expand), lambda n: [None] * n, budget
        )
        result["breakdown"] = breakdown
    except Exception as e:  # reported in the results, not fatal
        result["breakdown_error"] = f"{type(e).__name__}: {e}"
    return result


# -- b3 -------------------------------------------------------------------------


async def job_b3(job: dict[str, Any]) -> dict[str, Any]:
    spawner, _, base_pod = await _profiles(job["files"])
    spawns = int(job["spawns"])
    result: dict[str, Any] = {"spawn_count": spawns}
    with GcWatch() as gcw:
        async with LagProbe() as probe:
            result["idle"] = await idle_window(probe, gcw, job["idle_seconds"])
            probe.mark()
            gcw.mark()
            for _ in range(spawns):
                await profilespawner.apply_pod_profile(spawner, base_pod)
                await asyncio.sleep(0.003)  # let the probe run between spawns
            result["spawns"] = {**lag_summary(probe.window()), **gcw.window()}

        # A spawn that finds a large file source changed: it re-reads and
        # re-parses the file in a worker thread while the probe samples the loop.
        # Every spawn checks the file here: each is the one that comes after
        # the hub's check interval.
        big = job["big_file"]
        spawner, _, base_pod = await _profiles([big], file_check_interval=0.0)
        stalls: list[float] = []
        durations: list[float] = []
        async with LagProbe() as probe:
            gcw.mark()
            for i in range(int(job["reparses"])):
                stat = os.stat(big)
                os.utime(big, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000 * (i + 1)))
                probe.mark()
                start = time.perf_counter()
                await profilespawner.apply_pod_profile(spawner, base_pod)
                durations.append(time.perf_counter() - start)
                stalls.extend(probe.window())
                await asyncio.sleep(0.02)
            result["reparse"] = {**lag_summary(stalls), **gcw.window()}
    result["reparse_spawn_seconds"] = sorted(durations)
    result["reparse_bytes"] = (await asyncio.to_thread(os.stat, big)).st_size

    # Spawns with the large set loaded, each a user's first (the resolution
    # cache emptied): how long each holds the loop, and the collector's
    # passes meanwhile, which walk the whole process (KubeSpawner's and
    # JupyterHub's modules included), not only the profile set.
    profiles = SingleuserProfiles.instance()
    async with LagProbe() as probe:
        gcw.mark()
        probe.mark()
        holds: list[float] = []
        result["big_spawns"] = int(job.get("big_spawns", 50))
        for _ in range(result["big_spawns"]):
            profiles._resolutions.clear()
            start = time.perf_counter()
            await profilespawner.apply_pod_profile(spawner, base_pod)
            holds.append(time.perf_counter() - start)
            await asyncio.sleep(0.003)
        result["big_cold"] = {**lag_summary(probe.window()), **gcw.window()}
    result["big_cold_spawn_seconds"] = {"max": max(holds), "median": sorted(holds)[len(holds) // 2]}
    result["big_matched"] = len((await profiles.resolve(spawner)).profiles)
    result["full_collection_seconds"] = {"with_set": _full_collection()}
    SingleuserProfiles.clear_instance()
    del spawner, profiles, base_pod
    result["full_collection_seconds"]["without_set"] = _full_collection()
    return result


def _full_collection() -> float:
    """The shortest of five full collections of this process, in seconds."""
    times = []
    for _ in range(5):
        start = time.perf_counter()
        gc.collect()
        times.append(time.perf_counter() - start)
    return min(times)


# -- memory ---------------------------------------------------------------------


async def job_memory(job: dict[str, Any]) -> dict[str, Any]:
    from profilespawner.apply import apply_resolution
    from profilespawner.model import ProfileSet
    from profilespawner.parse import parse_document
    from profilespawner.resolve import ResolutionCache
    from profilespawner.sources.files import FileSource

    log = logging.getLogger("profilespawner")
    # Warm up once on the same files, so that lazily built module-level caches
    # (the compiled schema, regexes, the thread pool) are not counted.
    await FileSource(job["files"], default_mount_path="/opt/app-root/src", log=log).profile_sets()
    gc.collect()
    source = FileSource(job["files"], default_mount_path="/opt/app-root/src", log=log)
    base_pod = await _spawner(KubeSpawner, Config()).get_pod_manifest()
    tracemalloc.start()
    profile_set = ProfileSet.combine(await source.profile_sets())
    gc.collect()
    held, peak = tracemalloc.get_traced_memory()
    # With the caches a hub fills: a resolution per recent spawn (as many as
    # the cache keeps by default), each applied once, with what applying
    # keeps on it.
    cache = ResolutionCache(SingleuserProfiles.class_traits()["resolution_cache_size"].default_value)
    for i in range(cache.maxsize):
        resolution = cache.resolve(
            profile_set, user=f"user-{i:04d}", groups=[], image=SPAWN.image, size=SPAWN.size
        )
        apply_resolution(base_pod, resolution, expand=str)
    gc.collect()
    held_with_caches = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    texts = await asyncio.to_thread(lambda: [Path(p).read_bytes() for p in job["files"]])

    def parse_all(_: object) -> None:
        for path, text in zip(job["files"], texts, strict=True):
            parse_document(text, source=path)

    budget = Budget.from_json(job["budget"])
    return {
        "held_bytes": held,
        "held_with_caches_bytes": held_with_caches,
        "cached_resolutions": len(cache),
        "peak_bytes": peak,
        "yaml_bytes": sum(len(t) for t in texts),
        "load": measure(parse_all, lambda n: [None] * n, budget),
    }


# -- hotspots -------------------------------------------------------------------


async def job_hotspots(job: dict[str, Any]) -> dict[str, Any]:
    spawner, _, base_pod = await _profiles(job["files"])
    profiler = cProfile.Profile()
    calls = int(job["calls"])
    profiler.enable()
    for _ in range(calls):
        await profilespawner.apply_pod_profile(spawner, base_pod)
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = stats.total_tt  # type: ignore[attr-defined]
    rows = []
    for (filename, line, name), (_, ncalls, tottime, cumtime, _) in stats.stats.items():  # type: ignore[attr-defined]
        where = _short_path(filename)
        rows.append(
            {
                "function": f"{where}:{line}({name})" if where else name,
                "calls_per_spawn": ncalls / calls,
                "self_share": tottime / total,
                "cumulative_share": cumtime / total,
            }
        )
    top = int(job.get("top", 15))
    return {
        "by_self": sorted(rows, key=lambda r: -r["self_share"])[:top],
        "by_cumulative": sorted(rows, key=lambda r: -r["cumulative_share"])[: top * 2],
        "calls": calls,
        "profiled_seconds_per_spawn": total / calls,
    }


def _short_path(filename: str) -> str:
    if filename == "~":  # a builtin
        return ""
    if match := re.search(r"/lib/python3\.\d+/(?:site-packages/)?(.*)$", filename):
        return match[1]
    try:
        return str(Path(filename).resolve().relative_to(REPO))
    except ValueError:
        return filename


async def job_many(job: dict[str, Any]) -> dict[str, Any]:
    """Several jobs in this one process (smoke runs: one interpreter start, not five)."""
    return {"results": [await JOBS[j["kind"]](j) for j in job["jobs"]]}


JOBS = {
    "pod": job_pod,
    "b1": job_b1,
    "b3": job_b3,
    "memory": job_memory,
    "hotspots": job_hotspots,
    "many": job_many,
}


def main() -> None:
    _quiet()
    job = read_job()
    result = asyncio.run(JOBS[job["kind"]](job))
    result["python"] = sys.version.split()[0]
    write_result(result)


if __name__ == "__main__":
    main()
