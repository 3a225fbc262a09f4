//! A capture file of any bytes: the streaming reader must hand out frames or a typed error,
//! never panic or loop, and every frame it hands out goes through the packet decoders.
#![no_main]
#![allow(dead_code, unused_imports)]

#[path = "../../src/wire/mod.rs"]
mod wire;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(mut reader) = wire::CaptureReader::new(data, "fuzz.pcap") else {
        return;
    };
    let mut defrag = wire::Defragmenter::default();
    let mut frames = 0u64;
    while let Ok(Some(frame)) = reader.next_frame() {
        frames += 1;
        // Every frame record takes at least 16 bytes of the file.
        assert!(frames <= data.len() as u64 / 16, "more frames than the file can hold");
        assert!(frame.data.len() <= data.len());
        wire::exercise::decode_frame(frame.link_type, frame.data, &mut defrag);
    }
});
