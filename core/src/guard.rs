//! The plaintext guard: a push that would send, in plaintext, a field the
//! Mana apps keep encrypted is refused before anything is sent.
//!
//! The core does not know which fields the apps encrypt; an
//! [`EncryptedFields`] look-up tells it (the `mana-sync-apps` crate has one
//! made from the browser's registry). A [`Config`](crate::Config) carries
//! it ([`Config::with_guard`](crate::Config::with_guard)); every push built
//! from that config ([`crate::ops::Push`], and so the facades' `push`,
//! `push_insert`, `push_batch`, `create`, `update`) is checked by
//! [`check_plaintext`] first. Another write path (an offline engine that
//! queues changes) calls [`check_plaintext`] itself when a change is
//! queued, so that a refused change never reaches the queue.

use crate::crypto::is_encrypted;
use crate::error::bound;
use crate::{Change, Error};

/// Which fields of a collection the apps keep encrypted.
///
/// ```
/// # use mana_sync_core::surface as mana_sync_ureq;
/// use mana_sync_ureq::guard::EncryptedFields;
///
/// struct Todo;
/// impl EncryptedFields for Todo {
///     fn encrypted_fields(&self, app_id: &str, collection: &str) -> Option<&[String]> {
///         static TITLE: std::sync::LazyLock<Vec<String>> =
///             std::sync::LazyLock::new(|| vec!["title".to_owned()]);
///         (app_id == "todo" && collection == "tasks").then(|| TITLE.as_slice())
///     }
/// }
/// assert_eq!(Todo.encrypted_fields("todo", "tasks").map(<[String]>::len), Some(1));
/// ```
pub trait EncryptedFields: Send + Sync {
    /// The fields of `collection` (its wire name) of app `app_id` that
    /// travel only as `enc:1:` strings; `None` for a collection the look-up
    /// does not know (nothing of it is checked), `Some(&[])` for one kept
    /// in plaintext.
    fn encrypted_fields(&self, app_id: &str, collection: &str) -> Option<&[String]>;
}

/// Refuses the first change of `changes` (pushed to app `app_id`) that
/// carries a non-null value of an encrypted field that is not an `enc:1:`
/// string, in its `data` (an insert) or its `fields` (an update): an
/// [`Error::PlaintextField`] naming the app, the collection, the change's
/// index and id and the field, never the value.
///
/// ```
/// # use mana_sync_core::surface as mana_sync_ureq;
/// use mana_sync_ureq::guard::{check_plaintext, EncryptedFields};
/// use mana_sync_ureq::{Change, Error};
/// # struct Todo(Vec<String>);
/// # impl EncryptedFields for Todo {
/// #     fn encrypted_fields(&self, _: &str, c: &str) -> Option<&[String]> { (c == "tasks").then(|| self.0.as_slice()) }
/// # }
/// let registry = Todo(vec!["title".into()]);
/// let data = serde_json::json!({"title": "Buy milk"}).as_object().cloned().unwrap_or_default();
/// let err = check_plaintext(&registry, "todo", &[Change::insert("tasks", "t-1", data)]).unwrap_err();
/// assert!(matches!(err, Error::PlaintextField { ref field, .. } if field == "title"));
/// assert!(!err.to_string().contains("Buy milk"));
/// ```
pub fn check_plaintext(
    registry: &dyn EncryptedFields,
    app_id: &str,
    changes: &[Change],
) -> Result<(), Error> {
    for (index, change) in changes.iter().enumerate() {
        let Some(encrypted) = registry.encrypted_fields(app_id, &change.table) else {
            continue;
        };
        if encrypted.is_empty() {
            continue;
        }
        let in_data = change.data.iter().flat_map(|data| data.iter());
        let in_fields = change
            .fields
            .iter()
            .flat_map(|fields| fields.iter().map(|(name, f)| (name, &f.value)));
        let plaintext = in_data.chain(in_fields).find(|(name, value)| {
            !value.is_null() && !is_encrypted(value) && encrypted.iter().any(|e| e == *name)
        });
        if let Some((field, _)) = plaintext {
            return Err(Error::PlaintextField {
                app_id: bound(app_id, 100),
                collection: bound(&change.table, 100),
                index,
                change_id: bound(&change.id, 200),
                field: bound(field, 100),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{FieldChange, Timestamp};
    use serde_json::json;

    struct Tasks(Vec<String>);
    impl EncryptedFields for Tasks {
        fn encrypted_fields(&self, app_id: &str, collection: &str) -> Option<&[String]> {
            match (app_id, collection) {
                ("todo", "tasks") => Some(&self.0),
                ("todo", "plain") => Some(&[]),
                _ => None,
            }
        }
    }

    fn registry() -> Tasks {
        Tasks(vec!["title".into(), "subtasks".into()])
    }

    fn insert(table: &str, data: serde_json::Value) -> Change {
        Change::insert(table, "t-1", data.as_object().cloned().unwrap_or_default())
    }

    #[test]
    fn plaintext_in_an_insert_is_refused_naming_the_field_not_the_value() {
        let changes = [
            insert("tasks", json!({"title": "enc:1:aaaa.bbbb", "order": 1})),
            insert(
                "tasks",
                json!({"title": "enc:1:aaaa.bbbb", "subtasks": [{"title": "secret"}]}),
            ),
        ];
        let err = check_plaintext(&registry(), "todo", &changes).unwrap_err();
        let Error::PlaintextField {
            app_id,
            collection,
            index,
            change_id,
            field,
        } = &err
        else {
            panic!("{err:?}");
        };
        assert_eq!(
            (
                app_id.as_str(),
                collection.as_str(),
                *index,
                change_id.as_str(),
                field.as_str()
            ),
            ("todo", "tasks", 1, "t-1", "subtasks")
        );
        assert!(!err.to_string().contains("secret"));
        assert!(!format!("{err:?}").contains("secret"));
    }

    #[test]
    fn plaintext_in_an_update_is_refused() {
        let now = Timestamp::UNIX_EPOCH;
        let mut change = Change::update("tasks", "t-2");
        change = change.with_field("title", json!("plain"), now);
        let err = check_plaintext(&registry(), "todo", &[change]).unwrap_err();
        assert!(matches!(err, Error::PlaintextField { ref field, .. } if field == "title"));
        let mut ok = Change::update("tasks", "t-2");
        ok.fields
            .get_or_insert_with(Default::default)
            .insert("title".into(), FieldChange::new(json!("enc:1:x.y"), now));
        assert!(check_plaintext(&registry(), "todo", &[ok]).is_ok());
    }

    #[test]
    fn null_ciphertext_other_fields_unknown_and_plaintext_collections_pass() {
        let now = Timestamp::UNIX_EPOCH;
        let changes = [
            insert(
                "tasks",
                json!({"title": null, "subtasks": "enc:1:a.b", "order": 3}),
            ),
            insert("plain", json!({"title": "fine"})),
            insert("unknown", json!({"title": "not ours to judge"})),
            Change::delete("tasks", "t-1", now),
        ];
        assert!(check_plaintext(&registry(), "todo", &changes).is_ok());
        // Another app's collection of the same name is not this one.
        let elsewhere = [insert("tasks", json!({"title": "plain"}))];
        assert!(check_plaintext(&registry(), "other", &elsewhere).is_ok());
        // An empty string is a value: the browser encrypts it too.
        let empty = [insert("tasks", json!({"title": ""}))];
        assert!(check_plaintext(&registry(), "todo", &empty).is_err());
    }
}
