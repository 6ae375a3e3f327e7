#!/usr/bin/env python3
"""Compare Vigil's artifact inspector with picklescan, file by file, and time both.

Usage:
    compare_picklescan.py POLICY_BINARY [CORPUS_DIR] [--loops N]

POLICY_BINARY is Vigil's `policy` (cargo build --release; target/release/policy);
CORPUS_DIR defaults to ../shared/corpus/artifacts/pickles (skipped when absent). A second comparison
runs on PyTorch checkpoints shaped like real models that scripts/checkpoints.py writes to a temporary
folder (N/20 loops over them). Run it with a Python
that has picklescan installed (`python3 -m venv .venv && .venv/bin/pip install picklescan`).

Safety: picklescan, like Vigil, only disassembles bytes (pickletools.genops); no
file is ever unpickled or loaded here.

Verdicts compared:
  picklescan: "dangerous" when it reports dangerous globals (issues_count > 0),
              "suspicious" for only suspicious globals, "error" when it raised,
              "clean" otherwise.
  vigil:      the document's `verdict` (dangerous / suspicious / uninspected / clean).
A row agrees when both say dangerous or neither does. Every file picklescan flags
must be flagged by Vigil; files only Vigil flags are explained below the table.
"""

import io
import json
import logging
import os
import subprocess
import sys
import tempfile
import time

import checkpoints  # scripts/checkpoints.py

try:
    from picklescan.scanner import SafetyLevel, scan_file_path
except ImportError:  # pragma: no cover - environment problem, not a finding
    sys.exit("picklescan is not installed in this Python (pip install picklescan)")

DEFAULT_CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "corpus", "artifacts", "pickles")


def picklescan_verdict(path):
    """(verdict, dangerous globals, suspicious globals) from picklescan's API."""
    try:
        res = scan_file_path(path)
    except Exception as e:  # e.g. 7z without py7zr
        return "error: " + type(e).__name__, set(), set()
    dangerous = {f"{g.module}.{g.name}" for g in res.globals if g.safety == SafetyLevel.Dangerous}
    suspicious = {f"{g.module}.{g.name}" for g in res.globals if g.safety == SafetyLevel.Suspicious}
    if res.issues_count > 0:
        return "dangerous", dangerous, suspicious
    if suspicious:
        return "suspicious", dangerous, suspicious
    return ("error" if res.scan_err else "clean"), dangerous, suspicious


def vigil_documents(binary, paths):
    out = subprocess.run([binary, "inspect", "--format", "jsonl", "--no-hash", *paths], capture_output=True, text=True)
    docs = [json.loads(line)["input"] for line in out.stdout.splitlines() if line.strip()]
    if len(docs) != len(paths):
        sys.exit(f"expected {len(paths)} documents from {binary}, got {len(docs)}")
    return docs


def best_of_three(run):
    """Seconds the fastest of three calls of `run` took: the machine is shared, the minimum is the steadiest."""
    times = []
    for _ in range(3):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def time_picklescan(paths, loops):
    """picklescan's API over every path `loops` times."""
    def run():
        for _ in range(loops):
            for p in paths:
                try:
                    scan_file_path(p)
                except Exception:
                    pass

    return best_of_three(run)


