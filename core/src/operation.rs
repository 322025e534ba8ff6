//! [`Operation`] and [`Step`]: the shape every protocol operation shares.

use std::time::Duration;

use http::{Request, Response};

use crate::{Error, Timestamp, TransportError};

/// What an operation wants next.
#[derive(Debug)]
pub enum Step<T> {
    /// Send this request, then hand the response (or the transport's error)
    /// to [`Operation::on_response`].
    Send(Request<Vec<u8>>),
    /// Wait this long, then call [`Operation::step`] again.
    Wait(Duration),
    /// Finished, with this result. Calling `step` again yields
    /// [`Error::Misuse`].
    Done(Result<T, Error>),
}

/// A protocol operation as a state machine, with no IO: it says what to send
/// and how long to wait, and reads what came back. The current time is an
/// argument, so an operation can be driven deterministically.
///
/// A driver is a loop (see [`crate::BlockingClient::run`]):
///
/// ```
/// # use mana_sync_core::surface as mana_sync_ureq;
/// use mana_sync_ureq::{Error, Operation, Step, Timestamp, TransportError};
///
/// fn drive<O: Operation>(
///     mut op: O,
///     now: impl Fn() -> Timestamp,
///     send: impl Fn(http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>, TransportError>,
/// ) -> Result<O::Output, Error> {
///     loop {
///         match op.step(now()) {
///             Step::Send(request) => op.on_response(now(), send(request)),
///             Step::Wait(d) => std::thread::sleep(d),
///             Step::Done(result) => return result,
///         }
///     }
/// }
/// ```
pub trait Operation: Send {
    /// What the operation produces.
    type Output: Send;

    /// What to do next.
    fn step(&mut self, now: Timestamp) -> Step<Self::Output>;

    /// The outcome of the last [`Step::Send`].
    fn on_response(&mut self, now: Timestamp, response: Result<Response<Vec<u8>>, TransportError>);
}
