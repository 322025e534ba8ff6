//! [`VaultKey`]: `GET {auth}/api/v1/me/encryption-vault/key`.

use http::{Method, Response};
use serde_json::Value;

use super::exchange::Exchange;
use crate::crypto::MasterKey;
use crate::endpoint::{authed, uri};
use crate::error::{trim_body, trim_body_to};
use crate::{Config, Error, Operation, Step, Timestamp, TransportError};

/// Fetches the user's master key from the auth service's vault.
///
/// | answer | result |
/// |---|---|
/// | 200 with `masterKey` (base64 of 32 bytes) | the [`MasterKey`] |
/// | 200 with `requiresRecoveryCode`, `zeroKnowledge: true`, or no `masterKey` | [`Error::ZeroKnowledgeUser`] |
/// | 404 `{"code":"VAULT_NOT_INITIALISED"}` | [`Error::VaultNotInitialised`] |
/// | 401 / 403 | [`Error::Unauthorized`] |
/// | any other non-2xx | [`Error::VaultFetch`] with the status and the first 200 characters |
pub struct VaultKey(Exchange<MasterKey>);

impl VaultKey {
    /// A fetch with `config`'s token from its auth URL
    /// ([`Config::with_auth_url`]).
    pub fn new(config: &Config) -> Result<VaultKey, Error> {
        let base = config.auth_url().ok_or_else(|| Error::InvalidConfig {
            reason: "no auth service URL: set it with Config::with_auth_url to fetch master keys"
                .into(),
        })?;
        let uri = uri(base, &["api", "v1", "me", "encryption-vault", "key"], &[])?;
        Ok(VaultKey(Exchange::new(
            authed(config, Method::GET, uri, None)?,
            |r| parse(&r),
        )))
    }
}

fn parse(response: &Response<Vec<u8>>) -> Result<MasterKey, Error> {
    let status = response.status().as_u16();
    let body = response.body();
    match status {
        401 | 403 => {
            return Err(Error::Unauthorized {
                status,
                body: trim_body(body),
            })
        }
        404 => {
            let code = serde_json::from_slice::<Value>(body)
                .ok()
                .and_then(|v| v.get("code").cloned());
            if code.as_ref().and_then(Value::as_str) == Some("VAULT_NOT_INITIALISED") {
                return Err(Error::VaultNotInitialised);
            }
            return Err(Error::VaultFetch {
                status,
                body: trim_body_to(body, 200),
            });
        }
        200..=299 => {}
        _ => {
            return Err(Error::VaultFetch {
                status,
                body: trim_body_to(body, 200),
            })
        }
    }
    let decode = |path: &str, message: &str| Error::Decode {
        what: "vault key response",
        path: path.into(),
        message: message.into(),
        // The body may hold a key: never echo it.
        body: "[redacted]".into(),
    };
    let value: Value = serde_json::from_slice(body).map_err(|_| decode(".", "not JSON"))?;
    let zero_knowledge = value.get("zeroKnowledge") == Some(&Value::Bool(true))
        || value.get("requiresRecoveryCode") == Some(&Value::Bool(true));
    match value.get("masterKey") {
        Some(Value::String(key)) if !zero_knowledge => {
            MasterKey::from_base64(key).map_err(|e| decode("masterKey", &e.to_string()))
        }
        Some(Value::String(_)) | None | Some(Value::Null) => Err(Error::ZeroKnowledgeUser),
        Some(_) => Err(decode("masterKey", "not a string")),
    }
}

impl Operation for VaultKey {
    type Output = MasterKey;

    fn step(&mut self, _now: Timestamp) -> Step<MasterKey> {
        self.0.step()
    }

    fn on_response(
        &mut self,
        _now: Timestamp,
        response: Result<Response<Vec<u8>>, TransportError>,
    ) {
        self.0.on_response(response)
    }
}
