//! One AF_PACKET socket bound to one interface, read without blocking, with kernel timestamps.
//!
//! Set-up follows libpcap: the socket is created with protocol 0 so it receives nothing until
//! it is bound to its interface with ETH_P_ALL (no packet of another interface slips in between);
//! on a loopback interface the outgoing copy of each packet is ignored, since the same packet
//! comes back as incoming. Timestamps come from SO_TIMESTAMPNS, taken by the kernel on arrival,
//! not when the reader thread gets to it.

use std::io;
use std::mem::{size_of, zeroed};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{SystemTime, UNIX_EPOCH};

use super::link::link_info;
use super::pcap::{Timestamp, LINKTYPE_ETHERNET};
use super::CaptureError;

/// Kernel UAPI values (linux/if_packet.h, asm-generic/socket.h), spelled here because not
/// every libc release exports them.
const PACKET_STATISTICS: libc::c_int = 6;
const PACKET_IGNORE_OUTGOING: libc::c_int = 23;
const PACKET_OUTGOING: u8 = 4;
const SO_TIMESTAMPNS: libc::c_int = 35;
/// Asked for, not required: a larger queue only lowers the chance of drops in bursts.
const RCVBUF: libc::c_int = 4 << 20;

/// A packet read from the socket; its bytes are the first `caplen` of the caller's buffer.
#[derive(Debug, Clone, Copy)]
pub(super) struct Frame {
    pub caplen: usize,
    pub orig_len: usize,
    pub ts: Timestamp,
}

#[derive(Debug)]
pub(super) struct PacketSocket {
    fd: OwnedFd,
    pub iface: String,
    pub linktype: u16,
    loopback: bool,
}

#[repr(C)]
#[derive(Default)]
struct TpacketStats {
    tp_packets: libc::c_uint,
    tp_drops: libc::c_uint,
}

