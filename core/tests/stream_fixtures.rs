//! Every captured stream (`"operation": "stream"` in `../shared/fixtures`, or
//! the folder named by `MANA_FIXTURES_DIR`) decodes, through the core's SSE
//! decoder and [`mana_sync_core::StreamMessage`], to exactly its
//! `expect.events` (kind, table, number of changes, `hasMore`, `syncedUntil`
//! verbatim): fed whole, split in two at every byte, and one byte at a time.

#![allow(clippy::unwrap_used)] // test code: a panic is a failure report

mod shared;

#[test]
fn every_captured_stream_decodes_to_its_events_in_any_chunking() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for (name, fixture) in shared::json_files("MANA_FIXTURES_DIR", "fixtures") {
        if fixture["operation"] != "stream" {
            continue;
        }
        match shared::stream::check(&fixture) {
            Ok(events) => {
                checked += 1;
                eprintln!("{name}: {events} events");
            }
            Err(why) => failures.push(format!("{name}: {why}")),
        }
    }
    assert!(
        failures.is_empty(),
        "stream captures not decoded as expected:\n{}",
        failures.join("\n")
    );
    assert!(checked > 0, "no stream capture (\"operation\": \"stream\")");
}
