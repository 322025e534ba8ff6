//! [`ToolError`]: why a tool call failed, in words an agent can act on.

use mana_sync_core::Error;

/// Why a tool call failed. Never holds the token, a key or a decrypted
/// value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ToolError {
    /// The input is wrong: `field` (a path, empty for the whole input) and
    /// what is wrong with it.
    #[error("invalid input{}: {message}", if field.is_empty() { String::new() } else { format!(" `{field}`") })]
    Input {
        /// The field, as a path (`tags[2]`).
        field: String,
        /// What is wrong.
        message: String,
    },
    /// The record the input names does not exist (or was deleted).
    #[error("no {what} with id {id:?} (it does not exist or was deleted)")]
    NotFound {
        /// What kind of record.
        what: &'static str,
        /// The id given.
        id: String,
    },
    /// No tool of that name.
    #[error("no tool named {name:?}")]
    UnknownTool {
        /// The name given.
        name: String,
    },
    /// Sync, the vault or the auth service failed.
    #[error("{}", sync_text(.0))]
    Sync(#[from] Error),
    /// A bug in a tool.
    #[error("internal error: {message}")]
    Internal {
        /// What went wrong.
        message: String,
    },
}

impl From<crate::UnknownCollection> for ToolError {
    fn from(e: crate::UnknownCollection) -> ToolError {
        ToolError::Internal {
            message: e.to_string(),
        }
    }
}

fn sync_text(e: &Error) -> String {
    match e {
        Error::Unauthorized { status, .. } => format!(
            "token refused ({status}): the user's token is missing, expired or not valid here; \
             get a fresh token"
        ),
        Error::PaymentRequired { .. } => {
            "sync is not active for this user (402): they turn Cloud Sync on in the app".into()
        }
        Error::ZeroKnowledgeUser => "this user keeps their key zero-knowledge: nothing can be \
                                     encrypted for them (or decrypted) by a tool"
            .into(),
        Error::VaultNotInitialised => {
            "the user's encryption vault is not set up yet: they open the app once first".into()
        }
        other => other.to_string(),
    }
}
