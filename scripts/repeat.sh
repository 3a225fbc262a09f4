#!/usr/bin/env bash
# Repeatability: the same gradings, run again and again, must give the same verdicts.
#
# Runs the full reference suite (`socklab run`: every bundled scenario against socklab's own
# programs) and grades every fixture of the fault matrix (fixtures/submissions, except those
# whose README says `matrix: no`) with the lab(s) its README names (`lab: upper`), ROUNDS times
# each, PARALLEL gradings at a time. Then compares the runs
# with one another, not with an expectation (benches/load.sh does that): for every check of
# every grading, the outcome (passed, failed, not_run, ...) and its cause must be the same in
# every round, and so must each grading's exit code and list of scenarios. Prints each check
# whose verdict differed, with how often each verdict came up, and the count. Goal: 0.
#
# Usage: scripts/repeat.sh [ROUNDS] [PARALLEL]
#   ROUNDS    times everything is run (default 20; `scripts/repeat.sh 2` for a quick look)
#   PARALLEL  gradings (`socklab run`) at once (default 2)
# Builds the release binary first (honours CARGO_TARGET_DIR). Reports go to a temporary
# directory, removed at the end (KEEP=1 keeps it and prints where). Exit 0 when every verdict
# was the same in every round, 1 when one differed or a grading produced no results.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-20}
parallel=${2:-2}
case "$rounds$parallel" in *[!0-9]*) echo "usage: scripts/repeat.sh [ROUNDS] [PARALLEL]" >&2; exit 2 ;; esac
[ "$rounds" -ge 2 ] || { echo "repeat.sh: ROUNDS must be at least 2 to compare runs" >&2; exit 2; }
cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-target}/release/socklab
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
work=$(mktemp -d)
cleanup() {
  if [ "${KEEP:-0}" = 1 ]; then echo "reports kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The jobs: one line per (round, grading, lab); grading "reference" is the reference suite.
jobs=$work/jobs
: > "$jobs"
for round in $(seq 1 "$rounds"); do
  echo "$round reference all" >> "$jobs"
  for dir in fixtures/submissions/*/; do
    name=$(basename "$dir")
    # Outside the matrix (`matrix: no`): verdicts that depend on machine speed by design
    # (tests/hostile.rs checks what holds for them).
    grep -q '^matrix: no' "$dir/README.md" && continue
    labs=$(sed -n 's/^lab:[[:space:]]*//p' "$dir/README.md" | tr ',' ' ')
    [ -n "$labs" ] || { echo "fixture $name: README.md names no lab" >&2; exit 2; }
    for lab in $labs; do echo "$round $name $lab" >> "$jobs"; done
  done
done
echo "repeat: $rounds rounds of the reference suite and the fixture matrix, $(wc -l < "$jobs") gradings, $parallel at a time"

start=$(date +%s)
# xargs appends "ROUND GRADING LAB" to: bash -c SCRIPT WORK BIN, so $0 is the work directory,
# $1 the binary, $2 the round, $3 the grading and $4 the lab.
shuf "$jobs" | xargs -P "$parallel" -L 1 bash -c '
  out="$0/$3/$4/r$2"; mkdir -p "$out"
  if [ "$3" = reference ]; then
    "$1" run --report "$out" > "$out/stdout" 2>&1
  else
    "$1" run --lab "$4" --submission "fixtures/submissions/$3" --report "$out" > "$out/stdout" 2>&1
  fi
  echo $? > "$out/exit"
' "$work" "$bin" || true
echo "ran in $(( $(date +%s) - start )) s"

python3 - "$work" "$rounds" <<'PY'
import collections, glob, json, os, sys

work, rounds = sys.argv[1], int(sys.argv[2])

def verdicts(run):
    """Every verdict of one grading: key -> what it was."""
    out = {"exit code": open(os.path.join(run, "exit")).read().strip()}
    path = os.path.join(run, "results.json")
    if not os.path.exists(path):
        return out, False
    scenarios = json.load(open(path))["scenarios"]
    out["scenarios"] = " ".join(s["id"] for s in scenarios)
    for s in scenarios:
        out[f"{s['id']}: verdict"] = s.get("verdict")
        for c in s["checks"]:
            out[f"{s['id']}: {c['title']}"] = " / ".join(
                str(c.get(k)) for k in ("outcome", "cause") if c.get(k) is not None
            )
    return out, True

total, compared, missing = 0, 0, []
gradings = sorted(glob.glob(f"{work}/*/*/"))
for grading in gradings:
    name = os.path.relpath(grading, work).rstrip("/")
    seen = collections.defaultdict(collections.Counter)
    for r in range(1, rounds + 1):
        run = os.path.join(grading, f"r{r}")
        got, ok = verdicts(run)
        if not ok:
            missing.append(f"{name} round {r}: no results.json (exit {got['exit code']})")
        for key, value in got.items():
            seen[key][value] += 1
    differing = {k: c for k, c in seen.items() if len(c) > 1 or sum(c.values()) != rounds}
    compared += len(seen)
    total += len(differing)
    print(f"{name:<40} {len(seen):>5} verdicts, {len(differing)} differing")
    for key, counts in sorted(differing.items()):
        said = ", ".join(f"{v or '(absent)'} x{n}" for v, n in counts.most_common())
        absent = rounds - sum(counts.values())
        print(f"    {key}: {said}" + (f", absent x{absent}" if absent else ""))

print(f"\n{compared} verdicts compared over {rounds} rounds: {total} differed"
      f"   goal: 0 -> {'met' if total == 0 and not missing else 'NOT met'}")
for m in missing[:20]:
    print(f"  {m}")
sys.exit(0 if total == 0 and not missing else 1)
PY
