//! AF_PACKET capture inside the sandbox, written as pcap. Placeholder until the capture lands:
//! brings links up, and reports that capture is unavailable.

use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub(crate) enum CaptureError {
    #[error("capture is not available in this build")]
    Unavailable,
    #[error("cannot bring {iface} up: {source}")]
    Link {
        iface: String,
        source: std::io::Error,
    },
}

pub(crate) struct Capture;

pub(crate) struct CaptureStats {
    pub packets: u64,
    pub bytes: u64,
    pub dropped: u64,
}

impl Capture {
    pub(crate) fn start(_ifaces: &[&str], _path: &Path) -> Result<Capture, CaptureError> {
        Err(CaptureError::Unavailable)
    }
    pub(crate) fn packets_seen(&self) -> u64 {
        0
    }
    pub(crate) fn stop(self) -> Result<CaptureStats, CaptureError> {
        Err(CaptureError::Unavailable)
    }
}

/// Brings an interface up (SIOCSIFFLAGS), as `ip link set IFACE up` does.
pub(crate) fn set_link_up(iface: &str) -> Result<(), CaptureError> {
    let err = |source| CaptureError::Link {
        iface: iface.to_string(),
        source,
    };
    // SAFETY: plain socket + ioctl calls on a zeroed, NUL-terminated ifreq we own.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(err(std::io::Error::last_os_error()));
        }
        let mut req: libc::ifreq = std::mem::zeroed();
        for (dst, src) in req
            .ifr_name
            .iter_mut()
            .zip(iface.bytes().take(libc::IFNAMSIZ - 1))
        {
            *dst = src as libc::c_char;
        }
        let mut result = Ok(());
        if libc::ioctl(fd, libc::SIOCGIFFLAGS, &mut req) < 0 {
            result = Err(err(std::io::Error::last_os_error()));
        } else {
            req.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
            if libc::ioctl(fd, libc::SIOCSIFFLAGS, &req) < 0 {
                result = Err(err(std::io::Error::last_os_error()));
            }
        }
        libc::close(fd);
        result
    }
}
