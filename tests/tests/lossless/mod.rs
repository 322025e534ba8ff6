//! What the lossless-stream tests share: a tally of what a stream
//! delivered, checked for repeats, and a deterministic workload of three
//! writers with an independent model of what it writes.

#![allow(dead_code, clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};

use mana_sync_core::fold::{Replica, SeenKey};
use mana_sync_core::ops::{ChangeBatch, StreamEvent};
use mana_sync_core::{Change, Cursor};
use serde_json::{json, Value};

/// What a stream handed out, checked for repeats as it comes.
#[derive(Default)]
pub struct Tally {
    pub ids: Vec<String>,
    pub keys: BTreeSet<SeenKey>,
    pub repeats: usize,
    pub heartbeats: usize,
    pub stalled: Vec<u32>,
}

impl Tally {
    pub fn take(&mut self, event: StreamEvent) {
        match event {
            StreamEvent::Changes(batch) => self.batch(&batch),
            StreamEvent::Heartbeat => self.heartbeats += 1,
            StreamEvent::Stalled { reconnects, .. } => self.stalled.push(reconnects),
            _ => {}
        }
    }

    pub fn batch(&mut self, batch: &ChangeBatch) {
        for c in &batch.changes {
            if !self.keys.insert(SeenKey::content_of(c)) {
                self.repeats += 1;
            }
            self.ids.push(c.id.clone());
        }
    }

    pub fn has(&self, id: &str) -> bool {
        self.ids.iter().any(|i| i == id)
    }
}

/// The writes of three clients, as an independent model folds them: each
/// field's value with the latest stamp (stamps are unique).
#[derive(Default)]
pub struct Model {
    records: BTreeMap<String, BTreeMap<String, (i64, Value)>>,
}

impl Model {
    pub fn write(&mut self, id: &str, field: &str, at: i64, value: Value) {
        let fields = self.records.entry(id.to_owned()).or_default();
        match fields.get(field) {
            Some((old, _)) if *old > at => {}
            _ => {
                fields.insert(field.to_owned(), (at, value));
            }
        }
    }

    pub fn folded(&self) -> BTreeMap<String, BTreeMap<String, Value>> {
        self.records
            .iter()
            .map(|(id, f)| {
                (
                    id.clone(),
                    f.iter().map(|(k, (_, v))| (k.clone(), v.clone())).collect(),
                )
            })
            .collect()
    }
}

pub fn folded(replica: &Replica) -> BTreeMap<String, BTreeMap<String, Value>> {
    replica
        .records("tasks")
        .map(|r| (r.id.clone(), r.to_json().into_iter().collect()))
        .collect()
}

/// A deterministic workload: writer `w`'s `round`-th push (inserts of new
/// records and updates of older ones, each field stamped uniquely).
pub fn workload(w: usize, round: usize, model: &mut Model, base: i64) -> Vec<Change> {
    let mut out = Vec::new();
    let stamp = |k: usize| base + (round * 1000 + w * 100 + k) as i64;
    let id = format!("w{w}-r{round}");
    let at = stamp(0);
    let ts = mana_sync_core::Timestamp::from_unix_millis(at).unwrap();
    let data = json!({"title": format!("{id} v0"), "updatedAt": Cursor::from(ts).as_str()});
    for (k, v) in data.as_object().unwrap() {
        model.write(&id, k, at, v.clone());
    }
    out.push(Change::insert(
        "tasks",
        &id,
        data.as_object().cloned().unwrap(),
    ));
    if round > 0 {
        for (k, other) in (0..3).map(|o| (o + 1, format!("w{}-r{}", (w + o) % 3, round - 1))) {
            let at = stamp(k);
            let value = json!(format!("{other} by w{w} in {round}"));
            model.write(&other, "title", at, value.clone());
            let ts = mana_sync_core::Timestamp::from_unix_millis(at).unwrap();
            out.push(Change::update("tasks", &other).with_field("title", value, ts));
        }
    }
    out
}
