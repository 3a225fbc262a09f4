//! Rendering payload bytes as text: printable ASCII as is, `\r`, `\n`, `\t` and `\\` escaped,
//! anything else as `\xNN`. Used for JSON (payloads are often not UTF-8) and for `--follow`.

/// Escapes `bytes`; newlines are kept as real line breaks when `keep_newlines` is set.
pub(crate) fn escape_bytes(bytes: &[u8], keep_newlines: bool) -> String {
    let mut s = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'\n' if keep_newlines => s.push('\n'),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s
}

pub(crate) fn serialize_bytes<S: serde::Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&escape_bytes(b, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_control_and_high_bytes() {
        assert_eq!(
            escape_bytes(b"GET /\r\n\x00\xff\\", false),
            "GET /\\r\\n\\x00\\xff\\\\"
        );
        assert_eq!(escape_bytes(b"a\nb", true), "a\nb");
    }
}
