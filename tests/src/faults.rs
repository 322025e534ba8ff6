//! Injected failures: one [`Fault`] at a time
//! ([`crate::MemoryServer::fail_next_requests`]), or a seeded [`FaultPlan`]
//! that decides which requests fail and how
//! ([`crate::MemoryServer::set_fault_plan`]).
//!
//! The server decides a fault and marks its answer; the transports act it
//! out as a network would: [`crate::InProcess`] turns a closed connection, a
//! cut body and a stall into the [`TransportError`] a network transport
//! gives (a stall also advances the [`crate::ManualClock`] by the timeout),
//! and [`crate::LoopbackServer`] really closes the connection, really cuts
//! the body, really stays silent.
//!
//! [`TransportError`]: mana_sync_core::TransportError

use http::{header, Response, StatusCode};

use crate::server::{dropped, text};

/// A failure the server answers a request with instead of (or besides)
/// handling it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// 503 `Service Unavailable`, plain text; nothing handled.
    Unavailable,
    /// 429 with this `Retry-After` value (seconds or an HTTP date); nothing
    /// handled.
    TooManyRequests {
        /// The `Retry-After` header's value.
        retry_after: String,
    },
    /// A proxy's HTML 502 page; nothing handled.
    BadGatewayHtml,
    /// The connection closes before an answer; nothing handled.
    CloseBeforeAnswer,
    /// The request is handled (a push stores its changes), then the
    /// connection closes before an answer: the client cannot know.
    StoreThenClose,
    /// A push stores its first `stored` changes, then answers 500 `failed
    /// to record change: injected failure`, as the real server does when a
    /// change's transaction fails. Any other request, and a push of no more
    /// than `stored` changes, is handled normally.
    PushPartWay {
        /// Changes stored before the failure.
        stored: usize,
    },
    /// The request is handled; the answer's head gives the body's full
    /// length, only its first half comes, then the connection closes.
    TruncateBody,
    /// The request is handled; no answer comes before the client's timeout.
    /// In process: [`mana_sync_core::TransportError::Timeout`] (the whole
    /// exchange) after advancing the clock by the transport's total
    /// timeout. On loopback: silence for [`crate::LoopbackServer::with_stall`]
    /// (30 s by default), then the connection closes without an answer.
    Stall,
}

