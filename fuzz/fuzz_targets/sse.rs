#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    mana_sync_fuzz::harness::sse(data);
});
