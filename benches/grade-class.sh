#!/usr/bin/env bash
# Grading a class: the fixture class (fixtures/class/roster.txt, built by
# scripts/fixture-class.sh) graded by `socklab grade` with --jobs 1, then with --jobs 4 (or the
# JOBS given), release build. Prints, per --jobs, the wall seconds, the seconds per student and
# the CPU seconds socklab used (its own and its children's, user + sys), then the speed-up over
# the first. Issue 10 asks --jobs 4 to be at least 2.5 times as fast as --jobs 1 on 2 cores, on
# the premise that the sandboxes mostly wait; the CPU column shows how far that holds: a run
# that keeps C cores busy at --jobs 1 cannot go more than cores / C times as fast. Other work on
# the machine slows every run, and more jobs take a larger share of a busy machine, so the load
# average is printed before and after.
#
# Every run's grades.csv must be fixtures/class/expected-grades.csv (else exit 1): the grades
# must not depend on --jobs or on load. The speed-up is printed, not judged.
#
# Usage: benches/grade-class.sh [JOBS...]   (default: 1 4; the first is the baseline)
#   ROUNDS=N   grade each N times and keep the median (default 1)
#   LOOPS=N    N CPU-bound busy loops beside the runs, as benches/load.sh (default 0)
#   KEEP=1     keep the class and its outputs and print where
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=("$@")
[ ${#jobs[@]} -gt 0 ] || jobs=(1 4)
rounds=${ROUNDS:-1}
loops=${LOOPS:-0}
cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-target}/release/socklab
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
expected=$PWD/fixtures/class/expected-grades.csv
work=$(mktemp -d)
# shellcheck source=benches/busy.sh
. benches/busy.sh
scripts/fixture-class.sh "$work/class" 2> /dev/null
students=$(find "$work/class" -mindepth 1 -maxdepth 1 -type d | wc -l)
# A CI job's own shard variables must not shard the benchmark.
unset CI_NODE_INDEX CI_NODE_TOTAL JOB_COMPLETION_INDEX SLURM_ARRAY_TASK_ID SLURM_ARRAY_TASK_COUNT
busy_start "$loops"
echo "fixture class: $students students; $(nproc) cores; rounds: $rounds; busy loops: $loops;" \
  "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

# Runs ARGS...; prints "WALL_MS CPU_MS EXIT" (CPU: the children's user + sys time).
timed() {
  python3 - "$@" <<'PY'
import resource, subprocess, sys, time
start = time.monotonic()
code = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
wall = time.monotonic() - start
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(int(wall * 1000), int((r.ru_utime + r.ru_stime) * 1000), code)
PY
}

declare -A secs=()
for j in "${jobs[@]}"; do
  walls=()
  cpus=()
  for r in $(seq 1 "$rounds"); do
    out=$work/out-j$j-r$r
    read -r wall cpu code <<< "$(timed "$bin" grade "$work/class" --out "$out" --jobs "$j")"
    if [ "$code" -ne 0 ]; then
      echo "--jobs $j: socklab grade exited $code" >&2
      exit 1
    fi
    if ! diff <(tr -d '\r' < "$out/grades.csv") "$expected" > "$out.diff"; then
      echo "--jobs $j (round $r): grades.csv is not fixtures/class/expected-grades.csv:" >&2
      cat "$out.diff" >&2
      exit 1
    fi
    walls+=("$wall")
    cpus+=("$cpu")
  done
  median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }
  ms=$(median "${walls[@]}")
  cpu=$(median "${cpus[@]}")
  secs[$j]=$ms
  awk -v j="$j" -v ms="$ms" -v cpu="$cpu" -v n="$students" 'BEGIN {
    printf "--jobs %-2s %6.1f s  %5.2f s per student  CPU %5.1f s (%.2f cores busy)\n",
      j, ms / 1000, ms / 1000 / n, cpu / 1000, cpu / ms }'
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg); every run gave the expected grades"
base=${secs[${jobs[0]}]}
for j in "${jobs[@]:1}"; do
  awk -v j="$j" -v a="$base" -v b="${secs[$j]}" -v j0="${jobs[0]}" 'BEGIN {
    printf "--jobs %s is %.2fx as fast as --jobs %s (issue 10 asks >= 2.5x for --jobs 4 over --jobs 1)\n",
      j, a / b, j0 }'
done
