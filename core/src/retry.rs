//! Retries: which failures are worth another attempt ([`RetryPolicy`]), how
//! long to wait before it (exponential backoff with full jitter, or the
//! server's `Retry-After`), and [`Retrying`], the wrapper that gives any
//! [`Operation`] that behaviour through [`Step::Wait`].
//!
//! The wrapper sits between an operation and its driver: when a request
//! fails transiently it waits and sends *the same request* again, and the
//! operation never sees the failure. So a retried pull keeps its cursor,
//! [`crate::ops::PullAll`] resumes at the page that failed and
//! [`crate::ops::Push`] at the request that failed. Push is at-least-once
//! (each change is stored in its own transaction, so a failed request may
//! have stored a prefix of its changes): a re-sent request may store some
//! changes twice, which is harmless, because folding a change again changes
//! nothing (see [`crate::fold`]).

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use http::{header, HeaderMap, Request, Response, StatusCode};
/// The trait of random number generators that [`RetryPolicy::backoff`] and
/// [`JitterRng`] speak (`rand_core` 0.6).
pub use rand_core::RngCore;

use crate::{Operation, Step, Timestamp, Token, TransportError};

/// When and how often to try again.
///
/// Transient failures are network errors (refused, reset, broken
/// responses), timeouts, and the statuses 408, 429 and 5xx (a proxy's HTML
/// 502 included). Everything else (other 4xx, an oversized response, a body
/// that does not decode) is permanent and never retried.
///
/// **The default rides out an outage of half a minute**: a request that
/// fails transiently is tried again until 30 s have passed since its first
/// failure (the last wait is cut so that one more attempt is made at the
/// end of the budget), each wait drawn from `floor..=min(cap, base ·
/// 2^retry)` with a 0.25 s floor, a 0.5 s base and an 8 s cap, so that a
/// restart of the server, or a proxy failing over, does not end a push in
/// [`crate::Error::PartialPush`]. A `Retry-After` header (seconds or an
/// HTTP date) is honoured instead, up to [`RetryPolicy::max_retry_after`]
/// (and the budget). The budget is per request: a push or a paged pull
/// whose requests fail at different times gets it afresh for each.
///
/// [`RetryPolicy::browser`] is what the browser's client does: 3 attempts,
/// full jitter from zero, no time budget.
///
/// ```
/// # use mana_sync_core::surface as mana_sync_ureq;
/// use std::time::Duration;
/// use mana_sync_ureq::RetryPolicy;
///
/// let policy = RetryPolicy::default();
/// assert_eq!(policy.budget(), Some(Duration::from_secs(30)));
/// let patient = policy.budget_of(Some(Duration::from_secs(120))).cap(Duration::from_secs(30));
/// assert_eq!(patient.budget(), Some(Duration::from_secs(120)));
/// assert_eq!(RetryPolicy::browser().attempts(), 3);
/// assert_eq!(RetryPolicy::none().attempts(), 1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    base: Duration,
    cap: Duration,
    floor: Duration,
    budget: Option<Duration>,
    max_retry_after: Duration,
}

