//! [`BlockingClient`]: the blocking facade.

use std::fmt;

use http::Response;
use serde_json::{Map, Value};

use super::{stream, Settings};
use crate::crypto::MasterKey;
use crate::fold::{FoldReport, Record, Replica};
use crate::ops::{
    self, PullAllOutcome, PullInto, Push, PushOutcome, Stream, StreamEvent, StreamStep, VaultKey,
};
use crate::{Batch, Listing, Patch, TableSpec};
use crate::{
    BlockingBody, BlockingTransport, Change, Config, Cursor, Error, Health, Operation, Step,
    SyncResponse, TransportError,
};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// A blocking mana-sync client over any [`BlockingTransport`].
///
/// Network users get one from `mana_sync_ureq::client(config)`; tests get one
/// from `mana_sync_testkit` with an in-process transport and a fixed clock.
/// Clones are cheap and share the transport, the key cache and the retry
/// settings.
///
/// ```
/// # use mana_sync_core::surface as mana_sync_ureq;
/// use mana_sync_ureq::{Config, Cursor};
/// use mana_sync_testkit::{token_for, InProcess};
/// use serde_json::json;
///
/// // In real use: mana_sync_ureq::client(Config::new("https://sync.example.com", jwt, "my-tool")?)?
/// let net = InProcess::default();
/// let client = net.blocking_client(Config::new("http://mana.test", token_for("user-1"), "my-tool")?);
///
/// let task = json!({"title": "Buy milk"}).as_object().cloned().unwrap_or_default();
/// client.push_insert("todo", "tasks", "t-1", task)?;
///
/// // The server leaves out this client's own changes...
/// assert!(client.pull_all("todo", "tasks", &Cursor::EPOCH)?.changes.is_empty());
/// // ...unless asked for them; folded records always include them.
/// let reader = client.clone().with_own_changes(true);
/// assert_eq!(reader.pull_all("todo", "tasks", &Cursor::EPOCH)?.changes.len(), 1);
/// assert_eq!(client.records("todo", "tasks", false)?[0].id, "t-1");
/// # Ok::<(), mana_sync_ureq::Error>(())
/// ```
#[derive(Clone)]
pub struct BlockingClient<T> {
    settings: Settings,
    transport: T,
}

impl<T: BlockingTransport> BlockingClient<T> {
    /// A client using the system clock, with the default retry policy.
    pub fn new(config: Config, transport: T) -> Self {
        BlockingClient {
            settings: Settings::new(config),
            transport,
        }
    }

    super::shared_facade_methods!();

    /// Drives `op` to its end: sends what it asks, waits when it says so.
    /// Every operation is retried as the client's [`RetryPolicy`] says
    /// ([`Self::with_retry`]).
    ///
    /// [`RetryPolicy`]: crate::RetryPolicy
    pub fn run<O: Operation>(&self, op: O) -> Result<O::Output, Error> {
        let mut op = self.settings.retrying(op);
        loop {
            match op.step(self.settings.now()) {
                Step::Send(request) => {
                    let uri = request.uri().clone();
                    let response = self.transport.send(request).map_err(|e| e.at(&uri));
                    op.on_response(self.settings.now(), response);
                }
                Step::Wait(d) => self.transport.sleep(d),
                Step::Done(result) => return result,
            }
        }
    }

