#!/usr/bin/env bash
# Grading a class: the fixture class (fixtures/class/roster.txt, built by
# scripts/fixture-class.sh) graded by `socklab grade` with --jobs 1, then with --jobs 4 (or the
# JOBS given), release build. Prints each run's wall seconds, seconds per student and the
# speed-up. Issue 10 asks --jobs 4 to be at least 2.5 times as fast as --jobs 1 on 2 cores: the
# sandboxes mostly wait (for a server to listen, a client to block, a timeout), so more runs at
# once than cores pays. Both runs must give the same grades.csv (else exit 1); the speed-up is
# printed, not judged (it depends on the machine).
#
# Usage: benches/grade-class.sh [JOBS...]   (default: 1 4; the first is the baseline)
#   ROUNDS=N   grade each N times and keep the median (default 1)
#   KEEP=1     keep the class and its outputs and print where
# Under load: ../shared/tools/with-load benches/grade-class.sh
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=("$@")
[ ${#jobs[@]} -gt 0 ] || jobs=(1 4)
rounds=${ROUNDS:-1}
cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-target}/release/socklab
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
work=$(mktemp -d)
cleanup() { if [ "${KEEP:-0}" = 1 ]; then echo "kept in $work"; else rm -rf "$work"; fi; }
trap cleanup EXIT
scripts/fixture-class.sh "$work/class" 2> /dev/null
students=$(find "$work/class" -mindepth 1 -maxdepth 1 -type d | wc -l)
# A CI job's own shard variables must not shard the benchmark.
unset CI_NODE_INDEX CI_NODE_TOTAL JOB_COMPLETION_INDEX SLURM_ARRAY_TASK_ID SLURM_ARRAY_TASK_COUNT
echo "fixture class: $students students; $(nproc) cores; rounds: $rounds; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
declare -A secs=()
for j in "${jobs[@]}"; do
  times=()
  for r in $(seq 1 "$rounds"); do
    out=$work/out-j$j-r$r
    start=$(date +%s%N)
    code=0
    "$bin" grade "$work/class" --out "$out" --jobs "$j" > "$out.log" 2>&1 || code=$?
    end=$(date +%s%N)
    if [ "$code" -ne 0 ]; then
      echo "--jobs $j: socklab grade exited $code" >&2
      tail -n 20 "$out.log" >&2
      exit 1
    fi
    if ! cmp -s "$out/grades.csv" "$work/out-j${jobs[0]}-r1/grades.csv"; then
      echo "--jobs $j gives other grades than --jobs ${jobs[0]}:" >&2
      diff "$work/out-j${jobs[0]}-r1/grades.csv" "$out/grades.csv" >&2 || true
      exit 1
    fi
    times+=($(( (end - start) / 1000000 )))
  done
  ms=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (rounds + 1) / 2 ))p")
  secs[$j]=$ms
  awk -v j="$j" -v ms="$ms" -v n="$students" \
    'BEGIN { printf "--jobs %-2s %7.1f s  %5.2f s per student\n", j, ms / 1000, ms / 1000 / n }'
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine slows both runs, --jobs 1 less)"
base=${secs[${jobs[0]}]}
for j in "${jobs[@]:1}"; do
  awk -v j="$j" -v a="$base" -v b="${secs[$j]}" -v j0="${jobs[0]}" \
    'BEGIN { printf "--jobs %s is %.2fx as fast as --jobs %s (issue 10 asks >= 2.5x for --jobs 4 over --jobs 1)\n", j, a / b, j0 }'
done