/// The default policy's time budget per request.
pub const DEFAULT_RETRY_BUDGET: Duration = Duration::from_secs(30);

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: u32::MAX,
            base: Duration::from_millis(500),
            cap: Duration::from_secs(8),
            floor: Duration::from_millis(250),
            budget: Some(DEFAULT_RETRY_BUDGET),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// One attempt, no retries.
    pub fn none() -> RetryPolicy {
        RetryPolicy::browser().max_attempts(1)
    }

    /// The browser's policy: 3 attempts in all, waits drawn uniformly from
    /// `0..=min(8 s, 0.5 s · 2^retry)` ("full jitter"), no time budget.
    pub fn browser() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 3,
            floor: Duration::ZERO,
            budget: None,
            ..RetryPolicy::default()
        }
    }

    /// Attempts in all, the first included (at least 1; with a budget,
    /// whichever runs out first ends the retries).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The first retry's longest wait; each later one doubles it.
    pub fn base(mut self, base: Duration) -> Self {
        self.base = base;
        self
    }

    /// The longest wait drawn by the backoff.
    pub fn cap(mut self, cap: Duration) -> Self {
        self.cap = cap;
        self
    }

    /// The shortest wait drawn by the backoff (at most the cap).
    pub fn floor(mut self, floor: Duration) -> Self {
        self.floor = floor;
        self
    }

    /// How long after a request's first failure it is still tried again
    /// (`None`: as long as attempts are left).
    pub fn budget_of(mut self, budget: Option<Duration>) -> Self {
        self.budget = budget;
        self
    }

    /// The longest wait a server's `Retry-After` can ask for (default 60 s);
    /// a longer one is cut to this.
    pub fn max_retry_after(mut self, max: Duration) -> Self {
        self.max_retry_after = max;
        self
    }

    /// Attempts in all.
    pub fn attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The time budget per request.
    pub fn budget(&self) -> Option<Duration> {
        self.budget
    }

    /// The wait before retry number `retry` (0 for the first retry): drawn
    /// uniformly from `floor..=min(cap, base · 2^retry)`.
    pub fn backoff(&self, retry: u32, rng: &mut dyn RngCore) -> Duration {
        let ceiling = self
            .base
            .checked_mul(1u32.checked_shl(retry).unwrap_or(u32::MAX))
            .unwrap_or(self.cap)
            .min(self.cap);
        let floor = self.floor.min(self.cap);
        let span = ceiling.saturating_sub(floor);
        let nanos = u64::try_from(span.as_nanos()).unwrap_or(u64::MAX);
        if nanos == 0 {
            return ceiling.max(floor);
        }
        // Uniform in 0..=nanos; the modulo bias is negligible for jitter.
        floor.saturating_add(Duration::from_nanos(
            rng.next_u64() % nanos.saturating_add(1),
        ))
    }

    /// How long to wait before the next attempt, after attempt number
    /// `attempt` (1-based) failed transiently `elapsed` after the request's
    /// first failure, or `None` when none is left.
    fn delay(
        &self,
        attempt: u32,
        elapsed: Duration,
        retry_after: Option<Duration>,
        rng: &mut dyn RngCore,
    ) -> Option<Duration> {
        if attempt >= self.max_attempts {
            return None;
        }
        let wait = self.wait(attempt.saturating_sub(1), retry_after, rng);
        match self.budget {
            None => Some(wait),
            Some(budget) if elapsed >= budget => None,
            Some(budget) => Some(wait.min(budget.saturating_sub(elapsed))),
        }
    }

    /// The wait before retry number `retry` (0 for the first): what the
    /// server asked for, up to the maximum, else the backoff.
    pub(crate) fn wait(
        &self,
        retry: u32,
        retry_after: Option<Duration>,
        rng: &mut dyn RngCore,
    ) -> Duration {
        match retry_after {
            Some(asked) => asked.min(self.max_retry_after),
            None => self.backoff(retry, rng),
        }
    }
}

/// What a response means for retrying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    /// A success, or a failure that another attempt would not change.
    None,
    /// Worth another attempt, after the server's `Retry-After` if it sent one.
    Transient { retry_after: Option<Duration> },
    /// 401: the token may have expired.
    Unauthorized,
}

/// Classifies an exchange's outcome.
pub(crate) fn classify(
    response: &Result<Response<Vec<u8>>, TransportError>,
    now: Timestamp,
) -> Failure {
    match response {
        Err(TransportError::TooLarge { .. }) => Failure::None,
        Err(_) => Failure::Transient { retry_after: None },
        Ok(r) => match r.status() {
            StatusCode::UNAUTHORIZED => Failure::Unauthorized,
            StatusCode::REQUEST_TIMEOUT | StatusCode::TOO_MANY_REQUESTS => Failure::Transient {
                retry_after: retry_after(r.headers(), now),
            },
            s if s.is_server_error() => Failure::Transient {
                retry_after: retry_after(r.headers(), now),
            },
            _ => Failure::None,
        },
    }
}

