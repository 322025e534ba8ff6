//! [`AsyncClient`]: the async facade.

use std::fmt;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};

use super::SharedKeyCache;
use crate::crypto::MasterKey;
use crate::fold::{FoldReport, Record, Replica};
use crate::ops::{self, Pull, PullAll, PullAllOutcome, Push, PushOutcome, VaultKey};
use crate::TableSpec;
use crate::{
    AsyncTransport, Change, Clock, Config, Cursor, Error, Health, KeyCache, Operation, Step,
    SyncResponse, SystemClock,
};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// An async mana-sync client over any [`AsyncTransport`]. Its futures are
/// `Send`.
///
/// Network users get one from `mana_sync_hyper::client(config)`; tests get
/// one from `mana_sync_testkit` with an in-process transport and a fixed
/// clock.
#[derive(Clone)]
pub struct AsyncClient<T> {
    config: Config,
    transport: T,
    clock: Arc<dyn Clock>,
    keys: SharedKeyCache,
}

impl<T: AsyncTransport> AsyncClient<T> {
    /// A client using the system clock.
    pub fn new(config: Config, transport: T) -> Self {
        AsyncClient {
            config,
            transport,
            clock: Arc::new(SystemClock),
            keys: Arc::new(Mutex::new(KeyCache::default())),
        }
    }

