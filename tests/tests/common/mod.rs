//! What the scenario tests share: one API over both facades, and the four
//! ways to reach a server (in process or over loopback, blocking or async).

#![allow(dead_code, clippy::unwrap_used)]

use std::sync::Arc;

use mana_sync_core::crypto::MasterKey;
use mana_sync_core::fold::{FoldReport, Record, Replica};
use mana_sync_core::ops::{PullAllOutcome, PushOutcome};
use mana_sync_core::{
    AsyncClient, AsyncTransport, BlockingClient, BlockingTransport, Change, Config, Cursor, Error,
    Health, SyncResponse, Timestamp,
};
use mana_sync_core::{Listing, Patch, TableSpec};
use mana_sync_testkit::{token_for, InProcess, LoopbackServer, ManualClock, MemoryServer};
use serde_json::{Map, Value};

/// The path prefix every scenario's server is mounted under.
pub const PREFIX: &str = "/mana";

/// The client calls, the same over both facades.
pub trait Api {
    fn push(&self, app: &str, changes: &[Change], since: &Cursor) -> Result<PushOutcome, Error>;
    fn push_insert(
        &self,
        app: &str,
        table: &str,
        id: &str,
        data: Map<String, Value>,
    ) -> Result<PushOutcome, Error>;
    fn pull(&self, app: &str, collection: &str, since: &Cursor) -> Result<SyncResponse, Error>;
    fn pull_all(
        &self,
        app: &str,
        collection: &str,
        since: &Cursor,
    ) -> Result<PullAllOutcome, Error>;
    fn health(&self) -> Result<Health, Error>;
    fn master_key(&self) -> Result<MasterKey, Error>;
    fn describe(&self) -> String;
    fn pull_into(
        &self,
        app: &str,
        collection: &str,
        replica: &mut Replica,
    ) -> Result<FoldReport, Error>;
    fn records(
        &self,
        app: &str,
        collection: &str,
        include_deleted: bool,
    ) -> Result<Vec<Record>, Error>;
    fn create(
        &self,
        t: &Table,
        id: &str,
        value: &Value,
        key: Option<&MasterKey>,
    ) -> Result<PushOutcome, Error>;
    fn update(
        &self,
        t: &Table,
        id: &str,
        fields: Patch<Value>,
        key: Option<&MasterKey>,
    ) -> Result<PushOutcome, Error>;
    fn delete(&self, t: &Table, id: &str) -> Result<PushOutcome, Error>;
    fn list(&self, t: &Table, key: Option<&MasterKey>) -> Result<Listing<Value>, Error>;
    fn get(&self, t: &Table, id: &str, key: Option<&MasterKey>) -> Result<Option<Value>, Error>;
}

/// A typed table whose record type is plain JSON (the dyn-friendly form).
pub type Table = TableSpec<Value>;

/// The same calls for both facades; `$wrap` runs each on the runtime or not.
macro_rules! client_calls {
    ($client:expr, $wrap:path) => {
        fn push(
            &self,
            app: &str,
            changes: &[Change],
            since: &Cursor,
        ) -> Result<PushOutcome, Error> {
            $wrap(self, $client(self).push(app, changes, since))
        }
        fn push_insert(
            &self,
            app: &str,
            table: &str,
            id: &str,
            data: Map<String, Value>,
        ) -> Result<PushOutcome, Error> {
            $wrap(self, $client(self).push_insert(app, table, id, data))
        }
        fn pull(&self, app: &str, collection: &str, since: &Cursor) -> Result<SyncResponse, Error> {
            $wrap(self, $client(self).pull(app, collection, since))
        }
        fn pull_all(
            &self,
            app: &str,
            collection: &str,
            since: &Cursor,
        ) -> Result<PullAllOutcome, Error> {
            $wrap(self, $client(self).pull_all(app, collection, since))
        }
        fn health(&self) -> Result<Health, Error> {
            $wrap(self, $client(self).health())
        }
        fn master_key(&self) -> Result<MasterKey, Error> {
            $wrap(self, $client(self).master_key())
        }
        fn pull_into(
            &self,
            app: &str,
            collection: &str,
            replica: &mut Replica,
        ) -> Result<FoldReport, Error> {
            $wrap(self, $client(self).pull_into(app, collection, replica))
        }
        fn records(
            &self,
            app: &str,
            collection: &str,
            include_deleted: bool,
        ) -> Result<Vec<Record>, Error> {
            $wrap(
                self,
                $client(self).records(app, collection, include_deleted),
            )
        }
        fn create(
            &self,
            t: &Table,
            id: &str,
            value: &Value,
            key: Option<&MasterKey>,
        ) -> Result<PushOutcome, Error> {
            $wrap(self, $client(self).create(t, id, value, key))
        }
        fn update(
            &self,
            t: &Table,
            id: &str,
            fields: Patch<Value>,
            key: Option<&MasterKey>,
        ) -> Result<PushOutcome, Error> {
            $wrap(self, $client(self).update(t, id, fields, key))
        }
        fn delete(&self, t: &Table, id: &str) -> Result<PushOutcome, Error> {
            $wrap(self, $client(self).delete(t, id))
        }
        fn list(&self, t: &Table, key: Option<&MasterKey>) -> Result<Listing<Value>, Error> {
            $wrap(self, $client(self).list(t, key))
        }
        fn get(
            &self,
            t: &Table,
            id: &str,
            key: Option<&MasterKey>,
        ) -> Result<Option<Value>, Error> {
            $wrap(self, $client(self).get(t, id, key))
        }
    };
}