/// The wait a `Retry-After` header asks for, in either form: a number of
/// seconds, or an HTTP date (a date already past asks for no wait).
/// Anything unreadable is ignored.
///
/// ```
/// # use mana_sync_core::surface as mana_sync_ureq;
/// use std::time::Duration;
/// use http::HeaderMap;
/// use mana_sync_ureq::{retry::retry_after, Timestamp};
///
/// let now = Timestamp::parse("2015-10-21T07:28:00Z")?;
/// let mut headers = HeaderMap::new();
/// headers.insert("retry-after", "120".parse()?);
/// assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(120)));
/// headers.insert("retry-after", "Wed, 21 Oct 2015 07:28:30 GMT".parse()?);
/// assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(30)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn retry_after(headers: &HeaderMap, now: Timestamp) -> Option<Duration> {
    let value = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Too many digits for a u64 is "a very long time": the policy's
        // maximum cuts it.
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    let now =
        SystemTime::UNIX_EPOCH.checked_add(now.saturating_duration_since(Timestamp::UNIX_EPOCH))?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Asked for a fresh token when the server answers 401, once per
/// operation, before the client gives up. Long-running agents hold tokens
/// that expire; give the client one of these (e.g. a closure that reads the
/// newest token your login flow stored) with `with_token_source`.
///
/// ```
/// # use mana_sync_core::surface as mana_sync_ureq;
/// use mana_sync_ureq::{Token, TokenSource};
///
/// let source = |_: &Token| Token::new("a-fresh-jwt").ok();
/// let fresh = TokenSource::fresh_token(&source, &Token::new("expired")?);
/// assert!(fresh.is_some());
/// # Ok::<(), mana_sync_ureq::Error>(())
/// ```
pub trait TokenSource: Send + Sync {
    /// A token to use instead of `refused`, or `None` to give up.
    fn fresh_token(&self, refused: &Token) -> Option<Token>;
}

impl<F> TokenSource for F
where
    F: Fn(&Token) -> Option<Token> + Send + Sync,
{
    fn fresh_token(&self, refused: &Token) -> Option<Token> {
        self(refused)
    }
}

/// The token a client sends, and where it gets a fresh one: shared by the
/// client and every operation it runs, so a refreshed token is used from
/// then on.
#[derive(Clone, Default)]
pub struct Auth {
    fresh: Arc<Mutex<Option<Token>>>,
    source: Option<Arc<dyn TokenSource>>,
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Auth")
            .field("refreshed", &self.current().is_some())
            .field("source", &self.source.is_some())
            .finish()
    }
}

impl Auth {
    /// Asks `source` for a fresh token after a 401.
    pub fn with_source(source: Arc<dyn TokenSource>) -> Auth {
        Auth {
            fresh: Arc::default(),
            source: Some(source),
        }
    }

    /// The token obtained from the source, if any (it replaces the
    /// configured one).
    pub fn current(&self) -> Option<Token> {
        self.fresh
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Puts the current token, if one was obtained, in `request`.
    pub(crate) fn apply<B>(&self, request: &mut Request<B>) {
        if let Some(token) = self.current() {
            if request.headers().contains_key(header::AUTHORIZATION) {
                request
                    .headers_mut()
                    .insert(header::AUTHORIZATION, token.header_value());
            }
        }
    }

    /// Asks the source for a token to replace the one `request` carried;
    /// true when there is one.
    pub(crate) fn refresh<B>(&self, request: &Request<B>) -> bool {
        let Some(source) = &self.source else {
            return false;
        };
        let refused = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .and_then(|t| Token::new(t).ok());
        let Some(refused) = refused else {
            return false;
        };
        match source.fresh_token(&refused) {
            Some(token) if token.expose() != refused.expose() => {
                *self.fresh.lock().unwrap_or_else(PoisonError::into_inner) = Some(token);
                true
            }
            _ => false,
        }
    }
}

/// A small, fast generator for jitter (SplitMix64). Not for secrets.
///
/// A client draws its jitter from one of these, seeded from the operating
/// system unless a test gives a seed, so that a test can pin the exact
/// schedule of waits.
#[derive(Debug, Clone)]
pub struct JitterRng(u64);

impl JitterRng {
    /// A generator with this seed: the same seed, the same waits.
    pub fn seeded(seed: u64) -> JitterRng {
        JitterRng(seed)
    }

    /// A generator seeded from the operating system's RNG.
    pub fn from_os() -> JitterRng {
        JitterRng(rand_core::OsRng.next_u64())
    }

