//! [`Engine`]: the offline-first engine as a state machine: events in,
//! instructions out, no IO, no clock, no randomness of its own.

mod live;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Duration;

use http::{Request, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::change_set::{diff, group, ChangeSet, RecordChange, Source};
use super::outbox::next_batch;
use super::settings::EngineSettings;
use super::status::Status;
use super::store::{
    CollectionState, Commit, ConflictEntry, DeadLetter, OutboxEntry, Store, StoreError,
};
use crate::crypto::MasterKey;
use crate::error::bound;
use crate::fold::{Applied, Record, Seen, SeenKey, Slot};
use crate::ops::{PullAll, Push};
use crate::retry::{classify, Failure, JitterRng};
use crate::{
    Change, Config, Cursor, Error, Listing, Operation, Patch, Step, TableSpec, Timestamp, Token,
    TransportError,
};

/// Why an engine call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The store failed; a failed write left nothing behind.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The write is not one the server could take (checked before anything
    /// is stored), or a record does not encode or encrypt.
    #[error(transparent)]
    Sync(#[from] Error),
}

/// What the engine wants the driver to do next.
#[derive(Debug)]
// An instruction is built and matched once: boxing the request would cost
// an allocation per request for nothing.
#[allow(clippy::large_enum_variant)]
pub enum Instruction {
    /// Send this request, then hand the answer to [`Engine::on_response`].
    /// One request at a time: until then, [`Engine::poll`] says
    /// [`Instruction::Wait`] with no deadline.
    Send {
        /// The request.
        request: Request<Vec<u8>>,
        /// What it is for (for logs and status).
        purpose: Purpose,
    },
    /// The server refused the token: ask the token source for a fresh one
    /// and hand it to [`Engine::on_token`] (or call
    /// [`Engine::on_token_refused`]). The engine tries again with the old
    /// one after a backoff if neither comes.
    NeedToken,
    /// Nothing to do until this instant (`None`: until an event: a write,
    /// an answer, a token, connectivity).
    Wait {
        /// When to poll again at the latest.
        until: Option<Timestamp>,
    },
}

/// What a request is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purpose {
    /// A push of this many changes.
    Push {
        /// Changes in the request.
        changes: usize,
    },
    /// A page of the catch-up of a collection.
    Pull {
        /// The collection.
        collection: String,
    },
}

enum Job {
    Push {
        seqs: Vec<u64>,
        changes: usize,
        op: Box<Push>,
    },
    Pull {
        collection: String,
        op: Box<PullAll>,
        delivered: Seen,
    },
}

struct Current {
    job: Job,
    next: Option<Request<Vec<u8>>>,
    awaiting: bool,
}