impl PacketSocket {
    pub(super) fn open(iface: &str) -> Result<PacketSocket, CaptureError> {
        let info = link_info(iface)?;
        let linktype = match info.hatype {
            // Both deliver Ethernet frames on a raw packet socket (lo has all-zero MACs).
            libc::ARPHRD_ETHER | libc::ARPHRD_LOOPBACK => LINKTYPE_ETHERNET,
            hatype => {
                return Err(CaptureError::UnsupportedLink {
                    iface: iface.to_string(),
                    hatype,
                })
            }
        };
        let sock_err = |source| CaptureError::Socket {
            iface: iface.to_string(),
            source,
        };
        // SAFETY: plain socket(2) call; the descriptor is owned right away.
        let raw = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
        if raw < 0 {
            return Err(sock_err(io::Error::last_os_error()));
        }
        // SAFETY: raw is a fresh descriptor nobody else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let sock = PacketSocket {
            fd,
            iface: iface.to_string(),
            linktype,
            loopback: info.loopback,
        };
        sock.set_int(libc::SOL_SOCKET, SO_TIMESTAMPNS, 1, "SO_TIMESTAMPNS")?;
        // Best effort: the kernel caps it at rmem_max, which is fine.
        let _ = sock.set_int(libc::SOL_SOCKET, libc::SO_RCVBUF, RCVBUF, "SO_RCVBUF");
        if info.loopback {
            // Older kernels (< 4.20) lack it; `recv` then drops outgoing copies itself.
            let _ = sock.set_int(
                libc::SOL_PACKET,
                PACKET_IGNORE_OUTGOING,
                1,
                "PACKET_IGNORE_OUTGOING",
            );
        }
        // SAFETY: sockaddr_ll is plain old data; all zeroes is valid.
        let mut addr: libc::sockaddr_ll = unsafe { zeroed() };
        addr.sll_family = libc::AF_PACKET as u16;
        addr.sll_protocol = (libc::ETH_P_ALL as u16).to_be();
        addr.sll_ifindex = info.index;
        // SAFETY: addr is a valid sockaddr_ll of the size given.
        let rc = unsafe {
            libc::bind(
                sock.fd.as_raw_fd(),
                (&addr as *const libc::sockaddr_ll).cast(),
                size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if rc < 0 {
            return Err(sock_err(io::Error::last_os_error()));
        }
        // Counters count from the bind on, not from socket creation.
        let _ = sock.take_drops();
        Ok(sock)
    }

    fn set_int(
        &self,
        level: libc::c_int,
        name: libc::c_int,
        value: libc::c_int,
        option: &'static str,
    ) -> Result<(), CaptureError> {
        // SAFETY: the option value is one c_int of the size given.
        let rc = unsafe {
            libc::setsockopt(
                self.fd.as_raw_fd(),
                level,
                name,
                (&value as *const libc::c_int).cast(),
                size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if rc < 0 {
            return Err(CaptureError::SocketOption {
                iface: self.iface.clone(),
                option,
                source: io::Error::last_os_error(),
            });
        }
        Ok(())
    }

    pub(super) fn raw_fd(&self) -> libc::c_int {
        self.fd.as_raw_fd()
    }

    /// Reads one packet into `buf` without blocking: `Ok(None)` when the queue is empty.
    /// Outgoing copies on loopback are consumed and skipped.
    pub(super) fn recv(&self, buf: &mut [u8]) -> io::Result<Option<Frame>> {
        loop {
            // SAFETY: all-zero sockaddr_ll and msghdr are valid; pointers set below outlive the
            // recvmsg call.
            let mut from: libc::sockaddr_ll = unsafe { zeroed() };
            let mut iov = libc::iovec {
                iov_base: buf.as_mut_ptr().cast(),
                iov_len: buf.len(),
            };
            // u64 elements keep the control buffer aligned for cmsghdr.
            let mut control = [0u64; 16];
            let mut msg: libc::msghdr = unsafe { zeroed() };
            msg.msg_name = (&mut from as *mut libc::sockaddr_ll).cast();
            msg.msg_namelen = size_of::<libc::sockaddr_ll>() as libc::socklen_t;
            msg.msg_iov = &mut iov;
            msg.msg_iovlen = 1;
            msg.msg_control = control.as_mut_ptr().cast();
            msg.msg_controllen = size_of::<[u64; 16]>() as _;
            // MSG_TRUNC makes a packet socket return the length on the wire even when the
            // packet was cut to the buffer.
            let n = unsafe {
                libc::recvmsg(
                    self.fd.as_raw_fd(),
                    &mut msg,
                    libc::MSG_DONTWAIT | libc::MSG_TRUNC,
                )
            };
            if n < 0 {
                let err = io::Error::last_os_error();
                return match err.kind() {
                    io::ErrorKind::WouldBlock => Ok(None),
                    io::ErrorKind::Interrupted => continue,
                    _ => Err(err),
                };
            }
            if self.loopback && from.sll_pkttype == PACKET_OUTGOING {
                continue;
            }
            let orig_len = n as usize;
            return Ok(Some(Frame {
                caplen: orig_len.min(buf.len()),
                orig_len,
                ts: kernel_timestamp(&msg).unwrap_or_else(now),
            }));
        }
    }

    /// Packets the kernel dropped since the last call (the kernel resets its counters on read).
    pub(super) fn take_drops(&self) -> io::Result<u64> {
        let mut stats = TpacketStats::default();
        let mut len = size_of::<TpacketStats>() as libc::socklen_t;
        // SAFETY: stats is a tpacket_stats of the size given.
        let rc = unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_PACKET,
                PACKET_STATISTICS,
                (&mut stats as *mut TpacketStats).cast(),
                &mut len,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(u64::from(stats.tp_drops))
    }
}

/// The SCM_TIMESTAMPNS control message of a received packet, if the kernel attached one.
fn kernel_timestamp(msg: &libc::msghdr) -> Option<Timestamp> {
    // SAFETY: msg was filled by recvmsg; the CMSG_* walk stays within msg_controllen.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == SO_TIMESTAMPNS {
                let ts: libc::timespec = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast());
                return Some(Timestamp {
                    secs: u64::try_from(ts.tv_sec).ok()?,
                    nanos: u32::try_from(ts.tv_nsec).ok()?,
                });
            }
            cmsg = libc::CMSG_NXTHDR(msg, cmsg);
        }
    }
    None
}

fn now() -> Timestamp {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp {
        secs: d.as_secs(),
        nanos: d.subsec_nanos(),
    }
}
