//! Interface queries and the one link change the sandbox needs (bringing `lo` up), through the
//! classic `ifreq` ioctls: no netlink for a single flag.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use super::CaptureError;

/// What the capture needs to know about an interface.
#[derive(Debug, Clone, Copy)]
pub(super) struct LinkInfo {
    pub index: i32,
    pub loopback: bool,
    /// ARPHRD_* hardware type, which decides the link type of the capture file.
    pub hatype: u16,
}

/// Brings `iface` up (IFF_UP), as `ip link set IFACE up` does. A fresh network namespace has
/// `lo` down, and nothing, not even 127.0.0.1, works until it is up.
pub(crate) fn set_link_up(iface: &str) -> Result<(), CaptureError> {
    let fail = |source| CaptureError::LinkUp {
        iface: iface.to_string(),
        source,
    };
    let sock = ioctl_socket().map_err(fail)?;
    let mut req = ifreq(iface)?;
    ioctl(&sock, libc::SIOCGIFFLAGS, &mut req).map_err(fail)?;
    // SAFETY: SIOCGIFFLAGS filled the flags member of the union.
    let flags = unsafe { req.ifr_ifru.ifru_flags };
    if flags & libc::IFF_UP as libc::c_short != 0 {
        return Ok(());
    }
    req.ifr_ifru.ifru_flags = flags | libc::IFF_UP as libc::c_short;
    ioctl(&sock, libc::SIOCSIFFLAGS, &mut req).map_err(fail)
}

/// Index, loopback flag and hardware type of `iface`.
pub(super) fn link_info(iface: &str) -> Result<LinkInfo, CaptureError> {
    let fail = |source| CaptureError::Interface {
        iface: iface.to_string(),
        source,
    };
    let sock = ioctl_socket().map_err(fail)?;
    let mut req = ifreq(iface)?;
    ioctl(&sock, libc::SIOCGIFINDEX, &mut req).map_err(fail)?;
    // SAFETY: each ioctl fills the union member read right after it.
    let index = unsafe { req.ifr_ifru.ifru_ifindex };
    ioctl(&sock, libc::SIOCGIFFLAGS, &mut req).map_err(fail)?;
    let flags = unsafe { req.ifr_ifru.ifru_flags };
    ioctl(&sock, libc::SIOCGIFHWADDR, &mut req).map_err(fail)?;
    let hatype = unsafe { req.ifr_ifru.ifru_hwaddr.sa_family };
    Ok(LinkInfo {
        index,
        loopback: flags & libc::IFF_LOOPBACK as libc::c_short != 0,
        hatype,
    })
}

fn ifreq(iface: &str) -> Result<libc::ifreq, CaptureError> {
    let bad = |reason| CaptureError::InterfaceName {
        iface: iface.to_string(),
        reason,
    };
    if iface.is_empty() {
        return Err(bad("empty"));
    }
    if iface.len() >= libc::IFNAMSIZ {
        return Err(bad("longer than 15 bytes"));
    }
    if iface
        .bytes()
        .any(|b| b == 0 || b == b'/' || b.is_ascii_whitespace())
    {
        return Err(bad("contains a NUL, '/' or whitespace"));
    }
    // SAFETY: ifreq is plain old data; all zeroes is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(iface.bytes()) {
        *dst = src as libc::c_char;
    }
    Ok(req)
}

/// Any socket will do for interface ioctls; a UDP one needs no privilege.
fn ioctl_socket() -> io::Result<OwnedFd> {
    // SAFETY: plain socket(2) call; the descriptor is owned right away.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is a fresh descriptor nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn ioctl(sock: &OwnedFd, request: libc::c_ulong, req: &mut libc::ifreq) -> io::Result<()> {
    // SAFETY: every request used here reads or writes one struct ifreq.
    let rc = unsafe { libc::ioctl(sock.as_raw_fd(), request as _, req as *mut libc::ifreq) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interface_names_are_checked_before_any_ioctl() {
        for bad in ["", "a-name-far-too-long", "a/b", "a b"] {
            assert!(
                matches!(link_info(bad), Err(CaptureError::InterfaceName { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn missing_interface_is_named_in_the_error() {
        let err = link_info("nosuchif0").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("cannot query interface nosuchif0: "),
            "{err}"
        );
    }

    #[test]
    fn host_loopback_is_recognised() {
        // Reading flags needs no privilege and changes nothing on the host.
        let info = link_info("lo").expect("lo exists");
        assert!(info.loopback);
        assert_eq!(info.hatype, libc::ARPHRD_LOOPBACK);
        assert!(info.index > 0);
    }
}
