//! The command line, as clap reads it.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use clap_complete::Shell;
use mana_sync_core::crypto::{Iv, MasterKey};

/// The client id `--client-id` gives when not set. (`mcp` and `sync` keep
/// an id of their own instead: one per installation, one per database.)
pub const DEFAULT_CLIENT_ID: &str = "mana-sync-cli";

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

/// Where to connect, given before the subcommand (`mana-sync --url U pull
/// ...`), with the environment and the defaults; the same options given
/// after a subcommand that talks to a server ([`Connection`]) win.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Connection (for push, pull, records, watch, sync, key)")]
pub struct Global {
    /// The sync service's base URL.
    #[arg(long, env = "MANA_SYNC_URL", default_value = "http://localhost:3050")]
    pub url: String,
    /// The auth service's base URL (for the vault key).
    #[arg(long, env = "MANA_AUTH_URL")]
    pub auth_url: Option<String>,
    /// The user's JWT. Never printed.
    #[arg(long, env = "MANA_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// The client id sent as `X-Client-Id`.
    #[arg(long, env = "MANA_CLIENT_ID", default_value = DEFAULT_CLIENT_ID)]
    pub client_id: String,
    /// Longest time for one exchange with the server, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub timeout: u64,
    /// How long a request that fails transiently (network, 5xx, 429) is
    /// tried again after its first failure, in seconds; 0: once only.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub retry_for: u64,
}

impl Global {
    /// These options with the ones a subcommand was given put over them.
    pub fn merged(&self, given: &Connection) -> Global {
        Global {
            url: given.url.clone().unwrap_or_else(|| self.url.clone()),
            auth_url: given.auth_url.clone().or_else(|| self.auth_url.clone()),
            token: given.token.clone().or_else(|| self.token.clone()),
            client_id: given
                .client_id
                .clone()
                .unwrap_or_else(|| self.client_id.clone()),
            timeout: given.timeout.unwrap_or(self.timeout),
            retry_for: given.retry_for.unwrap_or(self.retry_for),
        }
    }
}

/// The connection options of a subcommand that talks to a server (the same
/// as before the subcommand; given here, they win).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Connection")]
pub struct Connection {
    /// The sync service's base URL [env: MANA_SYNC_URL] [default:
    /// http://localhost:3050].
    #[arg(long)]
    pub url: Option<String>,
    /// The auth service's base URL, for the vault key [env: MANA_AUTH_URL].
    #[arg(long)]
    pub auth_url: Option<String>,
    /// The user's JWT [env: MANA_TOKEN]. Never printed. For `mana-sync
    /// serve`: `mana-sync dev-token --user <USER>`.
    #[arg(long)]
    pub token: Option<String>,
    /// The client id sent as `X-Client-Id` [env: MANA_CLIENT_ID] [default:
    /// mana-sync-cli].
    #[arg(long)]
    pub client_id: Option<String>,
    /// Longest time for one exchange with the server, in seconds [default:
    /// 60].
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<u64>,
    /// How long a request that fails transiently is tried again, in
    /// seconds; 0: once only [default: 30].
    #[arg(long, value_name = "SECONDS")]
    pub retry_for: Option<u64>,
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
    /// Keep a local SQLite database in sync (the offline engine): catch
    /// up, push what is pending, then follow the live stream, printing the
    /// status as JSON lines (`--once`: catch up, push, print, exit).
    Sync(SyncArgs),
    /// Read a database that `sync` keeps, offline: its records, pending
    /// writes, dead letters or conflicts, as JSON.
    Local(LocalArgs),
    /// Ask the vault whether a master key is available for the user.
    Key(KeyArgs),
    /// Print a token that `mana-sync serve` accepts for a user (DEV SERVER
    /// ONLY: it is not signed; a real server refuses it).
    DevToken(DevTokenArgs),
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
    /// The vault key of a user (repeatable): `USER=KEY`, the key 32 bytes in
    /// standard base64. A user without one gets a random key on first
    /// asking, printed on stderr (see `--no-mint`).
    #[arg(long = "vault-key", value_name = "USER=KEY", value_parser = user_key)]
    pub vault_keys: Vec<(String, MasterKey)>,
    /// Mint no keys: a user without `--vault-key` has no vault (404
    /// `VAULT_NOT_INITIALISED`, as for a user who never opened it).
    #[arg(long)]
    pub no_mint: bool,
    /// A user whose sync subscription is off (repeatable): their pushes,
    /// pulls and streams are answered 402 `sync_inactive`.
    #[arg(long = "inactive", value_name = "USER")]
    pub inactive: Vec<String>,
}

