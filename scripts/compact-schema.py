#!/usr/bin/env python3
"""Derives the compact CycloneDX schema Vigil embeds (src/schema/builtin/mlbom.json) from the published one.

Usage: scripts/compact-schema.py ../shared/schemas/bom-1.6.schema.json > src/schema/builtin/mlbom.json

The source is the CycloneDX 1.6 JSON Schema (Apache-2.0, https://github.com/CycloneDX/specification).
The typo checker and the language server only need the shape of the data (which members an object may
have, what arrays hold) and a one-line description per member, so everything else (enums, patterns,
examples, formats, required lists) is dropped, descriptions are cut to their first sentence, and
references to other files (the SPDX licence list, JSF signatures) become open schemas.
"""
import json
import re
import sys

KEEP = {"type", "properties", "additionalProperties", "patternProperties", "items", "$ref", "oneOf", "anyOf",
        "allOf", "description", "title", "definitions"}


def first_sentence(text):
    text = re.sub(r"\s+", " ", text).strip()
    m = re.match(r"(.+?[.!?])(\s|$)", text)
    text = m.group(1) if m else text
    return text if len(text) <= 200 else text[:197] + "..."


def compact(node):
    if isinstance(node, list):
        return [compact(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key not in KEEP:
            continue
        if key == "$ref" and not value.startswith("#"):
            continue  # another file: left open
        if key == "description":
            out[key] = first_sentence(value)
        elif key == "title":
            if "description" not in node:
                out["description"] = value
        elif key in ("properties", "definitions", "patternProperties"):
            out[key] = {k: compact(v) for k, v in value.items()}
        else:
            out[key] = compact(value)
    return out


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        schema = json.load(f)
    out = compact(schema)
    out["$comment"] = ("Derived by scripts/compact-schema.py from the CycloneDX 1.6 JSON Schema "
                       "(Apache-2.0, https://cyclonedx.org); shape and first sentences of descriptions only.")
    json.dump(out, sys.stdout, separators=(",", ":"), sort_keys=False)
    sys.stdout.write("\n")


main()
