//! A table of a [`Replica`](super::Replica): its records hashed by id, the
//! field names they share, and the tombstones of records not live here.
//!
//! Hashed with hashbrown's default hasher (foldhash, seeded per map): the
//! fold looks a record up once per change, and a hashed lookup of a short
//! id costs a fraction of a `BTreeMap<String, _>` walk (a string comparison
//! per level, each a likely cache miss) once a table holds thousands of
//! records. A per-map random seed keeps ids chosen by others from being
//! made to collide.

use std::collections::BTreeMap;
use std::fmt;
use std::hash::BuildHasher;
use std::sync::Arc;

use hashbrown::{DefaultHashBuilder, HashTable};

use super::order::Write;
use super::record::Name;
use super::{FieldState, Record};
use crate::wire::object_form;

/// A table's records, the field names they share, and its tombstones.
#[derive(Clone, Default)]
pub(crate) struct Table {
    /// The records, by id.
    pub(crate) records: Records,
    /// The field names.
    pub(crate) names: Names,
    /// Deletes of records not known yet, hard deletes.
    pub(crate) tombstones: Tombstones,
}

/// Records hashed by id (the id is the record's own: not stored twice),
/// with the replica's [`IdHasher`] (an id is hashed once per change, for
/// its record and its tombstone).
#[derive(Clone, Default)]
pub(crate) struct Records {
    table: HashTable<Record>,
}

/// The hasher of record ids, one per replica.
pub(crate) type IdHasher = DefaultHashBuilder;

impl Records {
    /// A record, by its id's hash.
    pub(crate) fn get(&self, hash: u64, id: &str) -> Option<&Record> {
        self.table.find(hash, |r| r.id == id)
    }

    /// A record, to change, by its id's hash.
    pub(crate) fn get_mut(&mut self, hash: u64, id: &str) -> Option<&mut Record> {
        self.table.find_mut(hash, |r| r.id == id)
    }

    /// Adds a record not held yet, whose id hashes to `hash`.
    pub(crate) fn insert_new(&mut self, hash: u64, record: Record, hasher: &IdHasher) {
        self.table
            .insert_unique(hash, record, |r| hasher.hash_one(r.id.as_str()));
    }

    /// Adds or replaces a record.
    pub(crate) fn insert(&mut self, record: Record, hasher: &IdHasher) {
        let hash = hasher.hash_one(record.id.as_str());
        match self.get_mut(hash, &record.id) {
            Some(held) => *held = record,
            None => self.insert_new(hash, record, hasher),
        }
    }

    /// Removes a record; whether it was there.
    pub(crate) fn remove(&mut self, hash: u64, id: &str) -> bool {
        match self.table.find_entry(hash, |r| r.id == id) {
            Ok(entry) => {
                entry.remove();
                true
            }
            Err(_) => false,
        }
    }

    /// How many records.
    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }

    /// The records, sorted by id.
    pub(crate) fn sorted(&self) -> Vec<&Record> {
        let mut records: Vec<&Record> = self.table.iter().collect();
        records.sort_unstable_by(|a, b| a.id.cmp(&b.id));
        records
    }

    /// Whether both hold equal records (whatever the hashers).
    pub(crate) fn same(&self, other: &Records) -> bool {
        self.len() == other.len() && {
            let theirs: BTreeMap<&str, &Record> =
                other.table.iter().map(|r| (r.id.as_str(), r)).collect();
            self.table
                .iter()
                .all(|r| theirs.get(r.id.as_str()) == Some(&r))
        }
    }
}

impl fmt::Debug for Records {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.sorted().into_iter().map(|r| (&r.id, r)))
            .finish()
    }
}

impl fmt::Debug for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Table")
            .field("records", &self.records)
            .field("tombstones", &self.tombstones.sorted())
            .finish()
    }
}

/// The field names of a table's records, one allocation each.
#[derive(Clone, Default)]
pub(crate) struct Names {
    table: HashTable<Name>,
    hasher: DefaultHashBuilder,
}

