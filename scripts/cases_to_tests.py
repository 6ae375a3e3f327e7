#!/usr/bin/env python3
"""One-off migration: tests/cases/policies/*.yml (the data-driven cases of the bundled packs) -> `test`
blocks in policies/<pack>/<case file>_test.policy, run by `policy test policies/`.

Usage: scripts/cases_to_tests.py   (from the repository root; needs PyYAML)
"""
import pathlib
import re
import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACK = {
    "model_card": "model_card", "cards_real_shapes": "model_card", "ml_bom": "ml_bom",
    "pipelines": "pipelines", "workflows_real_shapes": "pipelines",
    "deployments": "deployments", "workloads_real_shapes": "deployments",
}

# Which package declares each param (a test names another package's parameter in full).
PARAMS = {}
for f in sorted((ROOT / "policies").rglob("*.policy")):
    text = f.read_text()
    m = re.search(r"^package\s+(\S+)", text, re.M)
    for p in re.findall(r"^param\s+([A-Za-z_][A-Za-z0-9_]*)", text, re.M):
        PARAMS.setdefault(p, []).append(m.group(1))


def s(text):
    """A policy string literal."""
    out = text.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t").replace("\r", "\\r")
    return '"' + out + '"'


def block(text, indent):
    """Multi-line text, written indented (`policy test` removes the common indentation)."""
    pad = " " * indent
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines = lines[:-1]
    body = "\n".join((pad + l) if l.strip() else "" for l in lines)
    return s("\n" + body + "\n" + " " * (indent - 2))


def literal(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return s(v)
    if isinstance(v, list):
        return "[" + ", ".join(literal(x) for x in v) + "]"
    return "{" + ", ".join(f"{s(k)}: {literal(x)}" for k, x in v.items()) + "}"


def convert(path):
    cases = yaml.safe_load(path.read_text())["cases"]
    pack = PACK[path.stem]
    out = [f"# Tests of the {pack} pack, migrated from tests/cases/policies/{path.name}. Run: `policy test policies/`.",
           f"package {pack}", ""]
    for case in cases:
        out.append(f"test {s(case['name'])} {{")
        if case.get("params"):
            def qualify(k):
                homes = PARAMS.get(k, [pack])
                return k if "." in k else f"{pack if pack in homes else homes[0]}.{k}"
            params = {qualify(k): v for k, v in case["params"].items()}
            out.append(f"  params = {literal(params)}")
        for i in case["inputs"]:
            kind = f", kind: {i['kind']}" if i.get("kind") else ""
            out.append(f"  file = {{name: {s(i['name'])}{kind}, text: {block(i['text'], 6)}}}")
        findings = case.get("findings") or []
        if not findings:
            for prefix in case.get("only") or [""]:
                out.append(f"  expect no {s(prefix + '*')}")
        for f in findings:
            line = f"  expect {s(f['rule'])}"
            if "pointer" in f:
                line += f" at {s(f['pointer'])}"
            if "line" in f:
                line += f" line {f['line']}"
            line += f" message {s(f['message'])}"
            if "cause" in f:
                line += f" cause {f['cause']}"
            out.append(line)
        out.append("}")
        out.append("")
    target = ROOT / "policies" / pack / f"{path.stem}_test.policy"
    target.write_text("\n".join(out).rstrip("\n") + "\n")
    print(target.relative_to(ROOT), len(cases), "tests")


for p in sorted((ROOT / "tests/cases/policies").glob("*.yml")):
    convert(p)
