//! [`EngineHandle`]: an engine shared between the app (writes, reads,
//! subscriptions, status) and the driver that syncs it in the background
//! (a thread over a [`BlockingTransport`], or a task over an
//! [`AsyncTransport`]). Everything but the IO loop is written once here.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use http::{Request, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::feed::{Feed, Item, Signal};
use super::{
    ChangeSet, ConflictEntry, DeadLetter, Engine, EngineError, Instruction, Status, Store,
};
use crate::crypto::MasterKey;
use crate::fold::Record;
use crate::{
    AsyncTransport, BlockingTransport, Change, Clock, Listing, Patch, TableSpec, TokenSource,
    TransportError,
};

/// How many change sets a subscriber may fall behind before it is told to
/// resync.
const SUBSCRIBER_CAPACITY: usize = 1024;

/// What a subscription hands out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Update {
    /// What one commit changed in the table.
    Changes(ChangeSet),
    /// The subscriber fell behind and change sets were dropped: read the
    /// table again.
    Resync,
}

struct Subscriber {
    table: Option<String>,
    feed: Arc<Feed<Update>>,
}

struct Shared<S> {
    engine: Mutex<Engine<S>>,
    clock: Arc<dyn Clock>,
    tokens: Option<Arc<dyn TokenSource>>,
    signal: Arc<Signal>,
    stopped: AtomicBool,
    subscribers: Mutex<Vec<Subscriber>>,
    statuses: Mutex<Vec<Arc<Feed<Status>>>>,
    last_status: Mutex<Option<Status>>,
}

/// An [`Engine`] shared by the app and its driver. Clone it freely: every
/// clone is the same engine.
///
/// Writes and reads lock the engine for the length of one store call; the
/// driver never holds it across the network.
///
/// ```
/// use mana_sync_core::engine::{EngineHandle, EngineSettings, MemoryStore, Update};
/// use mana_sync_core::{Change, Config, SystemClock};
/// use mana_sync_testkit::{token_for, InProcess, MemoryServer};
///
/// let net = InProcess::new(MemoryServer::new(), Default::default());
/// let config = Config::new("http://sync.test", token_for("user-1"), "laptop")?;
/// // In process a stream read never waits (it answers a heartbeat at once),
/// // so this example syncs by requests only; over a network, leave `live` on.
/// let settings = EngineSettings::new("todo", &["tasks"])
///     .debounce(std::time::Duration::ZERO)
///     .live(false);
/// let engine = EngineHandle::open(MemoryStore::new(), config, settings, SystemClock)?;
/// let mut changes = engine.subscribe(Some("tasks"));
/// let driver = engine.spawn_blocking(net.clone());
///
/// let now = engine.now();
/// engine.write(vec![Change::update("tasks", "t-1").with_field("title", "Buy milk", now)])?;
/// assert!(matches!(changes.next(), Some(Update::Changes(set)) if set.records[0].id == "t-1"));
/// for status in engine.watch_status() {
///     if status.pending == 0 { break; } // pushed by the background thread
/// }
/// engine.stop();
/// driver.join().ok();
/// assert_eq!(net.server().stored_count("user-1"), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct EngineHandle<S> {
    shared: Arc<Shared<S>>,
}

impl<S> Clone for EngineHandle<S> {
    fn clone(&self) -> Self {
        EngineHandle {
            shared: Arc::clone(&self.shared),
        }
    }
}

/// What the IO loop does next (both drivers); built and matched once.
#[allow(clippy::large_enum_variant)]
enum Io {
    Send(Request<Vec<u8>>),
    Wait(Option<Duration>),
    Stop,
}

/// What the live loop does next (both drivers); built and matched once.
enum Live {
    /// Open this stream (boxed: it is large, and built once per connection).
    Open(Box<crate::ops::Stream>),
    /// Wait until the signal moves past this generation.
    WaitForChange(u64),
    Sleep(Duration),
    Stop,
}

