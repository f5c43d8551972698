"""Run every benchmark and write the results table, the raw data and the plots.

    .venv/bin/python benchmarks/run.py            # everything (about ten minutes)
    .venv/bin/python benchmarks/run.py --smoke    # seconds: tiny sizes, no jsp07, no API server

Writes ``RESULTS.md`` (included in the docs), ``results.json`` and ``*.png``
to ``--out`` (default ``benchmarks/results``). Every measurement runs in a
fresh worker process: ``ours.py`` in this interpreter, ``jsp07_harness.py`` in
``benchmarks/.venv-jsp07``, which this script creates on first use from
``jsp07-requirements.txt`` (PyPI). Workers talk to nothing but loopback.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import importlib.metadata
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:0] = [str(HERE), str(REPO)]  # the workers' helpers; tests.controlplane, tests.e2e

import cli_wall  # noqa: E402
import profilegen  # noqa: E402
import report  # noqa: E402
from common import Budget  # noqa: E402

JSP07_VENV = HERE / ".venv-jsp07"
JSP07_REQUIREMENTS = HERE / "jsp07-requirements.txt"
FULL_SIZES = (10, 100, 1000)
FULL_SOURCES = (1, 10, 50)
BIG_DOCUMENT_BYTES = 1 << 20
PARTS = ("b1", "b3", "memory", "hotspots", "apiserver", "e2e", "cli")

OUR_PACKAGES = (
    "profilespawner",
    "jupyterhub-kubespawner",
    "kubernetes_asyncio",
    "jupyterhub",
    "traitlets",
    "ruamel.yaml",
    "ruamel.yaml.clib",
    "jsonschema",
    "matplotlib",
)
JSP07_PACKAGES = (
    "jupyterhub-singleuser-profiles",
    "kubernetes",
    "PyYAML",
    "pydantic",
    "openshift",
    "jupyterhub",
)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- the machine -----------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _git() -> str:
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--", "profilespawner"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + (" + uncommitted changes in profilespawner/" if dirty else "")


def _versions(names: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for name in names:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _when(machine: dict[str, Any]) -> str:
    """When a part was measured, and how busy the machine was then."""
    load = "/".join(f"{x:.1f}" for x in machine["load_before"])
    return f"{machine['date']} (load {load} at the start)"


def machine() -> dict[str, Any]:
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": affinity,
        "memory": _memory(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "packages": _versions(OUR_PACKAGES),
        "git": _git(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "load_before": os.getloadavg(),
    }


# -- workers ---------------------------------------------------------------------


class Workers:
    """Runs one job per process and collects its JSON result."""

    def __init__(self, workdir: Path, timeout: float) -> None:
        self.workdir = workdir
        self.timeout = timeout
        self.count = 0

    def run(self, python: Path | str, script: str, job: dict[str, Any]) -> dict[str, Any]:
        self.count += 1
        job_file = self.workdir / f"job-{self.count:03d}.json"
        result_file = self.workdir / f"result-{self.count:03d}.json"
        job_file.write_text(json.dumps(job))
        start = time.perf_counter()
        proc = subprocess.run(
            [str(python), str(HERE / script), str(job_file), str(result_file)],
            cwd=str(REPO),
            capture_output=True,
            text=True,
            timeout=self.timeout,
            env={**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), str(REPO)])},
        )
        if proc.returncode != 0:
            raise RuntimeError(f"{script} {job['kind']} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
        result: dict[str, Any] = json.loads(result_file.read_text())
        log(f"{script} {job['kind']} {job.get('label', '')}: {time.perf_counter() - start:.1f} s")
        return result


# -- jsp07's virtualenv -----------------------------------------------------------


def jsp07_python() -> Path:
    """The jsp07 virtualenv's interpreter, created or refreshed when the
    requirements changed (pip from PyPI; a few minutes the first time)."""
    python = JSP07_VENV / "bin" / "python"
    stamp = JSP07_VENV / "requirements.sha256"
    wanted = hashlib.sha256(JSP07_REQUIREMENTS.read_bytes()).hexdigest()
    if python.exists() and stamp.exists() and stamp.read_text().strip() == wanted:
        return python
    log(f"creating {JSP07_VENV.relative_to(REPO)} (jupyterhub-singleuser-profiles and its dependencies)")
    if JSP07_VENV.exists():
        shutil.rmtree(JSP07_VENV)
    subprocess.run([sys.executable, "-m", "venv", str(JSP07_VENV)], check=True)
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
            str(JSP07_REQUIREMENTS),
        ],
        check=True,
    )
    stamp.write_text(wanted + "\n")
    return python


def jsp07_versions(python: Path) -> dict[str, str]:
    code = (
        "import importlib.metadata as m, json, sys\n"
        "out = {}\n"
        "for n in sys.argv[1:]:\n"
        "    try: out[n] = m.version(n)\n"
        "    except m.PackageNotFoundError: out[n] = 'not installed'\n"
        "print(json.dumps(out))\n"
    )
    proc = subprocess.run(
        [str(python), "-c", code, *JSP07_PACKAGES], capture_output=True, text=True, check=True
    )
    versions: dict[str, str] = json.loads(proc.stdout)
    return versions


# -- the profile sets ----------------------------------------------------------------


def write_profile_sets(
    workdir: Path, sizes: list[int], sources: list[int]
) -> dict[tuple[int, int], dict[str, Any]]:
    """YAML files per (N, M), named like the ConfigMaps jsp07 reads (the named one first)."""
    cases = {}
    for n in sizes:
        for m in sources:
            if m > n:
                continue
            directory = workdir / f"N{n}-M{m}"
            directory.mkdir()
            names = profilegen.document_names(m)
            files = []
            for name, document in zip(names, profilegen.generate(n, m), strict=True):
                path = directory / f"{name}.yaml"
                path.write_bytes(profilegen.dump(document))
                files.append(str(path))
            cases[(n, m)] = {"n": n, "m": m, "names": names, "files": files}
    return cases


# -- main ------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--smoke", action="store_true", help="tiny sizes and budgets, for CI (no timing claims)"
    )
    parser.add_argument("--out", type=Path, default=HERE / "results", help="where to write the results")
    parser.add_argument("--jsp07", dest="jsp07", action="store_true", default=None, help="measure jsp07 too")
    parser.add_argument("--no-jsp07", dest="jsp07", action="store_false", help="do not measure jsp07")
    parser.add_argument(
        "--apiserver",
        dest="apiserver",
        action="store_true",
        default=None,
        help="measure B2/B5 against the test control plane (default: unless --smoke)",
    )
    parser.add_argument("--no-apiserver", dest="apiserver", action="store_false")
    parser.add_argument(
        "--e2e",
        dest="e2e",
        action="store_true",
        default=None,
        help="measure B4, concurrent spawns through a real hub (default: unless --smoke)",
    )
    parser.add_argument("--no-e2e", dest="e2e", action="store_false")
    parser.add_argument("--concurrent", type=int, default=100, help="spawns at once in B4 (default 100)")
    parser.add_argument("--sizes", type=int, nargs="+", help="profile counts N (default 10 100 1000)")
    parser.add_argument("--sources", type=int, nargs="+", help="source counts M (default 1 10 50)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (job files, YAML)")
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="only write RESULTS.md and the plots again from results.json",
    )
    parser.add_argument(
        "--only",
        nargs="+",
        choices=PARTS,
        help="run only these parts and keep the others from the results.json already in --out",
    )
    args = parser.parse_args(argv)
    if args.jsp07 is None:
        args.jsp07 = not args.smoke
    if args.apiserver is None:
        args.apiserver = not args.smoke
    if args.e2e is None:
        args.e2e = not args.smoke
    args.sizes = args.sizes or ([10] if args.smoke else list(FULL_SIZES))
    args.sources = args.sources or ([1] if args.smoke else list(FULL_SOURCES))
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.report_only:
        report.write(json.loads((args.out / "results.json").read_text()), args.out)
        return 0
    started = time.perf_counter()
    if args.smoke:
        budget = Budget(repeats=3, min_repeats=2, batch_seconds=0.005, max_seconds=0.5, warmup=1)
    else:
        budget = Budget(repeats=15, min_repeats=5, batch_seconds=0.05, max_seconds=6.0, warmup=3)
    results: dict[str, Any] = {
        "mode": "smoke" if args.smoke else "full",
        "machine": machine(),
        "budget": budget.__dict__,
        "spawn": profilegen.SPAWN.__dict__,
        "sizes": args.sizes,
        "sources": args.sources,
    }
    previous = args.out / "results.json"
    if args.only and previous.exists():
        kept = json.loads(previous.read_text())
        if kept.get("mode") != results["mode"]:
            raise SystemExit(f"{previous} is from a {kept.get('mode')} run; --only needs the same mode")
        for part in PARTS:
            if part not in args.only and part in kept:
                results[part] = kept[part]
        measured = kept.get("measured") or dict.fromkeys(PARTS, _when(kept["machine"]))
        results["measured"] = {p: d for p, d in measured.items() if p not in args.only}
    python_jsp07 = jsp07_python() if args.jsp07 else None
    if python_jsp07 is not None:
        results["machine"]["jsp07_packages"] = jsp07_versions(python_jsp07)

    workdir = Path(tempfile.mkdtemp(prefix="profilespawner-bench-"))
    try:
        run_all(results, workdir, args, budget, python_jsp07)
    finally:
        if args.keep:
            log(f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    results["machine"]["load_after"] = os.getloadavg()
    results["seconds"] = time.perf_counter() - started
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    report.write(results, args.out)
    log(f"wrote {args.out}/RESULTS.md in {results['seconds']:.0f} s")
    return 0


def run_all(
    results: dict[str, Any],
    workdir: Path,
    args: argparse.Namespace,
    budget: Budget,
    python_jsp07: Path | None,
) -> None:
    """Plan the jobs of the selected parts, run them, store their results in ``results``.

    jsp07 jobs run at once, each in its own process. Ours are queued: each gets
    its own process too, except with ``--smoke``, where they share one (an
    interpreter start costs more than a smoke job).
    """
    parts = set(args.only or PARTS)
    workers = Workers(workdir, timeout=900)
    queued: list[tuple[dict[str, Any], dict[str, Any], str]] = []

    def ours(job: dict[str, Any], into: dict[str, Any], key: str) -> None:
        queued.append((job, into, key))

    cases = write_profile_sets(workdir, args.sizes, args.sources)
    pod_file = workdir / "pod.json"
    if python_jsp07 is not None or "apiserver" in parts:
        pod_file.write_text(json.dumps(workers.run(sys.executable, "ours.py", {"kind": "pod"})["pod"]))
    spawn = profilegen.SPAWN.__dict__

    if "b1" in parts:
        results["b1"] = []
        for (n, m), case in sorted(cases.items()):
            row: dict[str, Any] = {"n": n, "m": m}
            job = {"kind": "b1", "label": f"N={n} M={m}", "files": case["files"], "budget": budget.__dict__}
            ours(job, row, "ours")
            if python_jsp07 is not None:
                row["jsp07"] = workers.run(
                    python_jsp07,
                    "jsp07_harness.py",
                    {**job, "names": case["names"], "pod": str(pod_file), "spawn": spawn},
                )
            results["b1"].append(row)

    n_big = max(args.sizes)
    m_mid = 10 if 10 in args.sources and n_big >= 10 else min(args.sources)
    big = workdir / "big.yaml"
    big.write_bytes(profilegen.generate_bytes(64 * 1024 if args.smoke else BIG_DOCUMENT_BYTES))
    case = cases[(n_big, m_mid)]
    b3_job = {
        "kind": "b3",
        "label": f"N={n_big} M={m_mid}",
        "files": case["files"],
        "names": case["names"],
        "pod": str(pod_file),
        "spawn": spawn,
        "spawns": 10 if args.smoke else 200,
        "idle_seconds": 0.2 if args.smoke else 2.0,
        "big_file": str(big),
        "reparses": 1 if args.smoke else 5,
        "big_spawns": 5 if args.smoke else 50,
    }
    mem_job = {**b3_job, "kind": "memory", "budget": budget.__dict__}
    for part, job in (("b3", b3_job), ("memory", mem_job)):
        if part in parts:
            results[part] = {"n": n_big, "m": m_mid}
            ours(job, results[part], "ours")
            if python_jsp07 is not None:
                results[part]["jsp07"] = workers.run(python_jsp07, "jsp07_harness.py", job)
    if "hotspots" in parts:
        results["hotspots"] = {"n": n_big, "m": m_mid}
        ours({**b3_job, "kind": "hotspots", "calls": 20 if args.smoke else 300}, results, "hotspots")

    if queued and args.smoke:
        many = {"kind": "many", "label": "(all in one process)", "jobs": [job for job, _, _ in queued]}
        outputs = workers.run(sys.executable, "ours.py", many)["results"]
    else:
        outputs = [workers.run(sys.executable, "ours.py", job) for job, _, _ in queued]
    for (_, into, key), output in zip(queued, outputs, strict=True):
        if key == "hotspots":
            into[key].update(output)
        else:
            into[key] = output

    if "apiserver" in parts:
        results["apiserver"] = (
            run_apiserver(workers, workdir, args, python_jsp07, pod_file)
            if args.apiserver
            else {"skipped": "--smoke or --no-apiserver"}
        )
    if "e2e" in parts:
        results["e2e"] = run_e2e(workers, workdir, args) if args.e2e else {"skipped": "--smoke or --no-e2e"}
    if "cli" in parts:
        # last: the other parts' workers have ended, and B4's hundred servers
        # with them; the goal is for an idle machine, so wait for the load to settle
        if not args.smoke:
            waited = _settle(max_load=1.0, timeout=300)
            log(f"B6: the command's wall time (waited {waited:.0f} s for the load to settle)")
        results["cli"] = cli_wall.measure_cli(1 if args.smoke else 10, imports=not args.smoke)
    results.setdefault("measured", {}).update(dict.fromkeys(parts, _when(results["machine"])))


def _settle(*, max_load: float, timeout: float) -> float:
    """Wait until the one-minute load average is at most ``max_load`` (at most
    ``timeout`` seconds); return the seconds waited."""
    started = time.monotonic()
    while os.getloadavg()[0] > max_load and time.monotonic() - started < timeout:
        time.sleep(5)
    return time.monotonic() - started


def run_e2e(workers: Workers, workdir: Path, args: argparse.Namespace) -> dict[str, Any]:
    """B4 through the end-to-end stack of the tests, when its pieces are there."""
    import importlib.util

    try:
        from tests.controlplane.harness import find_binaries
        from tests.e2e.stack import chp_path
    except ImportError as e:
        return {"skipped": f"the end-to-end stack (tests/e2e/stack.py) cannot be imported ({e})"}
    if find_binaries() is None:
        return {"skipped": "the control plane is not (wholly) built (run `make controlplane`)"}
    if chp_path() is None:
        return {"skipped": "configurable-http-proxy is not installed (`npm ci --prefix tests/e2e`)"}
    if importlib.util.find_spec("jupyter_server") is None:
        return {"skipped": "jupyter_server is not installed (`pip install -e '.[test,e2e]'`)"}
    n = 100 if 100 in args.sizes else max(args.sizes)
    m = 10 if 10 in args.sources and n >= 10 else min(args.sources)
    job = {
        "kind": "e2e",
        "label": f"{args.concurrent} spawns, N={n} M={m}",
        "n": n,
        "m": m,
        "spawns": args.concurrent,
        "timeout": 600,
        "workdir": str(workdir / "e2e"),
    }
    try:
        return workers.run(sys.executable, "e2e.py", job)
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        log(f"B4 failed: {e}")
        return {"failed": str(e)[-2000:]}


def run_apiserver(
    workers: Workers,
    workdir: Path,
    args: argparse.Namespace,
    python_jsp07: Path | None,
    pod_file: Path,
) -> dict[str, Any]:
    """B2 and B5 against the test control plane, when its pieces are there."""
    try:
        from tests.controlplane.harness import find_binaries
    except ImportError as e:
        return {"skipped": f"tests/controlplane/harness.py cannot be imported ({e})"}
    if find_binaries() is None:
        return {"skipped": "the control plane is not (wholly) built (run `make controlplane`)"}
    n = 100 if 100 in args.sizes else max(args.sizes)
    sources = sorted({1, 10} & set(args.sources)) or [min(args.sources)]
    job = {
        "kind": "apiserver",
        "label": f"N={n} M={sources}",
        "n": n,
        "sources": sources,
        "workdir": str(workdir / "controlplane"),
        "spawns": 50,
        "edits": 10,
        "pod": str(pod_file),
        "spawn": profilegen.SPAWN.__dict__,
        "jsp07_python": str(python_jsp07) if python_jsp07 else "",
    }
    try:
        return workers.run(sys.executable, "apiserver.py", job)
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        log(f"B2/B5 failed: {e}")
        return {"failed": str(e)[-2000:]}


if __name__ == "__main__":
    raise SystemExit(main())
