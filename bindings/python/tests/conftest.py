"""Shared fixtures: the repository, the `policy` binary, and generated inputs (hostile ones included).

Hostile bytes are written out here and handed to Vigil; nothing in these tests ever unpickles them.
"""

import os
import shutil
import struct
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


def malicious_pickle(command: str = "echo pwned") -> bytes:
    """A protocol-2 pickle that would run `os.system(command)` when loaded: PROTO 2, GLOBAL os.system,
    BINUNICODE command, TUPLE1, REDUCE, STOP. Built from raw opcodes, so no pickler is involved."""
    arg = command.encode()
    return b"\x80\x02" + b"cos\nsystem\n" + b"X" + struct.pack("<I", len(arg)) + arg + b"\x85" + b"R" + b"."


def benign_pickle() -> bytes:
    """A protocol-2 pickle of `{"layers": 2}`: EMPTY_DICT, BINUNICODE, BININT1, SETITEM, STOP."""
    key = b"layers"
    return b"\x80\x02" + b"}" + b"X" + struct.pack("<I", len(key)) + key + b"K\x02" + b"s" + b"."


CARD = """---
license: {license}
language: en
base_model: {base}
{extra}---

# {name}

A text classifier fine-tuned for support tickets.

## Uses

Routing support tickets to the right queue.
"""


def write_hub(root: Path) -> Path:
    """A small hub: three model repositories, each a folder, with cards, model files, a deployment and a
    broken file. Cross-document rules (a card declaring its weights' digest) stay inside one repository,
    and file names are distinct across repositories, so a scan per repository and a scan of the whole
    folder see the same documents together."""
    a = root / "acme-classifier"
    a.mkdir(parents=True)
    (a / "README.md").write_text(CARD.format(license="mit", base="bert-base-uncased", extra="", name="acme"))
    (a / "evil.pkl").write_bytes(malicious_pickle())
    b = root / "beta-tagger"
    b.mkdir()
    extra = "artifacts:\n  - path: weights.pkl\n    sha256: " + "deadbeef" * 8 + "\n"
    (b / "README.md").write_text(CARD.format(license="other", base="unknown-org/base", extra=extra, name="beta"))
    (b / "weights.pkl").write_bytes(benign_pickle())
    (b / "notes.txt").write_text("not an input of any rule\n")
    c = root / "gamma-serving"
    c.mkdir()
    (c / "isvc.yaml").write_text(
        "apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata:\n  name: gamma\n"
        "spec:\n  predictor:\n    model:\n      storageUri: gs://someone-elses-bucket/model\n"
    )
    (c / "broken.yaml").write_text("apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nspec: [\n")
    return root


@pytest.fixture
def hub(tmp_path: Path) -> Path:
    return write_hub(tmp_path / "hub")


@pytest.fixture(scope="session")
def policy_bin() -> str:
    """The `policy` binary (test.sh builds it); tests comparing with it skip, saying so, when it is absent."""
    candidate = os.environ.get("VIGIL_POLICY_BIN") or str(REPO / "target" / "debug" / "policy")
    if not os.access(candidate, os.X_OK):
        found = shutil.which("policy")
        if not found:
            pytest.skip(f"no `policy` binary at {candidate} (run `cargo build` or set VIGIL_POLICY_BIN)")
        candidate = found
    return candidate
