//! `cargo +nightly fuzz run control_command`: the body is [`tickpipe::fuzzing::control_command`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tickpipe::fuzzing::control_command(data));
