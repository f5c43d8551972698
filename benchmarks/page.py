"""Benchmark: how long the profiles page (``/hub/profiles``) takes with N profiles and P servers.

Run from the repository root::

    .venv/bin/python benchmarks/page.py [--profiles 1000] [--sources 10] [--servers 200]

It starts the end-to-end stack of the tests (control plane, the test kubelet,
JupyterHub with ``ProfileKubeSpawner`` and the page enabled) with the
generated profile set of ``profilegen.py`` in ConfigMaps, and creates P
notebook pods in the API server that no scheduler places (they stay Pending,
and KubeSpawner's pod reflector holds them as it holds running ones); half of
them record the sources' current versions, half an older one (stale). An
admin logs in, and the page is fetched ``--requests`` times each: the whole
page, its live part (``?part=live``: sources and servers, what the page's
script fetches every half second), its merged set (``?part=merged``), and
the page with a preview answered. Measured: the time JupyterHub logs for each
request (inside the hub: handler, profile set, reflector, Jinja) and the
time the client waited; the sizes of the answers. Prints a table and writes
``--out`` (JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import statistics
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from e2e import manifests  # noqa: E402
from profilegen import SPAWN, document_names  # noqa: E402

from tests.e2e.stack import LocalStack  # noqa: E402

NODES = HERE / "nodes.yaml"
ADMIN = "root"
ADMIN_PASSWORD = secrets.token_urlsafe(32)
EXTRA_CONFIG = f"""
import profilespawner
profilespawner.enable_profiles_page(c)
c.Authenticator.admin_users = {{{ADMIN!r}}}
c.SharedPasswordAuthenticator.admin_password = {ADMIN_PASSWORD!r}
"""


def notebook_pod(index: int, sources: list[dict[str, str]], profiles: list[str]) -> dict[str, Any]:
    user = f"user-{index:04d}"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"jupyter-{user}",
            "labels": {"component": "singleuser-server", "app": "jupyterhub"},
            "annotations": {
                "hub.jupyter.org/username": user,
                "hub.jupyter.org/servername": "",
                "profilespawner/profiles": json.dumps(profiles),
                "profilespawner/size": SPAWN.size,
                "profilespawner/sources": json.dumps(sources),
            },
        },
        # No scheduler has this name: the pod stays Pending, in the API server only.
        "spec": {
            "schedulerName": "profilespawner-bench-none",
            "containers": [{"name": "notebook", "image": SPAWN.image}],
        },
    }


class Browser:
    """A logged-in admin in Chromium (Debian's, through Playwright, as the e2e tests)."""

    def __init__(self, url: str) -> None:
        from playwright.sync_api import sync_playwright

        self.url = url
        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox"]
        )
        self.page = self._browser.new_page()

    def log_in(self, user: str, password: str) -> None:
        self.page.goto(f"{self.url}/hub/login")
        self.page.fill("#username_input", user)
        self.page.fill("#password_input", password)
        self.page.click("#login_submit")
        self.page.wait_for_url(re.compile(r"/hub/(home|spawn)"))

    def get(self, path: str, etag: str | None = None) -> tuple[float, bytes, str]:
        """(seconds waited, body, ETag); with ``etag``, the answer must be 304."""
        headers = {"If-None-Match": etag} if etag else {}
        started = time.perf_counter()
        response = self.page.request.get(f"{self.url}{path}", headers=headers, timeout=120_000)
        body = response.body()
        waited = time.perf_counter() - started
        assert response.status == (304 if etag else 200), (path, response.status)
        return waited, body, response.headers.get("etag", "")

    def close(self) -> None:
        self._browser.close()
        self._playwright.stop()


def hub_times(log: Path, path: str, status: str = "200") -> list[float]:
    """Seconds JupyterHub logged for ``GET path`` (its request log: ``200 GET ... 12.3ms``)."""
    pattern = re.compile(status + r" GET " + re.escape(path) + r" \(" + ADMIN + r"@[^)]*\) ([0-9.]+)ms")
    return [float(m.group(1)) / 1000 for m in pattern.finditer(log.read_text(errors="replace"))]


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median": statistics.median(ordered),
        "p90": ordered[max(0, round(0.9 * len(ordered)) - 1)],
        "max": ordered[-1],
    }


