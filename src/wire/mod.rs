//! Reading captures (pure apart from the streaming reader over `std::io::Read`): pcap/pcapng
//! files, link layers, IPv4/IPv6 with fragment reassembly, TCP/UDP/ICMP/ICMPv6.
//!
//! Contract: every decoder takes bytes and returns values or a typed error; none panics on any
//! input (each has byte-array fixtures and the reader has a garbage-input loop). Decoding is
//! hand-written rather than through etherparse so that lax slicing (truncated frames, quoted
//! packets inside ICMP errors) and link types etherparse rejects (SLL hatype 772, BSD loopback)
//! all follow one set of rules, and so the hot path allocates nothing per packet.

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