    /// A new generator seeded from this one: each operation gets its own,
    /// and a seeded parent still gives repeatable waits.
    pub fn fork(&mut self) -> JitterRng {
        JitterRng(self.next_u64())
    }
}

impl RngCore for JitterRng {
    fn next_u32(&mut self) -> u32 {
        // The high half is the better half of SplitMix64's output.
        (self.next_u64() >> 32) as u32
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        rand_core::impls::fill_bytes_via_next(self, dest);
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

/// What [`Retrying`] will do at the next step.
enum Pending {
    /// Ask the operation.
    Inner,
    /// Wait, then resend.
    Wait(Duration),
    /// Send this copy of the failed request again.
    Resend,
}

/// Any operation, with retries: a transient failure of a request is not
/// handed to the operation; instead the wrapper says [`Step::Wait`] and then
/// sends the same request again, as long as the policy's attempts and time
/// budget allow, and a 401 asks the [`Auth`]'s token source for a fresh
/// token (after each 401, but not twice in a row). The last failure, when
/// no attempt is left, reaches the operation as usual.
///
/// The clients wrap every operation they run in one; drive it by hand like
/// any operation:
///
/// ```
/// # use mana_sync_core::surface as mana_sync_ureq;
/// use std::time::Duration;
/// use mana_sync_ureq::retry::{Auth, JitterRng, Retrying};
/// use mana_sync_ureq::{ops::Pull, Config, Cursor, Operation, RetryPolicy, Step, Timestamp};
///
/// let config = Config::new("https://sync.example.com", "token", "my-agent")?;
/// let pull = Pull::new(&config, "todo", "tasks", &Cursor::EPOCH)?;
/// let mut op = Retrying::new(pull, RetryPolicy::default(), JitterRng::seeded(7), Auth::default());
/// let now = Timestamp::UNIX_EPOCH;
/// let Step::Send(first) = op.step(now) else { unreachable!() };
/// let busy = http::Response::builder().status(503).header("retry-after", "2").body(Vec::new())?;
/// op.on_response(now, Ok(busy));
/// assert!(matches!(op.step(now), Step::Wait(d) if d == Duration::from_secs(2)));
/// let Step::Send(again) = op.step(now) else { unreachable!() };
/// assert_eq!(again.uri(), first.uri());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Retrying<O> {
    op: O,
    policy: RetryPolicy,
    rng: JitterRng,
    auth: Auth,
    /// A copy of the request in flight, to send again.
    last: Option<Request<Vec<u8>>>,
    /// Attempts made of the request in flight.
    attempt: u32,
    /// When the request in flight first failed.
    first_failure: Option<Timestamp>,
    /// Whether a fresh token was asked for since the last answer that was
    /// not a 401 (a fresh token refused too ends the retries).
    refreshed: bool,
    pending: Pending,
}

impl<O> Retrying<O> {
    /// `op` with `policy`, jitter from `rng`, tokens from `auth`.
    pub fn new(op: O, policy: RetryPolicy, rng: JitterRng, auth: Auth) -> Retrying<O> {
        Retrying {
            op,
            policy,
            rng,
            auth,
            last: None,
            attempt: 0,
            first_failure: None,
            refreshed: false,
            pending: Pending::Inner,
        }
    }

    /// The wrapped operation.
    pub fn inner(&self) -> &O {
        &self.op
    }

    /// The wrapped operation, to change.
    pub fn inner_mut(&mut self) -> &mut O {
        &mut self.op
    }

    /// Sends `request`, keeping a copy to send again. A request whose body
    /// is too large to be worth copying still is: bodies are under 10 MiB.
    fn send(&mut self, mut request: Request<Vec<u8>>) -> Request<Vec<u8>> {
        self.auth.apply(&mut request);
        self.last = Some(copy_request(&request));
        request
    }

