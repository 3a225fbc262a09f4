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
//! `payload_cap`). What remains is per flow: about 0.65 KB per TCP stream with payloads and
//! per-flow packet lists off (`inspect --streams`), so connection-heavy captures grow by that
//! much per connection (100 MB at ~150k connections); streams are not retired early because a
//! late packet must still count towards its stream, as in tshark.

mod analyzer;
#[cfg(test)]
mod conformance_tests;
pub(crate) mod escape;
#[cfg(test)]
pub(crate) mod fixtures;
mod info;
mod model;
#[cfg(test)]
mod tests;

pub(crate) use analyzer::analyze;
pub(crate) use analyzer::{Analyzer, AnalyzerOptions};
pub(crate) use model::*;
