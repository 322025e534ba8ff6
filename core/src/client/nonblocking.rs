//! [`AsyncClient`]: the async facade.

use std::fmt;

use futures_core::Stream as EventStream;
use futures_util::StreamExt;
use http::Response;
use serde_json::{Map, Value};

use super::{stream, Settings};
use crate::crypto::MasterKey;
use crate::fold::{FoldReport, Record, Replica};
use crate::ops::{
    self, PullAllOutcome, PullInto, Push, PushOutcome, Stream, StreamEvent, StreamStep, VaultKey,
};
use crate::{
    AsyncTransport, Change, Config, Cursor, Error, Health, Operation, Step, SyncResponse,
    TransportError,
};
use crate::{Batch, Listing, Patch, TableSpec};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// An async mana-sync client over any [`AsyncTransport`]. Its futures are
/// `Send`.
///
/// Network users get one from `mana_sync_hyper::client(config)`; tests get
/// one from `mana_sync_testkit` with an in-process transport and a fixed
/// clock. Clones are cheap (they share the transport, the key cache and the
/// retry settings) and can move into spawned tasks.
///
/// ```
/// # use mana_sync_core::surface as mana_sync_ureq;
/// use mana_sync_ureq::{Change, Config, Cursor, Timestamp};
/// use mana_sync_testkit::{token_for, InProcess};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // In real use: mana_sync_hyper::client(Config::new("https://sync.example.com", jwt, "my-agent")?)?
/// let net = InProcess::default();
/// let agent = net.async_client(Config::new("http://mana.test", token_for("user-1"), "my-agent")?);
/// let phone = net.async_client(Config::new("http://mana.test", token_for("user-1"), "phone")?);
///
/// let at = Timestamp::parse("2026-04-23T11:19:00Z")?;
/// let changes = [Change::update("tasks", "t-1").with_field("isCompleted", true, at)];
/// let pushed = phone.push("todo", &changes, &Cursor::EPOCH).await?;
/// assert_eq!(pushed.requests, 1);
///
/// let seen = agent.pull_all("todo", "tasks", &Cursor::EPOCH).await?;
/// assert_eq!(seen.changes.get(0).map(|c| c.id().into_owned()).as_deref(), Some("t-1"));
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct AsyncClient<T> {
    settings: Settings,
    transport: T,
}

