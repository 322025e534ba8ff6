//! [`BlockingClient`]: the blocking facade.

use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::ops::{PullAllOutcome, PushOutcome};
use crate::{
    BlockingTransport, Change, Clock, Config, Cursor, Error, Health, Operation, Step, SyncResponse,
    SystemClock,
};

/// A blocking mana-sync client over any [`BlockingTransport`].
///
/// Network users get one from `mana_sync_ureq::client(config)`; tests get one
/// from `mana_sync_testkit` with an in-process transport and a fixed clock.
#[derive(Clone)]
pub struct BlockingClient<T> {
    config: Config,
    transport: T,
    clock: Arc<dyn Clock>,
}

impl<T: BlockingTransport> BlockingClient<T> {
    /// A client using the system clock.
    pub fn new(config: Config, transport: T) -> Self {
        BlockingClient {
            config,
            transport,
            clock: Arc::new(SystemClock),
        }
    }

    /// Replaces the clock (a fixed one, in tests).
    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The config.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The config, to change (e.g. [`Config::set_token`]).
    pub fn config_mut(&mut self) -> &mut Config {
        &mut self.config
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// Drives `op` to its end: sends what it asks, waits when it says so.
    pub fn run<O: Operation>(&self, mut op: O) -> Result<O::Output, Error> {
        loop {
            match op.step(self.clock.now()) {
                Step::Send(request) => {
                    let response = self.transport.send(request);
                    op.on_response(self.clock.now(), response);
                }
                Step::Wait(d) => self.transport.sleep(d),
                Step::Done(result) => return result,
            }
        }
    }

    /// Pushes `changes` to app `app_id`, asking for other clients' changes
    /// made after `since` (see [`crate::ops::Push`]).
    pub fn push(
        &self,
        app_id: &str,
        changes: &[Change],
        since: &Cursor,
    ) -> Result<PushOutcome, Error> {
        self.run(super::push(&self.config, app_id, changes, since)?)
    }

    /// Inserts one record; asks for others' changes from now on only.
    pub fn push_insert(
        &self,
        app_id: &str,
        table: &str,
        id: &str,
        data: Map<String, Value>,
    ) -> Result<PushOutcome, Error> {
        self.run(super::push_insert(
            &self.config,
            app_id,
            table,
            id,
            data,
            self.clock.now(),
        )?)
    }

    /// One page of `collection` after `since`.
    pub fn pull(
        &self,
        app_id: &str,
        collection: &str,
        since: &Cursor,
    ) -> Result<SyncResponse, Error> {
        self.run(super::pull(&self.config, app_id, collection, since)?)
    }

    /// All of `collection` after `since`, following `hasMore`.
    pub fn pull_all(
        &self,
        app_id: &str,
        collection: &str,
        since: &Cursor,
    ) -> Result<PullAllOutcome, Error> {
        self.run(super::pull_all(&self.config, app_id, collection, since)?)
    }

    /// The service's health.
    pub fn health(&self) -> Result<Health, Error> {
        self.run(super::health(&self.config)?)
    }
}

impl<T> fmt::Debug for BlockingClient<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockingClient")
            .field("config", &self.config)
            .field("transport", &std::any::type_name::<T>())
            .finish()
    }
}
