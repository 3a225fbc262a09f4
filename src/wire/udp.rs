//! UDP header.
//!
//! Contract: [`parse_udp`] never panics; it needs the 8-byte header. The payload is what was
//! captured, bounded by the header's length field.

/// A decoded UDP datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UdpDatagram<'a> {
    pub src_port: u16,
    pub dst_port: u16,
    /// The header's length field (`udp.length`, header included).
    pub length: u16,
    pub payload: &'a [u8],
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum UdpError {
    #[error("UDP header truncated ({0} bytes)")]
    Short(usize),
}

pub(crate) fn parse_udp(d: &[u8]) -> Result<UdpDatagram<'_>, UdpError> {
    if d.len() < 8 {
        return Err(UdpError::Short(d.len()));
    }
    let length = u16::from_be_bytes([d[4], d[5]]);
    // A length below the header size is bogus (or 0 for jumbograms): take what was captured.
    let end = if (length as usize) < 8 {
        d.len()
    } else {
        (length as usize).min(d.len())
    };
    Ok(UdpDatagram {
        src_port: u16::from_be_bytes([d[0], d[1]]),
        dst_port: u16::from_be_bytes([d[2], d[3]]),
        length,
        payload: &d[8..end],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_query_header() {
        let d = [0xd3, 0x94, 0, 53, 0, 11, 0xab, 0xcd, b'a', b'b', b'c', 0, 0];
        let u = parse_udp(&d).unwrap();
        assert_eq!((u.src_port, u.dst_port, u.length), (54164, 53, 11));
        assert_eq!(u.payload, b"abc");
        assert!(parse_udp(&d[..7]).is_err());
    }
}
