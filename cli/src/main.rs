//! `mana-sync`: the mana-sync command.
//!
//! Talks to a mana-sync server from the shell (`push`, `pull`, `records`,
//! `key`), encrypts and decrypts single values in the browser's `enc:1:`
//! format, and runs the in-memory server for local development (`serve`,
//! `demo`). See `mana-sync --help`.

mod args;
mod commands;
mod connect;
mod failure;
mod input;
mod output;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use args::{Cli, Command};
use failure::Failure;

fn run(cli: Cli) -> Result<(), Failure> {
    let global = &cli.global;
    match &cli.command {
        Command::Serve(args) => commands::serve::run(args),
        Command::Demo => commands::demo::run(),
        Command::Push(args) => commands::push::run(global, args),
        Command::Pull(args) => commands::pull::run(global, args),
        Command::Records(args) => commands::records::run(global, args),
        Command::Watch(args) => commands::watch::run(global, args),
        Command::Key(args) => commands::key::run(global, args),
        Command::Encrypt(args) => commands::crypt::encrypt(args),
        Command::Decrypt(args) => commands::crypt::decrypt(args),
        Command::Mcp(args) => commands::mcp::run(global, args),
        Command::Completions { shell } => {
            let mut command = Cli::command();
            clap_complete::generate(*shell, &mut command, "mana-sync", &mut std::io::stdout());
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) if failure.code == 0 => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("mana-sync: error: {}", failure.line());
            ExitCode::from(failure.code)
        }
    }
}