    /// Decides what a failed exchange leads to: `true` when the wrapper
    /// handles it (a retry), `false` when it goes to the operation.
    fn intercept(
        &mut self,
        now: Timestamp,
        response: &Result<Response<Vec<u8>>, TransportError>,
    ) -> bool {
        let Some(last) = &self.last else {
            return false;
        };
        match classify(response, now) {
            Failure::None => {
                self.refreshed = false;
                self.first_failure = None;
                false
            }
            Failure::Unauthorized => {
                if self.refreshed || !self.auth.refresh(last) {
                    return false;
                }
                self.refreshed = true;
                self.pending = Pending::Resend;
                true
            }
            Failure::Transient { retry_after } => {
                self.refreshed = false;
                let first = *self.first_failure.get_or_insert(now);
                let elapsed = now.saturating_duration_since(first);
                match self
                    .policy
                    .delay(self.attempt, elapsed, retry_after, &mut self.rng)
                {
                    Some(wait) => {
                        self.pending = Pending::Wait(wait);
                        true
                    }
                    None => false,
                }
            }
        }
    }
}

impl<O: Operation> Operation for Retrying<O> {
    type Output = O::Output;

    fn step(&mut self, now: Timestamp) -> Step<O::Output> {
        match std::mem::replace(&mut self.pending, Pending::Inner) {
            Pending::Wait(wait) => {
                self.pending = Pending::Resend;
                Step::Wait(wait)
            }
            Pending::Resend => match self.last.take() {
                Some(request) => {
                    self.attempt = self.attempt.saturating_add(1);
                    Step::Send(self.send(request))
                }
                None => self.op.step(now),
            },
            Pending::Inner => match self.op.step(now) {
                Step::Send(request) => {
                    self.attempt = 1;
                    self.first_failure = None;
                    Step::Send(self.send(request))
                }
                other => other,
            },
        }
    }

    fn on_response(&mut self, now: Timestamp, response: Result<Response<Vec<u8>>, TransportError>) {
        if !self.intercept(now, &response) {
            self.last = None;
            self.op.on_response(now, response);
        }
    }
}

/// A copy of a request's method, target, version, headers and body.
pub(crate) fn copy_request(request: &Request<Vec<u8>>) -> Request<Vec<u8>> {
    let mut copy = Request::new(request.body().clone());
    *copy.method_mut() = request.method().clone();
    *copy.uri_mut() = request.uri().clone();
    *copy.version_mut() = request.version();
    *copy.headers_mut() = request.headers().clone();
    copy
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_full_jitter_under_a_doubling_cap() {
        let policy = RetryPolicy::browser();
        let mut rng = JitterRng::seeded(1);
        for retry in 0..10 {
            let ceiling = Duration::from_millis(500 * (1u64 << retry)).min(Duration::from_secs(8));
            for _ in 0..200 {
                assert!(policy.backoff(retry, &mut rng) <= ceiling);
            }
        }
        // Huge retry numbers neither overflow nor exceed the cap.
        assert!(policy.backoff(u32::MAX, &mut rng) <= Duration::from_secs(8));
        assert_eq!(
            policy.base(Duration::ZERO).backoff(3, &mut rng),
            Duration::ZERO
        );
    }

    #[test]
    fn default_waits_have_a_floor_and_a_budget() {
        let policy = RetryPolicy::default();
        let mut rng = JitterRng::seeded(5);
        for retry in 0..20 {
            let w = policy.backoff(retry, &mut rng);
            assert!(w >= Duration::from_millis(250) && w <= Duration::from_secs(8));
        }
        let budget = Duration::from_secs(30);
        // Within the budget the last wait is cut to end at it; past it, none.
        assert_eq!(
            policy.delay(40, Duration::from_millis(29_900), None, &mut rng),
            Some(Duration::from_millis(100))
        );
        assert_eq!(policy.delay(40, budget, None, &mut rng), None);
        assert_eq!(
            RetryPolicy::browser().delay(3, Duration::ZERO, None, &mut rng),
            None
        );
    }

    #[test]
    fn jitter_covers_the_range() {
        let policy = RetryPolicy::browser();
        let mut rng = JitterRng::seeded(99);
        let draws: Vec<Duration> = (0..1000).map(|_| policy.backoff(0, &mut rng)).collect();
        assert!(draws.iter().any(|d| *d < Duration::from_millis(100)));
        assert!(draws.iter().any(|d| *d > Duration::from_millis(400)));
    }
}
