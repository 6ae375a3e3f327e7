"""OPA, driven by the comparison harness (benches/src/opa.rs) over stdin/stdout, one command per line.

OPA has no Rust embedding, so it runs in this process through the `opa-golib-python-bindings` package (OPA v1
compiled into a Go c-shared library). The harness keeps this process alive for the whole run and asks it to
evaluate one card at a time, interleaved with the in-process engines, so OPA's figures come from the same run.

Timing: only the native call `OpaEvalDocument(handle, "modelcard.violations", input_json)` is timed, with
`time.perf_counter_ns` around it. That call decodes the card's JSON text into OPA's value type (the library
takes input only as JSON text: there is no pre-parsed input), evaluates the prepared query (cached by the
library after the first call with the same path) and encodes the result set as JSON. The pipe, Python's
json.loads of the result and the freeing of the result buffer are outside the timed region.

Commands (replies are one line each):
  load <json>    -> "ok <id>"            stores the card's text (already UTF-8 JSON, sent on one line)
  eval <id>      -> "<ns> <records>"     times one evaluation; records = size of the violations set
  records <id>   -> JSON [[rule, message], ...]
  clear          -> "ok"                 forgets every stored card
  quit
On start it prints "ready <version>" or "unavailable <reason>" and exits in the second case.
"""

import ctypes
import json
import sys
import time


def main():
    rego_path = sys.argv[1]
    try:
        from opa_bindings import OpaEngine
        from importlib.metadata import version

        engine = OpaEngine()
        with open(rego_path, encoding="utf-8") as f:
            engine.add_policy("modelcard.rego", f.read())
        lib, handle = engine._lib, engine._handle
        pkg = version("opa-golib-python-bindings")
    except Exception as e:  # any failure means "no OPA row", never a crash of the harness
        print(f"unavailable {type(e).__name__}: {e}".replace("\n", " "), flush=True)
        return
    path = b"modelcard.violations"
    cards = []

    def call(i):
        start = time.perf_counter_ns()
        ptr = lib.OpaEvalDocument(handle, path, cards[i], 0, 0)
        ns = time.perf_counter_ns() - start
        if not ptr:
            raise RuntimeError("OpaEvalDocument returned NULL")
        try:
            raw = ctypes.string_at(ptr)
        finally:
            lib.OpaFreeString(ptr)
        envelope = json.loads(raw)
        if envelope.get("error"):
            raise RuntimeError(str(envelope["error"]))
        rs = envelope.get("result") or []
        value = rs[0]["expressions"][0]["value"] if rs and rs[0].get("expressions") else []
        return ns, value

    # Warm the prepared-query cache so the first card is not charged for compiling the query.
    cards.append(b'{"kind": "ModelCard"}')
    call(0)
    cards.clear()
    print(f"ready opa-golib-python-bindings {pkg}", flush=True)
    out = sys.stdout
    for line in sys.stdin:
        cmd, _, arg = line.rstrip("\n").partition(" ")
        try:
            if cmd == "load":
                cards.append(arg.encode("utf-8"))
                out.write(f"ok {len(cards) - 1}\n")
            elif cmd == "eval":
                ns, value = call(int(arg))
                out.write(f"{ns} {len(value)}\n")
            elif cmd == "records":
                _, value = call(int(arg))
                out.write(json.dumps([[r.get("rule"), r.get("message")] for r in value]) + "\n")
            elif cmd == "clear":
                cards.clear()
                out.write("ok\n")
            elif cmd == "quit":
                return
            else:
                out.write(f"error unknown command {cmd}\n")
        except Exception as e:
            out.write(f"error {type(e).__name__}: {e}".replace("\n", " ") + "\n")
        out.flush()


if __name__ == "__main__":
    main()