    /// Runs a stream operation built by hand (or by the engine,
    /// [`crate::engine::Engine::live_stream`]): its events, read as they
    /// arrive, as [`BlockingClient::stream`] hands them out.
    pub fn run_stream(&self, op: Stream) -> StreamIter<'_, T> {
        StreamIter::new(self, op, None)
    }

    /// Pushes `changes` to app `app_id`, asking for other clients' changes
    /// made after `since` (see [`crate::ops::Push`]).
    pub fn push(
        &self,
        app_id: &str,
        changes: &[Change],
        since: &Cursor,
    ) -> Result<PushOutcome, Error> {
        self.run(Push::new(&self.settings.config, app_id, changes, since)?)
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
            &self.settings.config,
            app_id,
            table,
            id,
            data,
            self.settings.now(),
        )?)
    }

    /// One page of `collection` after `since`.
    ///
    /// **This client's own changes are left out** (the server leaves out
    /// the changes of the client id it is sent) unless the client was
    /// built [`with_own_changes(true)`](Self::with_own_changes).
    pub fn pull(
        &self,
        app_id: &str,
        collection: &str,
        since: &Cursor,
    ) -> Result<SyncResponse, Error> {
        self.run(self.settings.pull(app_id, collection, since)?)
    }

    /// All of `collection` after `since`, following `hasMore`.
    ///
    /// **This client's own changes are left out** (the server leaves out
    /// the changes of the client id it is sent): push, then `pull_all`
    /// with the same client, and it returns none of them. Build the client
    /// [`with_own_changes(true)`](Self::with_own_changes) to read them too,
    /// or read folded records with `records` / `pull_into`, which always
    /// include them.
    pub fn pull_all(
        &self,
        app_id: &str,
        collection: &str,
        since: &Cursor,
    ) -> Result<PullAllOutcome, Error> {
        self.run(self.settings.pull_all(app_id, collection, since)?)
    }

    /// The master key of the user the token speaks for (its `sub` claim,
    /// read as the server reads it), from the cache while fresh (5 minutes
    /// by default), else from the vault ([`VaultKey`]; needs
    /// [`Config::with_auth_url`]). The cache is keyed by that claim, never
    /// by a name the caller gives, so a shared cache cannot hand one user's
    /// key to another; a token without a `sub` is never cached.
    pub fn master_key(&self) -> Result<MasterKey, Error> {
        if let Some(key) = super::cached_key(
            &self.settings.keys,
            &self.settings.config,
            self.settings.now(),
        ) {
            return Ok(key);
        }
        let key = self.run(VaultKey::new(&self.settings.config)?)?;
        super::remember_key(
            &self.settings.keys,
            self.settings.config.token(),
            &key,
            self.settings.now(),
        );
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
    ///
    /// Each page is folded in as it arrives and then dropped
    /// ([`ops::PullInto`]), so memory holds the replica and one page.
    pub fn pull_into(
        &self,
        app_id: &str,
        collection: &str,
        replica: &mut Replica,
    ) -> Result<FoldReport, Error> {
        self.run(PullInto::new(
            &self.settings.config,
            app_id,
            collection,
            replica,
        )?)
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

    /// Pushes a [`Batch`] of typed writes (from [`Self::batch`]) as one
    /// operation, split into requests by the server's limits.
    pub fn push_batch(&self, batch: &Batch) -> Result<PushOutcome, Error> {
        self.run(batch.push(&self.settings.config)?)
    }

    /// Creates record `id` of a typed table (encrypting its declared fields
    /// with `key`). For many writes, a [`Batch`] is one operation.
    pub fn create<R: Serialize + DeserializeOwned>(
        &self,
        table: &TableSpec<R>,
        id: &str,
        value: &R,
        key: Option<&MasterKey>,
    ) -> Result<PushOutcome, Error> {
        let mut batch = self.batch(table.app_id());
        batch.create(table, id, value, key)?;
        self.push_batch(&batch)
    }

    /// Sets the fields of `patch` on record `id` of a typed table (each
    /// checked against `R` when the patch was built; see [`Patch`]).
    pub fn update<R: Serialize + DeserializeOwned>(
        &self,
        table: &TableSpec<R>,
        id: &str,
        patch: Patch<R>,
        key: Option<&MasterKey>,
    ) -> Result<PushOutcome, Error> {
        let mut batch = self.batch(table.app_id());
        batch.update(table, id, patch, key)?;
        self.push_batch(&batch)
    }

    /// Soft-deletes record `id` of a typed table.
    pub fn delete<R: Serialize + DeserializeOwned>(
        &self,
        table: &TableSpec<R>,
        id: &str,
    ) -> Result<PushOutcome, Error> {
        let mut batch = self.batch(table.app_id());
        batch.delete(table, id)?;
        self.push_batch(&batch)
    }

    /// The live records of a typed table, decrypted with `key` (this
    /// client's own writes included): those that decode as `R`, and a
    /// report of those that do not ([`Listing::bad`], each with its id and
    /// why, never a decrypted value), so one bad record does not hide the
    /// others. [`Listing::all`] turns it into all-or-nothing.
    pub fn list<R: Serialize + DeserializeOwned>(
        &self,
        table: &TableSpec<R>,
        key: Option<&MasterKey>,
    ) -> Result<Listing<R>, Error> {
        let records = self.records(table.app_id(), table.table(), false)?;
        Ok(table.decode_all(&records, key))
    }

    /// One live record of a typed table, decrypted with `key`; an error
    /// only if that record cannot be read as `R` (others are not decoded).
    pub fn get<R: Serialize + DeserializeOwned>(
        &self,
        table: &TableSpec<R>,
        id: &str,
        key: Option<&MasterKey>,
    ) -> Result<Option<R>, Error> {
        let records = self.records(table.app_id(), table.table(), false)?;
        records
            .iter()
            .find(|r| r.id == id)
            .map(|r| table.decode(r, key))
            .transpose()
    }

    /// The live changes of `collections` of app `app_id` after `since`, as
    /// an iterator that blocks for each event, reconnects after a cut and
    /// never ends by itself (only with a permanent error, or when dropped,
    /// which closes the connection). See [`crate::ops::Stream`] for what it
    /// promises: nothing lost, nothing delivered twice.
    ///
    /// The README and the transport crates show it at work.
    pub fn stream(
        &self,
        app_id: &str,
        collections: &[&str],
        since: &Cursor,
    ) -> Result<StreamIter<'_, T>, Error> {
        let op = stream::stream(&self.settings, app_id, collections, since)?;
        Ok(StreamIter::new(self, op, None))
    }

    /// The live changes of `collections` for `replica`, which the stream
    /// does not hold: it starts from the replica's read point and knows what
    /// the replica's reads delivered ([`crate::ops::Stream::for_replica`]);
    /// fold each batch in with [`ChangeBatch::apply_to`] and read the
    /// replica freely in between. What `watch_into` does, for an app that
    /// reads and writes while watching.
    ///
    /// [`ChangeBatch::apply_to`]: crate::ops::ChangeBatch::apply_to
    pub fn stream_from(
        &self,
        app_id: &str,
        collections: &[&str],
        replica: &Replica,
    ) -> Result<StreamIter<'_, T>, Error> {
        let op = stream::stream_from(&self.settings, app_id, collections, replica)?;
        Ok(StreamIter::new(self, op, None))
    }

    /// Keeps `replica` current: streams `collections` from the replica's
    /// read point ([`BlockingClient::stream_from`]) and folds each batch
    /// into it (cursor and delivered ids included) before handing the
    /// event on. The iterator holds the replica; to read it while watching,
    /// use `stream_from`.
    pub fn watch_into<'a>(
        &'a self,
        app_id: &str,
        collections: &[&str],
        replica: &'a mut Replica,
    ) -> Result<StreamIter<'a, T>, Error> {
        let op = stream::stream_from(&self.settings, app_id, collections, replica)?;
        Ok(StreamIter::new(self, op, Some(replica)))
    }

    /// The service's health.
    pub fn health(&self) -> Result<Health, Error> {
        self.run(ops::Health::new(self.settings.config.sync_url())?)
    }
}