impl Names {
    /// The shared name `name`, made on first use.
    pub(crate) fn name(&mut self, name: &str) -> Name {
        let hash = self.hasher.hash_one(name);
        if let Some(held) = self.table.find(hash, |n| n.as_str() == name) {
            return Arc::clone(held);
        }
        let new: Name = Arc::new(name.to_owned());
        let hasher = &self.hasher;
        self.table
            .insert_unique(hash, Arc::clone(&new), |n| hasher.hash_one(n.as_str()));
        new
    }
}

object_form! {
    expecting "a saved tombstone";
    /// A record's state while it is not a live record here: a delete of a record
    /// not known yet (kept, to apply when the record arrives), or a hard delete
    /// (final).
    #[derive(Debug, Clone, Default, PartialEq)]
    pub(crate) struct Tombstone {
        /// Hard-deleted: every later change of the record is absorbed.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        pub(crate) hard: bool,
        /// Soft deletes (`deletedAt` writes) received before the record.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        pub(crate) fields: BTreeMap<String, FieldState>,
    }
}

/// A table's tombstones, by record id (hashed with the replica's
/// [`IdHasher`]: looked up for every change once the table has one).
#[derive(Debug, Clone, Default)]
pub(crate) struct Tombstones(HashTable<(String, Tombstone)>);

impl Tombstones {
    /// A record's tombstone.
    pub(crate) fn get(&self, hash: u64, id: &str) -> Option<&Tombstone> {
        self.0.find(hash, |(k, _)| k == id).map(|(_, t)| t)
    }

    /// Takes a record's tombstone.
    pub(crate) fn remove(&mut self, hash: u64, id: &str) -> Option<Tombstone> {
        let entry = self.0.find_entry(hash, |(k, _)| k == id).ok()?;
        Some(entry.remove().0 .1)
    }

    /// Whether there is none.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A record's tombstone, made empty if there is none.
    fn entry(&mut self, hash: u64, id: &str, hasher: &IdHasher) -> &mut Tombstone {
        let entry = self
            .0
            .entry(hash, |(k, _)| k == id, |(k, _)| hasher.hash_one(k.as_str()));
        &mut entry
            .or_insert_with(|| (id.to_owned(), Tombstone::default()))
            .into_mut()
            .1
    }

    /// Keeps a soft delete of a record not known here (the greater write
    /// wins, as in a record).
    pub(crate) fn soft_delete(&mut self, hash: u64, id: &str, write: Write<'_>, hasher: &IdHasher) {
        let tombstone = self.entry(hash, id, hasher);
        match tombstone.fields.get_mut(Record::DELETED_AT) {
            Some(held) => {
                if write.order(held) == Some(std::cmp::Ordering::Greater) {
                    *held = write.to_state();
                }
            }
            None => {
                tombstone
                    .fields
                    .insert(Record::DELETED_AT.to_owned(), write.to_state());
            }
        }
    }

    /// Makes a record's deletion final.
    pub(crate) fn hard_delete(&mut self, hash: u64, id: &str, hasher: &IdHasher) {
        *self.entry(hash, id, hasher) = Tombstone {
            hard: true,
            fields: BTreeMap::new(),
        };
    }

    /// The tombstones, sorted by id (as saved).
    pub(crate) fn sorted(&self) -> BTreeMap<&str, &Tombstone> {
        self.0.iter().map(|(k, v)| (k.as_str(), v)).collect()
    }

    /// From saved tombstones.
    pub(crate) fn from_saved(saved: BTreeMap<String, Tombstone>, hasher: &IdHasher) -> Tombstones {
        let mut out = Tombstones::default();
        for (id, t) in saved {
            let hash = hasher.hash_one(id.as_str());
            *out.entry(hash, &id, hasher) = t;
        }
        out
    }
}

impl PartialEq for Tombstones {
    fn eq(&self, other: &Tombstones) -> bool {
        self.sorted() == other.sorted()
    }
}