/// The offline-first engine: a durable local replica and outbox in a
/// [`Store`], synced by instructions a driver carries out.
///
/// * **Writes** ([`Engine::write`], [`Engine::create`], [`Engine::update`],
///   [`Engine::delete`]) fold into the local record and add an outbox
///   entry in one store commit; the change is checked first (nothing is
///   stored that the server could never take).
/// * **Push**: debounced ([`EngineSettings::debounce`]), batches within the
///   server's limits (200 changes, 10 MiB), repeated updates of a record
///   merged; an entry leaves the outbox only when the server acknowledged
///   it. A failed push is retried with capped backoff for as long as it
///   takes; a new write, a reconnect, a stream event or a fresh token retry
///   at once. A batch refused with 400 is bisected until the refused change
///   is alone; it goes to the dead letters with the server's text and the
///   rest goes on. 401 asks for a token ([`Instruction::NeedToken`]); 402
///   pauses sync ([`Status::paused`]) and tries again later.
/// * **Pull**: every synced collection is caught up at start, on reconnect
///   and periodically, from its stored cursor held back by the overlap, with
///   what was delivered before recognised by `eventId`; each page is folded
///   by last-write-wins over the local records and committed, the cursor
///   moves when the catch-up completes.
///
/// Driving it by hand (the drivers do the same with a transport and a clock):
///
/// ```
/// use mana_sync_core::engine::{Engine, EngineSettings, Instruction, MemoryStore};
/// use mana_sync_core::{Change, Config, Timestamp};
/// use mana_sync_testkit::{token_for, MemoryServer};
///
/// let server = MemoryServer::new();
/// let config = Config::new("http://sync.test", token_for("user-1"), "laptop")?;
/// let settings = EngineSettings::new("todo", &["tasks"]);
/// let mut now = server.now();
/// let mut engine = Engine::open(MemoryStore::new(), config, settings, now)?;
/// engine.write(vec![Change::update("tasks", "t-1").with_field("title", "Buy milk", now)], now)?;
/// // The local view has it at once; the push waits for the debounce.
/// assert!(engine.record("tasks", "t-1")?.is_some());
/// loop {
///     match engine.poll(now) {
///         Instruction::Send { request, .. } => engine.on_response(now, Ok(server.handle(request))),
///         Instruction::Wait { until: Some(t) } if engine.status(now).pending > 0 => now = t,
///         _ => break,
///     }
/// }
/// assert_eq!(engine.status(now).pending, 0);
/// assert_eq!(server.stored_count("user-1"), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Engine<S> {
    store: S,
    config: Config,
    settings: EngineSettings,
    rng: JitterRng,
    outbox: BTreeMap<u64, OutboxEntry>,
    next_seq: u64,
    current: Option<Current>,
    /// When the next push may start (`None`: nothing pending).
    push_due: Option<Timestamp>,
    push_failures: u32,
    /// Groups of outbox entries being isolated after a 400, tried first.
    isolating: VecDeque<Vec<u64>>,
    /// Collections to catch up, the first being read or next.
    pulls: VecDeque<String>,
    pull_due: Timestamp,
    pull_failures: u32,
    /// When the next periodic catch-up round starts.
    next_round: Option<Timestamp>,
    paused_until: Option<Timestamp>,
    /// A 401 was answered: the instant to try again with the old token,
    /// and whether the driver was asked for a fresh one.
    token_retry: Option<(Timestamp, bool)>,
    /// The `since` of the next push (the last push's `syncedUntil`).
    since: Cursor,
    status: Status,
    dead_letters: usize,
    /// Change sets of server changes, for subscribers.
    server_sets: Vec<ChangeSet>,
    /// Every collection caught up once since the engine opened (the live
    /// stream starts after that).
    caught_up_once: bool,
    /// Ends of the live stream in a row.
    stream_failures: u32,
}

impl<S: Store> Engine<S> {
    /// Opens the engine over `store`: takes the client id the store keeps
    /// (or stores `config`'s), loads the outbox (leftovers are pushed at
    /// once) and queues a catch-up of every synced collection.
    pub fn open(
        mut store: S,
        config: Config,
        settings: EngineSettings,
        now: Timestamp,
    ) -> Result<Engine<S>, EngineError> {
        let client_id = store.client_id(config.client_id())?;
        let config = config.with_client_id(&client_id)?;
        let outbox: BTreeMap<u64, OutboxEntry> =
            store.outbox()?.into_iter().map(|e| (e.seq, e)).collect();
        let dead = store.dead_letters()?;
        let next_seq = outbox
            .keys()
            .copied()
            .chain(dead.iter().map(|d| d.entry.seq))
            .max()
            .map_or(1, |s| s.saturating_add(1));
        let mut since = Cursor::EPOCH;
        for collection in &settings.collections {
            if let Some(cursor) = store.collection(collection)?.cursor {
                since = since.max(cursor);
            }
        }
        tracing::debug!(
            app = %settings.app_id,
            pending = outbox.len(),
            dead_letters = dead.len(),
            "engine opened"
        );
        Ok(Engine {
            push_due: (!outbox.is_empty()).then_some(now),
            pulls: settings.collections.iter().cloned().collect(),
            rng: settings.jitter.clone(),
            store,
            config,
            outbox,
            next_seq,
            current: None,
            push_failures: 0,
            isolating: VecDeque::new(),
            pull_due: now,
            pull_failures: 0,
            next_round: None,
            paused_until: None,
            token_retry: None,
            since,
            status: Status::default(),
            dead_letters: dead.len(),
            server_sets: Vec::new(),
            caught_up_once: false,
            stream_failures: 0,
            settings,
        })
    }

    /// The token in use.
    pub fn token(&self) -> Token {
        self.config.token().clone()
    }

    /// The configuration in use (its client id is the one the store keeps,
    /// its token the latest).
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The client id in use (the one the store keeps).
    pub fn client_id(&self) -> &str {
        self.config.client_id()
    }

    /// The settings.
    pub fn settings(&self) -> &EngineSettings {
        &self.settings
    }

    /// The store, to read (reads straight from it see every commit).
    pub fn store_mut(&mut self) -> &mut S {
        &mut self.store
    }

