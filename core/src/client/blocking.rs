//! [`BlockingClient`]: the blocking facade.

use std::fmt;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};

use super::SharedKeyCache;
use crate::crypto::MasterKey;
use crate::fold::{FoldReport, Record, Replica};
use crate::ops::{self, Pull, PullAll, PullAllOutcome, Push, PushOutcome, VaultKey};
use crate::TableSpec;
use crate::{
    BlockingTransport, Change, Clock, Config, Cursor, Error, Health, KeyCache, Operation, Step,
    SyncResponse, SystemClock,
};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// A blocking mana-sync client over any [`BlockingTransport`].
///
/// Network users get one from `mana_sync_ureq::client(config)`; tests get one
/// from `mana_sync_testkit` with an in-process transport and a fixed clock.
#[derive(Clone)]
pub struct BlockingClient<T> {
    config: Config,
    transport: T,
    clock: Arc<dyn Clock>,
    keys: SharedKeyCache,
}

impl<T: BlockingTransport> BlockingClient<T> {
    /// A client using the system clock.
    pub fn new(config: Config, transport: T) -> Self {
        BlockingClient {
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
        self.run(Push::new(&self.config, app_id, changes, since)?)
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
        self.run(Pull::new(&self.config, app_id, collection, since)?)
    }

    /// All of `collection` after `since`, following `hasMore`.
    pub fn pull_all(
        &self,
        app_id: &str,
        collection: &str,
        since: &Cursor,
    ) -> Result<PullAllOutcome, Error> {
        self.run(PullAll::new(&self.config, app_id, collection, since)?)
    }

    /// The master key of `user_id` (the user the token speaks for), from the
    /// cache while fresh (5 minutes by default), else from the vault
    /// ([`VaultKey`]; needs [`Config::with_auth_url`]).
    pub fn master_key(&self, user_id: &str) -> Result<MasterKey, Error> {
        if let Some(key) = super::cached_key(&self.keys, user_id, self.clock.now()) {
            return Ok(key);
        }
        let key = self.run(VaultKey::new(&self.config)?)?;
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
    pub fn pull_into(
        &self,
        app_id: &str,
        collection: &str,
        replica: &mut Replica,
    ) -> Result<FoldReport, Error> {
        let op = PullAll::for_replica(&self.config, app_id, collection, replica)?;
        let pulled = self.run(op)?;
        Ok(pulled.apply_to(replica, collection, self.clock.now()))
    }

    /// The records of `collection`, folded from all its changes; soft-deleted
    /// ones only if `include_deleted`.
    pub fn records(
        &self,
        app_id: &str,
        collection: &str,
        include_deleted: bool,
    ) -> Result<Vec<Record>, Error> {
        let mut replica = Replica::new();
        self.pull_into(app_id, collection, &mut replica)?;
        let records = if include_deleted {
            replica.all_records(collection).cloned().collect()
        } else {
            replica.records(collection).cloned().collect()
        };
        Ok(records)
    }

    /// Creates record `id` of a typed table (encrypting its declared fields
    /// with `key`).
    pub fn create<R: Serialize + DeserializeOwned>(
        &self,
        table: &TableSpec<R>,
        id: &str,
        value: &R,
        key: Option<&crate::crypto::MasterKey>,
    ) -> Result<PushOutcome, Error> {
        let now = self.clock.now();
        let change = table.create_change(id, value, key, now)?;
        self.push(table.app_id(), &[change], &Cursor::from(now))
    }

    /// Sets the named fields of record `id` of a typed table.
    pub fn update<R: Serialize + DeserializeOwned>(
        &self,
        table: &TableSpec<R>,
        id: &str,
        fields: Vec<(String, serde_json::Value)>,
        key: Option<&crate::crypto::MasterKey>,
    ) -> Result<PushOutcome, Error> {
        let now = self.clock.now();
        let change = table.update_change(id, fields, key, now)?;
        self.push(table.app_id(), &[change], &Cursor::from(now))
    }

    /// Soft-deletes record `id` of a typed table.
    pub fn delete<R: Serialize + DeserializeOwned>(
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
    }

    /// The live records of a typed table, decrypted with `key`.
    pub fn list<R: Serialize + DeserializeOwned>(
        &self,
        table: &TableSpec<R>,
        key: Option<&crate::crypto::MasterKey>,
    ) -> Result<Vec<R>, Error> {
        let records = self.records(table.app_id(), table.table(), false)?;
        records.iter().map(|r| table.decode(r, key)).collect()
    }

    /// One live record of a typed table, decrypted with `key`.
    pub fn get<R: Serialize + DeserializeOwned>(
        &self,
        table: &TableSpec<R>,
        id: &str,
        key: Option<&crate::crypto::MasterKey>,
    ) -> Result<Option<R>, Error> {
        let records = self.records(table.app_id(), table.table(), false)?;
        records
            .iter()
            .find(|r| r.id == id)
            .map(|r| table.decode(r, key))
            .transpose()
    }

    /// The service's health.
    pub fn health(&self) -> Result<Health, Error> {
        self.run(ops::Health::new(self.config.sync_url())?)
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
