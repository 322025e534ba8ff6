//! [`Change`]: one entry of the change log.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::object_form::object_form;
use super::{FieldChange, Op, Origin};
use crate::{Stamp, Timestamp};

object_form! {
    expecting "a change object", serde(rename_all = "camelCase");
    /// One change, as pushed by a client and as the server returns it.
    ///
    /// An insert carries the whole record in `data`; an update carries `fields`,
    /// each with its own stamp; a delete carries `deletedAt` (a soft delete) or
    /// nothing (a hard delete). The constructors build exactly these shapes:
    ///
    /// ```
    /// # use mana_sync_core::surface as mana_sync_ureq;
    /// use mana_sync_ureq::{Change, Timestamp};
    /// use serde_json::json;
    ///
    /// let at = Timestamp::parse("2026-04-23T11:19:00Z")?;
    /// let insert = Change::insert("tasks", "t-1", json!({"title": "Buy milk"}).as_object().unwrap().clone())
    ///     .with_space("s-1");
    /// let update = Change::update("tasks", "t-1").with_field("isCompleted", true, at);
    /// let delete = Change::delete("tasks", "t-1", at);
    /// assert_eq!(
    ///     serde_json::to_string(&update)?,
    ///     r#"{"table":"tasks","id":"t-1","op":"update","fields":{"isCompleted":{"value":true,"at":"2026-04-23T11:19:00.000Z"}}}"#
    /// );
    /// # let _ = (insert, delete);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[derive(Debug, Clone, PartialEq)]
    pub struct Change {
        /// The server's id for this log row (push and pull responses only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub event_id: Option<String>,
        /// Per-change schema version (missing or 0 means 1).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub schema_version: Option<u32>,
        /// The table (collection) name.
        #[serde(default)]
        pub table: String,
        /// The record id.
        #[serde(default)]
        pub id: String,
        /// What the change does.
        pub op: Op,
        /// The whole record, for an insert.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub data: Option<Map<String, Value>>,
        /// The changed fields, for an update.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub fields: Option<BTreeMap<String, FieldChange>>,
        /// When the record was deleted, for a soft delete.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub deleted_at: Option<Stamp>,
        /// The space the record belongs to.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub space_id: Option<String>,
        /// Who acted, as opaque JSON (stored and echoed as is).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub actor: Option<Value>,
        /// Where the change came from.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub origin: Option<Origin>,
    }
}

impl Change {
    pub(crate) fn bare(table: impl Into<String>, id: impl Into<String>, op: Op) -> Change {
        Change {
            event_id: None,
            schema_version: None,
            table: table.into(),
            id: id.into(),
            op,
            data: None,
            fields: None,
            deleted_at: None,
            space_id: None,
            actor: None,
            origin: None,
        }
    }

    /// An insert of the whole record `data`.
    pub fn insert(
        table: impl Into<String>,
        id: impl Into<String>,
        data: Map<String, Value>,
    ) -> Change {
        Change {
            data: Some(data),
            ..Change::bare(table, id, Op::Insert)
        }
    }

    /// An update with no fields yet: add them with [`Change::with_field`].
    pub fn update(table: impl Into<String>, id: impl Into<String>) -> Change {
        Change {
            fields: Some(BTreeMap::new()),
            ..Change::bare(table, id, Op::Update)
        }
    }

    /// A soft delete at `deleted_at`.
    pub fn delete(
        table: impl Into<String>,
        id: impl Into<String>,
        deleted_at: Timestamp,
    ) -> Change {
        Change {
            deleted_at: Some(Stamp::At(deleted_at)),
            ..Change::bare(table, id, Op::Delete)
        }
    }

    /// A hard delete (no `deletedAt`): the record is removed, not marked.
    pub fn hard_delete(table: impl Into<String>, id: impl Into<String>) -> Change {
        Change::bare(table, id, Op::Delete)
    }

    /// Sets field `name` to `value`, written at `at`.
    pub fn with_field(
        mut self,
        name: impl Into<String>,
        value: impl Into<Value>,
        at: Timestamp,
    ) -> Change {
        self.fields
            .get_or_insert_with(BTreeMap::new)
            .insert(name.into(), FieldChange::new(value, at));
        self
    }

    /// Sets the space.
    pub fn with_space(mut self, space_id: impl Into<String>) -> Change {
        self.space_id = Some(space_id.into());
        self
    }

    /// Sets the actor (opaque JSON).
    pub fn with_actor(mut self, actor: Value) -> Change {
        self.actor = Some(actor);
        self
    }

    /// Sets the origin.
    pub fn with_origin(mut self, origin: Origin) -> Change {
        self.origin = Some(origin);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_server_change_and_ignores_unknown_members() {
        let json = r#"{"eventId":"e-1","schemaVersion":1,"table":"tasks","id":"t-1","op":"update",
            "fields":{"title":{"value":"x","at":"2026-04-23T11:19:00.000Z"},"legacy":{"value":1,"at":""}},
            "spaceId":"s-1","actor":{"kind":"ai","missionId":"m-1","deep":{"x":[1]}},"origin":"agent",
            "somethingNew":{"a":1}}"#;
        let c: Change = serde_json::from_str(json).unwrap();
        assert_eq!(c.op, Op::Update);
        assert_eq!(c.origin, Some(Origin::Agent));
        assert_eq!(c.fields.as_ref().unwrap()["legacy"].at, Stamp::Empty);
        assert_eq!(c.actor.as_ref().unwrap()["deep"]["x"][0], 1);
        let back = serde_json::to_value(&c).unwrap();
        assert!(back.get("somethingNew").is_none());
        assert!(back.get("data").is_none());
        assert_eq!(back["actor"]["missionId"], "m-1");
    }

    #[test]
    fn unknown_op_and_origin_are_kept() {
        let c: Change =
            serde_json::from_str(r#"{"table":"t","id":"1","op":"upsert","origin":"robot"}"#)
                .unwrap();
        assert_eq!(c.op, Op::Other("upsert".into()));
        assert_eq!(c.origin, Some(Origin::Other("robot".into())));
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            r#"{"table":"t","id":"1","op":"upsert","origin":"robot"}"#
        );
    }

    #[test]
    fn hard_delete_is_op_alone() {
        let c = Change::hard_delete("tasks", "t-1");
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            r#"{"table":"tasks","id":"t-1","op":"delete"}"#
        );
    }
}
