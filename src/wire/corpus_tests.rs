//! The fuzz seed corpus (`fuzz/seeds/`, written by `fuzz/make_seeds.py`) and the inputs of any
//! crash the fuzzers found (`fuzz/regressions/`), run through the reader, the decoders and the
//! scenario loader on every `cargo test`, so CI checks them without a fuzzer. Each damaged
//! capture must end the way its damage says: a truncation, a corrupt record at the right
//! place, an unknown link type, never a panic.

use std::fs;
use std::path::{Path, PathBuf};

use super::exercise::{decode_frame, split_frames, Decoded};
use super::{CaptureError, CaptureReader, Defragmenter};

fn files(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut out: Vec<PathBuf> = match fs::read_dir(&dir) {
        Ok(d) => d.flatten().map(|e| e.path()).collect(),
        Err(_) => Vec::new(),
    };
    out.sort();
    out
}

/// What reading a whole capture gave: per frame (timestamp, captured length, original
/// length, how it decoded), then the error it ended with, if any.
struct Read {
    frames: Vec<(i64, usize, u32, Decoded)>,
    end: Option<CaptureError>,
}

fn read(bytes: &[u8]) -> Read {
    let mut frames = Vec::new();
    let mut defrag = Defragmenter::default();
    let mut r = match CaptureReader::new(bytes, "corpus") {
        Ok(r) => r,
        Err(e) => {
            return Read {
                frames,
                end: Some(e),
            }
        }
    };
    loop {
        match r.next_frame() {
            Ok(Some(f)) => {
                let d = decode_frame(f.link_type, f.data, &mut defrag);
                frames.push((f.ts_ns, f.data.len(), f.orig_len, d));
            }
            Ok(None) => return Read { frames, end: None },
            Err(e) => {
                return Read {
                    frames,
                    end: Some(e),
                }
            }
        }
    }
}

fn end_text(r: &Read) -> String {
    r.end.as_ref().map(|e| e.to_string()).unwrap_or_default()
}

#[test]
fn every_damaged_capture_of_the_corpus_ends_as_its_damage_says() {
    let seeds = files("fuzz/seeds/capture_reader");
    assert!(seeds.len() >= 100, "only {} seed captures", seeds.len());
    let mut decoded = 0;
    let mut seen = std::collections::BTreeSet::new();
    for path in seeds {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let r = read(&fs::read(&path).unwrap());
        let end = end_text(&r);
        let mut kind = |k: &'static str| {
            let hit = name.contains(&format!("-{k}."));
            if hit {
                seen.insert(k);
            }
            hit
        };
        let corrupt = matches!(r.end, Some(CaptureError::Corrupt { .. }));
        decoded += r.frames.iter().filter(|f| f.3.transport.is_some()).count();
        if kind("cut-in-header") {
            assert!(r.frames.is_empty() && r.end.is_some(), "{name}: {end}");
        } else if kind("bad-magic") {
            assert!(
                matches!(r.end, Some(CaptureError::BadMagic { .. })),
                "{name}: {end}"
            );
        } else if kind("cut-in-record") {
            let cut = r.end.as_ref().is_some_and(CaptureError::is_truncation);
            assert!(cut, "{name}: {end}");
        } else if kind("absurd-caplen") {
            assert!(corrupt && r.frames.len() == 1, "{name}: {end}");
            assert!(end.contains("packet 2 at byte"), "{name}: {end}");
        } else if kind("far-future-time") {
            assert!(!corrupt && r.frames.len() >= 2, "{name}: {end}");
            assert!(r.frames[1].0 >= 0xffff_fff0 * 1_000_000_000, "{name}");
        } else if kind("snaplen-60") {
            assert!(r.end.is_none() && r.frames.len() >= 2, "{name}: {end}");
            let (_, caplen, orig, _) = &r.frames[0];
            assert_eq!(*caplen, 60.min(*orig as usize), "{name}");
        } else if kind("unknown-linktype") {
            assert!(!r.frames.is_empty(), "{name}: {end}");
            for (_, _, _, d) in &r.frames {
                let e = d.error.as_deref().unwrap_or_default();
                assert_eq!(e, "link type 32767 is not supported", "{name}");
            }
        } else if kind("odd-block-length") {
            // 13 bytes cannot hold an interface description.
            assert!(corrupt && end.contains("packet 1 at byte"), "{name}: {end}");
        } else if kind("zero-section-length") {
            assert!(corrupt && end.contains("invalid length 0"), "{name}: {end}");
        } else if kind("huge-block-length") {
            // The second packet's block claims 2 GB.
            assert!(
                corrupt && r.frames.len() == 1 && end.contains("packet 2 at byte"),
                "{name}: {end}"
            );
            assert!(end.contains("invalid length 2147483632"), "{name}: {end}");
        } else if kind("unknown-interface") {
            assert!(
                corrupt && end.contains("refers to interface 7"),
                "{name}: {end}"
            );
        } else if kind("header-blocks-only") {
            // The first interface's if_tsresol is 0xff: 2^127 units a second.
            assert!(r.frames.is_empty(), "{name}");
            assert!(
                corrupt && end.contains("if_tsresol 0xff is out of range"),
                "{name}: {end}"
            );
        } else {
            panic!("{name}: no expectation for this kind of damage");
        }
    }
    assert!(
        decoded >= 100,
        "only {decoded} frames decoded to a transport"
    );
    // Every kind of damage make_seeds.py writes is in the corpus.
    let kinds = [
        "cut-in-header",
        "bad-magic",
        "cut-in-record",
        "absurd-caplen",
        "far-future-time",
        "snaplen-60",
        "unknown-linktype",
        "odd-block-length",
        "zero-section-length",
        "huge-block-length",
        "unknown-interface",
        "header-blocks-only",
    ];
    let missing: Vec<_> = kinds.iter().filter(|k| !seen.contains(*k)).collect();
    assert!(missing.is_empty(), "no seed for {missing:?}");
}

