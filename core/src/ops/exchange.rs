//! One request, one response: the machine behind the single-exchange
//! operations.

use http::{Request, Response};

use crate::response::received;
use crate::{Error, Step, TransportError};

/// Reads a successful exchange's response into `T`.
pub(crate) type Parse<T> = fn(Response<Vec<u8>>) -> Result<T, Error>;

enum State<T> {
    Ready(Request<Vec<u8>>),
    Awaiting,
    Done(Result<T, Error>),
    Finished,
}

/// Sends one request and parses its response.
pub(crate) struct Exchange<T> {
    state: State<T>,
    parse: Parse<T>,
}

impl<T> Exchange<T> {
    pub(crate) fn new(request: Request<Vec<u8>>, parse: Parse<T>) -> Self {
        Exchange {
            state: State::Ready(request),
            parse,
        }
    }

    pub(crate) fn step(&mut self) -> Step<T> {
        match std::mem::replace(&mut self.state, State::Finished) {
            State::Ready(request) => {
                self.state = State::Awaiting;
                Step::Send(request)
            }
            State::Awaiting => {
                self.state = State::Awaiting;
                Step::Done(Err(Error::Misuse {
                    reason: "step called before the response to the last request was delivered",
                }))
            }
            State::Done(result) => Step::Done(result),
            State::Finished => Step::Done(Err(Error::Misuse {
                reason: "step called after the operation finished",
            })),
        }
    }

    pub(crate) fn on_response(&mut self, response: Result<Response<Vec<u8>>, TransportError>) {
        self.state = match self.state {
            State::Awaiting => State::Done(received(response).and_then(self.parse)),
            _ => State::Done(Err(Error::Misuse {
                reason: "a response was delivered but no request was outstanding",
            })),
        };
    }
}