fn direct<T, C>(_: &C, result: T) -> T {
    result
}

fn on_runtime<T, F: std::future::Future<Output = T>, X>(this: &BlockOn<X>, future: F) -> T {
    this.rt.block_on(future)
}

fn itself<T>(client: &T) -> &T {
    client
}

fn inner<T>(this: &BlockOn<T>) -> &AsyncClient<T> {
    &this.client
}

impl<T: BlockingTransport> Api for BlockingClient<T> {
    fn describe(&self) -> String {
        format!("{self:?}")
    }
    client_calls!(itself, direct);
}

/// An async client driven to completion on a runtime.
pub struct BlockOn<T> {
    rt: Arc<tokio::runtime::Runtime>,
    client: AsyncClient<T>,
}

impl<T: AsyncTransport> Api for BlockOn<T> {
    fn describe(&self) -> String {
        format!("{:?}", self.client)
    }
    client_calls!(inner, on_runtime);
}

/// How a scenario reaches the server.
#[derive(Clone, Copy, Debug)]
pub enum Via {
    InProcessBlocking,
    InProcessAsync,
    UreqLoopback,
    HyperLoopback,
}

/// A server, and clients of it reached one way.
pub struct Setup {
    pub via: Via,
    pub server: Arc<MemoryServer>,
    pub clock: ManualClock,
    net: InProcess,
    loopback: Option<LoopbackServer>,
    rt: Arc<tokio::runtime::Runtime>,
}

/// The instant the server's clock reads.
pub fn start() -> Timestamp {
    mana_sync_testkit::start_time()
}

impl Setup {
    pub fn new(via: Via) -> Setup {
        let clock = ManualClock::new(start());
        let server = Arc::new(MemoryServer::with_clock(clock.clone()).with_prefix(PREFIX));
        let net = InProcess::new(server.clone(), clock.clone());
        let loopback = match via {
            Via::UreqLoopback | Via::HyperLoopback => Some(
                LoopbackServer::start(server.clone())
                    .unwrap()
                    .with_prefix(PREFIX),
            ),
            _ => None,
        };
        let rt = Arc::new(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap(),
        );
        Setup {
            via,
            server,
            clock,
            net,
            loopback,
            rt,
        }
    }

    /// The base URL a user would configure: with the prefix and a trailing
    /// slash.
    pub fn base_url(&self) -> String {
        match &self.loopback {
            Some(l) => format!("{}/", l.base_url()),
            None => format!("http://mana-sync.test{PREFIX}/"),
        }
    }

    /// A client of `user` with this client id.
    pub fn client(&self, user: &str, client_id: &str) -> Box<dyn Api> {
        self.client_with_token(&token_for(user), client_id)
    }

    pub fn client_with_token(&self, token: &str, client_id: &str) -> Box<dyn Api> {
        let config = Config::new(&self.base_url(), token, client_id)
            .and_then(|c| c.with_auth_url(&self.base_url()))
            .unwrap();
        let clock = self.clock.clone();
        match self.via {
            Via::InProcessBlocking => Box::new(self.net.blocking_client(config)),
            Via::InProcessAsync => Box::new(BlockOn {
                rt: self.rt.clone(),
                client: self.net.async_client(config),
            }),
            Via::UreqLoopback => {
                Box::new(mana_sync_ureq::client(config).unwrap().with_clock(clock))
            }
            Via::HyperLoopback => {
                let _guard = self.rt.enter();
                Box::new(BlockOn {
                    rt: self.rt.clone(),
                    client: mana_sync_hyper::client(config).unwrap().with_clock(clock),
                })
            }
        }
    }

    /// TCP connections accepted, over loopback.
    pub fn connections(&self) -> Option<usize> {
        self.loopback
            .as_ref()
            .map(LoopbackServer::connections_accepted)
    }
}

/// `{"n": i, "title": "row i"}` as a push-body insert.
pub fn seed_insert(table: &str, i: usize) -> Value {
    serde_json::json!({"table": table, "id": format!("r-{i:04}"), "op": "insert", "data": {"n": i, "title": format!("row {i}")}})
}

/// Runs each scenario four ways: in process (blocking, async) and over
/// loopback (ureq, hyper).
#[macro_export]
macro_rules! four_ways {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            use super::*;
            #[test] fn in_process_blocking() { super::$scenario(&Setup::new(Via::InProcessBlocking)) }
            #[test] fn in_process_async() { super::$scenario(&Setup::new(Via::InProcessAsync)) }
            #[test] fn ureq_loopback() { super::$scenario(&Setup::new(Via::UreqLoopback)) }
            #[test] fn hyper_loopback() { super::$scenario(&Setup::new(Via::HyperLoopback)) }
        }
    )*};
}
