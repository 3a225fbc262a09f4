#!/usr/bin/env python3
"""Writes the fuzz seed corpus, fuzz/seeds/<target>/, from captures built here.

Every capture is made by this script with `struct`: no byte comes from a capture file or from
another repository. The traffic is the kind the labs capture and the decoders handle, with
texts written for this script: a TCP handshake (MSS, window scale, SACK-permitted and
timestamp options), data, FIN and RST; a TCP Fast Open SYN; UDP "hello, World" and
"HELLO, WORLD"; an ICMP port unreachable quoting the UDP datagram; ICMP echo; ICMPv6
destination unreachable, echo and neighbour solicitation/advertisement; IPv4 and IPv6
fragments; an HTTP GET and its response; an SMTP dialogue.

Base captures: one classic pcap per link type the reader supports (LINK_INDEX below, the same
as LINK_TYPES in src/wire/exercise.rs), alternating byte order and micro/nanosecond
timestamps; pcapng files with several interfaces of different link types and timestamp
resolutions, little- and big-endian, one with two sections. None of them is committed: each is
damaged, and only the damaged copies are written:

- capture_reader: cut in a record, cut in the header, bad magic; pcap: an absurd record
  length, a far-future timestamp, a snaplen-cut record, an unknown link type; pcapng: a block
  length too short for an interface, a zero section length, a huge block length, a packet on
  an undescribed interface, an out-of-range if_tsresol, an unknown link type, a far-future
  timestamp. The name says the damage; src/wire/corpus_tests.rs checks each file ends so.
- decoders: the frames of each base pcap (link-type index byte, then 2-byte length + bytes
  per frame), whole and cut at each header boundary.
- scenario: the bundled scenarios (our own) cut, behind a byte-order mark, with invalid UTF-8.

`cargo test` reads the same files (src/wire/corpus_tests.rs), so CI checks them without a
fuzzer. The output is deterministic. Run from anywhere: python3 fuzz/make_seeds.py
"""
import pathlib, shutil, struct

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "fuzz" / "seeds"
KEEP = 3000  # bytes of each base capture kept before damaging it

# Index in src/wire/exercise.rs LINK_TYPES of each link type.
LINK_INDEX = {0: 0, 1: 1, 12: 2, 14: 3, 101: 4, 108: 5, 113: 6, 228: 7, 229: 8, 276: 9}
UNSUPPORTED_LINK_INDEX = 10  # LINK_TYPES[10] = 147, which the decoders refuse

T0 = 1_764_400_000  # base capture time, seconds (late 2025)


# ---------------------------------------------------------------------------------------------
# Packets


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def v4addr(s):
    return bytes(int(x) for x in s.split("."))


def v6addr(s):
    """A compact IPv6 literal ("fd00::1", "fe80::a:2") to 16 bytes."""
    head, _, tail = s.partition("::")
    h = [int(x, 16) for x in head.split(":") if x]
    t = [int(x, 16) for x in tail.split(":") if x]
    return struct.pack("!8H", *(h + [0] * (8 - len(h) - len(t)) + t))


def pseudo(src, dst, proto, length):
    if len(src) == 4:
        return src + dst + struct.pack("!BBH", 0, proto, length)
    return src + dst + struct.pack("!IxxxB", length, proto)


def ipv4(src, dst, proto, payload, ident=0x1234, offset=0, more=False, df=True, ttl=64):
    flags = (0x4000 if df and not more and offset == 0 else 0) | (0x2000 if more else 0)
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident,
                      flags | (offset // 8), ttl, proto, 0, v4addr(src), v4addr(dst))
    return hdr[:10] + struct.pack("!H", checksum(hdr)) + hdr[12:] + payload


def ipv6(src, dst, nh, payload, hop=64, frag=None):
    """frag: (offset, more, ident) adds a fragment header."""
    if frag is not None:
        offset, more, ident = frag
        payload = struct.pack("!BBHI", nh, 0, offset | int(more), ident) + payload
        nh = 44
    return struct.pack("!IHBB16s16s", 0x6000_0000, len(payload), nh, hop,
                       v6addr(src), v6addr(dst)) + payload


def transport_sum(src, dst, proto, seg, at):
    """seg with its checksum (at byte `at`) filled in; src/dst as packed addresses."""
    c = checksum(pseudo(src, dst, proto, len(seg)) + seg)
    return seg[:at] + struct.pack("!H", c) + seg[at + 2:]


def packed(addr):
    return v6addr(addr) if ":" in addr else v4addr(addr)


def tcp(src, dst, sport, dport, seq, ack, flags, payload=b"", opts=b"", win=64240):
    opts += b"\x00" * (-len(opts) % 4)
    off = (20 + len(opts)) // 4
    seg = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, off << 4, flags, win, 0, 0)
    return transport_sum(packed(src), packed(dst), 6, seg + opts + payload, 16)


