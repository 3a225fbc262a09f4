//! Retirement of finished and idle flows ([`RetirePolicy`]): stream numbers stay tshark's,
//! and the state held stays bounded however many connections go by.

use super::fixtures::*;
use super::*;
use crate::wire::tcp::flags::*;
use crate::wire::Frame;

const SEC: i64 = 1_000_000_000;

/// An analyzer fed frames at given times, collecting what it lets go of.
struct Feed {
    an: Analyzer,
    frames: u64,
    tcp: Vec<TcpStream>,
    udp: Vec<UdpFlow>,
    peak_live: usize,
}

impl Feed {
    fn new(retire: Option<RetirePolicy>, summaries: bool) -> Self {
        Feed {
            an: Analyzer::new(AnalyzerOptions {
                retire,
                ..AnalyzerOptions::streaming(summaries)
            }),
            frames: 0,
            tcp: Vec::new(),
            udp: Vec::new(),
            peak_live: 0,
        }
    }

    /// Pushes one frame at `ns`; returns its TCP stream number (with summaries on).
    fn push(&mut self, ns: i64, data: &[u8]) -> Option<u32> {
        self.frames += 1;
        let stream = self
            .an
            .push(&Frame {
                number: self.frames,
                ts_ns: ns,
                link_type: 101,
                interface: 0,
                orig_len: data.len() as u32,
                data,
                decimals: 6,
            })
            .and_then(|s| s.tcp.as_ref())
            .map(|t| t.stream);
        self.tcp.extend(self.an.drain_tcp());
        self.udp.extend(self.an.drain_udp());
        self.peak_live = self
            .peak_live
            .max(self.an.live_tcp_streams() + self.an.live_udp_flows());
        stream
    }

    /// Every TCP stream and UDP flow, in number order.
    fn finish(mut self) -> (Vec<TcpStream>, Vec<UdpFlow>) {
        let a = self.an.finish();
        self.tcp.extend(a.tcp_streams);
        self.udp.extend(a.udp_flows);
        self.tcp.sort_by_key(|s| s.index);
        self.udp.sort_by_key(|f| f.index);
        (self.tcp, self.udp)
    }
}

/// Whether `flows` are exactly the numbers `0..n`, in order.
fn numbered<T>(flows: &[T], n: u32, index: impl Fn(&T) -> u32) -> bool {
    flows.iter().map(index).eq(0..n)
}

fn policy(max: usize) -> RetirePolicy {
    RetirePolicy {
        max_closed: max,
        max_open: max,
    }
}

/// Stream numbers of the frames fed one millisecond apart, then at the given later times.
fn numbers(retire: Option<RetirePolicy>, frames: &[(i64, Vec<u8>)]) -> Vec<Option<u32>> {
    let mut f = Feed::new(retire, true);
    frames.iter().map(|(ns, d)| f.push(*ns, d)).collect()
}

fn ms_apart(frames: Vec<Vec<u8>>, from: i64) -> Vec<(i64, Vec<u8>)> {
    frames
        .into_iter()
        .enumerate()
        .map(|(i, d)| (from + i as i64 * 1_000_000, d))
        .collect()
}

#[test]
fn late_packet_on_a_closed_stream_counts_towards_it_and_a_syn_starts_a_new_one() {
    let mut frames = ms_apart(full_connection(1000, 40000), 0);
    // The server's FIN again 100 s later (its last ACK was lost), then the port reused.
    let late_fin = frames[6].1.clone();
    frames.push((100 * SEC, late_fin));
    frames.extend(ms_apart(full_connection(9000, 40000), 101 * SEC));
    let retiring = numbers(Some(RetirePolicy::bounded()), &frames);
    assert_eq!(retiring[8], Some(0), "late FIN goes to the closed stream");
    assert_eq!(
        retiring[9],
        Some(1),
        "SYN on the closed 4-tuple: new stream"
    );
    assert_eq!(retiring, numbers(None, &frames), "as without retirement");
}

#[test]
fn syn_after_the_closed_stream_left_gets_the_next_number_as_in_tshark() {
    let mut frames = ms_apart(full_connection(1000, 40000), 0);
    frames.push((SEC, udp(C, S, 1, 2, b"time passes")));
    frames.extend(ms_apart(full_connection(9000, 40000), 300 * SEC));
    let mut f = Feed::new(Some(RetirePolicy::bounded()), true);
    let got: Vec<Option<u32>> = frames.iter().map(|(ns, d)| f.push(*ns, d)).collect();
    assert_eq!(
        f.tcp.len(),
        1,
        "stream 0 left when the SYN reused its 4-tuple"
    );
    assert_eq!(got, numbers(None, &frames));
    assert_eq!(got[9], Some(1));
}

/// Regression (issue 11, part 8): a closed stream was retired 240 s of capture time after its
/// close, so a late ACK started a new stream where tshark counts it towards the old one.
#[test]
fn a_late_packet_on_a_closed_stream_counts_towards_it_however_late() {
    let mut frames = ms_apart(full_connection(1000, 40000), 0);
    let last_ack = frames[7].1.clone();
    frames.push((300 * SEC, last_ack));
    let got = numbers(Some(RetirePolicy::bounded()), &frames);
    assert_eq!(got[8], Some(0));
    assert_eq!(got, numbers(None, &frames));
}

