//! Analyzer behaviour on hand-built frames (raw IPv4, link type 101).

use super::fixtures::*;
use super::*;
use crate::wire::tcp::flags::*;
use crate::wire::Frame;

/// Runs frames (raw IPv4) spaced 1 ms apart, or at the given millisecond times.
fn analyze_frames(frames: &[(u64, Vec<u8>)]) -> Analysis {
    let mut an = Analyzer::new(AnalyzerOptions::default());
    for (i, (ms, data)) in frames.iter().enumerate() {
        an.push(&Frame {
            number: i as u64 + 1,
            ts_ns: *ms as i64 * 1_000_000,
            link_type: 101,
            interface: 0,
            orig_len: data.len() as u32,
            data,
            decimals: 6,
        });
    }
    an.finish()
}

fn timed(v: Vec<Vec<u8>>) -> Vec<(u64, Vec<u8>)> {
    v.into_iter()
        .enumerate()
        .map(|(i, f)| (i as u64, f))
        .collect()
}

#[test]
fn syn_answered_by_rst_is_refused() {
    let a = analyze_frames(&timed(vec![
        tcp(C, S, 40000, 12000, 100, 0, SYN, b""),
        tcp(S, C, 12000, 40000, 0, 101, RST | ACK, b""),
    ]));
    let s = &a.tcp_streams[0];
    assert!(s.refused());
    assert!(!s.handshake.completed);
    assert_eq!(s.teardown, Teardown::Rst);
    assert_eq!(
        (s.handshake.syn, s.to_client.rst_packet),
        (Some(1), Some(2))
    );
    let t = a.packets[1].tcp.as_ref().unwrap();
    assert_eq!((t.seq, t.ack, t.flags_str.as_str()), (1, 1, "·······A·R··"));
}

#[test]
fn handshake_payload_and_fin_teardown() {
    let a = analyze_frames(&timed(full_connection(1000, 40000)));
    let s = &a.tcp_streams[0];
    assert_eq!(
        s.handshake,
        Handshake {
            syn: Some(1),
            syn_ack: Some(2),
            ack: Some(3),
            completed: true
        }
    );
    assert_eq!(s.to_server.payload, b"ping");
    assert_eq!(s.to_client.payload, b"pong");
    assert_eq!(s.teardown, Teardown::Fin);
    assert_eq!(
        (s.to_server.fin_packet, s.to_client.fin_packet),
        (Some(6), Some(7))
    );
    assert_eq!(s.chunks.len(), 2);
    assert!(s.chunks[0].from_client && !s.chunks[1].from_client);
    assert_eq!(a.streams_to_port(80).count(), 1);
}

#[test]
fn new_syn_after_close_starts_a_new_stream_but_retransmitted_syn_does_not() {
    let mut frames = full_connection(1000, 40000);
    frames.extend(full_connection(9000, 40000));
    let mut syn_again = vec![frames[0].clone()];
    syn_again.extend(frames.clone());
    let a = analyze_frames(&timed(frames));
    assert_eq!(a.tcp_streams.len(), 2);
    assert_eq!(a.packets[8].tcp.as_ref().unwrap().stream, 1);
    assert_eq!(a.tcp_streams[1].to_server.isn, Some(9000));
    let b = analyze_frames(&timed(syn_again));
    assert_eq!(b.tcp_streams.len(), 2);
    assert_eq!(b.tcp_streams[0].to_server.retransmission_packets, vec![2]);
}

#[test]
fn out_of_order_and_retransmitted_data_reassemble_once() {
    let a = analyze_frames(&timed(vec![
        tcp(C, S, 1, 2, 10, 0, SYN, b""),
        tcp(S, C, 2, 1, 50, 11, SYN | ACK, b""),
        tcp(C, S, 1, 2, 17, 51, ACK, b"world"),
        tcp(C, S, 1, 2, 11, 51, ACK, b"hello "),
        tcp(C, S, 1, 2, 11, 51, ACK, b"hello "),
    ]));
    let d = &a.tcp_streams[0].to_server;
    assert_eq!(d.payload, b"hello world");
    assert_eq!(d.stream_bytes, 11);
    assert_eq!(d.payload_bytes, 17);
    assert_eq!(d.retransmission_packets, vec![5]);
    assert!(a.packets[4].info.starts_with("[TCP Retransmission] "));
}