impl<S: Store + 'static> EngineHandle<S> {
    /// Opens the engine over `store` (see [`Engine::open`]), reading time
    /// from `clock`.
    pub fn open(
        store: S,
        config: crate::Config,
        settings: super::EngineSettings,
        clock: impl Clock,
    ) -> Result<EngineHandle<S>, EngineError> {
        let engine = Engine::open(store, config, settings, clock.now())?;
        Ok(EngineHandle::from_engine(engine, clock))
    }

    /// Shares an engine already open.
    pub fn from_engine(engine: Engine<S>, clock: impl Clock) -> EngineHandle<S> {
        EngineHandle {
            shared: Arc::new(Shared {
                engine: Mutex::new(engine),
                clock: Arc::new(clock),
                tokens: None,
                signal: Arc::default(),
                stopped: AtomicBool::new(false),
                subscribers: Mutex::default(),
                statuses: Mutex::default(),
                last_status: Mutex::default(),
            }),
        }
    }

    /// Where fresh tokens come from after a 401 (set before the driver
    /// starts; a clone made before does not see it).
    pub fn with_token_source(mut self, source: impl TokenSource + 'static) -> EngineHandle<S> {
        if let Some(shared) = Arc::get_mut(&mut self.shared) {
            shared.tokens = Some(Arc::new(source));
        }
        self
    }

    fn engine(&self) -> MutexGuard<'_, Engine<S>> {
        self.shared
            .engine
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The handle's clock.
    pub fn now(&self) -> crate::Timestamp {
        self.shared.clock.now()
    }

    /// Runs `f` on the engine for the app, then hands out what changed and
    /// wakes the driver.
    fn with<R>(&self, f: impl FnOnce(&mut Engine<S>) -> R) -> R {
        let result = self.driving(f);
        self.shared.signal.bump();
        result
    }

    /// Runs `f` on the engine for the driver (which needs no wake-up), then
    /// hands out what changed.
    fn driving<R>(&self, f: impl FnOnce(&mut Engine<S>) -> R) -> R {
        let (result, sets, status, went_live) = {
            let mut engine = self.engine();
            let could = engine.can_go_live();
            let result = f(&mut engine);
            let sets = engine.take_server_changes();
            let went_live = !could && engine.can_go_live();
            (result, sets, engine.status(self.now()), went_live)
        };
        self.publish(sets, status);
        if went_live {
            // The live loop waits for this.
            self.shared.signal.bump();
        }
        result
    }

    fn publish(&self, sets: Vec<ChangeSet>, status: Status) {
        if !sets.is_empty() {
            let subscribers = self
                .shared
                .subscribers
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            for set in sets {
                for s in subscribers.iter() {
                    if s.table.as_deref().is_none_or(|t| t == set.table) {
                        s.feed.push(Update::Changes(set.clone()));
                    }
                }
            }
        }
        let mut last = self
            .shared
            .last_status
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if last.as_ref() != Some(&status) {
            for feed in self
                .shared
                .statuses
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .iter()
            {
                feed.push(status.clone());
            }
            *last = Some(status);
        }
    }

    fn local(&self, result: Result<Vec<ChangeSet>, EngineError>) -> Result<(), EngineError> {
        let sets = result?;
        let status = self.status();
        self.publish(sets, status);
        Ok(())
    }

    // ------------------------------------------------------------ the app's

    /// Writes raw changes (see [`Engine::write`]).
    pub fn write(&self, changes: Vec<Change>) -> Result<(), EngineError> {
        let now = self.now();
        self.local(self.with(|e| e.write(changes, now)))
    }

    /// Creates a record of a typed table (see [`Engine::create`]).
    pub fn create<T: Serialize + DeserializeOwned>(
        &self,
        table: &TableSpec<T>,
        id: &str,
        value: &T,
        key: Option<&MasterKey>,
    ) -> Result<(), EngineError> {
        let now = self.now();
        self.local(self.with(|e| e.create(table, id, value, key, now)))
    }

    /// Updates a record of a typed table (see [`Engine::update`]).
    pub fn update<T: Serialize + DeserializeOwned>(
        &self,
        table: &TableSpec<T>,
        id: &str,
        patch: Patch<T>,
        key: Option<&MasterKey>,
    ) -> Result<(), EngineError> {
        let now = self.now();
        self.local(self.with(|e| e.update(table, id, patch, key, now)))
    }

    /// Soft-deletes a record of a typed table.
    pub fn delete<T: Serialize + DeserializeOwned>(
        &self,
        table: &TableSpec<T>,
        id: &str,
    ) -> Result<(), EngineError> {
        let now = self.now();
        self.local(self.with(|e| e.delete(table, id, now)))
    }

    /// A record as the local view has it.
    pub fn record(&self, table: &str, id: &str) -> Result<Option<Record>, EngineError> {
        self.engine().record(table, id)
    }

    /// The live records of a typed table, decoded and decrypted.
    pub fn list<T: Serialize + DeserializeOwned>(
        &self,
        table: &TableSpec<T>,
        key: Option<&MasterKey>,
    ) -> Result<Listing<T>, EngineError> {
        self.engine().list(table, key)
    }

    /// A record of a typed table, decoded and decrypted.
    pub fn get<T: Serialize + DeserializeOwned>(
        &self,
        table: &TableSpec<T>,
        id: &str,
        key: Option<&MasterKey>,
    ) -> Result<Option<T>, EngineError> {
        self.engine().get(table, id, key)
    }

    /// The changes the server refused for good.
    pub fn dead_letters(&self) -> Result<Vec<DeadLetter>, EngineError> {
        self.engine().dead_letters()
    }

    /// The conflict log.
    pub fn conflicts(&self) -> Result<Vec<ConflictEntry>, EngineError> {
        self.engine().conflicts()
    }

    /// Empties the conflict log.
    pub fn clear_conflicts(&self) -> Result<(), EngineError> {
        self.engine().clear_conflicts()
    }

    /// What the engine is doing.
    pub fn status(&self) -> Status {
        self.engine().status(self.now())
    }

    /// Tells the engine that connectivity changed (coming online retries
    /// at once).
    pub fn set_online(&self, online: bool) {
        let now = self.now();
        self.with(|e| e.on_connectivity(online, now));
    }

    /// The change sets of `table` (every table: `None`), once per commit,
    /// from now on: an iterator that blocks (or a `Stream`, with
    /// [`Subscription::into_stream`]).
    pub fn subscribe(&self, table: Option<&str>) -> Subscription {
        let feed = Feed::new(SUBSCRIBER_CAPACITY, false);
        self.shared
            .subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Subscriber {
                table: table.map(str::to_owned),
                feed: Arc::clone(&feed),
            });
        Subscription(feed)
    }

    /// The status each time it changes, starting with the current one: an
    /// iterator that blocks (or a `Stream`, with [`StatusWatch::into_stream`]).
    pub fn watch_status(&self) -> StatusWatch {
        let feed = Feed::new(1, true);
        feed.push(self.status());
        self.shared
            .statuses
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Arc::clone(&feed));
        StatusWatch(feed)
    }

    /// Stops the driver (it returns after the request under way, if any)
    /// and ends subscriptions.
    pub fn stop(&self) {
        self.shared.stopped.store(true, Ordering::SeqCst);
        self.shared.signal.bump();
        for s in self
            .shared
            .subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            s.feed.close();
        }
        for feed in self
            .shared
            .statuses
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            feed.close();
        }
    }

    // ----------------------------------------------------- the drivers' core

    /// What the driver does next: the engine's instruction, with tokens
    /// fetched here.
    fn next_io(&self) -> Io {
        loop {
            if self.stopped() {
                return Io::Stop;
            }
            let now = self.now();
            let instruction = self.driving(|e| e.poll(now));
            match instruction {
                Instruction::Send { request, purpose } => {
                    tracing::debug!(?purpose, "sync request");
                    return Io::Send(request);
                }
                Instruction::NeedToken => {
                    let current = self.engine().token();
                    let fresh = self
                        .shared
                        .tokens
                        .as_ref()
                        .and_then(|s| s.fresh_token(&current));
                    let now = self.now();
                    match fresh {
                        Some(token) => self.driving(|e| e.on_token(token, now)),
                        None => self.driving(|e| e.on_token_refused(now)),
                    }
                }
                Instruction::Wait { until } => {
                    return Io::Wait(until.map(|t| t.saturating_duration_since(now)));
                }
            }
        }
    }

    fn deliver(&self, response: Result<Response<Vec<u8>>, TransportError>) {
        let now = self.now();
        self.driving(|e| e.on_response(now, response));
    }

    fn stopped(&self) -> bool {
        self.shared.stopped.load(Ordering::SeqCst)
    }

    /// What the live loop does next (both drivers): open the engine's
    /// stream, wait for a change of state, back off, or stop.
    fn next_live(&self) -> Live {
        let seen = self.shared.signal.generation();
        if self.stopped() || !self.engine().settings().live {
            return Live::Stop;
        }
        match self.driving(|e| e.live_stream()) {
            Ok(Some(op)) => Live::Open(Box::new(op)),
            Ok(None) => Live::WaitForChange(seen),
            Err(error) => Live::Sleep(self.live_ended(&error)),
        }
    }

    /// The handle's clock, for a client the driver builds.
    fn clock(&self) -> impl crate::Clock {
        let clock = Arc::clone(&self.shared.clock);
        move || clock.now()
    }

    fn live_event(&self, event: &crate::ops::StreamEvent) {
        let now = self.now();
        self.driving(|e| e.on_stream_event(event, now));
    }

    fn live_ended(&self, error: &EngineError) -> Duration {
        let now = self.now();
        self.driving(|e| e.on_stream_end(error, now))
    }

    /// Syncs on this thread over `transport` until [`EngineHandle::stop`]:
    /// pushes and catch-ups. The live stream needs a thread of its own
    /// ([`EngineHandle::run_live_blocking`]); [`EngineHandle::spawn_blocking`]
    /// starts both.
    pub fn run_blocking<T: BlockingTransport>(&self, transport: &T) {
        loop {
            let seen = self.shared.signal.generation();
            match self.next_io() {
                Io::Send(request) => self.deliver(transport.send(request)),
                Io::Wait(wait) => self.shared.signal.wait(seen, wait),
                Io::Stop => return,
            }
        }
    }

    /// Keeps the live stream open on this thread over `transport`
    /// ([`super::EngineSettings::live`]; it returns at once when that is
    /// off): it opens once every collection caught up, folds each batch as
    /// it arrives, reconnects, and asks for a fresh token through the
    /// requests' loop. It sees [`EngineHandle::stop`] between two events (a
    /// read in progress ends at the server's next heartbeat at the latest).
    pub fn run_live_blocking<T: BlockingTransport>(&self, transport: &T) {
        loop {
            let op = match self.next_live() {
                Live::Open(op) => op,
                Live::WaitForChange(seen) => {
                    self.shared.signal.wait(seen, None);
                    continue;
                }
                Live::Sleep(wait) => {
                    transport.sleep(wait);
                    continue;
                }
                Live::Stop => return,
            };
            let client = crate::BlockingClient::new(self.engine().config().clone(), transport)
                .with_clock(self.clock());
            for event in client.run_stream(*op) {
                if self.stopped() {
                    return;
                }
                match event {
                    Ok(event) => self.live_event(&event),
                    Err(error) => {
                        transport.sleep(self.live_ended(&error.into()));
                        break;
                    }
                }
            }
        }
    }

    /// Syncs in the background over `transport` until
    /// [`EngineHandle::stop`]: a thread for pushes and catch-ups (the one
    /// returned: it ends soon after `stop`), and one for the live stream
    /// when it is on (it ends at its next event after `stop`).
    pub fn spawn_blocking<T>(&self, transport: T) -> std::thread::JoinHandle<()>
    where
        T: BlockingTransport + Send + Sync + 'static,
    {
        let transport = Arc::new(transport);
        if self.engine().settings().live {
            let handle = self.clone();
            let live = Arc::clone(&transport);
            std::thread::spawn(move || handle.run_live_blocking(&*live));
        }
        let handle = self.clone();
        std::thread::spawn(move || handle.run_blocking(&*transport))
    }

    /// Resolves once [`EngineHandle::stop`] was called.
    async fn until_stopped(&self) {
        loop {
            let seen = self.shared.signal.generation();
            if self.stopped() {
                return;
            }
            self.shared.signal.changed(seen).await;
        }
    }

    /// Waits `wait` over `transport`, or until [`EngineHandle::stop`].
    async fn pause_async<T: AsyncTransport>(&self, transport: &T, wait: Duration) {
        let sleep = std::pin::pin!(transport.sleep(wait));
        let stop = std::pin::pin!(self.until_stopped());
        futures_util::future::select(sleep, stop).await;
    }

    /// Keeps the live stream open as a task over `transport` (what
    /// [`EngineHandle::run_live_blocking`] does on a thread); it returns at
    /// once after [`EngineHandle::stop`]. [`EngineHandle::run_async`] runs
    /// it beside the requests.
    pub async fn run_live_async<T: AsyncTransport>(&self, transport: &T) {
        use futures_util::future::{select, Either};
        use futures_util::StreamExt;
        loop {
            let op = match self.next_live() {
                Live::Open(op) => op,
                Live::WaitForChange(seen) => {
                    self.shared.signal.changed(seen).await;
                    continue;
                }
                Live::Sleep(wait) => {
                    self.pause_async(transport, wait).await;
                    continue;
                }
                Live::Stop => return,
            };
            let client = crate::AsyncClient::new(self.engine().config().clone(), transport)
                .with_clock(self.clock());
            let mut events = std::pin::pin!(client.run_stream(*op));
            loop {
                let seen = self.shared.signal.generation();
                if self.stopped() {
                    return;
                }
                match select(events.next(), self.shared.signal.changed(seen)).await {
                    Either::Left((Some(Ok(event)), _)) => self.live_event(&event),
                    Either::Left((Some(Err(error)), _)) => {
                        self.pause_async(transport, self.live_ended(&error.into()))
                            .await;
                        break;
                    }
                    Either::Left((None, _)) => break,
                    // Something else happened (a write, or `stop`): look.
                    Either::Right(_) => {}
                }
            }
        }
    }

    /// Syncs as a task over `transport` until [`EngineHandle::stop`]
    /// (spawn it on your runtime): pushes and catch-ups, and the live
    /// stream beside them when it is on.
    pub async fn run_async<T: AsyncTransport>(&self, transport: &T) {
        futures_util::future::join(
            self.run_requests_async(transport),
            self.run_live_async(transport),
        )
        .await;
    }

    /// Pushes and catch-ups as a task, without the live stream.
    async fn run_requests_async<T: AsyncTransport>(&self, transport: &T) {
        loop {
            let seen = self.shared.signal.generation();
            match self.next_io() {
                Io::Send(request) => {
                    let response = transport.send(request).await;
                    self.deliver(response);
                }
                Io::Wait(wait) => {
                    let woken = self.shared.signal.changed(seen);
                    match wait {
                        Some(d) => {
                            let sleep = std::pin::pin!(transport.sleep(d));
                            futures_util::future::select(sleep, woken).await;
                        }
                        None => woken.await,
                    }
                }
                Io::Stop => return,
            }
        }
    }
}

