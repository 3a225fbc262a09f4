#!/usr/bin/env bash
# The cost of confinement per scenario: the same scenarios run by a build without it (BASE, e.g.
# the release binary of the commit before confinement) and by this one, alternating, one at a
# time (--jobs 1). Two kinds of scenario: a program that is only `true` (the harness's own
# overhead: sandbox, spawn, reap, grade) and `python3 -c pass` (an interpreter outside /usr,
# such as pyenv's, adds one more bind). Prints, per binary, the median and p90 of the
# scenarios' durations (which include the part of the set-up done once the request is known:
# binding the working copy and the interpreter, pivot_root) and the whole run's time per
# scenario (which also includes the part done ahead, while the previous scenario runs).
# Then the mount table a confined program sees.
#
# Usage: benches/confine.sh BASE_BINARY [N] [ROUNDS]   (defaults 40 scenarios, 3 rounds)
# Under load: ../shared/tools/with-load benches/confine.sh BASE_BINARY
set -euo pipefail
cd "$(dirname "$0")/.."
base=${1:?usage: benches/confine.sh BASE_BINARY [N] [ROUNDS]}
n=${2:-40}
rounds=${3:-3}
cargo build --release --quiet
new=${CARGO_TARGET_DIR:-target}/release/socklab
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for kind in true python; do
  mkdir -p "$work/$kind"
  for i in $(seq 1 "$n"); do
    if [ "$kind" = true ]; then cmd='["true"]'; else cmd='["python3", "-c", "pass"]'; fi
    cat > "$work/$kind/$kind-$i.json" <<JSON
{"id": "$kind-$i", "lab": "upper", "title": "only $kind", "question": "cost", "explanation": "cost",
 "programs": [{"name": "t", "command": $cmd}],
 "steps": [{"start": {"program": "t"}}, {"expect_exit": {"program": "t", "status": "success"}}]}
JSON
  done
done
for r in $(seq 1 "$rounds"); do
  for kind in true python; do
    for which in base new; do
      bin=$base; [ "$which" = new ] && bin=$new
      start=$(date +%s%N)
      "$bin" run "$work/$kind" --jobs 1 --report "$work/out-$which-$kind-$r" > /dev/null
      end=$(date +%s%N)
      echo $(( (end - start) / 1000 )) > "$work/out-$which-$kind-$r/wall_us"
    done
  done
done
python3 - "$work" "$rounds" <<'PY'
import json, sys
work, rounds = sys.argv[1], int(sys.argv[2])
for kind in ["true", "python"]:
    print(f"scenarios running `{'true' if kind == 'true' else 'python3 -c pass'}` (--jobs 1, {rounds} rounds):")
    med = {}
    for which in ["base", "new"]:
        d, per = [], []
        for r in range(1, rounds + 1):
            out = f"{work}/out-{which}-{kind}-{r}"
            res = json.load(open(f"{out}/results.json"))
            d += [s["duration_ms"] for s in res["scenarios"]]
            per.append(int(open(f"{out}/wall_us").read()) / 1000 / len(res["scenarios"]))
        d.sort()
        med[which] = (d[len(d) // 2], sorted(per)[len(per) // 2])
        print(f"  {which:4}: scenario median {d[len(d) // 2]} ms, p90 {d[int(len(d) * 0.9) - 1]} ms; "
              f"whole run {sorted(per)[len(per) // 2]:.1f} ms per scenario")
    print(f"  confinement adds {med['new'][0] - med['base'][0]} ms to the median scenario, "
          f"{med['new'][1] - med['base'][1]:.1f} ms per scenario to the whole run")
PY
cat > "$work/look.json" <<'JSON'
{"id": "look", "lab": "upper", "title": "look", "question": "q", "explanation": "e",
 "programs": [{"name": "p", "command": ["python3", "-c",
   "import sys\nfor l in open('/proc/self/mountinfo'):\n f = l.split()\n print(f[4], f[5], f[f.index('-') + 1])"]}],
 "steps": [{"start": {"program": "p"}}, {"expect_exit": {"program": "p", "status": "success"}}]}
JSON
"$new" run "$work/look.json" --report "$work/look" > /dev/null
echo
echo "what a confined program sees (/proc/self/mountinfo: mount point, options, type):"
python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['scenarios'][0]['programs'][0]['stdout']['text'])" \
  "$work/look/results.json" | sed 's/^/  /'
