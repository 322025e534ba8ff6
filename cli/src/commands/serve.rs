//! `serve`: the in-memory server on a socket, for local development.

use std::io::ErrorKind;
use std::sync::mpsc;

use mana_sync_core::SystemClock;
use mana_sync_testkit::{Cors, LoopbackServer, MemoryServer};

use crate::args::ServeArgs;
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
    let mut server = MemoryServer::with_clock(SystemClock).with_cors(cors);
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
    output::line(&format!("{LISTENING}{}", running.base_url()))?;
    eprintln!(
        "mana-sync: any JWT with a `sub` claim is accepted (signatures are not checked); \
         Ctrl-C stops"
    );
    let _ = stopped.recv();
    drop(running);
    eprintln!("mana-sync: stopped");
    Ok(())
}