impl<T> fmt::Debug for BlockingClient<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockingClient")
            .field("config", &self.settings.config)
            .field("transport", &std::any::type_name::<T>())
            .finish()
    }
}

/// The events of a [`BlockingClient::stream`] (or
/// [`BlockingClient::watch_into`]), read as they arrive. Dropping it
/// closes the connection.
pub struct StreamIter<'a, T: BlockingTransport> {
    client: &'a BlockingClient<T>,
    op: Stream,
    body: Option<T::Body>,
    replica: Option<&'a mut Replica>,
    done: bool,
}

impl<'a, T: BlockingTransport> StreamIter<'a, T> {
    fn new(client: &'a BlockingClient<T>, op: Stream, replica: Option<&'a mut Replica>) -> Self {
        StreamIter {
            client,
            op,
            body: None,
            replica,
            done: false,
        }
    }

    /// The stream operation (its cursors, say).
    pub fn operation(&self) -> &Stream {
        &self.op
    }

    /// The stream operation, to change (e.g.
    /// [`Stream::set_max_reconnects`]).
    pub fn operation_mut(&mut self) -> &mut Stream {
        &mut self.op
    }
}

impl<T: BlockingTransport> Iterator for StreamIter<'_, T> {
    type Item = Result<StreamEvent, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let settings = &self.client.settings;
        let transport = &self.client.transport;
        while !self.done {
            match self.op.step(settings.now()) {
                StreamStep::Open(request) => {
                    self.body = None;
                    let uri = request.uri().clone();
                    let head = transport.open(request).map_err(|e| e.at(&uri));
                    let head = head.map(|response| {
                        let (parts, body) = response.into_parts();
                        self.body = Some(body);
                        Response::from_parts(parts, ())
                    });
                    self.op.on_open(settings.now(), head);
                }
                StreamStep::Read => {
                    let chunk = match self.body.as_mut() {
                        Some(body) => body.next_chunk(),
                        None => Err(TransportError::message("no stream is open")),
                    };
                    self.op.on_chunk(settings.now(), chunk);
                }
                StreamStep::Send(request) => {
                    let uri = request.uri().clone();
                    let response = transport.send(request).map_err(|e| e.at(&uri));
                    self.op.on_response(settings.now(), response);
                }
                StreamStep::Wait(d) => {
                    self.body = None;
                    transport.sleep(d);
                }
                StreamStep::Event(event) => {
                    if let Some(replica) = self.replica.as_deref_mut() {
                        stream::apply(replica, &event);
                    }
                    return Some(Ok(event));
                }
                StreamStep::Done(error) => {
                    self.body = None;
                    self.done = true;
                    return Some(Err(error));
                }
            }
        }
        None
    }
}
