//! [`Batch`]: typed writes (creates, updates, deletes) to any tables of one
//! app, pushed as one operation.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::crypto::MasterKey;
use crate::ops::Push;
use crate::{Change, Config, Cursor, Error, Patch, TableSpec, Timestamp};

/// Typed writes to the tables of one app, stamped with one instant, pushed
/// together as one [`Push`] (which splits them into requests by the
/// server's limits, 200 changes and 10 MiB a request, and checks every
/// change before sending any).
///
/// Get one from a client (`client.batch("todo")`, stamped with the
/// client's clock) and push it with `client.push_batch(&batch)`; or build
/// and drive it by hand:
///
/// ```
/// # use mana_sync_core::surface as mana_sync_ureq;
/// use mana_sync_ureq::{Batch, Config, Patch, TableSpec, Timestamp};
///
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct Tag { name: String }
///
/// let tags: TableSpec<Tag> = TableSpec::new("todo", "tags");
/// let mut batch = Batch::new("todo", Timestamp::parse("2026-04-23T11:18:35Z")?);
/// for i in 0..250 {
///     batch.create(&tags, &format!("tag-{i}"), &Tag { name: format!("#{i}") }, None)?;
/// }
/// batch.update(&tags, "tag-0", tags.patch().set("name", "#zero")?, None)?;
/// batch.delete(&tags, "tag-1")?;
/// assert_eq!(batch.len(), 252);
///
/// let config = Config::new("http://localhost:3050", "token", "my-app")?;
/// let push = batch.push(&config)?; // an Operation: two requests
/// # let _ = push;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Batch {
    app_id: String,
    now: Timestamp,
    changes: Vec<Change>,
}

impl Batch {
    /// An empty batch for app `app_id`, its writes stamped `now`.
    pub fn new(app_id: &str, now: Timestamp) -> Batch {
        Batch {
            app_id: app_id.to_owned(),
            now,
            changes: Vec::new(),
        }
    }

    fn check<T: Serialize + DeserializeOwned>(&self, table: &TableSpec<T>) -> Result<(), Error> {
        if table.app_id() == self.app_id {
            Ok(())
        } else {
            Err(Error::InvalidRequest {
                reason: format!(
                    "table {} belongs to app {}, and this batch to app {}: a batch is pushed to one app",
                    table.table(),
                    table.app_id(),
                    self.app_id
                ),
            })
        }
    }

    /// Adds the creation of record `id` (see [`TableSpec::create_change`]).
    pub fn create<T: Serialize + DeserializeOwned>(
        &mut self,
        table: &TableSpec<T>,
        id: &str,
        value: &T,
        key: Option<&MasterKey>,
    ) -> Result<&mut Batch, Error> {
        self.check(table)?;
        let change = table.create_change(id, value, key, self.now)?;
        self.changes.push(change);
        Ok(self)
    }

    /// Adds an update of record `id` (see [`TableSpec::update_change`]).
    pub fn update<T: Serialize + DeserializeOwned>(
        &mut self,
        table: &TableSpec<T>,
        id: &str,
        patch: Patch<T>,
        key: Option<&MasterKey>,
    ) -> Result<&mut Batch, Error> {
        self.check(table)?;
        let change = table.update_change(id, patch, key, self.now)?;
        self.changes.push(change);
        Ok(self)
    }

    /// Adds the soft delete of record `id`.
    pub fn delete<T: Serialize + DeserializeOwned>(
        &mut self,
        table: &TableSpec<T>,
        id: &str,
    ) -> Result<&mut Batch, Error> {
        self.check(table)?;
        self.changes.push(table.delete_change(id, self.now));
        Ok(self)
    }

    /// The app.
    pub fn app_id(&self) -> &str {
        &self.app_id
    }

    /// The instant the writes are stamped with.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// The changes, in the order added.
    pub fn changes(&self) -> &[Change] {
        &self.changes
    }

    /// How many changes.
    pub fn len(&self) -> usize {
        self.changes.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The push of these changes, asking for others' changes from the
    /// batch's instant on.
    pub fn push(&self, config: &Config) -> Result<Push, Error> {
        Push::new(config, &self.app_id, &self.changes, &Cursor::from(self.now))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[derive(serde::Serialize, serde::Deserialize)]
    struct Note {
        text: String,
    }

    #[test]
    fn a_batch_is_for_one_app() {
        let notes: TableSpec<Note> = TableSpec::new("notes", "notes");
        let mut batch = Batch::new("todo", Timestamp::UNIX_EPOCH);
        let e = batch.delete(&notes, "n-1").unwrap_err();
        assert!(e.to_string().contains("app notes"), "{e}");
        assert!(batch.is_empty());
    }
}
