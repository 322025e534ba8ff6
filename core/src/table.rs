//! [`TableSpec`]: a typed table, declared once: its app, its name, its
//! encrypted fields and the record type.

use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::crypto::{decrypt_fields, encrypt_fields, MasterKey, PooledOsRng};
use crate::fold::Record;
use crate::{Change, Error, Patch, Timestamp};

/// The records of a typed table: those that decode as `T`, and those that
/// do not, each with why (one bad record does not hide the others).
#[derive(Debug)]
pub struct Listing<T> {
    /// The records that decode, in the replica's order (by id).
    pub records: Vec<T>,
    /// The records that do not: a field `T` cannot read, a missing field,
    /// a value that does not decrypt.
    pub bad: Vec<BadRecord>,
}

/// A record of a typed table that could not be read as its type.
#[derive(Debug)]
pub struct BadRecord {
    /// The record's id.
    pub id: String,
    /// Why: names the field and the expected type, never a decrypted
    /// value.
    pub error: Error,
}

impl<T> Listing<T> {
    /// The records that decode, failing with the first bad record's error
    /// if there is one ([`Error::BadRecord`], naming the record): for
    /// callers that want all or nothing.
    ///
    /// ```
    /// # use mana_sync_core::surface as mana_sync_ureq;
    /// use mana_sync_ureq::{BadRecord, Error, Listing};
    ///
    /// let listing: Listing<u32> = Listing {
    ///     records: vec![1],
    ///     bad: vec![BadRecord { id: "t-2".into(), error: Error::InvalidRequest { reason: "field title: expected a string".into() } }],
    /// };
    /// let error = listing.all().unwrap_err();
    /// assert!(error.to_string().starts_with("record \"t-2\" cannot be read: "), "{error}");
    /// ```
    pub fn all(self) -> Result<Vec<T>, Error> {
        match self.bad.into_iter().next() {
            Some(bad) => Err(Error::BadRecord {
                id: bad.id,
                cause: Box::new(bad.error),
            }),
            None => Ok(self.records),
        }
    }
}

/// A table declared once, then written and read as `T`: writes encrypt the
/// declared fields, reads decrypt them.
///
/// ```
/// # use mana_sync_core::surface as mana_sync_ureq;
/// use mana_sync_ureq::TableSpec;
///
/// #[derive(serde::Serialize, serde::Deserialize)]
/// #[serde(rename_all = "camelCase")]
/// struct Task { title: String, is_completed: bool }
///
/// let tasks: TableSpec<Task> = TableSpec::new("todo", "tasks")
///     .encrypted(&["title", "description", "subtasks", "metadata"]);
/// assert_eq!(tasks.table(), "tasks");
/// ```
#[derive(Debug)]
pub struct TableSpec<T> {
    app_id: String,
    table: String,
    encrypted: Vec<String>,
    record: PhantomData<fn() -> T>,
}

impl<T> Clone for TableSpec<T> {
    fn clone(&self) -> Self {
        TableSpec {
            app_id: self.app_id.clone(),
            table: self.table.clone(),
            encrypted: self.encrypted.clone(),
            record: PhantomData,
        }
    }
}

impl<T: Serialize + DeserializeOwned> TableSpec<T> {
    /// Table `table` of app `app_id`, with no encrypted fields.
    pub fn new(app_id: &str, table: &str) -> TableSpec<T> {
        TableSpec {
            app_id: app_id.to_owned(),
            table: table.to_owned(),
            encrypted: Vec::new(),
            record: PhantomData,
        }
    }

    /// Declares the fields kept encrypted (the browser's registry for this
    /// table).
    pub fn encrypted(mut self, fields: &[&str]) -> TableSpec<T> {
        self.encrypted = fields.iter().map(|f| (*f).to_owned()).collect();
        self
    }

    /// The app id.
    pub fn app_id(&self) -> &str {
        &self.app_id
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.table
    }