    /// Gives the store back.
    pub fn into_store(self) -> S {
        self.store
    }

    // ---------------------------------------------------------------- writes

    /// Writes raw changes locally: each is folded into its record and added
    /// to the outbox, all in one commit; the push follows after the
    /// debounce. Returns what changed. Nothing is stored if a change could
    /// never be pushed (an empty table or id, an unknown op, a NUL
    /// character, over 10 MiB) or if the store fails.
    pub fn write(
        &mut self,
        changes: Vec<Change>,
        now: Timestamp,
    ) -> Result<Vec<ChangeSet>, EngineError> {
        if changes.is_empty() {
            return Ok(Vec::new());
        }
        Push::new(
            &self.config,
            &self.settings.app_id,
            &changes,
            &Cursor::EPOCH,
        )?;
        let mut fold = Overlay::default();
        for change in &changes {
            fold.apply(&mut self.store, change)?;
        }
        let entries: Vec<OutboxEntry> = changes
            .into_iter()
            .enumerate()
            .map(|(i, change)| OutboxEntry {
                seq: self.next_seq.saturating_add(i as u64),
                change,
                written_at: now,
            })
            .collect();
        let (slots, sets, _) = fold.finish(Source::Local);
        let commit = Commit {
            slots,
            outbox_add: entries.clone(),
            ..Commit::default()
        };
        self.store.commit(&commit)?;
        self.next_seq = self.next_seq.saturating_add(entries.len() as u64);
        tracing::debug!(changes = entries.len(), "local write committed");
        for entry in entries {
            self.outbox.insert(entry.seq, entry);
        }
        let debounced = later(now, self.settings.debounce);
        self.push_due = Some(match self.push_due {
            // A write while a push waits out a failure retries at once.
            Some(_) if self.push_failures > 0 => now,
            Some(due) => due.min(debounced),
            None => debounced,
        });
        Ok(sets)
    }

    fn check_table<T: Serialize + DeserializeOwned>(
        &self,
        table: &TableSpec<T>,
    ) -> Result<(), EngineError> {
        if table.app_id() == self.settings.app_id {
            return Ok(());
        }
        Err(EngineError::Sync(Error::InvalidRequest {
            reason: format!(
                "table {} belongs to app {}, and this engine syncs app {}",
                table.table(),
                table.app_id(),
                self.settings.app_id
            ),
        }))
    }

    /// Creates record `id` of a typed table (see [`TableSpec::create_change`]:
    /// its encrypted fields are encrypted before anything is stored).
    pub fn create<T: Serialize + DeserializeOwned>(
        &mut self,
        table: &TableSpec<T>,
        id: &str,
        value: &T,
        key: Option<&MasterKey>,
        now: Timestamp,
    ) -> Result<Vec<ChangeSet>, EngineError> {
        self.check_table(table)?;
        let change = table.create_change(id, value, key, now)?;
        self.write(vec![change], now)
    }

    /// Updates the fields of `patch` on record `id` of a typed table.
    pub fn update<T: Serialize + DeserializeOwned>(
        &mut self,
        table: &TableSpec<T>,
        id: &str,
        patch: Patch<T>,
        key: Option<&MasterKey>,
        now: Timestamp,
    ) -> Result<Vec<ChangeSet>, EngineError> {
        self.check_table(table)?;
        let change = table.update_change(id, patch, key, now)?;
        self.write(vec![change], now)
    }

    /// Soft-deletes record `id` of a typed table.
    pub fn delete<T: Serialize + DeserializeOwned>(
        &mut self,
        table: &TableSpec<T>,
        id: &str,
        now: Timestamp,
    ) -> Result<Vec<ChangeSet>, EngineError> {
        self.check_table(table)?;
        self.write(vec![table.delete_change(id, now)], now)
    }

    // ----------------------------------------------------------------- reads

    /// A record as the local view has it (soft-deleted or not).
    pub fn record(&mut self, table: &str, id: &str) -> Result<Option<Record>, EngineError> {
        Ok(self
            .store
            .slot(table, id)?
            .and_then(|s| s.record().cloned()))
    }

    /// The live (not soft-deleted) records of a typed table, decoded and
    /// decrypted, with those that do not decode reported.
    pub fn list<T: Serialize + DeserializeOwned>(
        &mut self,
        table: &TableSpec<T>,
        key: Option<&MasterKey>,
    ) -> Result<Listing<T>, EngineError> {
        let records = self.store.records(table.table())?;
        Ok(table.decode_all(records.iter().filter(|r| !r.is_deleted()), key))
    }

