//! One module per subcommand.

pub mod crypt;
pub mod demo;
pub mod key;
pub mod local;
pub mod mcp;
pub mod pull;
pub mod push;
pub mod records;
pub mod serve;
pub mod sync;
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

/// The collections given as `--collections`, trimmed, at least one.
pub fn collections(given: &[String]) -> Result<Vec<&str>, Failure> {
    let collections: Vec<&str> = given
        .iter()
        .map(|c| c.trim())
        .filter(|c| !c.is_empty())
        .collect();
    if collections.is_empty() {
        return Err(Failure::usage(
            "--collections: name at least one collection",
        ));
    }
    Ok(collections)
}