#[test]
fn every_decoder_seed_decodes_as_far_as_its_bytes_allow() {
    let seeds = files("fuzz/seeds/decoders");
    assert!(seeds.len() >= 50, "only {} decoder seeds", seeds.len());
    for path in seeds {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = fs::read(&path).unwrap();
        let (link_type, frames) = split_frames(&bytes).expect("a link type byte");
        let mut defrag = Defragmenter::default();
        let out: Vec<Decoded> = frames
            .iter()
            .map(|f| decode_frame(link_type, f, &mut defrag))
            .collect();
        assert!(!out.is_empty(), "{name}: no frame");
        for d in &out {
            assert!(d.ip || d.transport.is_none(), "{name}: {d:?}");
            assert!(
                d.transport.is_some() || d.error.is_some() || d.net.is_some(),
                "{name}: neither a result nor an error: {d:?}"
            );
        }
        if name.ends_with("-frames") {
            assert!(out.iter().any(|d| d.transport.is_some()), "{name}: {out:?}");
        }
        // Four bytes hold no link header but raw IP's version nibble, and no IP header.
        if name.ends_with("-cut-4") {
            assert!(out.iter().all(|d| !d.ip), "{name}: {out:?}");
        }
    }
}

#[test]
fn every_scenario_seed_loads_or_points_at_its_problem() {
    let seeds = files("fuzz/seeds/scenario");
    assert!(seeds.len() >= 20, "only {} scenario seeds", seeds.len());
    let mut loaded = 0;
    for path in seeds {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = String::from_utf8_lossy(&fs::read(&path).unwrap()).into_owned();
        match crate::scenario::load_str(&path, text) {
            Ok(_) => loaded += 1,
            Err(d) => {
                assert!(d.line >= 1 && d.column >= 1, "{name}: {d:?}");
                assert!(!d.to_string().is_empty(), "{name}");
                assert!(
                    !name.ends_with("-bom.json"),
                    "{name}: a BOM is accepted: {d}"
                );
            }
        }
    }
    // The bundled scenarios behind a byte-order mark load.
    assert!(loaded >= 12, "only {loaded} scenario seeds loaded");
}

#[test]
fn every_input_that_crashed_a_fuzzer_now_reads_without_panicking() {
    for path in files("fuzz/regressions/capture_reader") {
        let r = read(&fs::read(&path).unwrap());
        let _ = (r.frames.len(), end_text(&r));
    }
    let decoders = files("fuzz/regressions/decoders");
    assert!(
        !decoders.is_empty(),
        "the defragmenter's crash input is gone"
    );
    for path in decoders {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if let Some((link_type, frames)) = split_frames(&fs::read(&path).unwrap()) {
            let mut defrag = Defragmenter::default();
            let out: Vec<Decoded> = frames
                .iter()
                .map(|f| decode_frame(link_type, f, &mut defrag))
                .collect();
            // The defragmenter's crash: the last fragment completes a (shorter) datagram.
            if name == "defrag-fragment-past-the-end" {
                let last = out.last().map(|d| d.transport);
                assert_eq!(last, Some(Some("UDP")), "{name}: {out:?}");
            }
        }
    }
}
