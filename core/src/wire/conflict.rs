//! [`Conflict`]: the shape the server reserves for conflicts.

use serde_json::Value;

use super::object_form::object_form;
use crate::Stamp;

object_form! {
    expecting "a conflict object", serde(rename_all = "camelCase");
    /// A conflict as the server would report it. The server resolves nothing
    /// today and always sends an empty list; the shape is kept for the future.
    #[derive(Debug, Clone, PartialEq)]
    pub struct Conflict {
        /// The table.
        #[serde(default)]
        pub table: String,
        /// The record id.
        #[serde(default)]
        pub id: String,
        /// The field.
        #[serde(default)]
        pub field: String,
        /// The value the client sent.
        #[serde(default)]
        pub client_value: Value,
        /// When the client wrote it.
        #[serde(default = "empty_stamp")]
        pub client_timestamp: Stamp,
        /// The value the server holds.
        #[serde(default)]
        pub server_value: Value,
        /// When the server's value was written.
        #[serde(default = "empty_stamp")]
        pub server_timestamp: Stamp,
    }
}

fn empty_stamp() -> Stamp {
    Stamp::Empty
}
