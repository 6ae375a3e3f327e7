#!/usr/bin/env bash
# Load test of `policy serve` on loopback, from a second process (docs/performance.md, "policy serve").
#
# Needs a release build (`cargo build --release`), wrk and hey (Debian: `apt-get install wrk hey`) and
# python3. Prints wrk's saturation runs (latency percentiles at full load) for /v1/guard and /v1/admission,
# then hey's fixed-rate run of /v1/guard at 5,000 requests/s.
#
#   scripts/serve-load.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-10}"
policy="${POLICY:-target/release/policy}"
work="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT

# Rate and extraction rules would block a load generator that repeats itself from one caller: raise the
# per-caller limits so that every request is a full evaluation that allows.
"$policy" serve --addr 127.0.0.1:0 --no-config --max-concurrency 1024 \
  --param runtime.max_requests_per_minute=100000000 --param runtime.max_tokens_per_minute=100000000000 \
  --param runtime.extraction_similar_prompts=1000000 > "$work/addr" 2> "$work/log" &
pid=$!
for _ in $(seq 100); do grep -q listening "$work/addr" 2>/dev/null && break; sleep 0.1; done
addr="$(sed -n 's/.*listening on http:\/\///p' "$work/addr")"
echo "server: $addr (pid $pid)"

# /v1/guard: a benign exchange with a system prompt, retrieved context and a tool call, from 1,000 callers.
cat > "$work/guard.lua" <<'EOF'
local n = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n + 1
  local body = string.format([[{"caller":"user-%d","api_key":"key-%d","model":"acme-8b","system_prompt":"You are the Acme support assistant. Answer questions about Acme products politely and briefly.","prompt":"How do I reset the password of my Acme router, model %d?","context":["Acme routers: hold the reset button for ten seconds."],"response":"Hold the reset button on the back for ten seconds, then sign in with the password on the label.","sink":"markdown","allowed_tools":["search"],"tool_calls":[{"name":"search","arguments":{"query":"router reset"}}],"tokens":{"prompt":120,"completion":40}}]], n % 1000, n % 1000, n % 50)
  return wrk.format(nil, "/v1/guard", nil, body)
end
EOF

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

echo "== wrk, saturation: /v1/guard (1 thread, 32 connections, ${secs}s)"
wrk -t1 -c32 -d"${secs}s" --latency -s "$work/guard.lua" "http://$addr" | sed -n '/Latency Distribution/,/Transfer/p'
echo "== wrk, saturation: /v1/admission (1 thread, 32 connections, ${secs}s)"
wrk -t1 -c32 -d"${secs}s" --latency -s "$work/admission.lua" "http://$addr/v1/admission" | sed -n '/Latency Distribution/,/Transfer/p'

echo "== hey, fixed rate: /v1/guard at 5,000 requests/s (50 workers x 100/s, ${secs}s)"
python3 - "$work/guard.json" <<'EOF'
import json, sys
json.dump({"caller": "user-1", "model": "acme-8b", "prompt": "How do I reset the password of my Acme router?",
           "response": "Hold the reset button for ten seconds.", "tokens": {"prompt": 120, "completion": 40}},
          open(sys.argv[1], "w"))
EOF
hey -z "${secs}s" -c 50 -q 100 -m POST -T application/json -D "$work/guard.json" "http://$addr/v1/guard" \
  | sed -n '/Summary/,/Requests\/sec/p;/Latency distribution/,/99%/p;/Status code/,$p'
echo "== server's own histogram (time to decide, body read to answer)"
curl -s "http://$addr/metrics" | grep -E 'vigil_request_duration_seconds_(bucket\{endpoint="guard",le="0.0001"|bucket\{endpoint="guard",le="0.00025"|count\{endpoint="guard")'
