//! UDP header, by etherparse's lax slice (`UdpSlice::from_slice_lax`), whose rule is tshark's:
//! the payload is what was captured, bounded by the header's length field, and a length field
//! below the header's size (0 for jumbograms) or beyond the capture leaves the captured bytes.
//!
//! Contract: [`parse_udp`] never panics; it needs the 8-byte header.

use etherparse::UdpSlice;

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
    let u = UdpSlice::from_slice_lax(d).map_err(|e| UdpError::Short(e.len))?;
    Ok(UdpDatagram {
        src_port: u.source_port(),
        dst_port: u.destination_port(),
        length: u.length(),
        payload: u.payload(),
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

    #[test]
    fn a_length_field_below_the_header_or_beyond_the_capture_leaves_the_captured_bytes() {
        let mut d = [0xd3, 0x94, 0, 53, 0, 3, 0xab, 0xcd, b'a', b'b'];
        assert_eq!(parse_udp(&d).unwrap().payload, b"ab");
        d[5] = 200;
        let u = parse_udp(&d).unwrap();
        assert_eq!((u.length, u.payload), (200, &b"ab"[..]));
    }
}
