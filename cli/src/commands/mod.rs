//! One module per subcommand.

pub mod crypt;
pub mod demo;
pub mod key;
pub mod mcp;
pub mod pull;
pub mod push;
pub mod records;
pub mod serve;
pub mod watch;

use mana_sync_core::Cursor;

use crate::failure::Failure;

/// A cursor given as `--since`.
pub fn since(text: Option<&str>) -> Result<Option<Cursor>, Failure> {
    text.map(|t| {
        Cursor::parse(t.trim())
            .map_err(|e| Failure::usage(format!("--since: {e} (give an RFC 3339 time)")))
    })
    .transpose()
}
