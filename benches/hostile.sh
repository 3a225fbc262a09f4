#!/usr/bin/env bash
# Hostile submissions graded whole (issue 11): every hostile fixture on every scenario of its
# lab, one after another, and for each: wall time, exit code, the harness's peak memory (the
# socklab process and the largest sandbox supervisor, as results.json records them), the
# process cap the machine got, and what was left behind: processes whose working directory is
# one of the run's working copies (socklab-run-* under this script's own TMPDIR), cgroups
# named after the run's pid, and sockets on the run's ports in the host's tables.
#
# Usage: benches/hostile.sh [FIXTURE...]   (default: the hostile fixtures below)
# Builds the release binary first (honours CARGO_TARGET_DIR). Exit 0 when every run stayed
# within its budgets (each scenario under its timeout plus 15 s of teardown), under 200 MB, and
# left nothing; 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
fixtures=("$@")
[ ${#fixtures[@]} -gt 0 ] || fixtures=(upper-flood upper-daemon upper-fork-bomb upper-memory-hog
  upper-closed-stdout upper-bind-all upper-endless-reply)
cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-target}/release/socklab
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
printf '%-22s %7s %4s %12s %14s %6s\n' fixture wall exit harness_MB supervisor_MB left
for f in "${fixtures[@]}"; do
  out=$work/$f
  mkdir -p "$out/tmp"
  start=$(date +%s%N)
  set +e
  TMPDIR=$out/tmp "$bin" run --lab upper --submission "fixtures/submissions/$f" --report "$out/report" \
    > "$out/stdout" 2>&1 &
  pid=$!
  wait $pid
  code=$?
  set -e
  wall=$(( ($(date +%s%N) - start) / 1000000 ))
  line=$(python3 - "$out" "$pid" "$code" "$wall" "$f" 2> "$out/cap" <<'PY'
import glob, json, os, sys
out, pid, code, wall, name = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]) / 1000, sys.argv[5]
r = json.load(open(f"{out}/report/results.json"))
harness = r.get("peak_rss_kib") or 0
sup = max((s.get("supervisor_peak_rss_kib") or 0) for s in r["scenarios"])
left = []
for p in glob.glob("/proc/[0-9]*"):
    try:
        if os.readlink(p + "/cwd").startswith(out + "/tmp/"):
            left.append(p)
    except OSError:
        pass
left += glob.glob(f"/sys/fs/cgroup/*/socklab-{pid}-*")
ports = {p["port"] for s in r["scenarios"] for p in s["ports"]}
for table in ("tcp", "tcp6", "udp", "udp6"):
    for l in open(f"/proc/net/{table}").read().splitlines()[1:]:
        f = l.split()
        if int(f[1].rsplit(":", 1)[1], 16) in ports and f[3] != "06":
            left.append(f"{table} port {int(f[1].rsplit(':', 1)[1], 16)}")
over = [s["id"] for s in r["scenarios"] if s["duration_ms"] > 20_000 + 15_000]
ok = code in (0, 1) and harness < 200 * 1024 and sup < 200 * 1024 and not left and not over
print(f"{name:<22} {wall:6.1f}s {code:>4} {harness / 1024:>12.1f} {sup / 1024:>14.1f} {len(left):>6}"
      f"{'' if ok else '   NOT OK ' + str(left + over)}")
print("CAP " + r.get("process_cap", ""), file=sys.stderr)
sys.exit(0 if ok else 1)
PY
  ) || fail=1
  echo "$line"
done
echo
sed -n 's/^CAP //p' "$work/${fixtures[0]}/cap" | sed 's/^/process cap: /'
exit $fail