def udp(src, dst, sport, dport, payload):
    seg = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    return transport_sum(packed(src), packed(dst), 17, seg, 6)


def icmp(typ, code, rest, body):
    msg = struct.pack("!BBH", typ, code, 0) + rest + body
    return msg[:2] + struct.pack("!H", checksum(msg)) + msg[4:]


def icmp6(src, dst, typ, code, rest, body):
    msg = struct.pack("!BBH", typ, code, 0) + rest + body
    return transport_sum(v6addr(src), v6addr(dst), 58, msg, 2)


def ip(src, dst, proto, payload, **kw):
    if ":" in src:
        return ipv6(src, dst, proto, payload, **kw)
    return ipv4(src, dst, proto, payload, **kw)


FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10

# TCP options
NOP = b"\x01"
def MSS(v): return struct.pack("!BBH", 2, 4, v)
def WS(v): return struct.pack("!BBB", 3, 3, v)
SACK_PERM = b"\x04\x02"
def SACK(*edges): return struct.pack(f"!BB{len(edges)}I", 5, 2 + 4 * len(edges), *edges)
def TS(val, ecr): return struct.pack("!BBII", 8, 10, val, ecr)
def TFO(cookie=b""): return struct.pack("!BB", 34, 2 + len(cookie)) + cookie


def tcp_conversation(c, s, cport, sport, exchanges, syn_opts=True):
    """A whole TCP connection from c to s: handshake, each (client text, server text) in turn,
    then FIN from the client. Returns IP packets."""
    out, cs, ss, t = [], 0x1000_0000 + cport, 0x5000_0000 + sport, 100_000
    pk = lambda a, b, ap, bp, seq, ack, fl, data=b"", opts=b"": out.append(
        ip(a, b, 6, tcp(a, b, ap, bp, seq, ack, fl, data, opts)))
    copts = MSS(1460) + SACK_PERM + TS(t, 0) + NOP + WS(7) if syn_opts else b""
    sopts = MSS(1460) + SACK_PERM + TS(t + 7, t) + NOP + WS(7) if syn_opts else b""
    pk(c, s, cport, sport, cs, 0, SYN, opts=copts)
    pk(s, c, sport, cport, ss, cs + 1, SYN | ACK, opts=sopts)
    cs, ss = cs + 1, ss + 1
    ts = lambda: NOP + NOP + TS(t + len(out), t + len(out) - 1) if syn_opts else b""
    pk(c, s, cport, sport, cs, ss, ACK, opts=ts())
    for ctext, stext in exchanges:
        if ctext:
            pk(c, s, cport, sport, cs, ss, PSH | ACK, ctext, ts())
            cs += len(ctext)
            pk(s, c, sport, cport, ss, cs, ACK, opts=ts())
        if stext:
            pk(s, c, sport, cport, ss, cs, PSH | ACK, stext, ts())
            ss += len(stext)
            pk(c, s, cport, sport, cs, ss, ACK, opts=ts())
    pk(c, s, cport, sport, cs, ss, FIN | ACK, opts=ts())
    pk(s, c, sport, cport, ss, cs + 1, FIN | ACK, opts=ts())
    pk(c, s, cport, sport, cs + 1, ss + 1, ACK, opts=ts())
    return out


def echo_tcp(c, s):
    return tcp_conversation(c, s, 41000, 5000, [(b"hello, World\n", b"HELLO, WORLD\n")])


def refused_tcp(c, s):
    return [ip(c, s, 6, tcp(c, s, 41001, 5001, 7, 0, SYN, opts=MSS(1460) + SACK_PERM)),
            ip(s, c, 6, tcp(s, c, 5001, 41001, 0, 8, RST | ACK, win=0))]


