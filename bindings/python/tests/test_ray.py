"""The Ray Data example (examples/ray/scan.py) on a local Ray: its findings equal `policy check`'s.

Skips, saying so, when Ray Data is not installed (`pip install "ray[data]"`).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

ray = pytest.importorskip("ray", reason="Ray is not installed: pip install 'ray[data]' to run the Ray example test")
pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow is not installed (it comes with ray[data])")

SCAN = REPO / "examples" / "ray" / "scan.py"
KEYS = ["rule", "title", "severity", "cause", "message", "file", "document", "kind", "line", "column",
        "end_line", "end_column", "pointer", "controls", "remediation", "waived", "fingerprint"]


def normalise(rows):
    out = [tuple(json.dumps(r.get(k), sort_keys=True) for k in KEYS) for r in rows]
    return sorted(out)


@pytest.mark.parametrize("fmt", ["parquet", "json"])
def test_ray_scan_finds_what_policy_check_finds(hub, tmp_path, policy_bin, fmt):
    listing = tmp_path / "listing.txt"
    env = {**os.environ, "RAY_ENABLE_UV_RUN_RUNTIME_ENV": "0", "RAY_USAGE_STATS_ENABLED": "0"}
    listed = subprocess.run([sys.executable, str(SCAN), "list", str(hub)], capture_output=True, text=True, check=True)
    listing.write_text(listed.stdout)
    assert len(listed.stdout.splitlines()) == 7
    out = tmp_path / "out"
    scan = subprocess.run(
        [sys.executable, str(SCAN), "scan", str(listing), "--root", str(hub), "--out", str(out),
         "--format", fmt, "--now", "2026-12-01", "--workers", "2", "--repos-per-batch", "1", "--partitions", "2", "--num-cpus", "4"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300,
    )
    assert scan.returncode == 0, scan.stderr[-4000:]
    if fmt == "parquet":
        rows = pq.read_table(out).to_pylist()
    else:
        rows = [json.loads(line) for f in sorted(out.iterdir()) if f.suffix == ".json" for line in f.read_text().splitlines() if line]
    cli = subprocess.run(
        [policy_bin, "check", "--no-config", "--format", "json", "--now", "2026-12-01", "--root", str(hub), str(hub)],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert cli.returncode == 2, cli.stderr
    expected = json.loads(cli.stdout)
    findings = [r for r in rows if r["type"] == "finding"]
    assert len(findings) == expected["summary"]["findings"] == 29
    assert normalise(findings) == normalise(expected["findings"])
    errors = sorted((r["file"], r["line"], r["column"], r["message"]) for r in rows if r["type"] == "error")
    assert errors == sorted((e["file"], e["line"], e["column"], e["message"]) for e in expected["errors"])
    assert {r["repo"] for r in findings} == {"acme-classifier", "beta-tagger", "gamma-serving"}