/// Regression (issue 11, part 8): one record stamped far in the future made every stream look
/// idle for hours, and each later packet started a stream of its own (9 streams where tshark
/// has 1). Streams are bounded by counts only: no timestamp splits one.
#[test]
fn a_far_future_timestamp_does_not_split_streams() {
    let conn = full_connection(1000, 40000);
    let mut frames = ms_apart(conn, 0);
    frames[2].0 = 100 * 365 * 24 * 3600 * SEC;
    let got = numbers(Some(RetirePolicy::bounded()), &frames);
    assert_eq!(got, vec![Some(0); frames.len()]);
    // Time going backwards past the first frame: the same.
    frames[2].0 = -3600 * SEC;
    assert_eq!(
        numbers(Some(RetirePolicy::bounded()), &frames),
        vec![Some(0); frames.len()]
    );
}

/// 100,000 connections (four at a time, distinct 4-tuples): state held stays within the
/// bounds, every stream comes out once, numbered in order of its first packet.
#[test]
fn retirement_bounds_state_over_100k_connections() {
    let n = 100_000u32;
    let mut f = Feed::new(Some(policy(1000)), false);
    let mut ns = 0;
    for group in (0..n).step_by(4) {
        let conns: Vec<Vec<Vec<u8>>> = (group..group + 4)
            .map(|i| {
                let client = [10, 1, (i >> 16) as u8, (i >> 8) as u8];
                connection(client, 1000, 1024 + (i & 0xff) as u16)
            })
            .collect();
        for k in 0..8 {
            for c in &conns {
                ns += 10_000;
                f.push(ns, &c[k]);
            }
        }
    }
    assert!(f.peak_live <= 2 * 1000, "peak {} held", f.peak_live);
    assert!(f.tcp.len() >= (n - 2000) as usize, "most left early");
    let (tcp, _) = f.finish();
    assert_eq!(tcp.len(), n as usize);
    for (i, s) in tcp.iter().enumerate() {
        assert_eq!(s.index, i as u32);
        assert_eq!(s.client.port, 1024 + (i & 0xff) as u16);
        assert_eq!((s.to_server.packets, s.to_client.packets), (5, 3));
        assert_eq!(s.teardown, Teardown::Fin);
    }
}

/// The `i`th SYN of a scan, each from its own 4-tuple.
fn probe(i: u32) -> Vec<u8> {
    let client = [10, 2, (i >> 16) as u8, (i >> 8) as u8];
    tcp(client, S, i as u16, 80, 7, 0, SYN, b"")
}

/// A port scan: SYNs that are never answered leave streams that never close.
#[test]
fn never_closed_streams_are_bounded_too() {
    let mut f = Feed::new(Some(policy(1000)), false);
    for i in 0..100_000u32 {
        f.push(i64::from(i) * 1000, &probe(i));
    }
    assert!(f.peak_live <= 1000, "peak {} held", f.peak_live);
    let (tcp, _) = f.finish();
    assert!(numbered(&tcp, 100_000, |s| s.index));
}

/// A quiet conversation is not pushed out by a flood of unanswered SYNs: probes go first.
#[test]
fn a_scan_retires_its_probes_before_an_idle_conversation() {
    let long = full_connection(1000, 40000);
    let mut f = Feed::new(Some(policy(1000)), true);
    for (i, d) in long[..5].iter().enumerate() {
        f.push(i as i64, d);
    }
    for i in 0..10_000u32 {
        f.push(10 + i64::from(i), &probe(i));
    }
    assert!(f.peak_live <= 1001, "peak {} held", f.peak_live);
    assert_eq!(
        f.push(SEC, &long[5]),
        Some(0),
        "the conversation kept its number"
    );
}

#[test]
fn udp_flows_are_retired_when_too_many_and_never_for_being_quiet() {
    let mut f = Feed::new(Some(policy(10)), false);
    f.push(0, &udp(C, S, 5353, 53, b"q"));
    // Days later: still the same flow, as tshark's udp.stream.
    f.push(3 * 24 * 3600 * SEC, &udp(C, S, 1, 53, b"q"));
    f.push(3 * 24 * 3600 * SEC, &udp(C, S, 5353, 53, b"again"));
    assert_eq!(f.udp.len(), 0, "no flow left for being quiet");
    let later = 3 * 24 * 3600 * SEC;
    for p in 2..100 {
        f.push(later + i64::from(p), &udp(C, S, p, 53, b"q"));
    }
    assert!(f.peak_live <= 10, "peak {} held", f.peak_live);
    let (_, udp) = f.finish();
    assert!(numbered(&udp, 100, |u| u.index));
    assert_eq!(
        udp[0].a_to_b.datagrams, 2,
        "the quiet flow kept its second datagram"
    );
}

#[test]
fn without_a_policy_only_replaced_streams_leave_early() {
    let mut f = Feed::new(None, false);
    for (i, d) in full_connection(1000, 40000).iter().enumerate() {
        f.push(i as i64 * SEC, d);
    }
    for d in &full_connection(9000, 40000)[..1] {
        f.push(1000 * SEC, d);
    }
    assert_eq!(f.tcp.len(), 1, "stream 0 left when the SYN replaced it");
    assert_eq!(f.an.live_tcp_streams(), 1);
}