def reset_tcp(c, s):
    """A connection the server resets in the middle of the data, after a SACK."""
    out = tcp_conversation(c, s, 41002, 5002, [(b"hello, World\n", None)])[:5]
    out.append(ip(s, c, 6, tcp(s, c, 5002, 41002, 0x5000_138b, 0x1000_a032, ACK,
                                opts=NOP + NOP + SACK(0x1000_a040, 0x1000_a050))))
    out.append(ip(s, c, 6, tcp(s, c, 5002, 41002, 0x5000_138b, 0, RST)))
    return out


def tfo_tcp(c, s):
    cookie = bytes(range(0x31, 0x39))
    return [ip(c, s, 6, tcp(c, s, 41003, 5003, 99, 0, SYN, b"hello, World\n",
                            MSS(1460) + SACK_PERM + TFO(cookie) + NOP + WS(7))),
            ip(s, c, 6, tcp(s, c, 5003, 41003, 500, 113, SYN | ACK, b"",
                            MSS(1460) + SACK_PERM + NOP + WS(7)))]


HTTP_GET = (b"GET /lab/index.html HTTP/1.1\r\nHost: server.lab.test\r\n"
            b"User-Agent: socklab-seed/1\r\nAccept: */*\r\n\r\n")
HTTP_BODY = b"<html><body><p>hello, World</p></body></html>\n"
HTTP_RESPONSE = (b"HTTP/1.1 200 OK\r\nServer: lab-httpd\r\nContent-Length: "
                 + str(len(HTTP_BODY)).encode()
                 + b"\r\nContent-Type: text/html; charset=utf-8\r\nConnection: close\r\n\r\n"
                 + HTTP_BODY)


def http_tcp(c, s):
    return tcp_conversation(c, s, 41080, 80, [(HTTP_GET, HTTP_RESPONSE)])


SMTP = [
    (None, b"220 mail.lab.test ESMTP ready\r\n"),
    (b"EHLO student.lab.test\r\n", b"250-mail.lab.test greets you\r\n250 8BITMIME\r\n"),
    (b"MAIL FROM:<student@lab.test>\r\n", b"250 sender ok\r\n"),
    (b"RCPT TO:<grader@lab.test>\r\n", b"250 recipient ok\r\n"),
    (b"DATA\r\n", b"354 go ahead, a line with a single dot ends it\r\n"),
    (b"Subject: lab 3\r\n\r\nhello, World\r\n.\r\n", b"250 queued as 42\r\n"),
    (b"QUIT\r\n", b"221 bye\r\n"),
]


def smtp_tcp(c, s):
    return tcp_conversation(c, s, 41025, 25, SMTP, syn_opts=False)


def udp_echo(c, s):
    """hello, World to a server that answers, then to a closed port: ICMP unreachable."""
    q = udp(c, s, 42000, 6000, b"hello, World")
    out = [ip(c, s, 17, q),
           ip(s, c, 17, udp(s, c, 6000, 42000, b"HELLO, WORLD"))]
    lost = ip(c, s, 17, udp(c, s, 42001, 6001, b"hello, World"))
    if ":" in c:
        out.append(ip(s, c, 58, icmp6(s, c, 1, 4, b"\0\0\0\0", lost)))
    else:
        out.append(ip(s, c, 1, icmp(3, 3, b"\0\0\0\0", lost)))
    return out


def ping(c, s):
    data = b"socklab echo " * 4 + bytes(range(4))
    if ":" in c:
        return [ip(c, s, 58, icmp6(c, s, 128, 0, struct.pack("!HH", 7, 1), data)),
                ip(s, c, 58, icmp6(s, c, 129, 0, struct.pack("!HH", 7, 1), data))]
    return [ip(c, s, 1, icmp(8, 0, struct.pack("!HH", 7, 1), data)),
            ip(s, c, 1, icmp(0, 0, struct.pack("!HH", 7, 1), data))]


def neighbours(c, s):
    """ICMPv6 neighbour solicitation (to the solicited-node address) and advertisement."""
    target = v6addr(s)
    mcast = "ff02::1:ff00:" + s.rsplit(":", 1)[1]
    mac_c, mac_s = b"\x02\x00\x00\x00\x00\x01", b"\x02\x00\x00\x00\x00\x02"
    ns = icmp6(c, mcast, 135, 0, b"\0\0\0\0", target + b"\x01\x01" + mac_c)
    na = icmp6(s, c, 136, 0, b"\x60\0\0\0", target + b"\x02\x01" + mac_s)
    return [ipv6(c, mcast, 58, ns, hop=255), ipv6(s, c, 58, na, hop=255)]


