#!/usr/bin/env bash
# Load test of `policy serve` on loopback, from a second process (docs/performance.md, "policy serve").
#
# Needs a release build of the binary (`cargo build --release --bin policy --no-default-features --features
# cli,serve`, the build measured in docs/performance.md), rustc (to build the load
# generator, benches/src/bin/serve_load.rs, standard library only), wrk (Debian: `apt-get install wrk`),
# taskset, curl and python3. Prints, in one go:
#   1. /v1/guard at a constant 5,000 requests/s (RATE), RUNS times: the open-loop generator pinned to
#      core 0 (it sleeps in ppoll between events; SPIN=1 makes it spin), the server pinned to core 1 (so
#      tokio runs one worker), latency counted from when each request was due (coordinated omission
#      corrected);
#   2. the same with server and generator unpinned, sharing both cores;
#   3. wrk's saturation runs (closed loop, 1 thread, 32 connections) for /v1/guard and /v1/admission;
#   4. the server's own histogram of time to decide;
#   5. a summary table: median and spread of the RUNS runs, and the load average before and after.
#
#   scripts/serve-load.sh [SECONDS]        (env: RATE=5000 RUNS=3 CONNECTIONS=16 NICE= RT=)
#
# NICE=-20 (root) runs server and generator at the highest priority (and their autogroup): on a machine
# others are using, it approximates an idle one. Say so when you quote figures measured that way.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-10}"
rate="${RATE:-5000}"
runs="${RUNS:-3}"
connections="${CONNECTIONS:-16}"
policy="${POLICY:-target/release/policy}"
nice=()
if [[ -n "${NICE:-}" ]]; then
  nice=(nice -n "$NICE")
  # With autogroup scheduling (Linux's default for desktop and many VM kernels) nice only ranks processes
  # within one session: raise this session's group too, or other sessions' builds still take their share.
  if [[ -w /proc/self/autogroup ]]; then
    autogroup="$(sed -n 's/.* nice //p' /proc/self/autogroup)"
    echo "$NICE" > /proc/self/autogroup || true
  fi
fi
# RT=1 (root) runs the server and the generator in the real-time class (SCHED_FIFO, priority 1): they get a
# CPU the moment a request or an answer arrives, whatever else runs (kernel threads included); neither spins
# (do not combine with SPIN=1: a spinning real-time thread is throttled by the kernel for 50 ms a second).
rt=()
if [[ -n "${RT:-}" ]]; then rt=(chrt -f 1); fi
work="$(mktemp -d)"
pid=""
trap '[[ -n "$pid" ]] && kill "$pid" 2>/dev/null; [[ -n "${autogroup:-}" ]] && echo "$autogroup" > /proc/self/autogroup; rm -rf "$work"' EXIT

load="target/serve_load"
if [[ ! -x "$load" || benches/src/bin/serve_load.rs -nt "$load" ]]; then
  rustc --edition 2024 -O -o "$load" benches/src/bin/serve_load.rs
fi

# Rate and extraction rules would block a load generator that repeats itself from few callers: raise the
# per-caller limits so that every request is a full evaluation that allows.
start_server() { # CPUS (empty: all)
  local pin=()
  if [[ -n "$1" ]]; then pin=(taskset -c "$1"); fi
  "${rt[@]}" "${nice[@]}" "${pin[@]}" "$policy" serve --addr 127.0.0.1:0 --no-config --max-concurrency 1024 \
    --param runtime.max_requests_per_minute=100000000 --param runtime.max_tokens_per_minute=100000000000 \
    --param runtime.extraction_similar_prompts=1000000 > "$work/addr" 2> "$work/log" &
  pid=$!
  for _ in $(seq 300); do grep -q listening "$work/addr" 2>/dev/null && break; sleep 0.1; done
  addr="$(sed -n 's/.*listening on http:\/\///p' "$work/addr")"
  [[ -n "$addr" ]] || { cat "$work/log"; exit 2; }
}
stop_server() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""; }

# /v1/guard: a benign exchange with a system prompt, retrieved context and a tool call, from 1,000 callers
# (every bundled rule loaded: the runtime rules apply).
python3 - "$work/guard.txt" <<'EOF'
import json, sys
with open(sys.argv[1], "w") as f:
    for n in range(1000):
        f.write(json.dumps({"caller": f"user-{n}", "api_key": f"key-{n}", "model": "acme-8b",
            "system_prompt": "You are the Acme support assistant. Answer questions about Acme products politely and briefly.",
            "prompt": f"How do I reset the password of my Acme router, model {n % 50}?",
            "context": ["Acme routers: hold the reset button for ten seconds."],
            "response": "Hold the reset button on the back for ten seconds, then sign in with the password on the label.",
            "sink": "markdown", "allowed_tools": ["search"],
            "tool_calls": [{"name": "search", "arguments": {"query": "router reset"}}],
            "tokens": {"prompt": 120, "completion": 40}}, separators=(",", ":")) + "\n")