impl Fault {
    /// A short name for the kind of fault (`"stall"`, `"429"`, ...), for
    /// counting.
    pub fn name(&self) -> &'static str {
        match self {
            Fault::Unavailable => "503",
            Fault::TooManyRequests { .. } => "429",
            Fault::BadGatewayHtml => "html-502",
            Fault::CloseBeforeAnswer => "close-before-answer",
            Fault::StoreThenClose => "store-then-close",
            Fault::PushPartWay { .. } => "push-part-way",
            Fault::TruncateBody => "truncate-body",
            Fault::Stall => "stall",
        }
    }

    /// The answer to a request under this fault; `handle` answers it
    /// normally, given how many changes a push may store (`None`: all).
    pub(crate) fn answer(
        &self,
        handle: impl FnOnce(Option<usize>) -> Response<Vec<u8>>,
    ) -> Response<Vec<u8>> {
        match self {
            Fault::Unavailable | Fault::TooManyRequests { .. } | Fault::BadGatewayHtml => {
                self.canned()
            }
            Fault::CloseBeforeAnswer => dropped(),
            Fault::StoreThenClose => {
                let _ = handle(None);
                dropped()
            }
            Fault::PushPartWay { stored } => handle(Some(*stored)),
            Fault::TruncateBody => {
                let mut response = handle(None);
                response.extensions_mut().insert(Truncated);
                response
            }
            Fault::Stall => {
                let mut response = handle(None);
                response.extensions_mut().insert(Stalled);
                response
            }
        }
    }

    /// The refusal of a stream under this fault: the canned answers as
    /// they are; any other fault closes the connection.
    pub(crate) fn stream_refusal(&self) -> Response<Vec<u8>> {
        match self {
            Fault::Unavailable | Fault::TooManyRequests { .. } | Fault::BadGatewayHtml => {
                self.canned()
            }
            _ => dropped(),
        }
    }

    fn canned(&self) -> Response<Vec<u8>> {
        match self {
            Fault::TooManyRequests { retry_after } => {
                let mut response = text(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests");
                if let Ok(v) = http::HeaderValue::from_str(retry_after) {
                    response.headers_mut().insert(header::RETRY_AFTER, v);
                }
                response
            }
            Fault::BadGatewayHtml => Response::builder()
                .status(StatusCode::BAD_GATEWAY)
                .header(header::CONTENT_TYPE, "text/html")
                .body(
                    b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad \
                      Gateway</h1></center><hr><center>nginx</center></body></html>\n"
                        .to_vec(),
                )
                .unwrap_or_default(),
            _ => text(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable"),
        }
    }
}

/// Marks an answer whose body is to be cut in half, the connection closed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Truncated;

/// Marks an answer that is never to come in time.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Stalled;

/// A seeded plan of faults: each request is faulted with probability
/// [`FaultPlan::rate`], with a kind drawn uniformly from those the plan
/// holds that fit the request ([`Fault::PushPartWay`] fits only a push of
/// at least one change, and its `stored` is drawn below that push's count).
/// The same seed and the same requests in the same order give the same
/// faults: in process, a run is repeatable.
///
/// By default the plan holds every kind that a network or a server really
/// produces: a connection closed before the answer, a push stored and then
/// the connection closed, a push failed part-way, a cut body, a stall past
/// the timeout, 429 with `Retry-After: 1`, and a proxy's HTML 502.
///
/// ```
/// use mana_sync_testkit::{Fault, FaultPlan};
///
/// let mut a = FaultPlan::seeded(7).rate(0.5);
/// let mut b = FaultPlan::seeded(7).rate(0.5);
/// let drawn: Vec<Option<Fault>> = (0..20).map(|_| a.next_fault(Some(10))).collect();
/// assert_eq!(drawn, (0..20).map(|_| b.next_fault(Some(10))).collect::<Vec<_>>());
/// assert!(drawn.iter().any(Option::is_some) && drawn.iter().any(Option::is_none));
/// assert_eq!(FaultPlan::seeded(7).rate(0.0).next_fault(None), None);
/// ```
#[derive(Clone, Debug)]
pub struct FaultPlan {
    rng: u64,
    /// Faulted requests per 2^32.
    threshold: u64,
    kinds: Vec<Fault>,
}

impl FaultPlan {
    /// A plan drawing from `seed`, faulting every request until
    /// [`Self::rate`] says otherwise.
    pub fn seeded(seed: u64) -> FaultPlan {
        FaultPlan {
            rng: seed,
            threshold: 1 << 32,
            kinds: vec![
                Fault::CloseBeforeAnswer,
                Fault::StoreThenClose,
                Fault::PushPartWay { stored: 0 },
                Fault::TruncateBody,
                Fault::Stall,
                Fault::TooManyRequests {
                    retry_after: "1".into(),
                },
                Fault::BadGatewayHtml,
            ],
        }
    }

    /// The share of requests faulted, from 0 (none) to 1 (all).
    pub fn rate(mut self, rate: f64) -> FaultPlan {
        let rate = if rate.is_nan() {
            0.0
        } else {
            rate.clamp(0.0, 1.0)
        };
        // At most 2^32: exact in an f64, and the cast cannot overflow.
        self.threshold = (rate * 4_294_967_296.0).round() as u64;
        self
    }

    /// Draws only from `kinds` (for [`Fault::PushPartWay`], its `stored` is
    /// ignored: it is drawn for each push).
    pub fn only(mut self, kinds: impl IntoIterator<Item = Fault>) -> FaultPlan {
        self.kinds = kinds.into_iter().collect();
        self
    }

    /// The kinds the plan draws from.
    pub fn kinds(&self) -> &[Fault] {
        &self.kinds
    }

    /// splitmix64.
    fn draw(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// The fault for the next request, if any: `push_changes` is the
    /// number of changes when the request is a push, `None` otherwise.
    pub fn next_fault(&mut self, push_changes: Option<usize>) -> Option<Fault> {
        if (self.draw() >> 32) >= self.threshold {
            return None;
        }
        let pushed = push_changes.filter(|n| *n > 0);
        let fits = |k: &&Fault| pushed.is_some() || !matches!(k, Fault::PushPartWay { .. });
        let count = self.kinds.iter().filter(fits).count();
        let count = u64::try_from(count).ok().filter(|n| *n > 0)?;
        let pick = usize::try_from(self.draw() % count).ok()?;
        let fault = self.kinds.iter().filter(fits).nth(pick)?.clone();
        match (fault, pushed) {
            (Fault::PushPartWay { .. }, Some(n)) => {
                let n = u64::try_from(n).unwrap_or(u64::MAX);
                let stored = usize::try_from(self.draw() % n).unwrap_or(0);
                Some(Fault::PushPartWay { stored })
            }
            (fault, _) => Some(fault),
        }
    }
}
