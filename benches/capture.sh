#!/usr/bin/env bash
# Capture under a burst: packets the kernel dropped while capturing an unpaced bulk loopback
# TCP transfer, socklab's capture against dumpcap (Wireshark's capture engine, libpcap with a
# TPACKET_V3 ring) given the same buffer size, in the same run.
#
# For each size in SIZES (MiB; default "16 64 200"), one connection pushes that many bytes as
# fast as loopback goes, once under `socklab run` (capture on) and once in a fresh user+net
# namespace with `dumpcap -i lo -B 32`. Prints packets written and dropped for each tool.
# Nothing here is a pass/fail: it shows how large a burst each capture absorbs whole.
#
# Usage: benches/capture.sh [SIZES...]   (builds the release binary; needs python3, dumpcap
# from the tshark/wireshark packages, and unshare from util-linux)
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(16 64 200)
cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-target}/release/socklab
py=$(python3 -c 'import sys; print(sys.executable)')
command -v dumpcap > /dev/null || { echo "dumpcap is missing: apt-get install tshark" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
server='import socket,sys
s=socket.socket()
s.bind(("127.0.0.1",int(sys.argv[1])))
s.listen()
c,_=s.accept()
n=0
while True:
    b=c.recv(1<<20)
    if not b: break
    n+=len(b)
print(n,flush=True)'
client='import socket,sys
c=socket.create_connection(("127.0.0.1",int(sys.argv[1])))
b=bytes(1<<20)
for _ in range(int(sys.argv[2])): c.sendall(b)
c.close()'
json_str() { python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$1"; }
printf '%8s  %-34s  %-34s\n' "burst" "socklab (ring 32 MiB)" "dumpcap -B 32"
for mib in "${sizes[@]}"; do
  bytes=$((mib << 20))
  cat > "$work/burst.json" <<JSON
{"id": "bench-burst", "lab": "upper", "title": "burst", "question": "bench", "explanation": "bench",
 "timeout_ms": 120000,
 "programs": [
  {"name": "server", "command": ["$py", "-c", $(json_str "$server")], "args": ["{port}"], "transport": "tcp"},
  {"name": "client", "command": ["$py", "-c", $(json_str "$client")], "args": ["{port}", "$mib"]}],
 "steps": [
  {"start": {"program": "server"}}, {"wait_ready": {"program": "server"}},
  {"start": {"program": "client"}},
  {"expect_exit": {"program": "client", "status": "success", "within_ms": 60000}},
  {"expect_output": {"program": "server", "contains": "$bytes", "within_ms": 60000}}]}
JSON
  "$bin" run "$work/burst.json" --report "$work/report" > "$work/run.txt" || { cat "$work/run.txt"; exit 1; }
  mine=$(python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["scenarios"][0]["capture"]; print("%6d written %6d dropped" % (c["packets"], c["dropped"]))' "$work/report/results.json")
  # dumpcap in its own namespace: only this transfer on its loopback.
  peer=$(unshare -rn bash -c '
    ip link set lo up
    dumpcap -q -i lo -B 32 -s 262144 -w "$1/peer.pcap" 2> "$1/dumpcap.err" & dc=$!
    # dumpcap is capturing once it has created its file.
    for _ in $(seq 100); do [ -s "$1/peer.pcap" ] && break; sleep 0.05; done
    python3 -c "$2" 5555 > /dev/null & srv=$!
    sleep 0.3
    python3 -c "$3" 5555 "$4"
    wait $srv
    sleep 0.5
    kill -INT $dc; wait $dc || true
    sed -n "s/.*: \([0-9]*\)\/\([0-9]*\) (pcap.*/\1 \2/p" "$1/dumpcap.err"' _ "$work" "$server" "$client" "$mib")
  read -r got lost <<< "$peer"
  printf '%5s MiB  %-34s  %6d written %6d dropped\n' "$mib" "$mine" "$got" "$lost"
done
