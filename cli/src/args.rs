//! The command line, as clap reads it.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use clap_complete::Shell;

/// What the exit codes mean (shown at the end of `--help`).
const EXIT_CODES: &str = "\
Exit codes: 0 ok; 2 usage (bad arguments, unreadable file, missing option); \
3 unauthorized or payment required; 4 bad request (the server's 400, or input \
that cannot be sent); 5 server or transport error; 6 crypto error (wrong key, \
tampered value, no key available, zero-knowledge user).";

/// `mana-sync`: talk to a mana-sync server from the shell, or run one locally.
#[derive(Debug, Parser)]
#[command(name = "mana-sync", version, about, after_help = EXIT_CODES)]
pub struct Cli {
    /// Where to connect.
    #[command(flatten)]
    pub global: Global,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand takes.
#[derive(Debug, Args)]
pub struct Global {
    /// The sync service's base URL.
    #[arg(
        long,
        env = "MANA_SYNC_URL",
        default_value = "http://localhost:3050",
        global = true
    )]
    pub url: String,
    /// The auth service's base URL (for the vault key).
    #[arg(long, env = "MANA_AUTH_URL", global = true)]
    pub auth_url: Option<String>,
    /// The user's JWT. Never printed.
    #[arg(long, env = "MANA_TOKEN", hide_env_values = true, global = true)]
    pub token: Option<String>,
    /// The client id sent as `X-Client-Id`.
    #[arg(
        long,
        env = "MANA_CLIENT_ID",
        default_value = "mana-sync-cli",
        global = true
    )]
    pub client_id: String,
    /// Longest time for one exchange with the server, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 60, global = true)]
    pub timeout: u64,

    /// How long a request that fails transiently (network, 5xx, 429) is
    /// tried again after its first failure; 0: once only.
    #[arg(long, value_name = "SECONDS", default_value_t = 30, global = true)]
    pub retry_for: u64,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the in-memory server on a socket, for local development.
    Serve(ServeArgs),
    /// Start a server in-process, push sample tasks (some fields encrypted),
    /// pull them back and print the records.
    Demo,
    /// Push changes (a JSON array or JSON lines, in the wire format).
    Push(PushArgs),
    /// Pull changes of one collection, as JSON lines.
    Pull(PullArgs),
    /// Print the live records of one collection, folded, as a JSON array.
    Records(RecordsArgs),
    /// Follow the live stream of some collections: JSON lines of events
    /// until interrupted; reconnects after a cut with nothing lost.
    Watch(WatchArgs),
    /// Ask the vault whether a master key is available for the user.
    Key(KeyArgs),
    /// Encrypt a JSON value into an `enc:1:` string.
    Encrypt(EncryptArgs),
    /// Decrypt an `enc:1:` string into its JSON value.
    Decrypt(DecryptArgs),
    /// Serve the Mana agent tools (todo, notes, journal, habits, mood,
    /// augur, profile images, spaces) over MCP on stdin/stdout, as the user
    /// of --token.
    Mcp(McpArgs),
    /// Print a shell completion script.
    Completions {
        /// The shell.
        shell: Shell,
    },
}

/// `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on (port 0: a free one).
    #[arg(long, default_value = "127.0.0.1:3050")]
    pub addr: SocketAddr,
    /// Keep the changes in this append-only file, read back on start.
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,
    /// An origin browsers may call from (repeatable; default: any).
    #[arg(long = "allow-origin", value_name = "ORIGIN")]
    pub allow_origins: Vec<String>,
}

/// `mcp`.
#[derive(Debug, Args)]
pub struct McpArgs {
    /// Write to this space (and read only its profile images); default: the
    /// user's personal space.
    #[arg(long, env = "MANA_SPACE_ID")]
    pub space: Option<String>,
    /// Where this installation's client id is kept when --client-id is not
    /// given (default: $XDG_STATE_HOME/mana-sync/mcp-client-id).
    #[arg(long, value_name = "FILE", env = "MANA_CLIENT_ID_FILE")]
    pub client_id_file: Option<PathBuf>,
}

/// `push`.
#[derive(Debug, Args)]
pub struct PushArgs {
    /// The app id.
    #[arg(long)]
    pub app: String,
    /// Ask for other clients' changes after this cursor (default: now).
    #[arg(long, value_name = "T")]
    pub since: Option<String>,
    /// The changes: a file, or `-` (the default) for stdin.
    #[arg(value_name = "FILE|-", default_value = "-")]
    pub input: String,
    /// Send fields the Mana apps keep encrypted even in plaintext (by
    /// default such a push is refused before anything is sent).
    #[arg(long, env = "MANA_ALLOW_PLAINTEXT")]
    pub allow_plaintext: bool,
}

/// `pull`.
#[derive(Debug, Args)]
pub struct PullArgs {
    /// The app id.
    #[arg(long)]
    pub app: String,
    /// The collection (table).
    #[arg(long)]
    pub collection: String,
    /// Changes after this cursor (default: from the start).
    #[arg(long, value_name = "T")]
    pub since: Option<String>,
    /// Follow `hasMore` to the end.
    #[arg(long)]
    pub all: bool,
}

/// `watch`.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// The app id.
    #[arg(long)]
    pub app: String,
    /// The collections (tables), comma-separated.
    #[arg(long, value_delimiter = ',', required = true)]
    pub collections: Vec<String>,
    /// Changes after this cursor (default: from the start).
    #[arg(long, value_name = "T")]
    pub since: Option<String>,
    /// Stop after this many change events (default: never).
    #[arg(long, value_name = "N")]
    pub max_events: Option<u64>,
    /// Give up after this many failed connections in a row (default: keep
    /// reconnecting).
    #[arg(long, value_name = "N")]
    pub max_reconnects: Option<u32>,
}

/// A master key given on the command line or in the environment.
#[derive(Debug, Args)]
pub struct KeyArg {
    /// The 32-byte master key, base64. Never printed.
    #[arg(long, env = "MANA_KEY_B64", hide_env_values = true)]
    pub key_b64: Option<String>,
}

/// `records`.
#[derive(Debug, Args)]
pub struct RecordsArgs {
    /// The app id.
    #[arg(long)]
    pub app: String,
    /// The collection (table).
    #[arg(long)]
    pub collection: String,
    /// Decrypt these fields (comma-separated), with `--key-b64` or else the
    /// vault key.
    #[arg(long, value_delimiter = ',', value_name = "FIELD,...")]
    pub decrypt: Vec<String>,
    /// The key.
    #[command(flatten)]
    pub key: KeyArg,
    /// Include soft-deleted records.
    #[arg(long)]
    pub include_deleted: bool,
}

/// `key`.
#[derive(Debug, Args)]
pub struct KeyArgs {
    /// Print the key (base64) on stdout.
    #[arg(long)]
    pub show: bool,
}

/// `encrypt`.
#[derive(Debug, Args)]
pub struct EncryptArgs {
    /// The key.
    #[command(flatten)]
    pub key: KeyArg,
    /// The 12-byte IV, base64 (default: a random one).
    #[arg(long, value_name = "IV")]
    pub iv_b64: Option<String>,
    /// The JSON value (default: read from stdin).
    pub json: Option<String>,
}

/// `decrypt`.
#[derive(Debug, Args)]
pub struct DecryptArgs {
    /// The key.
    #[command(flatten)]
    pub key: KeyArg,
    /// The `enc:1:` string (default: read from stdin).
    pub blob: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