    /// A record of a typed table, decoded and decrypted (`None`: not there
    /// or soft-deleted).
    pub fn get<T: Serialize + DeserializeOwned>(
        &mut self,
        table: &TableSpec<T>,
        id: &str,
        key: Option<&MasterKey>,
    ) -> Result<Option<T>, EngineError> {
        match self.record(table.table(), id)? {
            Some(record) if !record.is_deleted() => Ok(Some(table.decode(&record, key)?)),
            _ => Ok(None),
        }
    }

    /// The changes the server refused for good.
    pub fn dead_letters(&mut self) -> Result<Vec<DeadLetter>, EngineError> {
        Ok(self.store.dead_letters()?)
    }

    /// Puts a dead letter back in the outbox (e.g. after the server was
    /// fixed), to be pushed again.
    pub fn retry_dead_letter(&mut self, seq: u64, now: Timestamp) -> Result<bool, EngineError> {
        let Some(dead) = self
            .store
            .dead_letters()?
            .into_iter()
            .find(|d| d.entry.seq == seq)
        else {
            return Ok(false);
        };
        let entry = OutboxEntry {
            seq: self.next_seq,
            ..dead.entry
        };
        self.store.commit(&Commit {
            outbox_add: vec![entry.clone()],
            dead_letters_remove: vec![seq],
            ..Commit::default()
        })?;
        self.next_seq = self.next_seq.saturating_add(1);
        self.outbox.insert(entry.seq, entry);
        self.dead_letters = self.dead_letters.saturating_sub(1);
        self.push_due = Some(now);
        Ok(true)
    }

    /// Drops a dead letter for good.
    pub fn discard_dead_letter(&mut self, seq: u64) -> Result<(), EngineError> {
        self.store.commit(&Commit {
            dead_letters_remove: vec![seq],
            ..Commit::default()
        })?;
        self.dead_letters = self.store.dead_letters()?.len();
        Ok(())
    }

    /// The conflict log: local values that lost to later server values.
    pub fn conflicts(&mut self) -> Result<Vec<ConflictEntry>, EngineError> {
        Ok(self.store.conflicts()?)
    }

    /// Empties the conflict log.
    pub fn clear_conflicts(&mut self) -> Result<(), EngineError> {
        self.store.commit(&Commit {
            clear_conflicts: true,
            ..Commit::default()
        })?;
        Ok(())
    }

    /// Change sets of server changes committed since the last call (local
    /// writes return theirs from the write).
    pub fn take_server_changes(&mut self) -> Vec<ChangeSet> {
        std::mem::take(&mut self.server_sets)
    }

    /// What the engine is doing.
    pub fn status(&self, now: Timestamp) -> Status {
        let _ = now;
        Status {
            pending: self.outbox.len(),
            caught_up: self.caught_up_once,
            oldest_pending: self.outbox.values().map(|e| e.written_at).min(),
            dead_letters: self.dead_letters,
            retries: self.push_failures.max(self.pull_failures),
            paused: self.status.paused.clone(),
            unauthorized: self.token_retry.is_some(),
            ..self.status.clone()
        }
    }

    // ---------------------------------------------------------------- events

    /// Connectivity changed (as the app or the OS sees it). Coming online
    /// retries at once and catches every collection up again.
    pub fn on_connectivity(&mut self, online: bool, now: Timestamp) {
        self.status.connected = online;
        if online {
            self.retry_now(now);
            self.queue_round(now);
        }
    }

    /// A fresh token: used from now on, and everything waiting is retried.
    pub fn on_token(&mut self, token: Token, now: Timestamp) {
        self.config.set_token(token);
        self.token_retry = None;
        self.paused_until = None;
        self.status.paused = None;
        self.retry_now(now);
        if !self.pulls.is_empty() {
            self.pull_due = now;
        }
    }

    /// The token source had no fresh token: the old one is tried again after
    /// the backoff.
    pub fn on_token_refused(&mut self, now: Timestamp) {
        let _ = now;
    }

    /// Something arrived on the live stream: the server is reachable, so a
    /// push waiting out a failure is retried at once.
    pub fn on_stream_activity(&mut self, now: Timestamp) {
        self.status.connected = true;
        if self.push_failures > 0 {
            self.retry_now(now);
        }
    }

