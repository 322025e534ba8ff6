//! `local`: reads of a database that `sync` keeps, with no network.

use mana_sync_core::engine::Store;
use mana_sync_sqlite::SqliteStore;

use crate::args::{LocalArgs, LocalCommand};
use crate::commands::key::given_key;
use crate::commands::sync::store_failure;
use crate::failure::Failure;
use crate::output;

/// Runs `local`: JSON on stdout.
pub fn run(args: &LocalArgs) -> Result<(), Failure> {
    if !args.db.is_file() {
        return Err(Failure::usage(format!(
            "--db {}: no such database; `mana-sync sync --db {} --app A --collections C` makes one",
            args.db.display(),
            args.db.display()
        )));
    }
    let failed = |e| store_failure(&args.db, &e);
    let mut store = SqliteStore::open(&args.db).map_err(failed)?;
    match &args.what {
        LocalCommand::Records(records) => {
            let key = given_key(&records.key)?;
            if !records.decrypt.is_empty() && key.is_none() {
                return Err(Failure::usage(
                    "--decrypt needs --key-b64 (or MANA_KEY_B64): a local read asks no vault",
                ));
            }
            let mut rows = store.records(&records.table).map_err(failed)?;
            rows.retain(|r| records.include_deleted || !r.is_deleted());
            let fields: Vec<&str> = records.decrypt.iter().map(String::as_str).collect();
            super::records::print(&rows, key.as_ref(), &fields)
        }
        LocalCommand::Pending => output::json(&store.outbox().map_err(failed)?),
        LocalCommand::DeadLetters => output::json(&store.dead_letters().map_err(failed)?),
        LocalCommand::Conflicts => output::json(&store.conflicts().map_err(failed)?),
    }
}
