//! The fold benches' log (shared by `compare` and `fold_memory`).

use mana_sync_core::{Change, Timestamp};
use serde_json::json;

/// The fold bench's log: per record an insert, then updates of 1–2 fields,
/// a soft delete every 97th change and a hard delete every 1009th.
pub fn fold_changes(n: usize) -> Vec<Change> {
    let records = (n / 20).max(1);
    let base = 1_767_225_600_000i64;
    let mut rng = crate::common::Rng::new(0x9e37_79b9_7f4a_7c15);
    (0..n)
        .map(|i| {
            let at = Timestamp::from_unix_millis(base + i as i64).unwrap_or(Timestamp::UNIX_EPOCH);
            let r = if i < records {
                i
            } else {
                (rng.next() % records as u64) as usize
            };
            let id = format!("rec-{r:07}");
            if i < records {
                let data = json!({"title": format!("task {i}"), "isCompleted": false,
                    "order": i, "updatedAt": at.to_string()});
                return Change::insert("tasks", id, data.as_object().cloned().unwrap_or_default());
            }
            match i % 1009 {
                0 => Change::hard_delete("tasks", id),
                _ if i % 97 == 0 => Change::delete("tasks", id, at),
                _ => {
                    let mut c =
                        Change::update("tasks", id).with_field("title", format!("edit {i}"), at);
                    if rng.next().is_multiple_of(2) {
                        c = c.with_field("isCompleted", true, at);
                    }
                    c
                }
            }
        })
        .collect()
}
