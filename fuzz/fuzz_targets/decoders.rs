//! Frames of any bytes through the link, IP, reassembly and transport decoders. Input: one
//! byte choosing the link type, then frames, each a 2-byte big-endian length and its bytes
//! (see `wire::exercise::split_frames`), so fragments meet across frames.
#![no_main]
#![allow(dead_code, unused_imports)]

#[path = "../../src/wire/mod.rs"]
mod wire;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((link_type, frames)) = wire::exercise::split_frames(data) else {
        return;
    };
    let mut defrag = wire::Defragmenter::default();
    for frame in frames {
        let d = wire::exercise::decode_frame(link_type, frame, &mut defrag);
        assert!(d.ip || d.transport.is_none(), "a transport without IP: {d:?}");
    }
});
