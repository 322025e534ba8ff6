//! `push`: changes from a file or stdin, batched as the core does; a field
//! the Mana apps keep encrypted, in plaintext, is refused unless
//! `--allow-plaintext`.

use mana_sync_core::ops::Push;
use mana_sync_core::{Clock, Cursor, SystemClock};
use serde_json::json;

use crate::args::{Global, PushArgs};
use crate::connect::{client, config, progress};
use crate::failure::Failure;
use crate::input::{parse_changes, read_text};
use crate::output;

/// Runs `push`: prints `{"pushed", "requests", "syncedUntil", "truncated",
/// "serverChanges"}`.
pub fn run(global: &Global, args: &PushArgs) -> Result<(), Failure> {
    let changes = parse_changes(&read_text(&args.input)?)?;
    let since =
        super::since(args.since.as_deref())?.unwrap_or_else(|| Cursor::from(SystemClock.now()));
    let config = config(global, false)?;
    // The Mana registry's plaintext guard, on unless --allow-plaintext.
    let config = if args.allow_plaintext {
        config
    } else {
        mana_sync_apps::guarded(config)
    };
    let push = Push::new(&config, &args.app, &changes, &since)
        .map_err(|e| Failure::from_error(&e, &global.url))?;
    let requests = push.request_count();
    let len = u64::try_from(requests).ok().filter(|n| *n > 1);
    let bar = progress(len, "pushing");
    let client = client(global, config, &bar)?;
    let outcome = client.run(push);
    bar.finish_and_clear();
    let outcome = outcome.map_err(|e| Failure::from_error(&e, &global.url))?;
    output::json(&json!({
        "pushed": changes.len(),
        "requests": outcome.requests,
        "syncedUntil": outcome.synced_until.as_str(),
        "truncated": outcome.maybe_truncated,
        "serverChanges": outcome.server_changes.len(),
    }))
}
