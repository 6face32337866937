//! libFuzzer entry point for `fuzz_targets::canonical_decode` (see that function for what it checks).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_targets::canonical_decode(data));
