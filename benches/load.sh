#!/usr/bin/env bash
# Verdicts under load: the fixture fault matrix graded again and again on a busy machine.
#
# Starts 2 CPU-bound busy loops of its own (stopped by pid when the script ends, however it
# ends), then grades every fixture under fixtures/submissions ROUNDS times, PARALLEL gradings
# at a time, each with the lab(s) its README names (`lab: upper`). Every check whose verdict
# differs from the fixture's expected-failures.txt (lost but not listed, or listed but not
# lost; "lost" as in tests/matrix.rs) counts as one differing verdict. Prints the count per
# fixture and in total, and the checks that differed. Goal: 0.
#
# Usage: benches/load.sh [ROUNDS] [PARALLEL] [LOOPS]
#   ROUNDS    times the whole matrix is graded (default 20; `benches/load.sh 3` for a quick look)
#   PARALLEL  gradings (`socklab run`) at once (default 4)
#   LOOPS     busy loops beside them (default 2)
# Builds the release binary first (honours CARGO_TARGET_DIR). Reports go to a temporary
# directory, removed at the end (KEEP=1 keeps it and prints where). Exit 0 when no verdict
# differed, 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-20}
parallel=${2:-4}
loops=${3:-2}
cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-target}/release/socklab
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
work=$(mktemp -d)
# shellcheck source=benches/busy.sh
. benches/busy.sh

# The jobs: one line per (round, fixture, lab).
jobs=$work/jobs
: > "$jobs"
for dir in fixtures/submissions/*/; do
  name=$(basename "$dir")
  # Fixtures outside the matrix (their README says `matrix: no`) are tested in tests/hostile.rs.
  grep -q '^matrix:[[:space:]]*no' "$dir/README.md" && continue
  labs=$(sed -n 's/^lab:[[:space:]]*//p' "$dir/README.md" | tr ',' ' ')
  [ -n "$labs" ] || { echo "fixture $name: README.md names no lab" >&2; exit 2; }
  for round in $(seq 1 "$rounds"); do
    for lab in $labs; do echo "$round $name $lab" >> "$jobs"; done
  done
done
njobs=$(wc -l < "$jobs")

busy_start "$loops"
echo "load: $loops busy loops (pids ${busy[*]}); $rounds rounds of $(ls -d fixtures/submissions/*/ | wc -l) fixtures, $njobs gradings, $parallel at a time"

start=$(date +%s)
# Each grading: socklab run into its own report directory; its exit code is kept beside it.
# xargs appends "ROUND FIXTURE LAB" to: bash -c SCRIPT WORK BIN, so $0 is the work directory,
# $1 the binary, $2 the round, $3 the fixture and $4 the lab.
shuf "$jobs" | xargs -P "$parallel" -L 1 bash -c '
  out="$0/r$2/$3/$4"; mkdir -p "$out"
  "$1" run --lab "$4" --submission "fixtures/submissions/$3" --report "$out" > "$out/stdout" 2>&1
  echo $? > "$out/exit"
' "$work" "$bin" || true
elapsed=$(( $(date +%s) - start ))
echo "graded in ${elapsed} s"

python3 - "$work" "$rounds" <<'PY'
import collections, glob, json, os, sys

work, rounds = sys.argv[1], int(sys.argv[2])

def expected(name):
    lines = open(f"fixtures/submissions/{name}/expected-failures.txt").read().splitlines()
    return {l.rstrip() for l in lines if l.strip() and not l.lstrip().startswith("#")}

def lost(check):
    o = check.get("outcome")
    if o is not None:
        return o in ("failed", "not_run", "not_submitted")
    return check.get("passed") is False and check.get("ungraded") is not True

fixtures = sorted(
    os.path.basename(d.rstrip("/"))
    for d in glob.glob("fixtures/submissions/*/")
    if not any(l.startswith("matrix: no") for l in open(d + "README.md").read().splitlines())
)
per_fixture = collections.Counter()
verdicts = collections.Counter()
differing = collections.Counter()
errors = []
for name in fixtures:
    want = expected(name)
    for r in range(1, rounds + 1):
        runs = sorted(glob.glob(f"{work}/r{r}/{name}/*"))
        got, seen = set(), set()
        for run in runs:
            path = os.path.join(run, "results.json")
            if not os.path.exists(path):
                code = open(os.path.join(run, "exit")).read().strip()
                errors.append(f"{name} round {r}: no results.json (exit {code})")
                continue
            for s in json.load(open(path))["scenarios"]:
                if s.get("verdict") == "error":
                    errors.append(f"{name} round {r}: {s['id']}: harness error: {s.get('error')}")
                # An advisory scenario's checks are listed as `[advisory] ID: TITLE`, as in
                # tests/matrix.rs.
                mark = "[advisory] " if s.get("advisory") else ""
                for c in s["checks"]:
                    key = f"{mark}{s['id']}: {c['title']}"
                    seen.add(key)
                    if lost(c):
                        got.add(key)
        verdicts[name] += len(seen)
        for key in (got - want):
            differing[(name, "lost, not expected", key)] += 1
        for key in (want - got):
            differing[(name, "expected lost, passed" if key in seen else "expected, not in the run", key)] += 1
        per_fixture[name] += len(got ^ want)

total = sum(per_fixture.values())
print(f"\n{'fixture':<28} {'verdicts':>9} {'differing':>10}")
for name in fixtures:
    print(f"{name:<28} {verdicts[name]:>9} {per_fixture[name]:>10}")
print(f"{'total':<28} {sum(verdicts.values()):>9} {total:>10}   goal: 0 -> {'met' if total == 0 else 'NOT met'}")
if differing:
    print("\ndiffering verdicts (times out of rounds):")
    for (name, how, key), n in sorted(differing.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"  {n:>3}/{rounds}  {name}: {how}: {key}")
if errors:
    print(f"\n{len(errors)} harness problem(s):")
    for e in errors[:20]:
        print(f"  {e}")
sys.exit(0 if total == 0 and not errors else 1)
PY
