//! What the engine benches share: the app, table and user, and a loopback
//! server seeded with a collection.

use mana_sync_testkit::{LoopbackServer, MemoryServer};
use serde_json::json;

pub const APP: &str = "notes";
pub const TABLE: &str = "notes";
pub const USER: &str = "bench-user";

/// A loopback server holding `n` inserts of the table.
pub fn server_with(n: usize) -> LoopbackServer {
    let memory = MemoryServer::new();
    for start in (0..n).step_by(10_000) {
        let changes: Vec<_> = (start..(start + 10_000).min(n))
            .map(|k| {
                json!({"table": TABLE, "id": format!("r-{k:07}"), "op": "insert",
                       "data": {"title": format!("row {k}"), "pinned": false}})
            })
            .collect();
        memory.seed(USER, APP, "bench-writer", &changes);
    }
    LoopbackServer::start(memory).unwrap_or_else(|e| panic!("{e}"))
}
