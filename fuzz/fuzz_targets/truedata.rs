//! `cargo +nightly fuzz run truedata`: the body is [`tickpipe::fuzzing::truedata`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tickpipe::fuzzing::truedata(data));