/// `USER=KEY` of `--vault-key`.
fn user_key(text: &str) -> Result<(String, MasterKey), String> {
    let (user, key) = text
        .split_once('=')
        .filter(|(user, _)| !user.is_empty())
        .ok_or("give USER=KEY (the key 32 bytes in standard base64)")?;
    let key = MasterKey::from_base64(key.trim()).map_err(|e| format!("the key of {user}: {e}"))?;
    Ok((user.to_owned(), key))
}

/// `dev-token`.
#[derive(Debug, Args)]
pub struct DevTokenArgs {
    /// The user the token speaks for (its `sub` claim).
    #[arg(long)]
    pub user: String,
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
    /// Where to connect.
    #[command(flatten)]
    pub connection: Connection,
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
    /// Where to connect.
    #[command(flatten)]
    pub connection: Connection,
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
    /// Include the changes pushed with this client id (the server leaves
    /// them out by default, so a `push` then a `pull` with the same client
    /// id prints none of them).
    #[arg(long)]
    pub include_own: bool,
}

/// `watch`.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Where to connect.
    #[command(flatten)]
    pub connection: Connection,
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
    /// Include the changes pushed with this client id (left out by
    /// default, as `pull` does).
    #[arg(long)]
    pub include_own: bool,
    /// Give up after this many failed connections in a row (default: keep
    /// reconnecting).
    #[arg(long, value_name = "N")]
    pub max_reconnects: Option<u32>,
}

/// `sync`.
#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Where to connect.
    #[command(flatten)]
    pub connection: Connection,
    /// The database file (created if missing). One process syncs a file at
    /// a time; its client id is kept in it.
    #[arg(long, value_name = "FILE")]
    pub db: PathBuf,
    /// The app id.
    #[arg(long)]
    pub app: String,
    /// The collections (tables) to keep, comma-separated.
    #[arg(long, value_delimiter = ',', required = true)]
    pub collections: Vec<String>,
    /// Catch up and push what is pending, print the status, and exit (gives
    /// up after --retry-for seconds of failures).
    #[arg(long)]
    pub once: bool,
    /// Sync each commit to disk with `synchronous=NORMAL` instead of
    /// `FULL`: faster, and a power cut may lose the last writes (a crash of
    /// the process loses none).
    #[arg(long)]
    pub relaxed: bool,
}

/// `local`.
#[derive(Debug, Args)]
pub struct LocalArgs {
    /// The database file `sync` keeps (it must exist; it is not written).
    #[arg(long, value_name = "FILE")]
    pub db: PathBuf,
    /// What to print.
    #[command(subcommand)]
    pub what: LocalCommand,
}

/// What `local` prints.
#[derive(Debug, Subcommand)]
pub enum LocalCommand {
    /// The live records of one table, folded, as a JSON array.
    Records(LocalRecordsArgs),
    /// The writes not yet acknowledged by the server, oldest first.
    Pending,
    /// The changes the server refused for good, with its reason.
    DeadLetters,
    /// Local values that lost to later values from the server.
    Conflicts,
}

/// `local records`.
#[derive(Debug, Args)]
pub struct LocalRecordsArgs {
    /// The table.
    #[arg(long)]
    pub table: String,
    /// Decrypt these fields (comma-separated), with `--key-b64`.
    #[arg(long, value_delimiter = ',', value_name = "FIELD,...")]
    pub decrypt: Vec<String>,
    /// The key.
    #[command(flatten)]
    pub key: KeyArg,
    /// Include soft-deleted records.
    #[arg(long)]
    pub include_deleted: bool,
}

/// A master key given on the command line or in the environment.
#[derive(Debug, Args)]
pub struct KeyArg {
    /// The 32-byte master key, base64. Never printed.
    #[arg(long, env = "MANA_KEY_B64", hide_env_values = true)]
    pub key_b64: Option<String>,
}

/// `records`: it always reads this client's own changes too (the records
/// are what every device wrote).
#[derive(Debug, Args)]
pub struct RecordsArgs {
    /// Where to connect.
    #[command(flatten)]
    pub connection: Connection,
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
    /// Where to connect.
    #[command(flatten)]
    pub connection: Connection,
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
    #[arg(long, value_name = "IV", value_parser = iv)]
    pub iv_b64: Option<Iv>,
    /// The JSON value (default: read from stdin); a negative number is a
    /// value, not an option.
    #[arg(allow_negative_numbers = true)]
    pub json: Option<String>,
}

/// An IV given as `--iv-b64`.
fn iv(text: &str) -> Result<Iv, String> {
    Iv::from_base64(text.trim()).map_err(|e| format!("{e} (give 12 bytes in standard base64)"))
}

/// `decrypt`.
#[derive(Debug, Args)]
pub struct DecryptArgs {
    /// The key.
    #[command(flatten)]
    pub key: KeyArg,
    /// The `enc:1:` string (default: read from stdin); any other text is
    /// printed back as a JSON string, as the library and the browser pass
    /// such values through.
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
