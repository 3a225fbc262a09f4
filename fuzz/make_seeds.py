#!/usr/bin/env python3
"""Writes the fuzz seed corpus, fuzz/seeds/<target>/, from files we have or build here.

Captures: damaged copies of the public sample captures (../shared/captures/public): cut in a
record, cut in the header, bad magic, absurd record and block lengths, an unknown interface,
an out-of-range timestamp resolution, a far-future timestamp, a snaplen-cut record. Only
the first few KB of each are kept, and every file is damaged: none is a copy. Decoder seeds
are single frames of those captures (link type, then 2-byte length + bytes per frame), whole
and cut at each header boundary. Scenario seeds: the bundled scenarios, cut and corrupted.

The same files are read by `cargo test` (src/wire/corpus_tests.rs), so CI checks them without
a fuzzer. Run from the repository root: python3 fuzz/make_seeds.py
"""
import hashlib, os, pathlib, struct, sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
PUBLIC = ROOT.parent / "shared" / "captures" / "public"
if not PUBLIC.is_dir():
    PUBLIC = pathlib.Path("/work/shared/captures/public")
OUT = ROOT / "fuzz" / "seeds"
KEEP = 3000  # bytes of each capture kept before damaging it

# Index in src/wire/exercise.rs LINK_TYPES of each link type.
LINK_INDEX = {0: 0, 1: 1, 12: 2, 14: 3, 101: 4, 108: 5, 113: 6, 228: 7, 229: 8, 276: 9}


def write(target, name, data):
    d = OUT / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data)


def pcap_records(data):
    """(link type, byte order, [(offset, record header, frame)]) of a classic pcap."""
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        return None
    link = struct.unpack(e + "I", data[20:24])[0] & 0x0FFFFFFF
    out, at = [], 24
    while at + 16 <= len(data):
        caplen = struct.unpack(e + "I", data[at + 8:at + 12])[0]
        if at + 16 + caplen > len(data):
            break
        out.append((at, data[at:at + 16], data[at + 16:at + 16 + caplen]))
        at += 16 + caplen
    return link, e, out


def capture_seeds(stem, data):
    head = data[:KEEP]
    yield "cut-in-record", head if len(data) > KEEP else data[: len(data) - 7]
    yield "cut-in-header", data[:13]
    yield "bad-magic", b"\x00\x01" + data[2:600]
    parsed = pcap_records(data)
    if parsed:
        link, e, recs = parsed
        if len(recs) >= 2:
            at = recs[1][0]
            bad = bytearray(head[: max(at + 16, 64)])
            bad[at + 8:at + 12] = struct.pack(e + "I", 0xFFFFFFFF)
            yield "absurd-caplen", bytes(bad)
            far = bytearray(head)
            far[at:at + 4] = struct.pack(e + "I", 0xFFFFFFF0)
            yield "far-future-time", bytes(far)
            # The first record longer than 60 bytes cut to 60 with its original length kept,
            # as a snaplen-limited capture has it, and the three records after it.
            long = [i for i, (_, _, f) in enumerate(recs) if len(f) > 60]
            if long:
                i = long[0]
                _, hdr, frame = recs[i]
                snap = data[:24] + hdr[:8] + struct.pack(e + "II", 60, len(frame)) + frame[:60]
                yield "snaplen-60", snap + b"".join(h + f for _, h, f in recs[i + 1:i + 4])
        swapped = bytearray(head)
        swapped[20:24] = struct.pack(e + "I", 0x7FFF)
        yield "unknown-linktype", bytes(swapped)
    else:
        # pcapng: damage the second block (the first interface, in these files).
        shb_len = struct.unpack("<I", data[4:8])[0]
        bad = bytearray(head)
        if shb_len + 8 <= len(bad):
            bad[shb_len + 4:shb_len + 8] = struct.pack("<I", 13)
            yield "odd-block-length", bytes(bad)
            iface = bytearray(head)
            idb_len = struct.unpack("<I", data[shb_len + 4:shb_len + 8])[0]
            epb = shb_len + idb_len
            if epb + 12 <= len(iface):
                iface[epb + 8:epb + 12] = struct.pack("<I", 7)
                yield "unknown-interface", bytes(iface)
            # if_tsresol of 2^127: out of range.
            opt = bytearray(head[: shb_len + idb_len])
            opts = shb_len + 16
            while opts + 4 <= shb_len + idb_len - 4:
                code, olen = struct.unpack("<HH", opt[opts:opts + 4])
                if code == 0:
                    break
                if code == 9 and olen == 1:
                    opt[opts + 4] = 0xFF
                opts += 4 + ((olen + 3) & ~3)
            yield "header-blocks-only", bytes(opt)
        zero = bytearray(head)
        zero[4:8] = b"\0\0\0\0"
        yield "zero-section-length", bytes(zero)


def decoder_seeds(stem, data):
    parsed = pcap_records(data)
    if not parsed:
        return
    link, _, recs = parsed
    if link not in LINK_INDEX:
        return
    frames = [f[:1514] for _, _, f in recs[:12]]
    def pack(fs):
        return bytes([LINK_INDEX[link]]) + b"".join(struct.pack(">H", len(f)) + f for f in fs)
    yield "frames", pack(frames)
    for n in (4, 14, 20, 34, 54):
        yield f"cut-{n}", pack([f[:n] for f in frames[:4]])


def scenario_seeds():
    for path in sorted((ROOT / "scenarios").rglob("*.json")):
        text = path.read_bytes()
        name = path.stem
        yield f"{name}-cut", text[: len(text) // 2]
        yield f"{name}-bom", b"\xef\xbb\xbf" + text
        yield f"{name}-bad-utf8", text[:40] + b"\xff\xfe" + text[40:]
    yield "nested", b"[" * 300 + b"]" * 300
    yield "garbage", bytes(range(256))


def main():
    if not PUBLIC.is_dir():
        sys.exit(f"no public captures at {PUBLIC}")
    for path in sorted(PUBLIC.iterdir()):
        if path.suffix not in (".pcap", ".pcapng"):
            continue
        data = path.read_bytes()
        for kind, seed in capture_seeds(path.stem, data):
            assert hashlib.sha256(seed).digest() != hashlib.sha256(data).digest(), (path, kind)
            write("capture_reader", f"{path.stem}-{kind}{path.suffix}", seed)
        for kind, seed in decoder_seeds(path.stem, data):
            write("decoders", f"{path.stem}-{kind}", seed)
    for name, seed in scenario_seeds():
        write("scenario", f"{name}.json", seed)


main()
