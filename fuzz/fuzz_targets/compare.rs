//! `sealcheck::harness::compare` on arbitrary bytes; `tests/fuzz_corpus.rs` replays the corpus.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = sealcheck::harness::compare(data);
});