EOF

echo "machine: $(nproc) cores; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "binary: $policy ($(git rev-parse --short HEAD 2>/dev/null || echo '?'))${NICE:+; nice $NICE}${RT:+; server SCHED_FIFO 1}"

constant_rate() { # LABEL SERVER_CPUS GENERATOR_CPUS
  local label="$1" gen=()
  if [[ -n "$3" ]]; then gen=(taskset -c "$3"); fi
  start_server "$2"
  # Warm the server (allocator, regex caches, the traffic window's keys) before measuring.
  "$load" "$addr" /v1/guard "$work/guard.txt" 1000 2 "$connections" 0 > /dev/null
  for run in $(seq "$runs"); do
    echo "== $label, run $run: /v1/guard at $rate/s for ${secs}s"
    "${rt[@]}" "${nice[@]}" "${gen[@]}" "$load" "$addr" /v1/guard "$work/guard.txt" "$rate" "$secs" "$connections" 1 \
      > "$work/run"
    grep -v '^RESULT' "$work/run"
    sed -n "s/^RESULT/RESULT label=${label// /_}/p" "$work/run" >> "$work/results"
  done
  stop_server
}
: > "$work/results"
constant_rate "pinned: server core 1, generator core 0" 1 0
constant_rate "unpinned: both share cores 0-1" "" ""

start_server ""
echo "== wrk, saturation: /v1/guard (1 thread, 32 connections, ${secs}s, unpinned)"
cat > "$work/guard.lua" <<EOF
local bodies, n = {}, 0
for line in io.lines("$work/guard.txt") do bodies[#bodies + 1] = line end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n + 1
  return wrk.format(nil, "/v1/guard", nil, bodies[n % #bodies + 1])
end
EOF
wrk -t1 -c32 -d"${secs}s" --latency -s "$work/guard.lua" "http://$addr" \
  | tee "$work/wrk-guard" | sed -n '/Latency Distribution/,/Transfer/p'

# /v1/admission: an AdmissionReview wrapping the repository's KServe fixture.
"$policy" inspect --format json examples/deployments/inferenceservice.yaml > "$work/isvc.json"
python3 - "$work/isvc.json" "$work/review.json" <<'EOF'
import json, sys
obj = json.load(open(sys.argv[1]))[0]["input"]
review = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
          "request": {"uid": "load", "operation": "CREATE", "object": obj}}
json.dump(review, open(sys.argv[2], "w"))
EOF
cat > "$work/admission.lua" <<EOF
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("$work/review.json"); wrk.body = f:read("*a"); f:close()
wrk.path = "/v1/admission"
EOF
echo "== wrk, saturation: /v1/admission (1 thread, 32 connections, ${secs}s, unpinned)"
wrk -t1 -c32 -d"${secs}s" --latency -s "$work/admission.lua" "http://$addr/v1/admission" \
  | tee "$work/wrk-admission" | sed -n '/Latency Distribution/,/Transfer/p'
echo "== server's own histogram (time to decide, body read to answer), /v1/guard of the wrk run"
curl -s "http://$addr/metrics" | grep -E 'vigil_request_duration_seconds_(bucket\{endpoint="guard",le="(5e-5|0.0001|0.00025|0.0005|0.001)"|count\{endpoint="guard")'
stop_server

echo "== summary (load average after: $(cut -d' ' -f1-3 /proc/loadavg))"
python3 - "$work/results" "$work/wrk-guard" "$work/wrk-admission" "$rate" <<'EOF'
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    if line.startswith("RESULT"):
        f = dict(kv.split("=", 1) for kv in line.split()[1:])
        rows.setdefault(f["label"].replace("_", " "), []).append(f)
print(f"| /v1/guard at {sys.argv[4]}/s offered | achieved | p50 ms | p99 ms | p99.9 ms | not 200 |")
print("|---|---:|---:|---:|---:|---:|")
for label, runs in rows.items():
    def col(k):
        v = [float(r[k]) for r in runs]
        return f"{statistics.median(v):.2f} ({min(v):.2f}–{max(v):.2f})" if len(v) > 1 else f"{v[0]:.2f}"
    errors = sum(int(r["errors"]) for r in runs)
    print(f"| {label}, median of {len(runs)} (range) | {col('achieved')} | {col('p50')} | {col('p99')} | {col('p999')} | {errors} |")
def wrk(path):
    text = open(path).read()
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    p = {m.group(1): m.group(2) for m in re.finditer(r"^\s+(50|99)%\s+(\S+)", text, re.M)}
    return (rps.group(1) if rps else "?"), p.get("50", "?"), p.get("99", "?")
for name, path in [("/v1/guard", sys.argv[2]), ("/v1/admission", sys.argv[3])]:
    rps, p50, p99 = wrk(path)
    print(f"| {name} saturation (wrk, closed loop) | {float(rps):,.0f}/s | {p50} | {p99} | | |")
EOF
