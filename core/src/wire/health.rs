//! [`Health`]: the answer of `GET /health`.

use super::object_form::object_form;

object_form! {
    expecting "a health object";
    /// What `GET /health` says.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Health {
        /// `"ok"` when the server is healthy.
        pub status: String,
        /// The service name (`"mana-sync"`).
        #[serde(default)]
        pub service: String,
        /// The server's clock, as it wrote it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub timestamp: Option<String>,
        /// Open realtime connections.
        #[serde(default)]
        pub connections: u64,
        /// Connected users.
        #[serde(default)]
        pub users: u64,
    }
}

impl Health {
    /// Whether the server says it is healthy.
    pub fn is_ok(&self) -> bool {
        self.status == "ok"
    }
}
