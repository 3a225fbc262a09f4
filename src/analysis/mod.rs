//! Analysis of decoded packets (pure): TCP streams, UDP flows, ICMP errors and a per-packet
//! summary list, with tshark as the reference (see `conformance_tests`).
//!
//! # Contract for checks built on top
//!
//! Feed frames from [`crate::wire::CaptureReader`] into an [`Analyzer`] (or call [`analyze`]),
//! then read the [`Analysis`]. Everything carries packet numbers (tshark's `frame.number`) as
//! evidence and times in seconds since the first frame. All types derive `Serialize`.
//!
//! - TCP streams ([`TcpStream`]) are numbered exactly as tshark's `tcp.stream`: in order of first
//!   packet; a SYN on a 4-tuple whose stream is closed (FIN both ways, or any RST) or whose SYN
//!   carried another ISN starts a new stream. The client is the SYN sender. Per direction
//!   ([`TcpDirection`]): frames and frame bytes (as tshark's conversation table), payload bytes,
//!   ISN, SYN/FIN/RST packet numbers, retransmissions, and the payload reassembled in sequence
//!   order with duplicates dropped, up to `payload_cap` bytes (`payload_truncated` says so).
//!   Only captured bytes are kept: bytes a snapshot length cut off a segment, or segments never
//!   captured, are counted in `missing_bytes` (`first_gap` says where) and end the Follow run
//!   they belong to ([`Chunk::missing`]); a later segment's bytes never stand in for them.
//!   - handshake completed between two endpoints: [`Analysis::streams_between`] then
//!     `handshake.completed` (with `syn`, `syn_ack`, `ack` packet numbers);
//!   - SYN answered by RST: [`TcpStream::refused`] (`handshake.syn`, `to_client.rst_packet`);
//!   - no handshake: `handshake.syn.is_none()` or `!handshake.completed`;
//!   - payload in a direction contains / matches / equals: `to_server.payload`,
//!     `to_client.payload` (bytes; regex via `regex::bytes`);
//!   - FIN teardown: `teardown == Teardown::Fin`, FIN packets in `fin_packet` each way;
//!   - number of connections to a port: [`Analysis::streams_to_port`] `.count()`;
//!   - time gaps: `max_gap` always; `packets` (first `flow_packet_cap`) for any other timing.
//! - UDP flows ([`UdpFlow`]) by 5-tuple in order of first packet, `a` = first sender; per
//!   direction datagram count, bytes, and each datagram's payload while `payload_cap` lasts.
//! - ICMP/ICMPv6 errors ([`IcmpErrorRecord`]): type, code, packet number, the quoted flow and the
//!   TCP stream or UDP flow it matches ([`FlowRef`]); [`IcmpErrorRecord::is_port_unreachable`],
//!   [`Analysis::icmp_errors_for`].
//! - Per packet ([`PacketSummary`], when `summaries` is on): tshark's `tcp.stream`,
//!   `tcp.flags.str`, relative `tcp.seq`/`tcp.ack` (relative to the ISN; without a SYN the first
//!   byte seen is 1, and an ACK before the peer's first segment fixes the peer's base at ack-1,
//!   as tshark does), `tcp.len`, `udp.length`, ICMP type/code, and an Info string.
//!
//! IP fragments are reassembled (bounded memory), so transport fields appear on the frame that
//! completes the datagram, as in tshark.
//!
//! Memory: nothing grows per packet unless asked (`keep_summaries`, `flow_packet_cap`,
//! `payload_cap`). What remains is per flow held: about 0.7 KB per TCP stream and 0.3 KB per
//! UDP flow with payloads and per-flow packet lists off. [`analyze`] holds every flow to the end
//! (grading, `verify`, conformance: captures of one lab run). Streaming callers over captures of
//! any size (`inspect --streams`) set a [`RetirePolicy`] and take flows as they leave with
//! [`Analyzer::drain_tcp`], [`Analyzer::drain_udp`] and [`Analyzer::drain_icmp_errors`], then
//! [`Analyzer::drain_live_tcp`] at the end.
//!
//! # Retirement
//!
//! A TCP stream replaced on its 4-tuple by a new one (see above) leaves at once, policy or not:
//! no packet can reach it any more. With a [`RetirePolicy`], flows also leave when too many are
//! held, checked after each frame; "least recently active" is by the frame order of each
//! flow's last packet. Timestamps play no part: tshark groups packets into streams without
//! looking at them, and a capture's clock is not to be trusted (one far-future record once made
//! every stream look idle and split a conversation into one stream per packet).
//!
//! - At most `max_closed` (32,768) closed TCP streams (FIN both ways, or a RST) are held: past
//!   that, the least recently active goes.
//! - At most `max_open` (32,768) open TCP streams are held: past that, the least recently active
//!   of those that have seen packets one way only (an unanswered SYN) goes first, then the least
//!   recently active of the others. This bounds streams that never close (a port scan's probes,
//!   connections whose end was not captured) without a scan pushing out a quiet conversation.
//! - At most `max_open` UDP flows, likewise.
//!
//! Numbers are given at a flow's first packet, so retiring never renumbers. Until a stream is
//! retired, a late non-SYN packet on its 4-tuple counts towards it and a SYN starts a new
//! stream, exactly as in tshark. The one difference: a packet on a retired flow's addresses
//! starts a new stream (or UDP flow) where tshark would count it towards the old one, so that
//! flow is split and every later number is one higher. That takes a capture with more than
//! 32,768 other streams closed since (3 s of a sustained 10,000 connections per second), or
//! more than 32,768 streams open at once and then a packet on the quietest one-way stream (a
//! probe's SYN sent again), or, with more than 32,768 two-way conversations open at once, on
//! the quietest of those. An ICMP error quoting a retired flow is shown unmatched. The bounded
//! and unbounded `inspect --streams` are tested identical on every public capture, and tshark's
//! numbering is tested through retirement (`retire_tests`).
//!
//! # Time
//!
//! Times are seconds since the first frame (tshark's `frame.time_relative`), negative for a
//! record stamped earlier than the first. A flow's `start` and `end` are its earliest and
//! latest packet times and the capture's `duration` runs from its earliest to its latest
//! timestamp, as tshark's conversation table measures them, so no duration is negative.

mod analyzer;
#[cfg(test)]
mod conformance_tests;
pub(crate) mod escape;
#[cfg(test)]
pub(crate) mod fixtures;
mod http_info;
mod info;
mod model;
mod recency;
#[cfg(test)]
mod retire_tests;
pub(crate) mod smtp;
#[cfg(test)]
mod tests;

pub(crate) use analyzer::analyze;
pub(crate) use analyzer::{Analyzer, AnalyzerOptions, RetirePolicy};
pub(crate) use model::*;
