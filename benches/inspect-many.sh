#!/usr/bin/env bash
# Connection-heavy benchmark: `socklab inspect --streams` against `tshark -q -z conv,tcp` on
# captures with a million TCP connections, where memory per stream is what counts.
#
# Writes three pcaps directly (a Python script, no network):
#   conns: CONNS (default 1,000,000) short connections, 8 frames each (SYN, SYN-ACK, ACK, 32
#          bytes each way, FIN/ACK each way, last ACK), 64 at a time interleaved, 10,000
#          connections per second of capture time, from 127.1.0.0/16 to 127.0.0.1:8080 so
#          every 4-tuple differs. Stream 0 is one long connection that sends a segment every
#          1,000 connections and closes at the very end: every other row must wait for it, so
#          the row buffer spills to disk and is merged back.
#   scan:  CONNS SYNs from distinct 4-tuples, never answered (a port scan): streams that
#          never close, held only up to the open-stream bound.
#   mix:   every bound full at once: CONNS/10 unanswered SYNs, then CONNS/10 connections, then
#          CONNS/10 UDP flows each answered by an ICMP port unreachable, all while stream 0, a
#          quiet connection, stays open (it must keep its number through the scan).
# Then times both tools on each file in the same run and prints seconds, peak memory (max RSS
# from /usr/bin/time -v) and the ratio, and checks every TCP row of socklab's table against
# tshark's conversation (frames and bytes each way; 4-tuples are unique in these captures).
# Goals: socklab peak < 100 MB on all three, and >= 10x faster than tshark on conns.
#
# Usage: benches/inspect-many.sh [CONNS]   (builds the release binary first; needs python3,
# tshark and about 0.7 GB of temporary disk per million connections)
set -euo pipefail
cd "$(dirname "$0")/.."
conns=${1:-1000000}
cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-target}/release/socklab
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 - "$conns" "$work" <<'PY'
import struct, sys

conns, work = int(sys.argv[1]), sys.argv[2]
MAC = bytes.fromhex("020000000001") + bytes.fromhex("020000000002") + b"\x08\x00"
SERVER_IP, SERVER_PORT = bytes([127, 0, 0, 1]), 8080
rec = struct.Struct("<IIII")
FIN, SYN, RST, PSH, ACK = 1, 2, 4, 8, 16


def frame(c2s, flags, seq, ack, payload=b""):
    """Ethernet + IPv4 + TCP up to the addresses, and the TCP header after the ports: the
    4-tuple goes between them (`mid`), so one template serves every connection. Checksums
    are left zero: tshark does not check them by default."""
    ip_len = 20 + 20 + len(payload)
    head = MAC + struct.pack(">BBHHHBBH", 0x45, 0, ip_len, 1, 0x4000, 64, 6, 0)
    tail = struct.pack(">IIBBHHH", seq, ack, 0x50, flags, 65535, 0, 0) + payload
    return (head, tail, c2s, 14 + ip_len)


def mid(cip, cport, c2s):
    if c2s:
        return cip + SERVER_IP + struct.pack(">HH", cport, SERVER_PORT)
    return SERVER_IP + cip + struct.pack(">HH", SERVER_PORT, cport)


C, S = 1000, 5000  # initial sequence numbers; 4-tuples differ, so they may repeat
data = b"x" * 32
CONN = [
    frame(True, SYN, C, 0),
    frame(False, SYN | ACK, S, C + 1),
    frame(True, ACK, C + 1, S + 1),
    frame(True, PSH | ACK, C + 1, S + 1, data),
    frame(False, PSH | ACK, S + 1, C + 33, data),
    frame(True, FIN | ACK, C + 33, S + 33),
    frame(False, FIN | ACK, S + 33, C + 34),
    frame(True, ACK, C + 34, S + 34),
]
SCAN = frame(True, SYN, C, 0)


