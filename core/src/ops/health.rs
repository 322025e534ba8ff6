//! [`Health`]: `GET {base}/health`.

use super::exchange::Exchange;
use crate::endpoint::{anonymous, uri};
use crate::response::decode;
use crate::{wire, BaseUrl, Error, Operation, Step, Timestamp, TransportError};

/// Asks the sync service whether it is healthy. Sends no credentials.
pub struct Health(Exchange<wire::Health>);

impl Health {
    /// A health check of the service at `base`.
    pub fn new(base: &BaseUrl) -> Result<Health, Error> {
        let request = anonymous(uri(base, &["health"], &[])?)?;
        Ok(Health(Exchange::new(request, |r| {
            decode(&r, "health response")
        })))
    }
}

impl Operation for Health {
    type Output = wire::Health;

    fn step(&mut self, _now: Timestamp) -> Step<wire::Health> {
        self.0.step()
    }

    fn on_response(
        &mut self,
        _now: Timestamp,
        response: Result<http::Response<Vec<u8>>, TransportError>,
    ) {
        self.0.on_response(response)
    }
}