    fn retry_now(&mut self, now: Timestamp) {
        if !self.outbox.is_empty() {
            self.push_due = Some(now);
        }
        if self.pull_failures > 0 {
            self.pull_due = now;
        }
        if self.token_retry.is_some() {
            self.token_retry = Some((now, true));
        }
        if self.paused_until.is_some() {
            self.paused_until = Some(now);
        }
    }

    fn queue_round(&mut self, now: Timestamp) {
        for collection in &self.settings.collections {
            if !self.pulls.contains(collection) {
                self.pulls.push_back(collection.clone());
            }
        }
        self.pull_due = self.pull_due.min(now);
        self.next_round = None;
    }

    /// What to do next.
    pub fn poll(&mut self, now: Timestamp) -> Instruction {
        if let Some(current) = &mut self.current {
            if current.awaiting {
                return Instruction::Wait { until: None };
            }
            if let Some(request) = current.next.take() {
                current.awaiting = true;
                let purpose = match &current.job {
                    Job::Push { changes, .. } => Purpose::Push { changes: *changes },
                    Job::Pull { collection, .. } => Purpose::Pull {
                        collection: collection.clone(),
                    },
                };
                return Instruction::Send { request, purpose };
            }
            self.current = None;
        }
        if let Some((at, asked)) = self.token_retry {
            if !asked {
                self.token_retry = Some((at, true));
                return Instruction::NeedToken;
            }
            if at > now {
                return Instruction::Wait { until: Some(at) };
            }
            self.token_retry = None;
        }
        if let Some(until) = self.paused_until {
            if until > now {
                return Instruction::Wait { until: Some(until) };
            }
            self.paused_until = None;
        }
        if self.next_round.is_some_and(|t| t <= now) {
            self.queue_round(now);
        }
        if self.push_due.is_some_and(|t| t <= now) {
            if let Some(instruction) = self.start_push(now) {
                return instruction;
            }
        }
        if !self.pulls.is_empty() && self.pull_due <= now {
            if let Some(instruction) = self.start_pull(now) {
                return instruction;
            }
        }
        let pull = (!self.pulls.is_empty()).then_some(self.pull_due);
        let until = [self.push_due, pull, self.next_round]
            .into_iter()
            .flatten()
            .min();
        Instruction::Wait { until }
    }

    fn begin(&mut self, job: Job, request: Request<Vec<u8>>) -> Instruction {
        self.current = Some(Current {
            job,
            next: Some(request),
            awaiting: false,
        });
        self.poll_current()
    }

    fn poll_current(&mut self) -> Instruction {
        // Only called right after `begin`.
        match &mut self.current {
            Some(current) => match current.next.take() {
                Some(request) => {
                    current.awaiting = true;
                    let purpose = match &current.job {
                        Job::Push { changes, .. } => Purpose::Push { changes: *changes },
                        Job::Pull { collection, .. } => Purpose::Pull {
                            collection: collection.clone(),
                        },
                    };
                    Instruction::Send { request, purpose }
                }
                None => Instruction::Wait { until: None },
            },
            None => Instruction::Wait { until: None },
        }
    }

    fn start_push(&mut self, now: Timestamp) -> Option<Instruction> {
        loop {
            let entries: Vec<&OutboxEntry> = match self.isolating.front() {
                Some(group) => group.iter().filter_map(|s| self.outbox.get(s)).collect(),
                None => self.outbox.values().collect(),
            };
            if entries.is_empty() {
                if self.isolating.pop_front().is_some() {
                    continue;
                }
                self.push_due = None;
                return None;
            }
            let mut max = self.settings.max_batch;
            let (batch, push) = loop {
                let batch = next_batch(entries.iter().copied(), max);
                match Push::new(
                    &self.config,
                    &self.settings.app_id,
                    &batch.changes,
                    &self.since,
                ) {
                    Ok(push) if push.request_count() > 1 && batch.changes.len() > 1 => {
                        max = batch.changes.len() / 2;
                    }
                    result => break (batch, result),
                }
            };
            match push {
                Ok(mut op) => match op.step(now) {
                    Step::Send(request) => {
                        tracing::debug!(
                            changes = batch.changes.len(),
                            entries = batch.seqs.len(),
                            "push"
                        );
                        let job = Job::Push {
                            changes: batch.changes.len(),
                            seqs: batch.seqs,
                            op: Box::new(op),
                        };
                        return Some(self.begin(job, request));
                    }
                    Step::Wait(_) | Step::Done(_) => {
                        self.push_failed(now, None, "the push could not start".into());
                        return None;
                    }
                },
                Err(e) => {
                    // The client's own check refused the batch: isolate the
                    // change as the server's 400 would be.
                    if !self.refused(batch.seqs, e.to_string(), now) {
                        return None;
                    }
                }
            }
        }
    }