def fragments(c, s, sizes=(1480, 1480, 600)):
    """One UDP datagram sent in fragments, the last first (as Linux sends IPv6 ones)."""
    body = (b"hello, World " * 300)[: sum(sizes) - 8]
    dgram = udp(c, s, 42002, 6002, body)
    out, at = [], 0
    for n in sizes:
        more = at + n < len(dgram)
        chunk = dgram[at:at + n]
        if ":" in c:
            out.append(ipv6(c, s, 17, chunk, frag=(at, more, 0xBEEF)))
        else:
            out.append(ipv4(c, s, 17, chunk, ident=0xBEEF, offset=at, more=more))
        at += n
    return [out[-1]] + out[:-1]


V4 = ("10.0.0.1", "10.0.0.2")
V6 = ("fd00::1", "fd00::2")
LL6 = ("fe80::1", "fe80::2")


def mixed(both=True):
    """A bit of everything, IPv4 (and IPv6 when `both`)."""
    pkts = echo_tcp(*V4) + udp_echo(*V4) + ping(*V4) + fragments(*V4, sizes=(1000, 400))
    if both:
        pkts += echo_tcp(*V6) + udp_echo(*V6) + neighbours(*LL6) + fragments(*V6, (800, 300))
    return pkts


# ---------------------------------------------------------------------------------------------
# Link layers


def link(linktype, pkt, outgoing=True):
    v6 = pkt[0] >> 4 == 6
    etype = 0x86DD if v6 else 0x0800
    mac_a, mac_b = b"\x02\x00\x00\x00\x00\x01", b"\x02\x00\x00\x00\x00\x02"
    if linktype == 1:
        return (mac_b + mac_a if outgoing else mac_a + mac_b) + struct.pack("!H", etype) + pkt
    if linktype == 0:  # BSD NULL: family in the writer's (here little-endian) order
        return struct.pack("<I", 30 if v6 else 2) + pkt
    if linktype == 108:  # OpenBSD LOOP: family in network order
        return struct.pack("!I", 24 if v6 else 2) + pkt
    if linktype == 113:  # Linux cooked v1, loopback (ARPHRD 772)
        return struct.pack("!HHH8sH", 4 if outgoing else 0, 772, 6, mac_a + b"\0\0",
                           etype) + pkt
    if linktype == 276:  # Linux cooked v2
        return struct.pack("!HHIHBB8s", etype, 0, 1, 772, 4 if outgoing else 0, 6,
                           mac_a + b"\0\0") + pkt
    return pkt  # raw IP: 12, 14, 101, 228, 229


# ---------------------------------------------------------------------------------------------
# Capture files. Each builder returns (bytes, [(offset, length) of each record or block]).


def pcap(frames, linktype, big=False, nanos=False, snaplen=262144, orig=None):
    """orig: each frame's length on the wire, when the capture cut it."""
    e = ">" if big else "<"
    magic = 0xA1B23C4D if nanos else 0xA1B2C3D4
    data = bytearray(struct.pack(e + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype))
    recs = []
    for i, f in enumerate(frames):
        frac = (i * 1_234_567) % 1_000_000_000 if nanos else (i * 1234) % 1_000_000
        wire = orig[i] if orig else len(f)
        rec = struct.pack(e + "IIII", T0 + i, frac, len(f), wire) + f
        recs.append((len(data), len(rec)))
        data += rec
    return bytes(data), recs


def block(e, btype, body):
    body += b"\0" * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack(e + "II", btype, n) + body + struct.pack(e + "I", n)


def option(e, code, value):
    return struct.pack(e + "HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def pcapng(sections, big=False):
    """sections: [(interfaces [(linktype, tsresol or None, name)], packets [(iface, frame)])].
    Timestamps count from T0 in each interface's unit."""
    e = ">" if big else "<"
    data, blocks = bytearray(), []

    def add(b):
        blocks.append((len(data), len(b)))
        data.extend(b)

    for interfaces, packets in sections:
        add(block(e, 0x0A0D0D0A, struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1)
                  + option(e, 4, b"socklab make_seeds.py") + option(e, 0, b"")))
        units = []
        for lt, tsresol, name in interfaces:
            opts = option(e, 2, name.encode())
            if tsresol is not None:
                opts += option(e, 9, bytes([tsresol]))
            add(block(e, 1, struct.pack(e + "HHI", lt, 0, 0) + opts + option(e, 0, b"")))
            r = 6 if tsresol is None else tsresol
            units.append(2 ** (r & 0x7F) if r & 0x80 else 10 ** r)
        for i, (iface, f) in enumerate(packets):
            ts = (T0 + i) * units[iface] + i * units[iface] // 7
            body = struct.pack(e + "IIIII", iface, ts >> 32, ts & 0xFFFFFFFF, len(f), len(f)) + f
            if i == 1:
                body += b"\0" * (-len(body) % 4) + option(e, 1, b"seed") + option(e, 0, b"")
            add(block(e, 6, body))
        # Interface statistics for the first interface: a block with no frame.
        add(block(e, 5, struct.pack(e + "III", 0, 0, 0)))
    return bytes(data), blocks


