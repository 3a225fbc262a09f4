#!/usr/bin/env bash
# Harness overhead per scenario, and the time to the UDP client-before-server verdict.
#
# Overhead: N scenarios whose only program is `true`, run one at a time (--jobs 1); each
# scenario's duration covers the sandbox (re-exec, namespaces, /proc, lo, capture), spawning
# `true`, reaping it and grading. Prints median / p90 / max in ms. Goal: median <= 20 ms.
# Blocked verdict: every `expect_blocked` step of the UDP scenarios where a client waits in
# recvfrom (client before server, wrong port), run R times with the reference programs and with
# the Python fixture `upper-good`: the time from the program starting to wait (the first /proc
# sample that saw it waiting, unchanged until the verdict: `waiting_since_ms`) to the verdict
# (`end_ms`), and from the step's start to the verdict. Goal: < 50 ms from starting to wait.
# Run it under load too: `../shared/tools/with-load benches/overhead.sh`.
#
# Usage: benches/overhead.sh [N] [R]   (defaults 50 and 10; builds the release binary first)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-50}
r=${2:-10}
cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-target}/release/socklab
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for i in $(seq 1 "$n"); do
  cat > "$work/true-$i.json" <<JSON
{"id": "true-$i", "lab": "upper", "title": "only true", "question": "overhead", "explanation": "overhead",
 "programs": [{"name": "t", "command": ["true"]}],
 "steps": [{"start": {"program": "t"}}, {"expect_exit": {"program": "t", "status": "success"}}]}
JSON
done
start=$(date +%s%N)
"$bin" run "$work" --jobs 1 --report "$work/report" > /dev/null
end=$(date +%s%N)
udp=(scenarios/upper/udp-client-before-server.json scenarios/upper/udp-wrong-port.json)
for i in $(seq 1 "$r"); do
  "$bin" run "${udp[@]}" --report "$work/udp-ref-$i" > /dev/null || true
  "$bin" run "${udp[@]}" --submission fixtures/submissions/upper-good \
    --report "$work/udp-py-$i" > /dev/null || true
done
python3 - "$work/report/results.json" "$work" "$n" "$(( (end - start) / 1000000 ))" <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))
d = sorted(s["duration_ms"] for s in res["scenarios"])
n = len(d)
print(f"harness overhead, {n} scenarios running only `true` (--jobs 1):")
print(f"  median {d[n // 2]} ms, p90 {d[int(n * 0.9) - 1]} ms, max {d[-1]} ms "
      f"(whole run {sys.argv[4]} ms, {int(sys.argv[4]) / n:.1f} ms per scenario)")
print(f"  goal: median <= 20 ms -> {'met' if d[n // 2] <= 20 else 'NOT met'}")
import glob
lat, step, fails = [], [], 0
for f in sorted(glob.glob(sys.argv[2] + "/udp-*/results.json")):
    for sc in json.load(open(f))["scenarios"]:
        for st in sc["steps"]:
            if "waiting_since_ms" in st:
                lat.append(st["end_ms"] - st["waiting_since_ms"])
                step.append(st["end_ms"] - st["start_ms"])
            elif st["label"].startswith("the client") and "block" in st["label"] and not st["met"]:
                fails += 1
def stats(xs):
    xs = sorted(xs)
    return f"median {xs[len(xs) // 2]} ms, p90 {xs[max(0, int(len(xs) * 0.9) - 1)]} ms, max {xs[-1]} ms"
if lat:
    print(f"blocked verdicts ({len(lat)} expect_blocked steps, {fails} not blocked):")
    print(f"  from starting to wait: {stats(lat)}")
    print(f"  from the step's start: {stats(step)}")
    print(f"  goal: < 50 ms from starting to wait -> {'met' if max(lat) < 50 else 'NOT met'}")
else:
    print(f"no blocked verdicts recorded ({fails} not blocked)")
PY