    fn start_pull(&mut self, now: Timestamp) -> Option<Instruction> {
        let collection = self.pulls.front()?.clone();
        let state = match self.store.collection(&collection) {
            Ok(state) => state,
            Err(e) => {
                self.pull_failed(now, None, e.to_string());
                return None;
            }
        };
        let since = state
            .cursor
            .map_or(Cursor::EPOCH, |c| c.held_back(self.settings.overlap));
        let op = PullAll::new(&self.config, &self.settings.app_id, &collection, &since)
            .map(|op| op.skipping(state.seen).hand_over());
        let mut op = match op {
            Ok(op) => op,
            Err(e) => {
                self.pull_failed(now, None, e.to_string());
                return None;
            }
        };
        match op.step(now) {
            Step::Send(request) => {
                tracing::debug!(collection = %collection, "catch-up");
                let job = Job::Pull {
                    collection,
                    op: Box::new(op),
                    delivered: Seen::new(),
                };
                Some(self.begin(job, request))
            }
            _ => {
                self.pull_failed(now, None, "the pull could not start".into());
                None
            }
        }
    }

    /// The answer to the last [`Instruction::Send`].
    pub fn on_response(
        &mut self,
        now: Timestamp,
        response: Result<Response<Vec<u8>>, TransportError>,
    ) {
        let Some(current) = self.current.take() else {
            tracing::warn!("a response arrived with no request outstanding; ignored");
            return;
        };
        let retry_after = match classify(&response, now) {
            Failure::Transient { retry_after } => retry_after,
            _ => None,
        };
        self.status.connected = response.is_ok();
        match current.job {
            Job::Push { seqs, mut op, .. } => {
                op.on_response(now, response);
                match op.step(now) {
                    Step::Done(Ok(outcome)) => {
                        self.since = outcome.synced_until;
                        self.acknowledged(seqs, now);
                    }
                    Step::Done(Err(e)) => self.push_error(seqs, e, retry_after, now),
                    Step::Send(_) | Step::Wait(_) => {
                        self.push_failed(now, None, "a push took more than one request".into())
                    }
                }
            }
            Job::Pull {
                collection,
                mut op,
                mut delivered,
            } => {
                op.on_response(now, response);
                if let Some((page, bound)) = op.take_page() {
                    let changes: Vec<Change> = page
                        .iter()
                        .map(|c| {
                            let key = match c.event_id() {
                                Some(id) => SeenKey::Event(id.into_owned()),
                                None => SeenKey::of(&c.to_change()),
                            };
                            delivered.insert(key, bound);
                            c.to_change()
                        })
                        .collect();
                    if let Err(e) = self.fold_server(&changes, Vec::new(), now) {
                        self.pull_failed(now, None, e.to_string());
                        return;
                    }
                }
                match op.step(now) {
                    Step::Send(request) => {
                        self.current = Some(Current {
                            job: Job::Pull {
                                collection,
                                op,
                                delivered,
                            },
                            next: Some(request),
                            awaiting: false,
                        });
                    }
                    Step::Done(Ok(outcome)) => {
                        for (key, bound) in outcome.refreshed {
                            delivered.insert(key, bound);
                        }
                        self.caught_up(&collection, outcome.resume, delivered, now);
                    }
                    Step::Done(Err(e)) => {
                        let reason = e.to_string();
                        match e {
                            Error::Unauthorized { .. } => self.need_token(now),
                            Error::PaymentRequired { .. } => self.pause(now, reason),
                            _ => self.pull_failed(now, retry_after, reason),
                        }
                    }
                    Step::Wait(d) => self.pull_failed(now, Some(d), "waiting".into()),
                }
            }
        }
    }

