# Sourced by the benchmarks. measure LABEL COMMAND...: runs COMMAND under /usr/bin/time -v
# with its output in $work/LABEL.out and .err, and prints "seconds maxrss_kb".
measure() {
  local label=$1; shift
  /usr/bin/time -v -o "$work/$label.time" "$@" > "$work/$label.out" 2> "$work/$label.err"
  python3 - "$work/$label.time" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", t)
h, m, s = wall.groups()
secs = int(h or 0) * 3600 + int(m) * 60 + float(s)
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1))
print(secs, rss)
PY
}