/// A table's change sets: blocking with [`Iterator::next`], async with
/// [`Subscription::into_stream`]. Ends when the engine stops.
pub struct Subscription(Arc<Feed<Update>>);

fn update(item: Item<Update>) -> Update {
    match item {
        Item::Value(update) => update,
        Item::Lagged => Update::Resync,
    }
}

impl Subscription {
    /// The next change set if one is waiting, without blocking.
    pub fn try_next(&self) -> Option<Update> {
        self.0.try_next().map(update)
    }
}

impl Iterator for Subscription {
    type Item = Update;

    fn next(&mut self) -> Option<Update> {
        self.0.next_blocking().map(update)
    }
}

impl Subscription {
    /// The same subscription as a `futures` `Stream`.
    pub fn into_stream(self) -> SubscriptionStream {
        SubscriptionStream(self.0)
    }
}

/// A [`Subscription`] read asynchronously.
pub struct SubscriptionStream(Arc<Feed<Update>>);

impl futures_core::Stream for SubscriptionStream {
    type Item = Update;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Update>> {
        self.0.poll_next(cx).map(|o| o.map(update))
    }
}

/// The engine's status each time it changes (the latest only: a reader
/// that falls behind skips to the newest).
pub struct StatusWatch(Arc<Feed<Status>>);

fn status(item: Item<Status>) -> Option<Status> {
    match item {
        Item::Value(status) => Some(status),
        Item::Lagged => None,
    }
}

impl Iterator for StatusWatch {
    type Item = Status;

    fn next(&mut self) -> Option<Status> {
        loop {
            match self.0.next_blocking() {
                Some(item) => {
                    if let Some(s) = status(item) {
                        return Some(s);
                    }
                }
                None => return None,
            }
        }
    }
}

impl StatusWatch {
    /// The same watch as a `futures` `Stream`.
    pub fn into_stream(self) -> StatusStream {
        StatusStream(self.0)
    }
}

/// A [`StatusWatch`] read asynchronously.
pub struct StatusStream(Arc<Feed<Status>>);

impl futures_core::Stream for StatusStream {
    type Item = Status;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Status>> {
        loop {
            match self.0.poll_next(cx) {
                Poll::Ready(Some(item)) => {
                    if let Some(s) = status(item) {
                        return Poll::Ready(Some(s));
                    }
                }
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}
