"""The benchmarks still run: ``benchmarks/run.py --smoke`` end to end.

No timing is checked here, only that every benchmark runs and the results
table comes out whole, so the benchmarks cannot rot between full runs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_smoke_run_writes_the_results_table(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "run.py"), "--smoke", "--out", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]

    table = (tmp_path / "RESULTS.md").read_text()
    for heading in (
        "## Machine",
        "## B1: CPU time per spawn",
        "## B3: event-loop stalls",
        "## Memory held by the loaded profile set",
        "## Hot spots of ours' profile step",
        "## B6: the command's wall time",
    ):
        assert heading in table
    assert "| 10 | 1 |" in table  # the B1 row of the smoke size
    assert f"CPython {sys.version.split()[0]}" in table

    results = json.loads((tmp_path / "results.json").read_text())
    assert results["mode"] == "smoke"
    (row,) = results["b1"]
    assert row["ours"]["static_equals_ours"], "the static baseline no longer builds ours' pod"
    assert row["ours"]["matched_profiles"] >= 1
    assert "breakdown" in row["ours"], row["ours"].get("breakdown_error")
    assert results["b3"]["ours"]["reparse"]["samples"] > 0
    assert results["memory"]["ours"]["held_bytes"] > 0
    commands = {row["name"]: row for row in results["cli"]["commands"]}
    assert {"validate", "render", "explain"} <= set(commands)
    assert all(row["min"] > 0 and row["cpu_min"] > 0 for row in commands.values())