#[test]
fn icmp_port_unreachable_matches_the_udp_flow_it_quotes() {
    let dgram = udp(C, S, 5000, 12000, b"hi");
    let mut icmp = vec![3, 3, 0, 0, 0, 0, 0, 0];
    icmp.extend(&dgram[..28]);
    let a = analyze_frames(&timed(vec![dgram.clone(), ipv4(S, C, 1, &icmp)]));
    assert_eq!(a.udp_flows.len(), 1);
    assert_eq!(a.udp_flows[0].a_to_b.datagrams, 1);
    assert_eq!(a.udp_flows[0].a_to_b.payloads[0].payload, b"hi");
    let e = &a.icmp_errors[0];
    assert!(e.is_port_unreachable());
    assert_eq!(e.packet, 2);
    assert_eq!(e.matched, Some(FlowRef::Udp { flow: 0 }));
    assert_eq!(a.icmp_errors_for(FlowRef::Udp { flow: 0 }).count(), 1);
    assert_eq!(
        a.packets[1].info,
        "Destination unreachable (Port unreachable)"
    );
    assert_eq!(a.packets[0].info, "5000 → 12000 Len=2");
}

#[test]
fn largest_gap_between_packets_of_a_flow() {
    let a = analyze_frames(&[
        (0, udp(C, S, 1, 2, b"a")),
        (5, udp(S, C, 2, 1, b"b")),
        (2005, udp(C, S, 1, 2, b"c")),
        (2010, udp(C, S, 9, 9, b"other flow")),
    ]);
    let g = a.udp_flows[0].max_gap.unwrap();
    assert_eq!((g.after_packet, g.before_packet), (2, 3));
    assert!((g.seconds - 2.0).abs() < 1e-9);
    assert_eq!(a.udp_flows.len(), 2);
    assert_eq!(a.udp_flows[0].packets.len(), 3);
}

#[test]
fn payload_cap_is_respected() {
    let mut an = Analyzer::new(AnalyzerOptions {
        payload_cap: 3,
        ..AnalyzerOptions::default()
    });
    for (i, f) in full_connection(1, 7).iter().enumerate() {
        an.push(&Frame {
            number: i as u64 + 1,
            ts_ns: 0,
            link_type: 101,
            interface: 0,
            orig_len: f.len() as u32,
            data: f,
            decimals: 6,
        });
    }
    let a = an.finish();
    assert_eq!(a.tcp_streams[0].to_server.payload, b"pin");
    assert!(a.tcp_streams[0].to_server.payload_truncated);
    assert_eq!(a.tcp_streams[0].to_server.stream_bytes, 4);
}

#[test]
fn truncated_file_is_a_warning_with_frames_kept() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/captures/public/cs_tcp_handshake.pcapng");
    let bytes = std::fs::read(path).expect("capture readable");
    let a = analyze(
        &bytes[..bytes.len() - 10],
        "cut.pcapng",
        AnalyzerOptions::default(),
    )
    .expect("truncation is not fatal");
    assert_eq!(a.frames, 2);
    assert_eq!(a.warnings.len(), 1);
    assert!(
        a.warnings[0].contains("cut.pcapng: packet 3 at byte"),
        "{}",
        a.warnings[0]
    );
}

#[test]
fn garbage_frames_never_panic() {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let seeds = [
        tcp(C, S, 1, 2, 3, 4, SYN | ACK, b"data"),
        udp(C, S, 1, 2, b"x"),
        ipv4(S, C, 1, &[3, 3, 0, 0, 0, 0, 0, 0, 0x45, 0, 0, 40]),
    ];
    let mut an = Analyzer::new(AnalyzerOptions::default());
    for i in 0..20_000u64 {
        let mut f = seeds[(i % 3) as usize].clone();
        for _ in 0..(next() % 4) {
            let at = (next() as usize) % f.len();
            f[at] = next() as u8;
        }
        f.truncate((next() as usize) % (f.len() + 1));
        for lt in [0u32, 1, 101, 108, 113, 276] {
            an.push(&Frame {
                number: i + 1,
                ts_ns: i as i64,
                link_type: lt,
                interface: 0,
                orig_len: f.len() as u32,
                data: &f,
                decimals: 6,
            });
        }
    }
    let a = an.finish();
    assert_eq!(a.frames, 120_000);
    assert!(a.undecoded_frames > 0 && !a.tcp_streams.is_empty());
}

