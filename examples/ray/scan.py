"""Hub-scale policy scans on Ray Data, with the `vigil` Python package (docs/python.md, "Scale-out on Ray").

    python examples/ray/scan.py list ROOT > listing.txt           # or any listing: one file path per line
    python examples/ray/scan.py scan listing.txt --root ROOT --out findings/ [--format parquet|json]

The unit of work is a model *repository*, not a file: rules that compare documents (a model card's
declared digest against the weights file, an ML-BOM against a deployment) must see a repository's files
together. Files are grouped by repository (the first folder under --root), each worker compiles the policy
set once (a callable class in `map_batches`), and checks a batch of repositories at a time. Findings and
input errors come out as one table, one row each, with a `type` column.

Ray Data streams the listing: memory on the driver does not grow with the number of files, and workers can
be added to the cluster while the job runs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Dict, Iterable, List, Optional

import pyarrow as pa

import vigil

# One row per finding or input error. Explicit, so empty batches and all-null columns never change it.
SCHEMA = pa.schema(
    [
        ("type", pa.string()),  # "finding" or "error"
        ("repo", pa.string()),
        ("rule", pa.string()),
        ("title", pa.string()),
        ("severity", pa.string()),
        ("cause", pa.string()),
        ("message", pa.string()),
        ("file", pa.string()),
        ("document", pa.int64()),
        ("kind", pa.string()),
        ("line", pa.int64()),
        ("column", pa.int64()),
        ("end_line", pa.int64()),
        ("end_column", pa.int64()),
        ("pointer", pa.string()),
        ("controls", pa.list_(pa.string())),
        ("remediation", pa.string()),
        ("waived", pa.bool_()),
        ("fingerprint", pa.string()),
    ]
)


def repo_of(path: str, root: Optional[str]) -> str:
    """The repository a file belongs to: its first folder under `root` (files directly under `root` form
    the repository ""). Without a root, the file's own folder."""
    if root is None:
        return os.path.dirname(path)
    rel = os.path.relpath(path, root)
    parts = rel.split(os.sep)
    return parts[0] if len(parts) > 1 else ""


def rows(repo: str, report: vigil.Report) -> Iterable[Dict[str, Any]]:
    """A report as table rows: the JSON report's findings and errors, so rows equal `policy check --format json`."""
    data = json.loads(report.to_json())
    for f in data["findings"]:
        yield {"type": "finding", "repo": repo, **{k: f.get(k) for k in SCHEMA.names if k in f}}
    for e in data["errors"]:
        yield {"type": "error", "repo": repo, "file": e["file"], "line": e["line"], "column": e["column"], "message": e["message"]}


class Checker:
    """Checks batches of repositories. Ray builds one per worker, so the policy set is compiled once per
    worker process and reused for every batch it is given."""

    def __init__(self, policies: List[str], params: Dict[str, Any], builtin: bool, now: Optional[str], root: Optional[str], hash: bool):
        self.policies = vigil.compile(policies or None, params=params, builtin=builtin, now=now)
        self.root = root
        self.hash = hash

    def __call__(self, batch: Dict[str, Any]) -> pa.Table:
        out: List[Dict[str, Any]] = []
        for repo, paths in zip(batch["repo"], batch["paths"]):
            # `listed`: these files come from a walk, so one of no known format is skipped as in
            # `policy check FOLDER`, not an error; `root`: fingerprints as `policy check --root`.
            report = self.policies.check(list(paths), listed=True, root=self.root, hash=self.hash, fail_on="never")
            out.extend(rows(str(repo), report))
        return pa.Table.from_pylist(out, schema=SCHEMA)


def group(batch):
    """One row per repository with the list of its files (a `map_groups` function)."""
    return {"repo": [batch["repo"][0]], "paths": [sorted(batch["path"].tolist())]}


def scan(args: argparse.Namespace) -> None:
    import ray

    ray.init(address=args.address, num_cpus=args.num_cpus, include_dashboard=False, log_to_driver=False)
    params = json.loads(args.params) if args.params else {}
    root = os.path.abspath(args.root) if args.root and not os.path.isabs(args.root) else args.root
    files = ray.data.read_text(args.listing).filter(lambda r: bool(r["text"].strip()))
    files = files.map(lambda r: {"path": r["text"].strip(), "repo": repo_of(r["text"].strip(), root)})
    repos = files.groupby("repo", num_partitions=args.partitions).map_groups(group, batch_format="numpy")
    findings = repos.map_batches(
        Checker,
        fn_constructor_kwargs={
            "policies": args.policy,
            "params": params,
            "builtin": not args.no_builtin,
            "now": args.now,
            "root": root,
            "hash": not args.no_hash,
        },
        batch_size=args.repos_per_batch,
        batch_format="numpy",
        # An autoscaling pool from one actor: a fixed pool would hold every CPU before the listing is read.
        concurrency=(1, args.workers),
    )
    if args.format == "parquet":
        findings.write_parquet(args.out)
    else:
        findings.write_json(args.out)


def listing(root: str) -> None:
    """Every regular file under `root`, one path per line (symbolic links are not followed, as in a check)."""
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                print(path)


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    ls = sub.add_parser("list", help="print a listing of every file under a folder")
    ls.add_argument("root")
    sc = sub.add_parser("scan", help="check the files of a listing on Ray")
    sc.add_argument("listing", help="a text file (or folder of them, local or s3://...) with one path per line")
    sc.add_argument("--out", required=True, help="output folder (local or object storage)")
    sc.add_argument("--format", choices=["parquet", "json"], default="parquet")
    sc.add_argument("--root", help="the folder holding one repository per sub-folder")
    sc.add_argument("--policy", action="append", default=[], help="a .policy file or folder (repeatable)")
    sc.add_argument("--no-builtin", action="store_true", help="leave out the bundled policy packs")
    sc.add_argument("--params", help="parameter overrides as a JSON object")
    sc.add_argument("--now", help="pin today for date rules (YYYY-MM-DD)")
    sc.add_argument("--no-hash", action="store_true", help="do not hash model files (digest rules then fail closed)")
    sc.add_argument("--workers", type=int, default=2, help="checker actors, each with its compiled policy set")
    sc.add_argument("--repos-per-batch", type=int, default=16)
    sc.add_argument("--partitions", type=int, default=None, help="shuffle partitions for grouping (default: Ray's)")
    sc.add_argument("--address", default=None, help="a Ray cluster to join (default: start a local one)")
    sc.add_argument("--num-cpus", type=int, default=None, help="CPUs of the local Ray instance (default: all)")
    args = parser.parse_args(argv)
    if args.command == "list":
        listing(args.root)
    else:
        scan(args)


if __name__ == "__main__":
    sys.exit(main())
