//! `serve`: the in-memory server on a socket, for local development.

use std::io::ErrorKind;
use std::sync::mpsc;

use base64::Engine;
use mana_sync_core::crypto::{MasterKey, OsRng};
use mana_sync_core::retry::RngCore;
use mana_sync_core::SystemClock;
use mana_sync_testkit::{token_for, Cors, LoopbackServer, MemoryServer, Vault};

use crate::args::{DevTokenArgs, ServeArgs};
use crate::failure::{Failure, SERVER};
use crate::output;

/// The line `serve` prints first; what follows it is the base URL.
pub const LISTENING: &str = "mana-sync (in memory) listening on ";

/// Runs `serve` until Ctrl-C (or SIGTERM).
pub fn run(args: &ServeArgs) -> Result<(), Failure> {
    let cors = if args.allow_origins.is_empty() {
        Cors::any()
    } else {
        Cors::origins(args.allow_origins.iter().cloned())
    };
    let mut server = MemoryServer::with_clock(SystemClock)
        .with_cors(cors)
        .keep_requests(0);
    if !args.no_mint {
        server = server.mint_vaults(mint);
    }
    for (user, key) in &args.vault_keys {
        server.set_vault(user, Vault::Standard(key.clone()));
    }
    for user in &args.inactive {
        server.set_sync_active(user, false);
    }
    if let Some(path) = &args.data {
        let (opened, report) = server.with_data_file(path).map_err(|e| {
            if e.kind() == ErrorKind::InvalidData {
                Failure::new(
                    SERVER,
                    format!("{e}; move the file aside to start afresh, or repair that line"),
                )
            } else {
                Failure::usage(format!("cannot open the data file: {e}; check --data"))
            }
        })?;
        if let Some(warning) = &report.warning {
            eprintln!("mana-sync: warning: {warning}");
        }
        eprintln!(
            "mana-sync: {} stored changes read back from {}",
            report.restored,
            path.display()
        );
        server = opened;
    }
    let (stop, stopped) = mpsc::channel();
    ctrlc::set_handler(move || {
        let _ = stop.send(());
    })
    .map_err(|e| Failure::new(SERVER, format!("cannot watch for Ctrl-C: {e}")))?;
    let running = LoopbackServer::start_on(server, args.addr).map_err(|e| {
        Failure::new(
            SERVER,
            format!(
                "cannot listen on {}: {e}; pick another --addr (port 0 picks a free one)",
                args.addr
            ),
        )
    })?;
    let url = running.base_url();
    output::line(&format!("{LISTENING}{url}"))?;
    eprintln!(
        "mana-sync: a development server: any JWT with a `sub` claim is accepted (signatures \
         are not checked); the vault and the spaces list (one personal space per user) are at the \
         same URL; Ctrl-C stops. To get going:\n  \
         export MANA_SYNC_URL={url} MANA_AUTH_URL={url} \
         MANA_TOKEN=$(mana-sync dev-token --user me)"
    );
    let _ = stopped.recv();
    drop(running);
    eprintln!("mana-sync: stopped");
    Ok(())
}

/// A random key for a user the vault holds nothing for, printed on stderr
/// for the developer (this is the development server; a real vault's key
/// is made by the user's browser and never printed).
fn mint(user: &str) -> Option<MasterKey> {
    let mut bytes = [0u8; 32];
    OsRng.try_fill_bytes(&mut bytes).ok()?;
    let key = MasterKey::from_bytes(&bytes).ok();
    if key.is_some() {
        eprintln!(
            "mana-sync: minted a vault key for user {user:?} (dev server only; not kept across \
             restarts, give it back with --vault-key {user}={})",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        );
    }
    bytes.fill(0);
    key
}

/// Runs `dev-token`: a token `serve` accepts, on stdout.
pub fn dev_token(args: &DevTokenArgs) -> Result<(), Failure> {
    if args.user.trim().is_empty() {
        return Err(Failure::usage("--user: name a user"));
    }
    eprintln!(
        "mana-sync: a token for the development server (`mana-sync serve`) only: it is not \
         signed, and a real server refuses it"
    );
    output::line(&token_for(&args.user))
}