    fn caught_up(&mut self, collection: &str, resume: Cursor, delivered: Seen, now: Timestamp) {
        let mut state = match self.store.collection(collection) {
            Ok(state) => state,
            Err(e) => return self.pull_failed(now, None, e.to_string()),
        };
        // The live stream may have moved it further meanwhile.
        advance(&mut state, &resume, delivered, self.settings.overlap);
        let commit = Commit {
            collections: vec![(collection.to_owned(), state)],
            ..Commit::default()
        };
        if let Err(e) = self.store.commit(&commit) {
            return self.pull_failed(now, None, e.to_string());
        }
        tracing::debug!(collection = %collection, cursor = %resume, "caught up");
        self.since = self.since.clone().max(resume);
        self.status.last_pull = Some(now);
        self.status.paused = None;
        self.pull_failures = 0;
        self.pulls.pop_front();
        if self.pulls.is_empty() {
            self.caught_up_once = true;
            self.next_round = self.settings.repull_every.map(|d| later(now, d));
        }
    }

    /// Folds server changes over the local records in one commit (with a
    /// collection state to move in the same commit, for the stream).
    pub(crate) fn fold_server(
        &mut self,
        changes: &[Change],
        collections: Vec<(String, CollectionState)>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut fold = Overlay::default();
        for change in changes {
            fold.apply(&mut self.store, change)?;
        }
        let (slots, sets, conflicts) = fold.finish(Source::Server);
        let conflicts: Vec<ConflictEntry> = conflicts
            .into_iter()
            .map(|conflict| ConflictEntry { conflict, at: now })
            .collect();
        let commit = Commit {
            slots,
            conflicts,
            collections,
            ..Commit::default()
        };
        if !commit.is_empty() {
            self.store.commit(&commit)?;
        }
        self.server_sets.extend(sets);
        Ok(())
    }

    fn acknowledged(&mut self, seqs: Vec<u64>, now: Timestamp) {
        let commit = Commit {
            outbox_remove: seqs.clone(),
            ..Commit::default()
        };
        if let Err(e) = self.store.commit(&commit) {
            // The entries stay and are pushed again: harmless (the server
            // folds a change twice to the same result).
            return self.push_failed(now, None, e.to_string());
        }
        tracing::debug!(entries = seqs.len(), "push acknowledged");
        for seq in &seqs {
            self.outbox.remove(seq);
        }
        if self.isolating.front().is_some_and(|g| *g == seqs) {
            self.isolating.pop_front();
        }
        self.push_failures = 0;
        self.status.paused = None;
        self.status.last_push = Some(now);
        self.status.last_error = None;
        self.push_due = (!self.outbox.is_empty()).then_some(now);
    }

    fn push_error(
        &mut self,
        seqs: Vec<u64>,
        error: Error,
        retry_after: Option<Duration>,
        now: Timestamp,
    ) {
        let reason = error.to_string();
        match error {
            Error::BadRequest { message } => {
                self.refused(seqs, message, now);
            }
            Error::Unauthorized { .. } => {
                self.push_failures = self.push_failures.saturating_add(1);
                self.need_token(now);
            }
            Error::PaymentRequired { .. } => self.pause(now, reason),
            _ => self.push_failed(now, retry_after, reason),
        }
    }

    /// A batch was refused for good: bisect it, or dead-letter its one
    /// entry. Whether another push may start now.
    fn refused(&mut self, seqs: Vec<u64>, reason: String, now: Timestamp) -> bool {
        let reason = bound(&reason, crate::limits::ERROR_BODY_CHARS);
        if self.isolating.front().is_some_and(|g| *g == seqs) {
            self.isolating.pop_front();
        }
        if seqs.len() > 1 {
            let mut first = seqs;
            let second = first.split_off(first.len() / 2);
            self.isolating.push_front(second);
            self.isolating.push_front(first);
            self.push_due = Some(now);
            return true;
        }
        let Some(entry) = seqs.first().and_then(|s| self.outbox.get(s)).cloned() else {
            return true;
        };
        tracing::warn!(table = %entry.change.table, seq = entry.seq, "change refused for good; dead-lettered");
        let commit = Commit {
            outbox_remove: vec![entry.seq],
            dead_letters: vec![DeadLetter {
                entry: entry.clone(),
                reason: reason.clone(),
                at: now,
            }],
            ..Commit::default()
        };
        if let Err(e) = self.store.commit(&commit) {
            self.push_failed(now, None, e.to_string());
            return false;
        }
        self.outbox.remove(&entry.seq);
        self.dead_letters = self.dead_letters.saturating_add(1);
        self.status.last_error = Some(reason);
        self.push_due = (!self.outbox.is_empty()).then_some(now);
        true
    }

