"""What a call from Python costs: `PolicySet.evaluate` per model card, against the same work in a Rust loop.

    maturin develop --release        # a release build of the extension; a debug build measures nothing useful
    python bench.py [--count 2000] [--passes 5]

The workload is the shared model-card benchmark (`../shared/bench/modelcard`, docs/performance.md): its
generator writes the cards, and `benches/workloads/modelcard.policy` holds its ten rules. Each card is
evaluated from its JSON text (parse + evaluate + report), four ways, interleaved card by card so the machine's
drift falls on all of them alike:

- native: the extension's Rust loop (`_evaluate_native`), no Python per card: the Rust figure;
- text:   `ps.evaluate(text, name="card.json")` from Python: native + crossing into Python and back;
- +read:  the same, then reading every finding's rule and message (what a caller does with the report);
- dict:   `ps.evaluate(card_dict)`: the dict is converted to JSON text first.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import vigil

REPO = Path(__file__).resolve().parents[2]


def cards(count: int):
    workload = Path(os.environ.get("VIGIL_BENCH_WORKLOAD", REPO.parent / "shared" / "bench" / "modelcard"))
    if not (workload / "generate.py").exists():
        sys.exit(f"no workload at {workload} (set VIGIL_BENCH_WORKLOAD)")
    out = Path(tempfile.mkdtemp(prefix="vigil-bench-"))
    subprocess.run([sys.executable, str(workload / "generate.py"), "--count", str(count), "--out", str(out), "--no-yaml"], check=True, capture_output=True)
    return [line for line in (out / "docs.jsonl").read_text().splitlines() if line]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--passes", type=int, default=5)
    args = ap.parse_args()
    texts = cards(args.count)
    dicts = [json.loads(t) for t in texts]
    ps = vigil.compile([REPO / "benches" / "workloads" / "modelcard.policy"], builtin=False)
    findings = sum(len(ps.evaluate(t, name="card.json").findings) for t in texts)

    def text(i):
        ps.evaluate(texts[i], name="card.json")

    def read(i):
        for f in ps.evaluate(texts[i], name="card.json").findings:
            f.rule, f.message

    def as_dict(i):
        ps.evaluate(dicts[i], kind="ModelCard")

    ways = {"text": text, "+read": read, "dict": as_dict}
    times = {name: [] for name in ["native", *ways]}
    for p in range(args.passes + 1):
        native = ps._evaluate_native(texts, "card.json")
        for i in range(len(texts)):
            for name, fn in ways.items():
                start = time.perf_counter_ns()
                fn(i)
                if p:  # the first pass warms up
                    times[name].append(time.perf_counter_ns() - start)
        if p:
            times["native"].extend(native)
    native = statistics.median(times["native"]) / 1000
    print(f"{len(texts)} cards, {findings} findings, {args.passes} passes, vigil {vigil.__version__}, Python {sys.version.split()[0]}")
    print("| way | median / card | p99 / card | cards/s | overhead over native (median) |")
    print("|---|---:|---:|---:|---:|")
    for name, samples in times.items():
        samples.sort()
        med = statistics.median(samples) / 1000
        p99 = samples[int(len(samples) * 0.99)] / 1000
        rate = 1e9 / statistics.mean(samples)
        over = "–" if name == "native" else f"+{med - native:.1f} µs ({med / native:.2f}×)"
        print(f"| {name} | {med:.1f} µs | {p99:.1f} µs | {rate:,.0f} | {over} |")


if __name__ == "__main__":
    main()
