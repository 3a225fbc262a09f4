//! Packet capture inside the sandbox (effects): one AF_PACKET socket per captured interface,
//! written as a file Wireshark and tshark open, plus the link helper the sandbox needs.
//!
//! Contract: [`Capture::start`] opens every socket before it returns, so starting it before the
//! first program guarantees no packet of the run is missed; [`Capture::stop`] drains what the
//! kernel still holds and closes the file. Each socket reads through a TPACKET_V3 ring
//! ([`RING_MIB`], less when many captures run at once), so a burst of that size is captured
//! whole however fast it comes; beyond it the capture keeps up as fast as it can write the
//! file, and every packet the kernel had to drop is counted ([`CaptureStats::dropped`]),
//! never lost silently. One interface gives classic pcap with nanosecond timestamps (magic `0xa1b23c4d`); several give pcapng with one interface block each, in the
//! order given. Snaplen is 262144 (loopback frames exceed 65535). On loopback interfaces each
//! packet is recorded once, as libpcap does (the outgoing copy is ignored); on the links of a
//! topology each frame is recorded once, where it was sent ([`Tap::outgoing_only`]).

mod error;
mod link;
mod order;
mod pcap;
mod session;
mod socket;
#[cfg(test)]
mod tests;

// The API of this module; the harness that calls it is wired in main.rs separately, so until
// then the re-exports are only used by tests.
#[allow(unused_imports)]
pub(crate) use error::CaptureError;
#[allow(unused_imports)]
pub(crate) use link::set_link_up;
#[allow(unused_imports)]
pub(crate) use order::sort_by_time;
#[allow(unused_imports)]
pub(crate) use pcap::{InterfaceDesc, LINKTYPE_ETHERNET, SNAPLEN};
#[allow(unused_imports)]
pub(crate) use session::{Capture, CaptureStats, Tap, RING_MIB};
