#!/usr/bin/env bash
# Large-capture benchmark: `socklab inspect --streams` against `tshark -q -z conv,tcp`.
#
# Makes a capture of at least 500 MB with socklab itself: a scenario whose client pushes
# BYTES (default 600 MiB) through one loopback TCP connection to a server that reads and
# counts them, with capture on. The client pauses 4 ms per MiB (at most ~250 MB/s): unpaced,
# loopback moves ~4 GB/s here, ten times what this machine writes to a file (~400 MB/s), and
# no capture ring absorbs hundreds of MB of such overrun (benches/capture.sh shows where
# socklab and dumpcap start dropping). Then times both tools on that file in the same run, and
# prints file size, seconds, MB/s, the speed ratio and each tool's peak memory (max RSS from
# /usr/bin/time -v). Goals: socklab >= 10x faster than tshark, >= 500 MB/s, peak < 100 MB.
#
# Usage: benches/inspect.sh [BYTES]   (builds the release binary first; needs python3, tshark)
set -euo pipefail
cd "$(dirname "$0")/.."
bytes=${1:-629145600}
cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-target}/release/socklab
py=$(command -v python3)
# Programs run with a scrubbed environment: give them an interpreter by absolute path.
py=$("$py" -c 'import sys; print(sys.executable)')
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/bulk.json" <<JSON
{"id": "bench-bulk-tcp", "lab": "upper", "title": "bulk TCP transfer", "question": "bench",
 "explanation": "bench", "timeout_ms": 300000,
 "programs": [
  {"name": "server", "command": ["$py", "-c",
    "import socket,sys\ns=socket.socket()\ns.bind(('127.0.0.1',int(sys.argv[1])))\ns.listen()\nc,_=s.accept()\nn=0\nwhile True:\n b=c.recv(1<<20)\n if not b: break\n n+=len(b)\nprint(n,flush=True)"],
   "args": ["{port}"], "transport": "tcp"},
  {"name": "client", "command": ["$py", "-c",
    "import socket,sys,time\nc=socket.create_connection(('127.0.0.1',int(sys.argv[1])))\nb=bytes(1<<20)\nn=int(sys.argv[2])\nwhile n>0:\n c.sendall(b[:min(n,len(b))])\n n-=len(b)\n time.sleep(0.004)\nc.close()"],
   "args": ["{port}", "$bytes"]}],
 "steps": [
  {"start": {"program": "server"}}, {"wait_ready": {"program": "server"}},
  {"start": {"program": "client"}},
  {"expect_exit": {"program": "client", "status": "success", "within_ms": 240000}},
  {"expect_output": {"program": "server", "contains": "$bytes", "within_ms": 60000}}]}
JSON
"$bin" run "$work/bulk.json" --report "$work/report" > "$work/run.txt" || { cat "$work/run.txt"; exit 1; }
pcap="$work/report/bench-bulk-tcp.pcap"

. benches/measure.sh
# Warm the page cache so both tools read from memory, not disk.
cat "$pcap" > /dev/null
read -r s_secs s_rss < <(measure socklab "$bin" inspect --streams "$pcap")
read -r t_secs t_rss < <(measure tshark tshark -q -z conv,tcp -r "$pcap")
python3 - "$pcap" "$s_secs" "$s_rss" "$t_secs" "$t_rss" "$work/report/results.json" <<'PY'
import json, os, sys
pcap, s_secs, s_rss, t_secs, t_rss = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
size = os.path.getsize(pcap)
mb = size / 1e6
cap = json.load(open(sys.argv[6]))["scenarios"][0]["capture"]
print(f"capture: {mb:.0f} MB, {cap['packets']} packets ({cap['dropped']} dropped by the kernel)")
print(f"socklab inspect --streams : {s_secs:7.2f} s  {mb / max(s_secs, 1e-3):8.0f} MB/s  peak {s_rss / 1024:6.1f} MB")
print(f"tshark -q -z conv,tcp     : {t_secs:7.2f} s  {mb / max(t_secs, 1e-3):8.0f} MB/s  peak {t_rss / 1024:6.1f} MB")
ratio = t_secs / max(s_secs, 1e-3)
print(f"socklab is {ratio:.1f}x faster than tshark")
ok = lambda c: "met" if c else "NOT met"
print(f"goals: >= 500 MB: {ok(mb >= 500)}; >= 10x: {ok(ratio >= 10)}; >= 500 MB/s: {ok(mb / max(s_secs, 1e-3) >= 500)}; peak < 100 MB: {ok(s_rss < 100 * 1024)}")
PY
