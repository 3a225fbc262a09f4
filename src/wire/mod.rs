//! Reading captures (pure apart from the streaming reader over `std::io::Read`): pcap/pcapng
//! files, link layers, IPv4/IPv6 with fragment reassembly, TCP/UDP/ICMP/ICMPv6.
//!
//! Contract: every decoder takes bytes and returns values or a typed error; none panics on any
//! input (each has byte-array fixtures, and `fuzz/` has libFuzzer targets for the reader and the
//! decoders whose seed corpus `corpus_tests` runs on every `cargo test`).
//!
//! IP, UDP and ICMP/ICMPv6 headers are decoded by etherparse's lax slices (a packet cut by the
//! snaplen or quoted inside an ICMP error still decodes as far as it goes), with tshark's rules
//! added where etherparse's differ (see each module). By hand, with the reason in each module:
//! the capture file reader (tshark's leniency and messages), the link layers etherparse lacks
//! (Linux cooked v2, BSD loopback NULL/LOOP, SLL v1 with hatype 772, which etherparse rejects),
//! and TCP (tshark decodes a header cut in its options; etherparse refuses it). None of them
//! allocates per packet on the hot path.

pub(crate) mod arp;
pub(crate) mod capture;
#[cfg(test)]
mod corpus_tests;
pub(crate) mod defrag;
#[cfg(any(test, fuzzing))]
pub(crate) mod exercise;
pub(crate) mod icmp;
pub(crate) mod ip;
pub(crate) mod link;
pub(crate) mod tcp;
pub(crate) mod udp;

pub(crate) use capture::{CaptureError, CaptureReader, Frame};
pub(crate) use defrag::Defragmenter;
pub(crate) use icmp::{parse_icmp, IcmpMessage, QuotedFlow};
pub(crate) use ip::{parse_ip, Fragment, IpPacket};
pub(crate) use link::{strip_link, NetProto};
pub(crate) use tcp::{parse_tcp, TcpSegment};
pub(crate) use udp::parse_udp;
