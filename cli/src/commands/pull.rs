//! `pull`: one page, or with `--all` every page, as JSON lines.

use mana_sync_core::ops::PullAll;
use mana_sync_core::Cursor;

use crate::args::{Global, PullArgs};
use crate::connect::{client, config, progress};
use crate::failure::Failure;
use crate::output;

/// Runs `pull`. The changes go to stdout, one per line; where to resume goes
/// to stderr.
pub fn run(global: &Global, args: &PullArgs) -> Result<(), Failure> {
    let since = super::since(args.since.as_deref())?.unwrap_or(Cursor::EPOCH);
    let config = config(global, false)?;
    let fail = |e: mana_sync_core::Error| Failure::from_error(&e, &global.url);
    let printed = if args.all {
        let op = PullAll::new(&config, &args.app, &args.collection, &since).map_err(fail)?;
        let op = if args.include_own {
            op.including_own_changes()
        } else {
            op
        };
        let bar = progress(None, &format!("pulling {}", args.collection));
        let client = client(global, config, &bar)?;
        let pulled = client.run(op);
        bar.finish_and_clear();
        let pulled = pulled.map_err(fail)?;
        for change in &pulled.changes {
            output::json(&change)?;
        }
        eprintln!(
            "{} changes in {} page(s); resume with --since {}",
            pulled.changes.len(),
            pulled.pages,
            pulled.cursor
        );
        pulled.changes.len()
    } else {
        let bar = progress(None, "pulling");
        let client = client(global, config, &bar)?.with_own_changes(args.include_own);
        let page = client
            .pull(&args.app, &args.collection, &since)
            .map_err(fail)?;
        for change in &page.server_changes {
            output::json(&change)?;
        }
        if page.has_more {
            eprintln!(
                "{} changes; more after this page: use --all, or --since {}",
                page.server_changes.len(),
                page.synced_until
            );
        } else {
            eprintln!(
                "{} changes; resume with --since {}",
                page.server_changes.len(),
                page.synced_until
            );
        }
        page.server_changes.len()
    };
    if printed == 0 && !args.include_own {
        eprintln!("{OWN_HIDDEN}");
    }
    Ok(())
}

/// The hint after an empty answer.
pub const OWN_HIDDEN: &str = "hint: the server leaves out the changes pushed with this client id \
     (--client-id, MANA_CLIENT_ID); --include-own reads them too";