impl<T: AsyncTransport> AsyncClient<T> {
    /// A client using the system clock, with the default retry policy.
    pub fn new(config: Config, transport: T) -> Self {
        AsyncClient {
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
    pub async fn run<O: Operation>(&self, op: O) -> Result<O::Output, Error> {
        let mut op = self.settings.retrying(op);
        loop {
            match op.step(self.settings.now()) {
                Step::Send(request) => {
                    let uri = request.uri().clone();
                    let response = self.transport.send(request).await.map_err(|e| e.at(&uri));
                    op.on_response(self.settings.now(), response);
                }
                Step::Wait(d) => self.transport.sleep(d).await,
                Step::Done(result) => return result,
            }
        }
    }

    /// Runs a stream operation built by hand (or by the engine,
    /// [`crate::engine::Engine::live_stream`]): its events as they arrive,
    /// as [`AsyncClient::stream`] hands them out.
    pub fn run_stream(
        &self,
        op: Stream,
    ) -> impl EventStream<Item = Result<StreamEvent, Error>> + Send + '_ {
        self.drive_stream(op, None)
    }

    /// Pushes `changes` to app `app_id`, asking for other clients' changes
    /// made after `since` (see [`crate::ops::Push`]).
    pub async fn push(
        &self,
        app_id: &str,
        changes: &[Change],
        since: &Cursor,
    ) -> Result<PushOutcome, Error> {
        self.run(Push::new(&self.settings.config, app_id, changes, since)?)
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
            &self.settings.config,
            app_id,
            table,
            id,
            data,
            self.settings.now(),
        )?)
        .await
    }

    /// One page of `collection` after `since`.
    ///
    /// **This client's own changes are left out** (the server leaves out
    /// the changes of the client id it is sent) unless the client was
    /// built [`with_own_changes(true)`](Self::with_own_changes).
    pub async fn pull(
        &self,
        app_id: &str,
        collection: &str,
        since: &Cursor,
    ) -> Result<SyncResponse, Error> {
        self.run(self.settings.pull(app_id, collection, since)?)
            .await
    }

    /// All of `collection` after `since`, following `hasMore`.
    ///
    /// **This client's own changes are left out** (the server leaves out
    /// the changes of the client id it is sent): push, then `pull_all`
    /// with the same client, and it returns none of them. Build the client
    /// [`with_own_changes(true)`](Self::with_own_changes) to read them too,
    /// or read folded records with `records` / `pull_into`, which always
    /// include them.
    pub async fn pull_all(
        &self,
        app_id: &str,
        collection: &str,
        since: &Cursor,
    ) -> Result<PullAllOutcome, Error> {
        self.run(self.settings.pull_all(app_id, collection, since)?)
            .await
    }

    /// The master key of the user the token speaks for (its `sub` claim,
    /// read as the server reads it), from the cache while fresh (5 minutes
    /// by default), else from the vault ([`VaultKey`]; needs
    /// [`Config::with_auth_url`]). The cache is keyed by that claim, never
    /// by a name the caller gives, so a shared cache cannot hand one user's
    /// key to another; a token without a `sub` is never cached.
    pub async fn master_key(&self) -> Result<MasterKey, Error> {
        if let Some(key) = super::cached_key(
            &self.settings.keys,
            &self.settings.config,
            self.settings.now(),
        ) {
            return Ok(key);
        }
        let key = self.run(VaultKey::new(&self.settings.config)?).await?;
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
    pub async fn pull_into(
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
        .await
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

    /// Pushes a [`Batch`] of typed writes (from [`Self::batch`]) as one
    /// operation, split into requests by the server's limits.
    pub async fn push_batch(&self, batch: &Batch) -> Result<PushOutcome, Error> {
        self.run(batch.push(&self.settings.config)?).await
    }

    /// Creates record `id` of a typed table (encrypting its declared fields
    /// with `key`). For many writes, a [`Batch`] is one operation.
    pub async fn create<R: Serialize + DeserializeOwned + Send + Sync>(
        &self,
        table: &TableSpec<R>,
        id: &str,
        value: &R,
        key: Option<&MasterKey>,
    ) -> Result<PushOutcome, Error> {
        let mut batch = self.batch(table.app_id());
        batch.create(table, id, value, key)?;
        self.push_batch(&batch).await
    }

    /// Sets the fields of `patch` on record `id` of a typed table (each
    /// checked against `R` when the patch was built; see [`Patch`]).
    pub async fn update<R: Serialize + DeserializeOwned + Send + Sync>(
        &self,
        table: &TableSpec<R>,
        id: &str,
        patch: Patch<R>,
        key: Option<&MasterKey>,
    ) -> Result<PushOutcome, Error> {
        let mut batch = self.batch(table.app_id());
        batch.update(table, id, patch, key)?;
        self.push_batch(&batch).await
    }

    /// Soft-deletes record `id` of a typed table.
    pub async fn delete<R: Serialize + DeserializeOwned + Send + Sync>(
        &self,
        table: &TableSpec<R>,
        id: &str,
    ) -> Result<PushOutcome, Error> {
        let mut batch = self.batch(table.app_id());
        batch.delete(table, id)?;
        self.push_batch(&batch).await
    }

    /// The live records of a typed table, decrypted with `key` (this
    /// client's own writes included): those that decode as `R`, and a
    /// report of those that do not ([`Listing::bad`], each with its id and
    /// why, never a decrypted value), so one bad record does not hide the
    /// others. [`Listing::all`] turns it into all-or-nothing.
    pub async fn list<R: Serialize + DeserializeOwned + Send + Sync>(
        &self,
        table: &TableSpec<R>,
        key: Option<&MasterKey>,
    ) -> Result<Listing<R>, Error> {
        let records = self.records(table.app_id(), table.table(), false).await?;
        Ok(table.decode_all(&records, key))
    }

    /// One live record of a typed table, decrypted with `key`; an error
    /// only if that record cannot be read as `R` (others are not decoded).
    pub async fn get<R: Serialize + DeserializeOwned + Send + Sync>(
        &self,
        table: &TableSpec<R>,
        id: &str,
        key: Option<&MasterKey>,
    ) -> Result<Option<R>, Error> {
        let records = self.records(table.app_id(), table.table(), false).await?;
        records
            .iter()
            .find(|r| r.id == id)
            .map(|r| table.decode(r, key))
            .transpose()
    }

    /// The live changes of `collections` of app `app_id` after `since`, as
    /// a [`futures_core::Stream`] of events that reconnects after a cut and
    /// never ends by itself (only after a permanent error, or when dropped,
    /// which closes the connection). See [`crate::ops::Stream`] for what it
    /// promises: nothing lost, nothing delivered twice.
    ///
    /// The README and the transport crates show it at work.
    pub fn stream<'a>(
        &'a self,
        app_id: &str,
        collections: &[&str],
        since: &Cursor,
    ) -> Result<impl EventStream<Item = Result<StreamEvent, Error>> + Send + 'a, Error> {
        let op = stream::stream(&self.settings, app_id, collections, since)?;
        Ok(self.drive_stream(op, None))
    }

    /// The live changes of `collections` for `replica`, which the stream
    /// does not hold: it starts from the replica's read point and knows what
    /// the replica's reads delivered ([`crate::ops::Stream::for_replica`]);
    /// fold each batch in with [`ChangeBatch::apply_to`] and read the
    /// replica freely in between. What `watch_into` does, for an agent that
    /// reads and writes while watching.
    ///
    /// [`ChangeBatch::apply_to`]: crate::ops::ChangeBatch::apply_to
    pub fn stream_from<'a>(
        &'a self,
        app_id: &str,
        collections: &[&str],
        replica: &Replica,
    ) -> Result<impl EventStream<Item = Result<StreamEvent, Error>> + Send + 'a, Error> {
        let op = stream::stream_from(&self.settings, app_id, collections, replica)?;
        Ok(self.drive_stream(op, None))
    }

    /// Keeps `replica` current: streams `collections` from the replica's
    /// read point ([`AsyncClient::stream_from`]) and folds each batch into
    /// it (cursor and delivered ids included) before handing the event on.
    /// The stream holds the replica; to read it while watching, use
    /// `stream_from`.
    pub fn watch_into<'a>(
        &'a self,
        app_id: &str,
        collections: &[&str],
        replica: &'a mut Replica,
    ) -> Result<impl EventStream<Item = Result<StreamEvent, Error>> + Send + 'a, Error> {
        let op = stream::stream_from(&self.settings, app_id, collections, replica)?;
        Ok(self.drive_stream(op, Some(replica)))
    }

    /// The driver loop of a stream: IO for each step, until an event.
    fn drive_stream<'a>(
        &'a self,
        op: Stream,
        replica: Option<&'a mut Replica>,
    ) -> impl EventStream<Item = Result<StreamEvent, Error>> + Send + 'a {
        struct State<'a, B> {
            op: Stream,
            body: Option<B>,
            replica: Option<&'a mut Replica>,
            done: bool,
        }
        let state = State {
            op,
            body: None::<T::Body>,
            replica,
            done: false,
        };
        futures_util::stream::unfold(state, move |mut state| async move {
            let settings = &self.settings;
            while !state.done {
                match state.op.step(settings.now()) {
                    StreamStep::Open(request) => {
                        state.body = None;
                        let uri = request.uri().clone();
                        let head = self.transport.open(request).await.map_err(|e| e.at(&uri));
                        let head = head.map(|response| {
                            let (parts, body) = response.into_parts();
                            state.body = Some(body);
                            Response::from_parts(parts, ())
                        });
                        state.op.on_open(settings.now(), head);
                    }
                    StreamStep::Read => {
                        let chunk = match state.body.as_mut() {
                            Some(body) => body.next().await.transpose(),
                            None => Err(TransportError::message("no stream is open")),
                        };
                        state.op.on_chunk(settings.now(), chunk);
                    }
                    StreamStep::Send(request) => {
                        let uri = request.uri().clone();
                        let response = self.transport.send(request).await.map_err(|e| e.at(&uri));
                        state.op.on_response(settings.now(), response);
                    }
                    StreamStep::Wait(d) => {
                        state.body = None;
                        self.transport.sleep(d).await;
                    }
                    StreamStep::Event(event) => {
                        if let Some(replica) = state.replica.as_deref_mut() {
                            stream::apply(replica, &event);
                        }
                        return Some((Ok(event), state));
                    }
                    StreamStep::Done(error) => {
                        state.body = None;
                        state.done = true;
                        return Some((Err(error), state));
                    }
                }
            }
            None
        })
    }

    /// The service's health.
    pub async fn health(&self) -> Result<Health, Error> {
        self.run(ops::Health::new(self.settings.config.sync_url())?)
            .await
    }
}

impl<T> fmt::Debug for AsyncClient<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncClient")
            .field("config", &self.settings.config)
            .field("transport", &std::any::type_name::<T>())
            .finish()
    }
}
