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
        Command::Push(args) => commands::push::run(&global.merged(&args.connection), args),
        Command::Pull(args) => commands::pull::run(&global.merged(&args.connection), args),
        Command::Records(args) => commands::records::run(&global.merged(&args.connection), args),
        Command::Watch(args) => commands::watch::run(&global.merged(&args.connection), args),
        Command::Sync(args) => commands::sync::run(&global.merged(&args.connection), args),
        Command::Local(args) => commands::local::run(args),
        Command::Key(args) => commands::key::run(&global.merged(&args.connection), args),
        Command::DevToken(args) => commands::serve::dev_token(args),
        Command::Encrypt(args) => commands::crypt::encrypt(args),
        Command::Decrypt(args) => commands::crypt::decrypt(args),
        Command::Mcp(args) => commands::mcp::run(global, args),
        Command::Completions { shell } => {
            // Written whole into memory first: `generate` panics on a write
            // error, and a reader that goes away (`| head -1`) is not one.
            let mut script = Vec::new();
            clap_complete::generate(*shell, &mut Cli::command(), "mana-sync", &mut script);
            output::bytes(&script)
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
