//! The two enumerated strings of a change: [`Op`] and [`Origin`].

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What a change does: `insert`, `update` or `delete`.
///
/// Anything else the wire may carry is kept in [`Op::Other`] so that reading a
/// page never fails on it (the fold drops such a change and counts it; the
/// server refuses to store one).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Op {
    /// The whole record, in `data`.
    Insert,
    /// Some fields, each with its own stamp, in `fields`.
    Update,
    /// A soft delete (with `deletedAt`) or a hard one (without).
    Delete,
    /// Not an op this client knows.
    Other(String),
}

impl Op {
    /// The wire text.
    pub fn as_str(&self) -> &str {
        match self {
            Op::Insert => "insert",
            Op::Update => "update",
            Op::Delete => "delete",
            Op::Other(s) => s,
        }
    }
}

impl From<&str> for Op {
    fn from(s: &str) -> Op {
        match s {
            "insert" => Op::Insert,
            "update" => Op::Update,
            "delete" => Op::Delete,
            other => Op::Other(other.to_owned()),
        }
    }
}

/// Who made a change: `user`, `agent`, `system` or `migration`. The server
/// stores any string; others are kept in [`Origin::Other`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Origin {
    /// A person, in an app.
    User,
    /// An AI agent acting for the user.
    Agent,
    /// The system (jobs, automation).
    System,
    /// A data migration.
    Migration,
    /// Any other string.
    Other(String),
}

impl Origin {
    /// The wire text.
    pub fn as_str(&self) -> &str {
        match self {
            Origin::User => "user",
            Origin::Agent => "agent",
            Origin::System => "system",
            Origin::Migration => "migration",
            Origin::Other(s) => s,
        }
    }
}

impl From<&str> for Origin {
    fn from(s: &str) -> Origin {
        match s {
            "user" => Origin::User,
            "agent" => Origin::Agent,
            "system" => Origin::System,
            "migration" => Origin::Migration,
            other => Origin::Other(other.to_owned()),
        }
    }
}

macro_rules! string_serde {
    ($t:ty) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Ok(<$t>::from(&*s))
            }
        }
    };
}
string_serde!(Op);
string_serde!(Origin);