def on(linktype, pkts, alternate=True):
    return [link(linktype, p, outgoing=not alternate or i % 2 == 0) for i, p in enumerate(pkts)]


def base_captures():
    """(stem, suffix, bytes, records or blocks, byte order) of every base capture."""
    v4only = {228}
    v6only = {229}
    traffic = {
        0: mixed(),
        1: http_tcp(*V4) + udp_echo(*V4) + fragments(*V4) + ping(*V6),
        12: smtp_tcp(*V4) + udp_echo(*V6),
        14: refused_tcp(*V6) + reset_tcp(*V4) + ping(*V4) + tfo_tcp(*V4),
        101: echo_tcp(*V4) + fragments(*V6) + neighbours(*LL6) + udp_echo(*V4),
        108: mixed(),
        113: echo_tcp(*V4) + refused_tcp(*V4) + udp_echo(*V4) + http_tcp(*V6),
        228: tfo_tcp(*V4) + udp_echo(*V4) + fragments(*V4, (1200, 200)) + smtp_tcp(*V4),
        229: echo_tcp(*V6) + udp_echo(*V6) + ping(*V6) + neighbours(*LL6) + fragments(*V6),
        276: echo_tcp(*V4) + udp_echo(*V4) + reset_tcp(*V6) + ping(*V4),
    }
    names = {0: "null", 1: "ethernet", 12: "raw12", 14: "raw14", 101: "raw", 108: "loop",
             113: "sll", 228: "ipv4", 229: "ipv6", 276: "sll2"}
    out = []
    for n, (lt, pkts) in enumerate(sorted(traffic.items())):
        assert lt not in v4only or all(p[0] >> 4 == 4 for p in pkts)
        assert lt not in v6only or all(p[0] >> 4 == 6 for p in pkts)
        big, nanos = n % 2 == 1, n % 4 >= 2
        data, recs = pcap(on(lt, pkts), lt, big=big, nanos=nanos)
        order = ("be" if big else "le") + ("-ns" if nanos else "-us")
        out.append((f"own_{names[lt]}_{order}", ".pcap", data, recs, ">" if big else "<"))
    # A snaplen smaller than the frames, as `tcpdump -s 96` writes, on Ethernet.
    whole = on(1, http_tcp(*V4))
    data, recs = pcap([f[:96] for f in whole], 1, snaplen=96, orig=[len(f) for f in whole])
    out.append(("own_ethernet_snap96_le-us", ".pcap", data, recs, "<"))

    # pcapng: several interfaces each, the packets interleaved across them.
    def spread(ifaces, flows):
        """The flows' packets on their interfaces, taken in turn from each flow."""
        queues = [[(i, link(ifaces[i][0], p, k % 2 == 0)) for k, p in enumerate(pkts)]
                  for i, pkts in enumerate(flows)]
        out = []
        while any(queues):
            for q in queues:
                if q:
                    out.append(q.pop(0))
        return out

    ng = [
        ("own_ng_lo_eth", False, [(
            [(113, 9, "lo"), (1, None, "eth0"), (276, 6, "any")],
            [udp_echo(*V4), echo_tcp(*V4), http_tcp(*V6)])]),
        ("own_ng_raw_nsec", False, [(
            [(101, 9, "tun0"), (228, 3, "ipv4"), (229, 0x80 | 20, "ipv6")],
            [fragments(*V6), tfo_tcp(*V4) + refused_tcp(*V4), neighbours(*LL6) + ping(*V6)])]),
        ("own_ng_null_loop_be", True, [(
            [(0, 6, "lo0"), (108, 9, "lo1"), (1, None, "en0")],
            [ping(*V4) + udp_echo(*V6), smtp_tcp(*V4), reset_tcp(*V4) + fragments(*V4)])]),
        ("own_ng_two_sections", False, [
            ([(229, 9, "ipv6"), (1, None, "eth0")], [udp_echo(*V6), http_tcp(*V4)]),
            ([(276, 9, "any")], [echo_tcp(*V6) + ping(*V4)]),
        ]),
        ("own_ng_sll2_be", True, [(
            [(276, 9, "any"), (12, 6, "raw")],
            [mixed(both=False), echo_tcp(*V6) + neighbours(*LL6)])]),
    ]
    for stem, big, sections in ng:
        secs = [(ifaces, spread(ifaces, flows)) for ifaces, flows in sections]
        data, blocks = pcapng(secs, big=big)
        out.append((stem, ".pcapng", data, blocks, ">" if big else "<"))
    return out, traffic


