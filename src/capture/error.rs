//! Errors of the capture layer: each names the interface or file it concerns.

use std::io;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub(crate) enum CaptureError {
    #[error("no interface to capture on")]
    NoInterface,
    #[error("invalid interface name {iface:?}: {reason}")]
    InterfaceName { iface: String, reason: &'static str },
    #[error("cannot query interface {iface}: {source}")]
    Interface { iface: String, source: io::Error },
    #[error("cannot capture on interface {iface}: unsupported hardware type {hatype} (only Ethernet and loopback)")]
    UnsupportedLink { iface: String, hatype: u16 },
    #[error("cannot bring interface {iface} up: {source}")]
    LinkUp { iface: String, source: io::Error },
    #[error("cannot open a packet socket on {iface}: {source}")]
    Socket { iface: String, source: io::Error },
    #[error("cannot set {option} on the packet socket of {iface}: {source}")]
    SocketOption {
        iface: String,
        option: &'static str,
        source: io::Error,
    },
    #[error("cannot receive packets on {iface}: {source}")]
    Receive { iface: String, source: io::Error },
    #[error("cannot create capture file {}: {source}", path.display())]
    Create { path: PathBuf, source: io::Error },
    #[error("cannot write capture file {}: {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
    #[error("cannot start the capture thread: {source}")]
    Thread { source: io::Error },
    #[error("the capture thread panicked")]
    ThreadPanicked,
}