/// Endless synthetic pcap: the same 8-frame connection (SYN..FIN) over and over, which also
/// exercises stream reuse on one 4-tuple. Generated on the fly, so memory stays flat.
struct Synthetic {
    header: Vec<u8>,
    record: Vec<u8>,
    header_left: usize,
    pos: usize,
    remaining: u64,
}

impl Synthetic {
    fn new(total_bytes: u64) -> Self {
        let pcap = raw_pcap(&full_connection(1000, 40000), std::time::Duration::ZERO);
        Synthetic {
            header: pcap[..24].to_vec(),
            record: pcap[24..].to_vec(),
            header_left: 24,
            pos: 0,
            remaining: total_bytes,
        }
    }
}

impl std::io::Read for Synthetic {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.header_left > 0 {
            let h = &self.header;
            let n = self.header_left.min(buf.len());
            buf[..n].copy_from_slice(&h[24 - self.header_left..24 - self.header_left + n]);
            self.header_left -= n;
            return Ok(n);
        }
        let mut n = 0;
        while n < buf.len() && self.remaining > 0 {
            let take = (self.record.len() - self.pos).min(buf.len() - n);
            let take = take.min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
            buf[n..n + take].copy_from_slice(&self.record[self.pos..self.pos + take]);
            n += take;
            self.pos = (self.pos + take) % self.record.len();
            self.remaining -= take as u64;
        }
        Ok(n)
    }
}

/// Micro benchmark of the `inspect --streams` path (reader + analyzer without summaries):
/// `cargo test --release bench_streams -- --ignored --nocapture`. Prints MB/s; asserts only
/// correctness, never timing.
#[test]
#[ignore]
fn bench_streams_throughput() {
    let per_conn = Synthetic::new(0).record.len() as u64;
    let conns = 1_000_000u64;
    let start = std::time::Instant::now();
    let a = analyze(
        Synthetic::new(per_conn * conns),
        "synthetic",
        AnalyzerOptions::streaming(false),
    )
    .expect("synthetic capture reads");
    let secs = start.elapsed().as_secs_f64();
    let mb = (per_conn * conns) as f64 / 1e6;
    eprintln!(
        "{mb:.0} MB, {} frames in {secs:.2} s: {:.0} MB/s, {:.1} Mframes/s",
        a.frames,
        mb / secs,
        a.frames as f64 / secs / 1e6
    );
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let peak = status
        .lines()
        .find(|l| l.starts_with("VmHWM"))
        .unwrap_or("VmHWM: ?");
    eprintln!(
        "{peak}; {} bytes of stream state per TCP stream",
        std::mem::size_of::<TcpStream>()
    );
    assert_eq!(a.frames, 8 * conns);
    assert_eq!(a.tcp_streams.len() as u64, conns);
    assert!(a.tcp_streams.iter().all(|s| s.handshake.completed));
}

/// Runs frames through an analyzer with `opts`, each frame's data cut to `keep[i]` bytes when
/// given (as a snapshot length cuts it; `orig_len` stays whole).
fn analyze_cut(opts: AnalyzerOptions, frames: &[Vec<u8>], keep: &[(usize, usize)]) -> Analysis {
    let mut an = Analyzer::new(opts);
    for (i, f) in frames.iter().enumerate() {
        let cut = keep.iter().find(|k| k.0 == i).map_or(f.len(), |k| k.1);
        an.push(&Frame {
            number: i as u64 + 1,
            ts_ns: i as i64 * 1_000_000,
            link_type: 101,
            interface: 0,
            orig_len: f.len() as u32,
            data: &f[..cut],
            decimals: 6,
        });
    }
    an.finish()
}

