//! The client the network subcommands use: the blocking client over ureq,
//! with a transport that ticks a progress bar per exchange.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use mana_sync_core::{
    BlockingClient, BlockingTransport, Config, RetryPolicy, TransportError, TransportOptions,
};
use mana_sync_ureq::UreqTransport;

use crate::args::Global;
use crate::failure::Failure;

/// A transport that counts exchanges on a progress bar.
#[derive(Clone)]
pub struct Ticking<T> {
    inner: T,
    bar: ProgressBar,
}

impl<T: BlockingTransport> BlockingTransport for Ticking<T> {
    type Body = T::Body;

    fn open(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<T::Body>, TransportError> {
        self.inner.open(request)
    }

    fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        let response = self.inner.send(request);
        self.bar.inc(1);
        response
    }

    fn sleep(&self, duration: Duration) {
        self.inner.sleep(duration);
    }
}

/// The client type of every network subcommand.
pub type Client = BlockingClient<Ticking<UreqTransport>>;

/// A progress bar on stderr, drawn only when stderr is a terminal.
/// `len`: the number of exchanges when known (a bar), else a counter.
pub fn progress(len: Option<u64>, what: &str) -> ProgressBar {
    let target = if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let (bar, template) = match len {
        Some(n) => (
            ProgressBar::with_draw_target(Some(n), target),
            "{msg} [{bar:30}] {pos}/{len} requests",
        ),
        None => (
            ProgressBar::with_draw_target(None, target),
            "{spinner} {msg}: {pos} pages",
        ),
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar.set_message(what.to_owned());
    bar
}

/// The config from the global options; `need_auth`: the vault is asked.
pub fn config(global: &Global, need_auth: bool) -> Result<Config, Failure> {
    let token = global
        .token
        .as_deref()
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| {
            Failure::usage("no token: give --token or set MANA_TOKEN to the user's JWT")
        })?;
    let url = global.url.as_str();
    let config = Config::new(url, token.trim(), &global.client_id)
        .map_err(|e| Failure::usage(format!("{e} (--url, --client-id)")))?;
    if !need_auth {
        return Ok(config);
    }
    let auth = global.auth_url.as_deref().ok_or_else(|| {
        Failure::usage(
            "the vault key comes from the auth service: give --auth-url or set MANA_AUTH_URL",
        )
    })?;
    config
        .with_auth_url(auth)
        .map_err(|e| Failure::usage(format!("{e} (--auth-url)")))
}

/// The transport of the global options (`--timeout`).
pub fn transport(global: &Global) -> Result<UreqTransport, Failure> {
    if global.timeout == 0 {
        return Err(Failure::usage("--timeout must be at least 1 second"));
    }
    let total = Duration::from_secs(global.timeout);
    let options = TransportOptions::default()
        .total_timeout(total)
        .connect_timeout(total.min(Duration::from_secs(10)));
    Ok(UreqTransport::new(options))
}

/// A client for `config`, ticking `bar`.
pub fn client(global: &Global, config: Config, bar: &ProgressBar) -> Result<Client, Failure> {
    let transport = Ticking {
        inner: transport(global)?,
        bar: bar.clone(),
    };
    let retry = match global.retry_for {
        0 => RetryPolicy::none(),
        secs => RetryPolicy::default().budget_of(Some(Duration::from_secs(secs))),
    };
    Ok(BlockingClient::new(config, transport).with_retry(retry))
}
