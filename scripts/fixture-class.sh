#!/usr/bin/env bash
# Builds the fixture class (fixtures/class/roster.txt) into OUT_DIR: one directory per student,
# made of copies of the fault-matrix fixtures (fixtures/submissions/*) the roster names, so that
# the class is described once and no fixture file is duplicated in the repository.
#
# Roster lines (fixtures/class/README.md has the details): `STUDENT [LAB=FIXTURE ...]`, `#`
# comments. `LAB=FIXTURE` copies the fixture's programs into OUT_DIR/STUDENT/LAB/ (from the
# fixture's own LAB/ folder when it has one, as hello-good does); `.=FIXTURE` copies them to the
# student's top level (a flat submission); a student with nothing after the name gets an empty
# directory (nothing submitted). A fixture's README.md and expected-failures.txt describe the
# fixture, not the student's work, and are not copied.
#
# Files are copied, never linked: a grader must not follow a symlink out of a submission (student
# code is hostile), so a class built here holds no symlink, and a fixture that holds one is
# refused.
#
# Usage: scripts/fixture-class.sh OUT_DIR   (OUT_DIR must not exist or be empty; exit 2 on a bad
# roster or a missing fixture, with the roster's line number)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:?usage: scripts/fixture-class.sh OUT_DIR}
roster=${ROSTER:-$root/fixtures/class/roster.txt}
fixtures=$root/fixtures/submissions
if [ -e "$out" ] && [ -n "$(ls -A "$out")" ]; then
  echo "fixture-class: $out is not empty" >&2
  exit 2
fi
mkdir -p "$out"
fail() { echo "fixture-class: $roster:$n: $*" >&2; exit 2; }

# Copies the regular files and folders of $1 into $2, without the fixture's own metadata.
copy() {
  local src=$1 dst=$2
  if [ -n "$(find "$src" -type l -print -quit)" ]; then
    fail "fixture $src holds a symlink: fixtures must be plain files"
  fi
  mkdir -p "$dst"
  local f
  for f in "$src"/* "$src"/.[!.]*; do
    [ -e "$f" ] || continue
    case $(basename "$f") in README.md | expected-failures.txt) continue ;; esac
    cp -R --no-dereference --preserve=mode "$f" "$dst/"
  done
}

n=0
declare -A seen=()
while IFS= read -r line || [ -n "$line" ]; do
  n=$((n + 1))
  line=${line%%#*}
  read -r -a words <<< "$line"
  [ ${#words[@]} -gt 0 ] || continue
  student=${words[0]}
  [[ $student =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]] || fail "\`$student\` is not a student id"
  [ -z "${seen[$student]:-}" ] || fail "student $student is listed twice"
  seen[$student]=1
  mkdir "$out/$student"
  for item in "${words[@]:1}"; do
    [[ $item == *=* ]] || fail "\`$item\` is not LAB=FIXTURE"
    lab=${item%%=*}
    fixture=${item#*=}
    [ -d "$fixtures/$fixture" ] && [ -n "$fixture" ] || fail "no fixture \`$fixture\` in fixtures/submissions"
    if [ "$lab" = . ]; then
      copy "$fixtures/$fixture" "$out/$student"
    else
      [[ $lab =~ ^[a-z]+$ ]] || fail "\`$lab\` is not a lab name"
      [ ! -e "$out/$student/$lab" ] || fail "student $student has lab $lab twice"
      if [ -d "$fixtures/$fixture/$lab" ]; then
        copy "$fixtures/$fixture/$lab" "$out/$student/$lab"
      else
        copy "$fixtures/$fixture" "$out/$student/$lab"
      fi
    fi
  done
done < "$roster"
[ $n -gt 0 ] || { echo "fixture-class: $roster is empty" >&2; exit 2; }
echo "fixture-class: ${#seen[@]} students in $out" >&2