/// SYN, SYN-ACK, ACK, then the client sends "hello, " and "world" in two segments.
fn two_segments() -> Vec<Vec<u8>> {
    let (c, s) = (1000u32, 5000u32);
    vec![
        tcp(C, S, 40000, 80, c, 0, SYN, b""),
        tcp(S, C, 80, 40000, s, c + 1, SYN | ACK, b""),
        tcp(C, S, 40000, 80, c + 1, s + 1, ACK, b""),
        tcp(C, S, 40000, 80, c + 1, s + 1, PSH | ACK, b"hello, "),
        tcp(C, S, 40000, 80, c + 8, s + 1, PSH | ACK, b"world"),
    ]
}

/// Regression (issue 11, part 8): a segment cut by the snapshot length delivered its captured
/// bytes and the next segment's right after them, in one run, as if they had been adjacent.
#[test]
fn a_snaplen_cut_segment_leaves_a_gap_not_the_next_segments_bytes() {
    // Packet 4 keeps 2 of its 7 payload bytes (IPv4 20 + TCP 20 + 2).
    let a = analyze_cut(AnalyzerOptions::default(), &two_segments(), &[(3, 42)]);
    let s = &a.tcp_streams[0];
    let d = &s.to_server;
    assert_eq!(d.payload, b"heworld", "only captured bytes are kept");
    assert!(d.payload_has_gaps);
    assert!(!d.payload_truncated, "no cap was reached");
    assert_eq!((d.missing_bytes, d.stream_bytes), (5, 12));
    assert_eq!(
        d.first_gap.as_deref(),
        Some(&PayloadGap {
            packet: 4,
            offset: 2,
            missing: 5,
            snaplen: true
        })
    );
    let runs: Vec<(u64, u64, u64, u64)> = s
        .chunks
        .iter()
        .map(|c| (c.packet, c.offset, c.len, c.missing))
        .collect();
    assert_eq!(runs, [(4, 0, 2, 5), (5, 2, 5, 0)]);
    // The whole capture: one run, nothing missing.
    let a = analyze_cut(AnalyzerOptions::default(), &two_segments(), &[]);
    let s = &a.tcp_streams[0];
    assert_eq!(s.to_server.payload, b"hello, world");
    assert_eq!(
        (s.to_server.missing_bytes, s.to_server.first_gap.as_deref()),
        (0, None)
    );
    assert_eq!(s.chunks.len(), 1);
    assert_eq!(s.chunks[0].len, 12);
}

/// A segment never captured: what follows it is delivered after a gap once the stream ends,
/// not dropped, and the gap says how much is missing.
#[test]
fn a_segment_never_captured_leaves_a_gap_before_what_follows() {
    let mut frames = two_segments();
    frames.remove(3);
    let a = analyze_cut(AnalyzerOptions::default(), &frames, &[]);
    let d = &a.tcp_streams[0].to_server;
    assert_eq!(d.payload, b"world");
    assert_eq!(d.missing_bytes, 7);
    assert_eq!(
        d.first_gap.as_deref(),
        Some(&PayloadGap {
            packet: 4,
            offset: 0,
            missing: 7,
            snaplen: false
        })
    );
}

/// Regression (issue 11, part 9): with payloads not kept (`inspect --streams`), every flow
/// that carried payload said `payload_truncated` (and its packet list and runs "truncated"),
/// over an empty payload. A flag that something was cut is now true only when it was.
#[test]
fn nothing_kept_is_not_truncated_and_a_cap_reached_is() {
    let mut frames = two_segments();
    frames.push(udp(C, S, 5353, 53, b"query"));
    let a = analyze_cut(AnalyzerOptions::streaming(false), &frames, &[]);
    let s = &a.tcp_streams[0];
    assert!(s.to_server.payload.is_empty());
    assert!(!s.to_server.payload_truncated);
    assert!(!s.packets_truncated && !s.chunks_truncated);
    assert!(!a.udp_flows[0].a_to_b.payloads_truncated);
    assert!(!a.udp_flows[0].packets_truncated);
    // Missing bytes are counted even when no payload is kept.
    let a = analyze_cut(AnalyzerOptions::streaming(false), &frames, &[(3, 42)]);
    assert_eq!(a.tcp_streams[0].to_server.missing_bytes, 5);

    let a = analyze_cut(
        AnalyzerOptions {
            payload_cap: 4,
            flow_packet_cap: 2,
            ..AnalyzerOptions::default()
        },
        &frames,
        &[],
    );
    let s = &a.tcp_streams[0];
    assert_eq!(s.to_server.payload, b"hell");
    assert!(s.to_server.payload_truncated);
    assert!(s.packets_truncated, "5 packets, 2 kept");
    assert!(a.udp_flows[0].a_to_b.payloads_truncated, "5 bytes, 4 kept");
}