def time_vigil(binary, paths, loops, threads=None):
    """One `policy inspect` process over every path `loops` times: process start-up is included once.

    `policy inspect` inspects files in parallel on every core; threads=1 (RAYON_NUM_THREADS) confines it
    to one core, like picklescan.
    """
    env = dict(os.environ)
    if threads:
        env["RAYON_NUM_THREADS"] = str(threads)
    command = [binary, "inspect", "--format", "jsonl", "--no-hash", *(paths * loops)]
    return best_of_three(lambda: subprocess.run(command, stdout=subprocess.DEVNULL, check=False, env=env))


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    loops = 200
    if "--loops" in argv:
        loops = int(argv[argv.index("--loops") + 1])
        args = [a for a in args if a != str(loops)]
    if not args:
        sys.exit(__doc__)
    binary = args[0]
    corpus = args[1] if len(args) > 1 else DEFAULT_CORPUS
    # picklescan logs every finding at WARNING; keep the table readable and the timing fair.
    logging.getLogger("picklescan").setLevel(logging.CRITICAL)

    missed = []
    if os.path.isdir(corpus):
        print(f"# picklescan's test files ({corpus})\n")
        names = sorted(n for n in os.listdir(corpus) if os.path.isfile(os.path.join(corpus, n)) and not n.endswith(".md"))
        missed += compare(binary, [os.path.join(corpus, n) for n in names], loops)
    else:
        print(f"skipped picklescan's test files: {corpus} does not exist\n")

    print("\n# Checkpoints shaped like real models (scripts/checkpoints.py: BERT-base, GPT-2, Llama-2-7B, ResNet-50)\n")
    with tempfile.TemporaryDirectory() as tmp:
        missed += compare(binary, checkpoints.write_all(tmp), max(3, loops // 20))
    return 1 if missed else 0


def compare(binary, paths, loops):
    """Prints the verdict table and the timing for `paths`; returns the files picklescan flags and Vigil misses."""
    names = [os.path.basename(p) for p in paths]
    docs = vigil_documents(binary, paths)
    rows, disagreements, extras, missed = [], [], [], []
    for name, path, doc in zip(names, paths, docs):
        ps_verdict, ps_dangerous, ps_suspicious = picklescan_verdict(path)
        ours = doc["verdict"]
        agree = (ps_verdict == "dangerous") == (ours == "dangerous")
        rows.append((name, ps_verdict, ours, doc["format"], "yes" if agree else "NO"))
        if ps_verdict == "dangerous" and ours != "dangerous":
            missed.append(name)
        if not agree:
            disagreements.append(name)
        ours_dangerous = set(doc["dangerous_globals"])
        only_ours = sorted(ours_dangerous - ps_dangerous)
        if only_ours:
            reasons = {g["qualified"]: g.get("reason") for g in doc["globals"]}
            lowered = [g for g in only_ours if g in ps_suspicious]
            extras.append((name, only_ours, lowered, reasons))

    width = max(len(r[0]) for r in rows)
    print(f"{'file':{width}}  {'picklescan':18} {'vigil':12} {'vigil format':16} agree")
    print("-" * (width + 58))
    for name, ps, ours, fmt, agree in rows:
        print(f"{name:{width}}  {ps:18} {ours:12} {fmt:16} {agree}")
    print()
    flagged = sum(1 for r in rows if r[1] == "dangerous")
    print(f"{len(rows)} files; picklescan flags {flagged}; Vigil flags {sum(1 for r in rows if r[2] == 'dangerous')}; "
          f"agreement on 'dangerous': {len(rows) - len(disagreements)}/{len(rows)}")
    print(f"files picklescan flags that Vigil misses: {missed if missed else 'none'}")
    if disagreements:
        print(f"disagreements: {disagreements}")

    print("\nGlobals Vigil rates dangerous that picklescan does not:")
    for name, only_ours, lowered, reasons in extras:
        for g in only_ours:
            how = "picklescan: suspicious" if g in lowered else "picklescan: not reported under this name"
            print(f"  {name}: {g} ({how}) -- {reasons.get(g) or 'see reason in document'}")
    print("  Notes: `?.?` is Vigil's unresolvable STACK_GLOBAL (picklescan prints the same case as "
          "`<operand>.unknown`); extra builtins such as `globals`/`__import__` are in Vigil's list "
          "(domain.md adds __import__).")
    print("  Verdicts 'uninspected' (7z, encrypted entries, unknown formats) are not 'dangerous' but are "
          "not 'clean' either: a policy can deny them.")

    print(f"\nTiming: {loops} loops over the same {len(paths)} files (Vigil: one `policy inspect` process, release "
          f"build, hashing off, JSON written; picklescan {pkg_version()}: its Python API in this process, one "
          f"thread; best of three runs each).")
    t_vigil = time_vigil(binary, paths, loops)
    t_vigil1 = time_vigil(binary, paths, loops, threads=1)
    t_ps = time_picklescan(paths, loops)
    total = sum(os.path.getsize(p) for p in paths) * loops
    files = loops * len(paths)
    for label, t in (("vigil, all cores", t_vigil), ("vigil, one core", t_vigil1), ("picklescan", t_ps)):
        print(f"  {label:17} {t:8.3f} s  ({total / t / 1e6:8.1f} MB/s, {files / t:9.0f} files/s)")
    print(f"  ratio: Vigil is {t_ps / t_vigil:.1f}x faster on all cores ({os.cpu_count()}), "
          f"{t_ps / t_vigil1:.1f}x on one core")
    return missed


def pkg_version():
    try:
        from importlib.metadata import version

        return version("picklescan")
    except Exception:
        return "?"


if __name__ == "__main__":
    sys.exit(main(sys.argv))
