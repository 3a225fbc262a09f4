#!/usr/bin/env bash
# Harness overhead per scenario, and the time to the UDP client-before-server verdict.
#
# Overhead: N scenarios whose only program is `true`, run one at a time (--jobs 1); each
# scenario's duration covers the sandbox (re-exec, namespaces, /proc, lo, capture), spawning
# `true`, reaping it and grading. Prints median / p90 / max in ms. Goal: median <= 20 ms.
# Verdict: the UDP client-before-server scenario's "client blocks" step, from the client's
# line written to the verdict. Goal: under 1000 ms, with no fixed timeout involved.
#
# Usage: benches/overhead.sh [N]   (default 50; builds the release binary first)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-50}
cargo build --release --quiet
bin=target/release/socklab
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
"$bin" run scenarios/upper/udp-client-before-server.json --report "$work/udp" > /dev/null
python3 - "$work/report/results.json" "$work/udp/results.json" "$n" "$(( (end - start) / 1000000 ))" <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))
d = sorted(s["duration_ms"] for s in res["scenarios"])
n = len(d)
print(f"harness overhead, {n} scenarios running only `true` (--jobs 1):")
print(f"  median {d[n // 2]} ms, p90 {d[int(n * 0.9) - 1]} ms, max {d[-1]} ms "
      f"(whole run {sys.argv[4]} ms, {int(sys.argv[4]) / n:.1f} ms per scenario)")
print(f"  goal: median <= 20 ms -> {'met' if d[n // 2] <= 20 else 'NOT met'}")
udp = json.load(open(sys.argv[2]))["scenarios"][0]
steps = udp["steps"]
write = next(s for s in steps if s["label"].startswith("type "))
blocked = next(s for s in steps if s["label"].startswith("the client blocks"))
t = blocked["end_ms"] - write["start_ms"]
print(f"UDP client before server: blocked verdict {t} ms after the line was written "
      f"(quiet window 300 ms); goal < 1000 ms -> {'met' if t < 1000 else 'NOT met'}")
PY
