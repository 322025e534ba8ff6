//! # mana-sync-hyper
//!
//! The async transport of the mana-sync client: [hyper] 1 through
//! hyper-util's pooled client (HTTP/1.1 and HTTP/2, connections reused),
//! rustls (ring, webpki roots), on tokio. It sends what the core builds and
//! returns every response, whatever its status, with its whole body up to a
//! cap; timeouts and the cap come from [`TransportOptions`]. It has no
//! protocol logic.
//!
//! It needs a tokio runtime with the time and IO drivers enabled (the
//! default with `#[tokio::main]`). The client's futures are `Send`.
//!
//! ```no_run
//! use mana_sync_hyper::{Config, Cursor};
//!
//! # async fn run() -> Result<(), mana_sync_hyper::Error> {
//! let client = mana_sync_hyper::client(Config::new("https://sync.example.com", "<jwt>", "my-agent")?)?;
//! let all = client.pull_all("todo", "tasks", &Cursor::EPOCH).await?;
//! println!("{} changes, resume from {}", all.changes.len(), all.cursor);
//! # Ok(())
//! # }
//! ```

mod transport;

pub use mana_sync_core as core;
pub use mana_sync_core::{
    ops, wire, AsyncClient, Change, Config, Cursor, Error, FieldChange, Op, Origin, Stamp,
    SyncResponse, Timestamp, Token, TransportError, TransportOptions,
};
pub use transport::HyperTransport;

/// An async client over hyper.
pub type Client = AsyncClient<HyperTransport>;

/// An async client with the default [`TransportOptions`] (connect 10 s,
/// total 60 s, responses up to 64 MiB).
pub fn client(config: Config) -> Result<Client, Error> {
    client_with(config, TransportOptions::default())
}

/// An async client with the given options.
pub fn client_with(config: Config, options: TransportOptions) -> Result<Client, Error> {
    Ok(AsyncClient::new(config, HyperTransport::new(options)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>(_: &T) {}

    #[test]
    fn client_futures_are_send() {
        let config = Config::new("http://127.0.0.1:9", "t", "c").unwrap_or_else(|e| panic!("{e}"));
        let client = client(config).unwrap_or_else(|e| panic!("{e}"));
        let changes: Vec<Change> = Vec::new();
        assert_send(&client.push("todo", &changes, &Cursor::EPOCH));
        assert_send(&client.pull("todo", "tasks", &Cursor::EPOCH));
        assert_send(&client.pull_all("todo", "tasks", &Cursor::EPOCH));
        assert_send(&client.health());
    }
}
