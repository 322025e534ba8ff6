//! [`Changeset`]: the body of a push.

use super::object_form::object_form;
use super::Change;
use crate::Cursor;

object_form! {
    expecting "a changeset object", serde(rename_all = "camelCase");
    /// The body of `POST /sync/{appId}`: who pushes, since when it wants the
    /// other clients' changes back, and the changes.
    #[derive(Debug, Clone, PartialEq)]
    pub struct Changeset {
        /// The pushing client's id (the `X-Client-Id` header overrides it).
        pub client_id: String,
        /// The response carries other clients' changes made after this.
        pub since: Cursor,
        /// Missing or 0 means 1; above 1 is refused.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub schema_version: Option<u32>,
        /// The changes, applied in order.
        #[serde(default)]
        pub changes: Vec<Change>,
    }
}
