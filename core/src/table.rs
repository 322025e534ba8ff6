//! [`TableSpec`]: a typed table, declared once: its app, its name, its
//! encrypted fields and the record type.

use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::crypto::{decrypt_fields, encrypt_fields, MasterKey, OsRng};
use crate::fold::Record;
use crate::{Change, Error, Timestamp};

/// A table declared once, then written and read as `T`: writes encrypt the
/// declared fields, reads decrypt them.
///
/// ```
/// use mana_sync_core::TableSpec;
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
            Some(key) => encrypt_fields(key, record, &names, &mut OsRng).map_err(Error::from),
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
        let Value::Object(mut data) =
            serde_json::to_value(value).map_err(|e| Error::InvalidRequest {
                reason: format!("the record cannot be written as JSON: {e}"),
            })?
        else {
            return Err(Error::InvalidRequest {
                reason: "a record must serialise to a JSON object".into(),
            });
        };
        data.entry("id").or_insert_with(|| Value::from(id));
        for stamp in ["createdAt", "updatedAt"] {
            data.entry(stamp)
                .or_insert_with(|| Value::from(now.to_string()));
        }
        self.encrypt(&mut data, key)?;
        Ok(Change::insert(&self.table, id, data))
    }

    /// The update that sets the named fields of record `id`, each written at
    /// `now` (and `updatedAt` with them).
    pub fn update_change(
        &self,
        id: &str,
        fields: impl IntoIterator<Item = (String, Value)>,
        key: Option<&MasterKey>,
        now: Timestamp,
    ) -> Result<Change, Error> {
        let mut values: Map<String, Value> = fields.into_iter().collect();
        values.insert("updatedAt".into(), Value::from(now.to_string()));
        self.encrypt(&mut values, key)?;
        Ok(values
            .into_iter()
            .fold(Change::update(&self.table, id), |c, (name, value)| {
                c.with_field(name, value, now)
            }))
    }

    /// The soft delete of record `id` at `now`.
    pub fn delete_change(&self, id: &str, now: Timestamp) -> Change {
        Change::delete(&self.table, id, now)
    }

    /// Reads a folded record as `T`, decrypting the declared fields.
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
            let message = e.into_inner().to_string();
            let message = if message.starts_with("missing field")
                || message.starts_with("unknown field")
                || message.starts_with("duplicate field")
            {
                message
            } else {
                match message.rfind(", expected ") {
                    Some(i) => format!(
                        "the value does not fit the record type (expected {}; the value is not shown)",
                        message.get(i + ", expected ".len()..).unwrap_or_default()
                    ),
                    None => "the value does not fit the record type (the value is not shown)".into(),
                }
            };
            Error::Decode {
                what: "record",
                path: crate::error::bound(&format!("{}: {path}", record.id), 200),
                message: crate::error::bound(&message, crate::limits::ERROR_BODY_CHARS),
                body: String::new(),
            }
        })
    }
}
