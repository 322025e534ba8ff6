//! SQLite's failures as the engine's [`StoreError`]s.

use mana_sync_core::engine::StoreError;
use rusqlite::ErrorCode;

/// What a SQLite failure means for the app.
pub(crate) fn map_err(path: &str, error: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(failure, message) = &error {
        let reason = message.clone().unwrap_or_else(|| failure.to_string());
        return match failure.code {
            ErrorCode::DiskFull => StoreError::Full,
            ErrorCode::ReadOnly | ErrorCode::CannotOpen | ErrorCode::PermissionDenied => {
                StoreError::ReadOnly { reason }
            }
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => StoreError::Locked {
                path: path.to_owned(),
            },
            ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt => StoreError::Foreign {
                path: path.to_owned(),
                reason,
            },
            _ => StoreError::Backend(reason),
        };
    }
    StoreError::Backend(error.to_string())
}

/// A stored row that does not decode. The reason names the place, never
/// the row's content (it may hold a value the app encrypted only in part).
pub(crate) fn decode_err(what: &str, error: &serde_json::Error) -> StoreError {
    StoreError::Corrupt {
        what: what.to_owned(),
        reason: format!(
            "line {} column {}: {:?}",
            error.line(),
            error.column(),
            error.classify()
        ),
    }
}
