//! libFuzzer entry point for `fuzz_targets::rpc_bodies` (see that function for what it checks).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_targets::rpc_bodies(data));
