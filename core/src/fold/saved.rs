//! A [`Replica`] saved and loaded with serde, in the form it always had:
//! `{"tables": {table: {id: record}}, "cursors", "dropped", "tombstones"?,
//! "seen"?, "overlap_ms"}`, maps sorted by key. Snapshots written before the
//! overlap memory (or the tombstones) existed still load.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::replica::default_overlap_ms;
use hashbrown::HashMap;

use super::table::{IdHasher, Names, Records, Table, Tombstone, Tombstones};
use super::{Record, Replica, Seen};
use crate::Cursor;

/// A table's records as saved: a map from id to record, sorted by id.
struct RecordsOut<'a>(&'a Records);

impl Serialize for RecordsOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.sorted().into_iter().map(|r| (&r.id, r)))
    }
}

/// The tables, sorted by name.
fn sorted(tables: &HashMap<String, Table>) -> Vec<(&str, &Table)> {
    let mut sorted: Vec<(&str, &Table)> = tables.iter().map(|(k, t)| (k.as_str(), t)).collect();
    sorted.sort_unstable_by(|a, b| a.0.cmp(b.0));
    sorted
}

/// The tables that hold records (an emptied table is not saved).
struct TablesOut<'a>(&'a HashMap<String, Table>);

impl Serialize for TablesOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(
            sorted(self.0)
                .into_iter()
                .filter(|(_, t)| t.records.len() > 0)
                .map(|(name, t)| (name, RecordsOut(&t.records))),
        )
    }
}

/// The tombstones of the tables that have some, sorted by id.
struct TombstonesOut<'a>(&'a HashMap<String, Table>);

impl Serialize for TombstonesOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(
            sorted(self.0)
                .into_iter()
                .filter(|(_, t)| !t.tombstones.is_empty())
                .map(|(name, t)| (name, t.tombstones.sorted())),
        )
    }
}

impl Serialize for Replica {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut out = s.serialize_struct("Replica", 6)?;
        out.serialize_field("tables", &TablesOut(&self.tables))?;
        out.serialize_field("cursors", &self.cursors)?;
        out.serialize_field("dropped", &self.dropped)?;
        if self.tables.values().all(|t| t.tombstones.is_empty()) {
            out.skip_field("tombstones")?;
        } else {
            out.serialize_field("tombstones", &TombstonesOut(&self.tables))?;
        }
        if self.seen.is_empty() {
            out.skip_field("seen")?;
        } else {
            out.serialize_field("seen", &self.seen)?;
        }
        out.serialize_field("overlap_ms", &self.overlap_ms)?;
        out.end()
    }
}

/// A saved table (names shared as they are read).
struct TableIn(Vec<Record>, Names);

impl<'de> Deserialize<'de> for TableIn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TableIn;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map from record id to record")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TableIn, A::Error> {
                let mut names = Names::default();
                let mut records = Vec::new();
                while let Some((_, mut record)) =
                    map.next_entry::<serde::de::IgnoredAny, Record>()?
                {
                    record.share_names(|n| names.name(n));
                    records.push(record);
                }
                Ok(TableIn(records, names))
            }
        }
        d.deserialize_map(V)
    }
}

#[derive(Deserialize)]
struct ReplicaIn {
    tables: BTreeMap<String, TableIn>,
    #[serde(default)]
    cursors: BTreeMap<String, Cursor>,
    #[serde(default)]
    dropped: u64,
    #[serde(default)]
    tombstones: BTreeMap<String, BTreeMap<String, Tombstone>>,
    #[serde(default)]
    seen: BTreeMap<String, Seen>,
    #[serde(default = "default_overlap_ms")]
    overlap_ms: u64,
}

impl<'de> Deserialize<'de> for Replica {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let saved: ReplicaIn = crate::wire::map_only(d, "a saved replica object")?;
        let hasher = IdHasher::default();
        let mut tables: HashMap<String, Table> = HashMap::new();
        for (name, TableIn(saved, names)) in saved.tables {
            let table = tables.entry(name).or_default();
            table.names = names;
            for record in saved {
                table.records.insert(record, &hasher);
            }
        }
        for (name, t) in saved.tombstones {
            if !t.is_empty() {
                tables.entry(name).or_default().tombstones = Tombstones::from_saved(t, &hasher);
            }
        }
        Ok(Replica {
            tables,
            cursors: saved.cursors,
            dropped: saved.dropped,
            seen: saved.seen,
            overlap_ms: saved.overlap_ms,
            hasher,
        })
    }
}

impl PartialEq for Replica {
    /// Equal records and tombstones (a table emptied by hard deletes equals
    /// no table), cursors, memories and settings.
    fn eq(&self, other: &Replica) -> bool {
        let same_tables = |a: &Replica, b: &Replica| {
            a.tables.iter().all(|(name, t)| match b.tables.get(name) {
                Some(u) => t.records.same(&u.records) && t.tombstones == u.tombstones,
                None => t.records.len() == 0 && t.tombstones.is_empty(),
            })
        };
        same_tables(self, other)
            && same_tables(other, self)
            && self.cursors == other.cursors
            && self.dropped == other.dropped
            && self.seen == other.seen
            && self.overlap_ms == other.overlap_ms
    }
}