    fn backoff(&mut self, failures: u32, retry_after: Option<Duration>) -> Duration {
        self.settings
            .retry
            .wait(failures.saturating_sub(1), retry_after, &mut self.rng)
    }

    fn push_failed(&mut self, now: Timestamp, retry_after: Option<Duration>, reason: String) {
        self.push_failures = self.push_failures.saturating_add(1);
        let wait = self.backoff(self.push_failures, retry_after);
        tracing::debug!(
            failures = self.push_failures,
            wait_ms = wait.as_millis() as u64,
            "push failed; retrying"
        );
        self.status.last_error = Some(bound(&reason, crate::limits::ERROR_BODY_CHARS));
        self.push_due = Some(later(now, wait));
    }

    fn pull_failed(&mut self, now: Timestamp, retry_after: Option<Duration>, reason: String) {
        self.pull_failures = self.pull_failures.saturating_add(1);
        let wait = self.backoff(self.pull_failures, retry_after);
        tracing::debug!(
            failures = self.pull_failures,
            wait_ms = wait.as_millis() as u64,
            "pull failed; retrying"
        );
        self.status.last_error = Some(bound(&reason, crate::limits::ERROR_BODY_CHARS));
        self.pull_due = later(now, wait);
    }

    fn need_token(&mut self, now: Timestamp) {
        let failures = self.push_failures.max(self.pull_failures).max(1);
        let wait = self.backoff(failures, None);
        self.status.last_error = Some("the server refused the token (401)".into());
        self.token_retry = Some((later(now, wait), false));
    }

    fn pause(&mut self, now: Timestamp, reason: String) {
        tracing::warn!("sync paused by the server (402)");
        let reason = bound(&reason, crate::limits::ERROR_BODY_CHARS);
        self.status.paused = Some(reason);
        self.paused_until = Some(later(now, self.settings.payment_retry));
    }
}

/// Moves a collection's read point to `cursor`, never back (a catch-up and
/// the live stream both move it), and remembers what the read `delivered`,
/// forgetting what lies two overlaps before `cursor`.
fn advance(state: &mut CollectionState, cursor: &Cursor, delivered: Seen, overlap: Duration) {
    let keep_from = cursor.held_back(overlap).held_back(overlap).timestamp();
    state.seen.merge(delivered);
    state.seen.forget_before(keep_from);
    state.cursor = Some(match state.cursor.take() {
        Some(stored) => stored.max(cursor.clone()),
        None => cursor.clone(),
    });
}

/// `d` after `now` (`now` itself in the year 9999).
fn later(now: Timestamp, d: Duration) -> Timestamp {
    now.checked_add(d).unwrap_or(now)
}

/// Records folded in one commit: their state before and after.
#[derive(Default)]
struct Overlay {
    before: HashMap<(String, String), Option<Slot>>,
    after: BTreeMap<(String, String), Option<Slot>>,
    conflicts: Vec<crate::fold::FoldConflict>,
}

impl Overlay {
    fn apply<S: Store>(&mut self, store: &mut S, change: &Change) -> Result<(), StoreError> {
        let key = (change.table.clone(), change.id.clone());
        let held = match self.after.get(&key) {
            Some(slot) => slot.clone(),
            None => {
                let slot = store.slot(&key.0, &key.1)?;
                self.before.insert(key.clone(), slot.clone());
                slot
            }
        };
        let (slot, applied) = Slot::fold(held, change);
        if let Applied::Applied(conflicts) = applied {
            self.conflicts.extend(conflicts);
        }
        self.after.insert(key, slot);
        Ok(())
    }

    /// The slots to write (only those that changed), the change sets and
    /// the conflicts.
    #[allow(clippy::type_complexity)]
    fn finish(
        self,
        source: Source,
    ) -> (
        Vec<(String, String, Option<Slot>)>,
        Vec<ChangeSet>,
        Vec<crate::fold::FoldConflict>,
    ) {
        let mut slots = Vec::new();
        let mut changed: Vec<(String, RecordChange)> = Vec::new();
        for ((table, id), after) in self.after {
            let before = self
                .before
                .get(&(table.clone(), id.clone()))
                .cloned()
                .flatten();
            if before == after {
                continue;
            }
            if let Some(change) = diff(&id, before.as_ref(), after.as_ref()) {
                changed.push((table.clone(), change));
            }
            slots.push((table, id, after));
        }
        (slots, group(source, changed), self.conflicts)
    }
}