    /// Replaces the clock (a fixed one, in tests).
    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Shares a master-key cache (e.g. between the clients of a gateway
    /// serving many users, or to set another time-to-live).
    pub fn with_key_cache(mut self, keys: SharedKeyCache) -> Self {
        self.keys = keys;
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
    pub async fn run<O: Operation>(&self, mut op: O) -> Result<O::Output, Error> {
        loop {
            match op.step(self.clock.now()) {
                Step::Send(request) => {
                    let response = self.transport.send(request).await;
                    op.on_response(self.clock.now(), response);
                }
                Step::Wait(d) => self.transport.sleep(d).await,
                Step::Done(result) => return result,
            }
        }
    }

    /// Pushes `changes` to app `app_id`, asking for other clients' changes
    /// made after `since` (see [`crate::ops::Push`]).
    pub async fn push(
        &self,
        app_id: &str,
        changes: &[Change],
        since: &Cursor,
    ) -> Result<PushOutcome, Error> {
        self.run(Push::new(&self.config, app_id, changes, since)?)
            .await
    }

    /// Inserts one record; asks for others' changes from now on only.
    pub async fn push_insert(
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
        .await
    }

    /// One page of `collection` after `since`.
    pub async fn pull(
        &self,
        app_id: &str,
        collection: &str,
        since: &Cursor,
    ) -> Result<SyncResponse, Error> {
        self.run(Pull::new(&self.config, app_id, collection, since)?)
            .await
    }

    /// All of `collection` after `since`, following `hasMore`.
    pub async fn pull_all(
        &self,
        app_id: &str,
        collection: &str,
        since: &Cursor,
    ) -> Result<PullAllOutcome, Error> {
        self.run(PullAll::new(&self.config, app_id, collection, since)?)
            .await
    }

    /// The master key of `user_id` (the user the token speaks for), from the
    /// cache while fresh (5 minutes by default), else from the vault
    /// ([`VaultKey`]; needs [`Config::with_auth_url`]).
    pub async fn master_key(&self, user_id: &str) -> Result<MasterKey, Error> {
        if let Some(key) = super::cached_key(&self.keys, user_id, self.clock.now()) {
            return Ok(key);
        }
        let key = self.run(VaultKey::new(&self.config)?).await?;
        super::remember_key(&self.keys, user_id, &key, self.clock.now());
        Ok(key)
    }

    /// Applies to `replica` what is new in `collection` since its cursor
    /// (everything, the first time), this client's own changes and rows
    /// pushed without a client id included, and moves the cursor.
    ///
    /// The read starts the replica's overlap ([`Replica::overlap`], 5 s by
    /// default) before its cursor, so that a change the server committed
    /// late is not lost; the changes re-read are recognised by `eventId`
    /// and not applied twice ([`FoldReport::repeated`] counts them).
    pub async fn pull_into(
        &self,
        app_id: &str,
        collection: &str,
        replica: &mut Replica,
    ) -> Result<FoldReport, Error> {
        let op = PullAll::for_replica(&self.config, app_id, collection, replica)?;
        let pulled = self.run(op).await?;
        Ok(pulled.apply_to(replica, collection, self.clock.now()))
    }

    /// The records of `collection`, folded from all its changes; soft-deleted
    /// ones only if `include_deleted`.
    pub async fn records(
        &self,
        app_id: &str,
        collection: &str,
        include_deleted: bool,
    ) -> Result<Vec<Record>, Error> {
        let mut replica = Replica::new();
        self.pull_into(app_id, collection, &mut replica).await?;
        let records = if include_deleted {
            replica.all_records(collection).cloned().collect()
        } else {
            replica.records(collection).cloned().collect()
        };
        Ok(records)
    }

    /// Creates record `id` of a typed table (encrypting its declared fields
    /// with `key`).
    pub async fn create<R: Serialize + DeserializeOwned + Send + Sync>(
        &self,
        table: &TableSpec<R>,
        id: &str,
        value: &R,
        key: Option<&crate::crypto::MasterKey>,
    ) -> Result<PushOutcome, Error> {
        let now = self.clock.now();
        let change = table.create_change(id, value, key, now)?;
        self.push(table.app_id(), &[change], &Cursor::from(now))
            .await
    }

    /// Sets the named fields of record `id` of a typed table.
    pub async fn update<R: Serialize + DeserializeOwned + Send + Sync>(
        &self,
        table: &TableSpec<R>,
        id: &str,
        fields: Vec<(String, serde_json::Value)>,
        key: Option<&crate::crypto::MasterKey>,
    ) -> Result<PushOutcome, Error> {
        let now = self.clock.now();
        let change = table.update_change(id, fields, key, now)?;
        self.push(table.app_id(), &[change], &Cursor::from(now))
            .await
    }

    /// Soft-deletes record `id` of a typed table.
    pub async fn delete<R: Serialize + DeserializeOwned + Send + Sync>(
        &self,
        table: &TableSpec<R>,
        id: &str,
    ) -> Result<PushOutcome, Error> {
        let now = self.clock.now();
        self.push(
            table.app_id(),
            &[table.delete_change(id, now)],
            &Cursor::from(now),
        )
        .await
    }

    /// The live records of a typed table, decrypted with `key`.
    pub async fn list<R: Serialize + DeserializeOwned + Send + Sync>(
        &self,
        table: &TableSpec<R>,
        key: Option<&crate::crypto::MasterKey>,
    ) -> Result<Vec<R>, Error> {
        let records = self.records(table.app_id(), table.table(), false).await?;
        records.iter().map(|r| table.decode(r, key)).collect()
    }

    /// One live record of a typed table, decrypted with `key`.
    pub async fn get<R: Serialize + DeserializeOwned + Send + Sync>(
        &self,
        table: &TableSpec<R>,
        id: &str,
        key: Option<&crate::crypto::MasterKey>,
    ) -> Result<Option<R>, Error> {
        let records = self.records(table.app_id(), table.table(), false).await?;
        records
            .iter()
            .find(|r| r.id == id)
            .map(|r| table.decode(r, key))
            .transpose()
    }

    /// The service's health.
    pub async fn health(&self) -> Result<Health, Error> {
        self.run(ops::Health::new(self.config.sync_url())?).await
    }
}

impl<T> fmt::Debug for AsyncClient<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncClient")
            .field("config", &self.config)
            .field("transport", &std::any::type_name::<T>())
            .finish()
    }
}