/// `frame` (raw IPv4, 20-byte header) with its TCP window set to `window`.
fn with_window(mut frame: Vec<u8>, window: u16) -> Vec<u8> {
    frame[20 + 14..20 + 16].copy_from_slice(&window.to_be_bytes());
    frame
}

/// tshark's window analysis in the Info column, as the web lab's slow reader shows it: the
/// segment that fills the peer's window, the zero window, the window update that reopens it.
#[test]
fn window_full_zero_window_and_window_update_are_noted_as_tshark_does() {
    let a = analyze_frames(&timed(vec![
        tcp(C, S, 40000, 80, 100, 0, SYN, b""),
        tcp(S, C, 80, 40000, 500, 101, SYN | ACK, b""),
        with_window(tcp(C, S, 40000, 80, 101, 501, ACK, b""), 10),
        tcp(S, C, 80, 40000, 501, 101, PSH | ACK, b"0123456789"),
        with_window(tcp(C, S, 40000, 80, 101, 511, ACK, b""), 0),
        with_window(tcp(C, S, 40000, 80, 101, 511, ACK, b""), 1000),
        with_window(tcp(C, S, 40000, 80, 101, 511, ACK, b""), 1000),
    ]));
    let info: Vec<&str> = a.packets.iter().map(|p| p.info.as_str()).collect();
    assert!(
        info[3].starts_with("[TCP Window Full] 80 → 40000 [PSH, ACK]"),
        "{}",
        info[3]
    );
    assert!(
        info[4].starts_with("[TCP ZeroWindow] 40000 → 80 [ACK]"),
        "{}",
        info[4]
    );
    assert!(
        info[5].starts_with("[TCP Window Update] 40000 → 80 [ACK]"),
        "{}",
        info[5]
    );
    // The same window again is no update; the handshake notes nothing.
    for i in [0, 1, 2, 6] {
        assert!(
            info[i].starts_with("40000 → 80") || info[i].starts_with("80 → 40000"),
            "{}",
            info[i]
        );
    }
}

/// The kernel's probe of a zero window starts one byte before the next sequence number and
/// carries nothing: tshark calls it a keep-alive, and the bare ACK that answers it unchanged
/// the keep-alive ACK (with the zero window it still advertises).
#[test]
fn a_zero_window_probe_is_a_keep_alive_and_its_answer_a_keep_alive_ack() {
    let a = analyze_frames(&timed(vec![
        tcp(C, S, 40000, 80, 100, 0, SYN, b""),
        tcp(S, C, 80, 40000, 500, 101, SYN | ACK, b""),
        tcp(C, S, 40000, 80, 101, 501, ACK, b""),
        tcp(S, C, 80, 40000, 501, 101, PSH | ACK, b"0123456789"),
        with_window(tcp(C, S, 40000, 80, 101, 511, ACK, b""), 0),
        tcp(S, C, 80, 40000, 510, 101, ACK, b""),
        with_window(tcp(C, S, 40000, 80, 101, 511, ACK, b""), 0),
    ]));
    let info: Vec<&str> = a.packets.iter().map(|p| p.info.as_str()).collect();
    assert!(
        info[5].starts_with("[TCP Keep-Alive] 80 → 40000 [ACK] Seq=10"),
        "{}",
        info[5]
    );
    assert!(
        info[6].starts_with("[TCP ZeroWindow] [TCP Keep-Alive ACK] 40000 → 80 [ACK]"),
        "{}",
        info[6]
    );
    assert!(!a.packets[5].tcp.as_ref().unwrap().retransmission);
}