def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    result: dict[str, Any] = {"profiles": args.profiles, "sources": args.sources, "servers": args.servers}
    with LocalStack(
        workdir / "stack",
        topology=NODES,
        manifests=manifests(args.profiles, args.sources),
        users={"bench-user": []},  # an allow list, as deployments have
        image=SPAWN.image,
        extra_config=EXTRA_CONFIG,
        hub_timeout=120,
    ) as stack:
        assert stack.control_plane is not None
        cp = stack.control_plane
        current = []
        for name in document_names(args.sources):
            configmap = stack.get("ConfigMap", name)
            assert configmap is not None
            current.append(
                {"source": f"{stack.namespace}/{name}", "version": configmap["metadata"]["resourceVersion"]}
            )
        older = [{**current[0], "version": "1"}, *current[1:]]
        for index in range(args.servers):
            pod = notebook_pod(index, current if index % 2 else older, ["globals", f"profile-{index:05d}"])
            status, body = cp.request("POST", f"/api/v1/namespaces/{stack.namespace}/pods", pod)
            assert status == 201, (status, body)

        browser = Browser(stack.url)
        try:
            measure(browser, stack, args, result)
        finally:
            browser.close()
    return result


def measure(browser: Browser, stack: LocalStack, args: argparse.Namespace, result: dict[str, Any]) -> None:
    """Log in as the admin and fetch each part of the page ``args.requests`` times."""
    browser.log_in(ADMIN, ADMIN_PASSWORD)
    # The first view starts the ConfigMap watch and KubeSpawner's pod reflector.
    deadline = time.monotonic() + 120
    while True:
        _, live, _ = browser.get("/hub/profiles?part=live")
        if live.count(b'class="ps-server ') >= args.servers and b"ps-state-valid" in live:
            break
        assert time.monotonic() < deadline, "the page never showed every server"
        time.sleep(0.5)
    _, merged, _ = browser.get("/hub/profiles?part=merged")
    assert merged.count(b"<tr>") >= args.profiles, "the merged set is not whole"

    preview = "/hub/profiles?" + urllib.parse.urlencode(
        {"user": SPAWN.user, "image": SPAWN.image, "size": SPAWN.size, "groups": "x"}
    )
    live = "/hub/profiles?part=live"
    paths = {
        "page": ("/hub/profiles", False),
        "live part": (live, False),
        "live part, unchanged": (live, True),
        "merged part": ("/hub/profiles?part=merged", False),
        "page with a preview": (preview, False),
    }
    result["parts"] = {}
    for label, (path, unchanged) in paths.items():
        status = "304" if unchanged else "200"
        logged_before = len(hub_times(stack.hub_log, path, status))
        waits, size = [], 0
        for _ in range(args.requests):
            # "unchanged": what the page's script asks every half second, with
            # the ETag of the live part it has (fetched just before: the ages
            # move on every AGE_STEP seconds)
            etag = browser.get(path)[2] if unchanged else None
            waited, body, _ = browser.get(path, etag)
            waits.append(waited)
            size = len(body)
        time.sleep(0.5)  # the hub's log line follows its answer
        logged = hub_times(stack.hub_log, path, status)[logged_before:]
        if unchanged:
            logged = logged[: args.requests]
        result["parts"][label] = {
            "path": path,
            "bytes": size,
            "hub_seconds": summary(logged) if logged else None,
            "client_seconds": summary(waits),
        }
    result["stale_shown"] = browser.get(live)[1].count(b'class="ps-server ps-stale"')
    result["load_average_after"] = os.getloadavg()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=1000, help="N profiles (default 1000)")
    parser.add_argument("--sources", type=int, default=10, help="over M ConfigMaps (default 10)")
    parser.add_argument("--servers", type=int, default=200, help="P notebook pods (default 200)")
    parser.add_argument("--requests", type=int, default=20, help="requests per part (default 20)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "page.json")
    parser.add_argument("--keep", type=Path, help="work (and leave the logs) in this directory")
    args = parser.parse_args()
    load_before = os.getloadavg()
    if args.keep:
        result = run(args, args.keep)
    else:
        with tempfile.TemporaryDirectory(prefix="bench-page-") as workdir:
            result = run(args, Path(workdir))
    result["load_average_before"] = load_before
    result["cpus"] = os.cpu_count()
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"N = {args.profiles} profiles over {args.sources} ConfigMaps, {args.servers} servers")
    print(f"{'':22}{'hub median':>12}{'hub p90':>10}{'client median':>15}{'bytes':>10}")
    for label, part in result["parts"].items():
        hub = part["hub_seconds"]
        # JupyterHub logs a 304 at debug level only: no hub time for it
        median, p90 = (f"{hub['median'] * 1000:.0f}ms", f"{hub['p90'] * 1000:.0f}ms") if hub else ("-", "-")
        print(
            f"{label:22}{median:>12}{p90:>10}"
            f"{part['client_seconds']['median'] * 1000:>13.0f}ms{part['bytes']:>10}"
        )
    after = result["load_average_after"]
    print(f"stale servers shown: {result['stale_shown']}; load average {load_before} -> {after}")


if __name__ == "__main__":
    main()