# ---------------------------------------------------------------------------------------------
# Damage


def kept(recs, size=KEEP):
    """The records that fit whole in the first `size` bytes (at least three)."""
    fit = [r for r in recs if r[0] + r[1] <= size]
    return recs[: max(len(fit), 3)]


def cut_in_record(data, recs):
    """The records that fit in KEEP bytes, then half of the next one's."""
    ks = kept(recs)
    nxt = recs[len(ks)] if len(ks) < len(recs) else recs[-1]
    return data[: nxt[0] + nxt[1] // 2]


def pcap_seeds(data, recs, e):
    ks = kept(recs)
    head = data[: ks[-1][0] + ks[-1][1]]
    yield "cut-in-record", cut_in_record(data, recs)
    yield "cut-in-header", data[:13]
    yield "bad-magic", b"\x00\x01" + head[2:600]
    at = recs[1][0]
    bad = bytearray(head[: max(at + 16, 64)])
    bad[at + 8:at + 12] = struct.pack(e + "I", 0xFFFFFFFF)
    yield "absurd-caplen", bytes(bad)
    far = bytearray(head)
    far[at:at + 4] = struct.pack(e + "I", 0xFFFFFFF0)
    yield "far-future-time", bytes(far)
    # The first record longer than 60 bytes cut to 60 with its original length kept, as a
    # snaplen-limited capture has it, and the three records after it.
    i = next(i for i, (o, n) in enumerate(recs) if n - 16 > 60)
    o, n = recs[i]
    wire = data[o + 12:o + 16]
    snap = data[:24] + data[o:o + 8] + struct.pack(e + "I", 60) + wire + data[o + 16:o + 76]
    yield "snaplen-60", snap + b"".join(data[o:o + n] for o, n in recs[i + 1:i + 4])
    unknown = bytearray(head)
    unknown[20:24] = struct.pack(e + "I", 0x7FFF)
    yield "unknown-linktype", bytes(unknown)


def pcapng_seeds(data, blocks, e):
    u32 = lambda b, at: struct.unpack(e + "I", b[at:at + 4])[0]
    ks = kept(blocks)
    head = data[: ks[-1][0] + ks[-1][1]]
    yield "cut-in-record", cut_in_record(data, blocks)
    yield "cut-in-header", data[:13]
    yield "bad-magic", b"\x00\x01" + head[2:600]
    idb = blocks[1][0]
    odd = bytearray(head)
    odd[idb + 4:idb + 8] = struct.pack(e + "I", 13)
    yield "odd-block-length", bytes(odd)
    zero = bytearray(head)
    zero[4:8] = b"\0\0\0\0"
    yield "zero-section-length", bytes(zero)
    epbs = [o for o, _ in ks if u32(data, o) == 6]
    huge = bytearray(head)
    huge[epbs[1] + 4:epbs[1] + 8] = struct.pack(e + "I", 0x7FFF_FFF0)
    yield "huge-block-length", bytes(huge)
    iface = bytearray(head)
    iface[epbs[0] + 8:epbs[0] + 12] = struct.pack(e + "I", 7)
    yield "unknown-interface", bytes(iface)
    far = bytearray(head)
    far[epbs[1] + 12:epbs[1] + 16] = struct.pack(e + "I", 0xFFFF_FFF0)
    yield "far-future-time", bytes(far)
    # Every interface of the first section on link type 0x7fff.
    unknown = bytearray(head)
    idbs = [o for o, _ in ks if u32(data, o) == 1]
    for o in idbs:
        unknown[o + 8:o + 10] = struct.pack(e + "H", 0x7FFF)
    if len(idbs) == len([o for o, _ in blocks if u32(data, o) == 1]):
        yield "unknown-linktype", bytes(unknown)
    # The header blocks only, the first interface with if_tsresol 2^127: out of range.
    first_epb = next(o for o, _ in blocks if u32(data, o) == 6)
    opt = bytearray(data[:first_epb])
    at, end = idb + 16, idb + u32(data, idb + 4) - 4
    while at + 4 <= end:
        code, olen = struct.unpack(e + "HH", opt[at:at + 4])
        if code == 0:
            break
        if code == 9:
            opt[at + 4] = 0xFF
        at += 4 + ((olen + 3) & ~3)
    yield "header-blocks-only", bytes(opt)


def frames_of_pcap(data, recs):
    return [data[o + 16:o + n] for o, n in recs]


def decoder_seed(index, frames):
    return bytes([index]) + b"".join(struct.pack(">H", len(f)) + f for f in frames)


def decoder_seeds(lt, data, recs):
    frames = frames_of_pcap(data, recs)
    # The first twelve frames, then every fragment, so each seed reassembles a datagram.
    picked = frames[:12] + [f for f in frames[12:] if is_fragment(lt, f)]
    yield "frames", decoder_seed(LINK_INDEX[lt], picked)
    for n in (4, 14, 20, 34, 54):
        yield f"cut-{n}", decoder_seed(LINK_INDEX[lt], [f[:n] for f in frames[:4]])


def is_fragment(lt, frame):
    hdr = {0: 4, 1: 14, 108: 4, 113: 16, 276: 20}.get(lt, 0)
    p = frame[hdr:]
    if p[0] >> 4 == 4:
        return struct.unpack("!H", p[6:8])[0] & 0x3FFF != 0
    return p[6] == 44


def scenario_seeds():
    for path in sorted((ROOT / "scenarios").rglob("*.json")):
        text = path.read_bytes()
        name = path.stem
        yield f"{name}-cut", text[: len(text) // 2]
        yield f"{name}-bom", b"\xef\xbb\xbf" + text
        yield f"{name}-bad-utf8", text[:40] + b"\xff\xfe" + text[40:]
    yield "nested", b"[" * 300 + b"]" * 300
    yield "garbage", bytes(range(256))


def regression_inputs():
    """Minimal inputs for the crashes fuzzing found, for fuzz/regressions/<target>/.

    decoders, defrag-fragment-past-the-end: raw IPv4, three fragments of one UDP datagram:
    bytes 0..560 (more to come), 552..560 (more to come), then a last fragment at 8 that says
    the datagram ends at 516, before the second fragment's start. The defragmenter used to
    index its 516-byte buffer from 552 and panic (unit test
    a_fragment_past_the_end_a_last_fragment_declares_is_dropped_not_a_panic)."""
    c, s = V4
    parts = [(0, True, 560), (552, True, 8), (8, False, 508)]
    frames = [ipv4(c, s, 17, bytes([0x41 + i]) * n, ident=0x0D0D, offset=o, more=m)
              for i, (o, m, n) in enumerate(parts)]
    yield "decoders", "defrag-fragment-past-the-end", decoder_seed(LINK_INDEX[101], frames)


def write(target, name, data, out=OUT):
    d = out / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data)


def main():
    for target in ("capture_reader", "decoders", "scenario"):
        shutil.rmtree(OUT / target, ignore_errors=True)
    captures, traffic = base_captures()
    for stem, suffix, data, recs, e in captures:
        seeds = pcap_seeds(data, recs, e) if suffix == ".pcap" else pcapng_seeds(data, recs, e)
        for kind, seed in seeds:
            assert seed != data, (stem, kind)  # every file is damaged
            write("capture_reader", f"{stem}-{kind}{suffix}", seed)
        if suffix == ".pcap" and "snap96" not in stem:
            lt = struct.unpack(e + "I", data[20:24])[0]
            for kind, seed in decoder_seeds(lt, data, recs):
                write("decoders", f"{stem}-{kind}", seed)
    # Frames on a link type the decoders refuse.
    write("decoders", "own_unsupported-link", decoder_seed(UNSUPPORTED_LINK_INDEX,
                                                           on(1, ping(*V4))))
    for name, seed in scenario_seeds():
        write("scenario", f"{name}.json", seed)
    for target, name, data in regression_inputs():
        write(target, name, data, out=ROOT / "fuzz" / "regressions")


main()