    fn encrypt(
        &self,
        record: &mut Map<String, Value>,
        key: Option<&MasterKey>,
    ) -> Result<(), Error> {
        let names: Vec<&str> = self.encrypted.iter().map(String::as_str).collect();
        let needs_key = names
            .iter()
            .any(|n| record.get(*n).is_some_and(|v| !v.is_null()));
        match key {
            Some(key) => encrypt_fields(key, record, &names, &mut PooledOsRng).map_err(Error::from),
            None if needs_key => Err(Error::InvalidRequest {
                reason: format!(
                    "table {} keeps {} encrypted: a master key is needed to write it",
                    self.table,
                    names.join(", ")
                ),
            }),
            None => Ok(()),
        }
    }

    /// The insert that creates record `id` from `value` (an object), with
    /// `id`, `createdAt` and `updatedAt` set when `value` has none.
    pub fn create_change(
        &self,
        id: &str,
        value: &T,
        key: Option<&MasterKey>,
        now: Timestamp,
    ) -> Result<Change, Error> {
        let mut data = crate::patch::object(value)?;
        data.entry("id").or_insert_with(|| Value::from(id));
        for stamp in ["createdAt", "updatedAt"] {
            data.entry(stamp)
                .or_insert_with(|| Value::from(now.to_string()));
        }
        self.encrypt(&mut data, key)?;
        Ok(Change::insert(&self.table, id, data))
    }

    /// The update that sets the fields of `patch` on record `id`, each
    /// written at `now` (and `updatedAt` with them), the declared fields
    /// encrypted with `key`.
    pub fn update_change(
        &self,
        id: &str,
        patch: Patch<T>,
        key: Option<&MasterKey>,
        now: Timestamp,
    ) -> Result<Change, Error> {
        let mut values = patch.into_fields();
        values.insert("updatedAt".into(), Value::from(now.to_string()));
        self.encrypt(&mut values, key)?;
        Ok(values
            .into_iter()
            .fold(Change::update(&self.table, id), |c, (name, value)| {
                c.with_field(name, value, now)
            }))
    }

    /// An empty [`Patch`] of this table's record type.
    pub fn patch(&self) -> Patch<T> {
        Patch::new()
    }

    /// The soft delete of record `id` at `now`.
    pub fn delete_change(&self, id: &str, now: Timestamp) -> Change {
        Change::delete(&self.table, id, now)
    }

    /// Reads folded records as `T`: those that decode, and a report of
    /// those that do not (what [`crate::BlockingClient::list`] returns).
    pub fn decode_all<'a>(
        &self,
        records: impl IntoIterator<Item = &'a Record>,
        key: Option<&MasterKey>,
    ) -> Listing<T> {
        let mut listing = Listing {
            records: Vec::new(),
            bad: Vec::new(),
        };
        for record in records {
            match self.decode(record, key) {
                Ok(value) => listing.records.push(value),
                Err(error) => listing.bad.push(BadRecord {
                    id: record.id.clone(),
                    error,
                }),
            }
        }
        listing
    }

    /// Reads a folded record as `T`, decrypting the declared fields. The
    /// error names the record and the field, never a decrypted value.
    pub fn decode(&self, record: &Record, key: Option<&MasterKey>) -> Result<T, Error> {
        let mut json = record.to_json();
        let names: Vec<&str> = self.encrypted.iter().map(String::as_str).collect();
        match key {
            Some(key) => decrypt_fields(key, &mut json, &names)?,
            None => {
                if let Some(name) = names
                    .iter()
                    .find(|n| json.get(**n).is_some_and(crate::crypto::is_encrypted))
                {
                    return Err(Error::InvalidRequest {
                        reason: format!(
                            "field {name} of {} is encrypted: a master key is needed to read it",
                            self.table
                        ),
                    });
                }
            }
        }
        serde_path_to_error::deserialize(Value::Object(json)).map_err(|e| {
            // serde's message can quote the value (`invalid type: string
            // "…"`), which may be a decrypted secret: keep only what names
            // the type, never the value.
            let path = e.path().to_string();
            let message = crate::patch::without_value(&e.into_inner().to_string());
            Error::Decode {
                what: "record",
                path: crate::error::bound(&format!("{}: {path}", record.id), 200),
                message: crate::error::bound(&message, crate::limits::ERROR_BODY_CHARS),
                body: String::new(),
            }
        })
    }
}