class Pcap:
    def __init__(self, path):
        self.f = open(path, "wb")
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        self.buf = []
        self.us = 1_700_000_000 * 1_000_000

    def put(self, tmpl, m, step_us):
        head, tail, _, n = tmpl
        self.us += step_us
        self.buf.append(rec.pack(self.us // 1_000_000, self.us % 1_000_000, n, n))
        self.buf.append(head)
        self.buf.append(m)
        self.buf.append(tail)
        if len(self.buf) > 400_000:
            self.flush()

    def flush(self):
        self.f.write(b"".join(self.buf))
        self.buf = []

    def close(self):
        self.flush()
        self.f.close()


def client(i):
    # 127.1.0.0/16 hosts, 50,000 ports each: distinct 4-tuples for up to 3 billion.
    host = 1 + i // 50_000
    return bytes([127, 1, (host >> 8) & 255, host & 255]), 10_000 + i % 50_000


# Connections: 100 us each (10,000/s), so 12 us between frames with 8 frames each.
p = Pcap(f"{work}/conns.pcap")
lip, lport = bytes([127, 0, 0, 2]), 9999
long_mids = [mid(lip, lport, t[2]) for t in CONN]
for k in range(3):
    p.put(CONN[k], long_mids[k], 12)
sent = 0
group = 64
for g in range(0, conns, group):
    members = range(g, min(g + group, conns))
    mids = [[mid(*client(i), t[2]) for t in CONN] for i in members]
    for k, tmpl in enumerate(CONN):
        for m in mids:
            p.put(tmpl, m[k], 12)
    if g // 1000 != (g + group) // 1000:
        # The long connection's next byte: one segment, acknowledged.
        p.put(frame(True, PSH | ACK, C + 1 + sent, S + 1, b"k"), long_mids[3], 12)
        p.put(frame(False, ACK, S + 1, C + 2 + sent, b""), long_mids[4], 12)
        sent += 1
for tmpl in [
    frame(True, FIN | ACK, C + 1 + sent, S + 1),
    frame(False, FIN | ACK, S + 1, C + 2 + sent),
    frame(True, ACK, C + 2 + sent, S + 2),
]:
    p.put(tmpl, mid(lip, lport, tmpl[2]), 12)
p.close()

# Port scan: one SYN every 10 us, never answered.
p = Pcap(f"{work}/scan.pcap")
for i in range(conns):
    p.put(SCAN, mid(*client(i), True), 10)
p.close()


def raw(frame):
    return (frame, b"", True, len(frame))


def udp_query(cip, cport):
    payload = b"q" * 20
    ip = struct.pack(">BBHHHBBH", 0x45, 0, 28 + len(payload), 1, 0x4000, 64, 17, 0)
    return ip + cip + SERVER_IP + struct.pack(">HHHH", cport, 53, 8 + len(payload), 0) + payload


def port_unreachable(quoted, to):
    body = bytes([3, 3, 0, 0, 0, 0, 0, 0]) + quoted[:28]
    ip = struct.pack(">BBHHHBBH", 0x45, 0, 20 + len(body), 1, 0, 64, 1, 0)
    return ip + SERVER_IP + to + body


# Mix: 1 us apart; flows are retired by the bounds only (never by time).
n = max(conns // 10, 1)
p = Pcap(f"{work}/mix.pcap")
for k in range(3):
    p.put(CONN[k], long_mids[k], 1)
for i in range(n):
    p.put(SCAN, mid(*client(i), True), 1)
for g in range(n, 2 * n, group):
    mids = [[mid(*client(i), t[2]) for t in CONN] for i in range(g, min(g + group, 2 * n))]
    for k, tmpl in enumerate(CONN):
        for m in mids:
            p.put(tmpl, m[k], 1)
for i in range(2 * n, 3 * n):
    cip, cport = client(i)
    q = udp_query(cip, cport)
    p.put(raw(MAC + q), b"", 1)
    p.put(raw(MAC + port_unreachable(q, cip)), b"", 1)
for tmpl in [
    frame(True, PSH | ACK, C + 1, S + 1, b"k"),
    frame(False, FIN | ACK, S + 1, C + 2),
    frame(True, FIN | ACK, C + 2, S + 2),
    frame(False, ACK, S + 2, C + 3),
]:
    p.put(tmpl, mid(lip, lport, tmpl[2]), 1)
p.close()
PY

. benches/measure.sh

for name in conns scan mix; do
  pcap="$work/$name.pcap"
  # Warm the page cache so both tools read from memory, not disk.
  cat "$pcap" > /dev/null
  read -r s_secs s_rss < <(measure "socklab-$name" "$bin" inspect --streams "$pcap")
  read -r t_secs t_rss < <(measure "tshark-$name" tshark -q -z conv,tcp -r "$pcap")
  python3 - "$name" "$pcap" "$s_secs" "$s_rss" "$t_secs" "$t_rss" \
    "$work/socklab-$name.out" "$work/tshark-$name.out" <<'PY'
import os, re, sys
name, pcap = sys.argv[1], sys.argv[2]
s_secs, s_rss, t_secs, t_rss = float(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
text = open(sys.argv[7]).read()
# Our TCP table: "#  client  server  handshake  teardown(1-2 words)  c2s  s2c  duration".
ours = {}
for line in text.split("\n\n")[0].splitlines()[1:]:
    f = line.split()
    ours[(f[1], f[2])] = tuple(tuple(map(int, x.split("/"))) for x in (f[-3], f[-2]))


def same(frames, value, unit, mine):
    # tshark rounds large byte counts to kB or MB.
    scale = {"bytes": 1, "kB": 1e3, "MB": 1e6}.get(unit)
    return int(frames) == mine[0] and scale is not None and abs(mine[1] / scale - float(value)) <= (0 if scale == 1 else 1)


theirs = agree = 0
for line in open(sys.argv[8]):
    if "<->" not in line:
        continue
    # A <-> B | <- frames bytes unit | -> frames bytes unit | ...
    f = line.split()
    theirs += 1
    mine = ours.get((f[0], f[2]))
    if mine is None and (f[2], f[0]) in ours:
        mine = tuple(reversed(ours[(f[2], f[0])]))
    if mine and same(*f[6:9], mine[0]) and same(*f[3:6], mine[1]):
        agree += 1
frames = re.search(r"frames: (\d+)", text)
mb = os.path.getsize(pcap) / 1e6
print(f"{name}: {mb:.0f} MB, {frames.group(1) if frames else '?'} frames; TCP: socklab {len(ours)} streams, tshark {theirs} conversations, {agree} agree in frames and bytes")
print(f"  socklab inspect --streams : {s_secs:7.2f} s  peak {s_rss / 1024:7.1f} MB")
print(f"  tshark -q -z conv,tcp     : {t_secs:7.2f} s  peak {t_rss / 1024:7.1f} MB")
ratio = t_secs / max(s_secs, 1e-3)
ok = lambda c: "met" if c else "NOT met"
goals = f"peak < 100 MB: {ok(s_rss < 100 * 1024)}"
if name == "conns":
    goals += f"; >= 10x: {ok(ratio >= 10)}"
print(f"  socklab is {ratio:.1f}x faster, with {t_rss / max(s_rss, 1):.0f}x less memory; goals: {goals}")
PY
done

# Follow TCP Stream on the connection-heavy file: the followed stream's payload is kept, every
# other stream is let go of as --streams does, so memory stays bounded here too.
pcap="$work/conns.pcap"
for n in 0 $((conns - 1)); do
  read -r f_secs f_rss < <(measure "follow-$n" "$bin" inspect --follow "$n" "$pcap")
  python3 -c "import sys; s, r = float(sys.argv[1]), int(sys.argv[2]); print(f'conns: socklab inspect --follow {sys.argv[3]:<7}: {s:7.2f} s  peak {r / 1024:7.1f} MB; goal: peak < 100 MB: ' + ('met' if r < 100 * 1024 else 'NOT met'))" "$f_secs" "$f_rss" "$n"
done
