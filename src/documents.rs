//! Lab documents: the files a lab places in its programs' working directory before a scenario
//! runs (the web server's `HelloWorld.html`, an image, a large object), so every run serves
//! the same bytes and checks can compare them exactly.
//!
//! The small ones come from `fixtures/labs/LAB/` and are built into the binary, so `socklab`
//! needs no data files at run time; large ones are generated from a pattern, not stored.
//! A submission's own file of the same name is replaced: the grade is on known bytes.

use std::path::Path;

/// One document.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Document {
    /// File name in the working directory.
    pub name: &'static str,
    pub bytes: Bytes,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Bytes {
    /// Built in from `fixtures/labs/`.
    Embedded(&'static [u8]),
    /// That many bytes of [`pattern`].
    Pattern(u64),
}

const HELLO_WORLD: Document = Document {
    name: "HelloWorld.html",
    bytes: Bytes::Embedded(include_bytes!("../fixtures/labs/web/HelloWorld.html")),
};
const IMAGE: Document = Document {
    name: "image.png",
    bytes: Bytes::Embedded(include_bytes!("../fixtures/labs/web/image.png")),
};
/// Large enough to take many segments and several receive windows on loopback.
const LARGE: Document = Document {
    name: "large.bin",
    bytes: Bytes::Pattern(4 * 1024 * 1024),
};

/// The documents of `lab` (none for labs that serve no files).
pub(crate) fn of(lab: &str) -> &'static [Document] {
    match lab {
        "web" | "proxy" => &[HELLO_WORLD, IMAGE, LARGE],
        _ => &[],
    }
}

/// The document `name` of `lab`, if the lab has one by that name.
pub(crate) fn find(lab: &str, name: &str) -> Option<&'static Document> {
    of(lab).iter().find(|d| d.name == name)
}

impl Document {
    /// The document's bytes.
    pub(crate) fn contents(&self) -> Vec<u8> {
        match self.bytes {
            Bytes::Embedded(bytes) => bytes.to_vec(),
            Bytes::Pattern(len) => pattern(0, len as usize),
        }
    }
}

/// Writes `lab`'s documents into `dir`.
pub(crate) fn place(lab: &str, dir: &Path) -> std::io::Result<()> {
    for doc in of(lab) {
        let path = dir.join(doc.name);
        match doc.bytes {
            Bytes::Embedded(bytes) => std::fs::write(path, bytes)?,
            Bytes::Pattern(_) => std::fs::write(path, doc.contents())?,
        }
    }
    Ok(())
}

/// Bytes `from..from+len` of a generated object: byte i is `i % 251`, so any cut, repeat or
/// reordering shows (251 is prime, so no power-of-two block lines up with the pattern).
pub(crate) fn pattern(from: u64, len: usize) -> Vec<u8> {
    (from..from + len as u64).map(|i| (i % 251) as u8).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_web_labs_documents_are_placed_byte_for_byte() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("HelloWorld.html"), "the student's own").unwrap();
        place("web", dir.path()).unwrap();
        let page = std::fs::read_to_string(dir.path().join("HelloWorld.html")).unwrap();
        assert!(page.contains("<h1>Hello World</h1>"), "{page}");
        let png = std::fs::read(dir.path().join("image.png")).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        let large = std::fs::read(dir.path().join("large.bin")).unwrap();
        assert_eq!(large.len(), 4 * 1024 * 1024);
        assert_eq!(large[251..502], pattern(0, 251)[..]);
        place("upper", dir.path()).unwrap();
        assert!(of("upper").is_empty());
    }
}
