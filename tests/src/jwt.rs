//! Tokens for tests: [`token_for`] and [`token_with_claims`] make them;
//! [`user_at`] reads one back as the server's validator does (golang-jwt v5:
//! the same error texts and claim checks), without checking the signature.

use base64::alphabet;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::{DecodeError, Engine};
use mana_sync_core::Timestamp;
use serde_json::{json, Value};

use crate::go_json::{self, J};

/// Go's `base64.RawURLEncoding`: no padding, lenient about trailing bits.
const RAW_URL: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(true),
);

/// A well-formed JWT whose `sub` claim is `user` and which never expires.
/// Its header names `EdDSA` like the real tokens, but its signature is 64
/// zero bytes: the in-memory server decodes tokens, it does not verify them.
///
/// ```
/// let token = mana_sync_testkit::token_for("user-1");
/// assert_eq!(token.split('.').count(), 3);
/// ```
pub fn token_for(user: &str) -> String {
    token_with_claims(&json!({ "sub": user, "iss": "mana-sync-testkit" }))
}

/// A well-formed JWT carrying `claims` as they are (for tokens without a
/// `sub`, or with an `exp` or `nbf`, which the server checks against its
/// clock: `exp` is a number of seconds since the epoch).
///
/// ```
/// use serde_json::json;
/// let expired = mana_sync_testkit::token_with_claims(&json!({"sub": "u-1", "exp": 1}));
/// assert_eq!(expired.split('.').count(), 3);
/// ```
pub fn token_with_claims(claims: &Value) -> String {
    let header =
        URL_SAFE_NO_PAD.encode(br#"{"alg":"EdDSA","kid":"mana-sync-testkit","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signature = URL_SAFE_NO_PAD.encode([0u8; 64]);
    format!("{header}.{payload}.{signature}")
}

/// Go's `base64` error text for a decoding failure of `input`.
fn base64_error(input: &str, e: &DecodeError) -> String {
    let at = match e {
        DecodeError::InvalidByte(at, _) | DecodeError::InvalidLastSymbol(at, _) => *at,
        DecodeError::InvalidLength(len) => len.saturating_sub(1),
        DecodeError::InvalidPadding => input.find('=').unwrap_or(input.len()),
    };
    format!("illegal base64 data at input byte {at}")
}

fn malformed(why: &str) -> String {
    format!("parse token: token is malformed: {why}")
}

/// A NumericDate claim (`exp`, `nbf`) in whole seconds, as golang-jwt reads
/// it; `Ok(None)` when absent or null.
fn numeric_date(claims: &[(String, J)], name: &str) -> Result<Option<i128>, String> {
    let Some((_, value)) = claims.iter().rev().find(|(k, _)| k == name) else {
        return Ok(None);
    };
    let text = match value {
        J::Null => return Ok(None),
        J::Num(n) => n.clone(),
        J::Str(s) if s.parse::<f64>().is_ok() => s.clone(),
        J::Str(s) => {
            return Err(format!(
                "could not parse NumericData: json: invalid number literal, trying to unmarshal \"\\\"{s}\\\"\" into Number"
            ))
        }
        other => {
            return Err(format!(
                "could not parse NumericData: json: cannot unmarshal {} into Go value of type json.Number",
                other.kind()
            ))
        }
    };
    let seconds: f64 = text.parse().map_err(|_| {
        format!("could not convert json number value to float: strconv.ParseFloat: parsing \"{text}\": invalid syntax")
    })?;
    // NewNumericDate truncates to whole seconds.
    #[allow(clippy::cast_possible_truncation)]
    Ok(Some(seconds.trunc() as i128))
}

/// The user an `Authorization` header speaks for at `now`, or the text the
/// server answers 401 with (after `unauthorized: `), as the Go validator
/// words it. The signature and the key id are not checked.
pub(crate) fn user_at(authorization: Option<&str>, now: Timestamp) -> Result<String, String> {
    let token = authorization
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if token.is_empty() {
        return Err("no authorization header".into());
    }
    let parts: Vec<&str> = token.split('.').collect();
    let [header, claims, signature] = parts.as_slice() else {
        return Err(malformed("token contains an invalid number of segments"));
    };
    let header_bytes = RAW_URL.decode(header).map_err(|e| {
        malformed(&format!(
            "could not base64 decode header: {}",
            base64_error(header, &e)
        ))
    })?;
    match go_json::unmarshal(&header_bytes) {
        Ok(J::Obj(_) | J::Null) => {}
        Ok(other) => {
            return Err(malformed(&format!(
                "could not JSON decode header: json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                other.kind()
            )))
        }
        Err(e) => return Err(malformed(&format!("could not JSON decode header: {e}"))),
    }
    let claim_bytes = RAW_URL.decode(claims).map_err(|e| {
        malformed(&format!(
            "could not base64 decode claim: {}",
            base64_error(claims, &e)
        ))
    })?;
    let claims = match go_json::unmarshal(&claim_bytes) {
        Ok(J::Obj(members)) => members,
        Ok(J::Null) => Vec::new(),
        Ok(other) => {
            return Err(malformed(&format!(
                "could not JSON decode claim: json: cannot unmarshal {} into Go value of type authutil.Claims",
                other.kind()
            )))
        }
        Err(e) => return Err(malformed(&format!("could not JSON decode claim: {e}"))),
    };
    let sub = match claims.iter().rev().find(|(k, _)| k == "sub") {
        None | Some((_, J::Null)) => String::new(),
        Some((_, J::Str(s))) => s.clone(),
        Some((_, other)) => {
            return Err(malformed(&format!(
                "could not JSON decode claim: json: cannot unmarshal {} into Go struct field Claims.sub of type string",
                other.kind()
            )))
        }
    };
    let exp = numeric_date(&claims, "exp")
        .map_err(|e| malformed(&format!("could not JSON decode claim: {e}")))?;
    let nbf = numeric_date(&claims, "nbf")
        .map_err(|e| malformed(&format!("could not JSON decode claim: {e}")))?;
    RAW_URL.decode(signature).map_err(|e| {
        malformed(&format!(
            "could not base64 decode signature: {}",
            base64_error(signature, &e)
        ))
    })?;
    let now = now.unix_nanos();
    let mut invalid = Vec::new();
    if exp.is_some_and(|exp| now >= exp * 1_000_000_000) {
        invalid.push("token is expired");
    }
    if nbf.is_some_and(|nbf| now < nbf * 1_000_000_000) {
        invalid.push("token is not valid yet");
    }
    if !invalid.is_empty() {
        return Err(format!(
            "parse token: token has invalid claims: {}",
            invalid.join("\n")
        ));
    }
    if sub.is_empty() {
        return Err("missing sub claim".into());
    }
    Ok(sub)
}

/// The user an `Authorization` header speaks for, ignoring `exp` and `nbf`,
/// or the 401 text (with its `unauthorized: ` prefix).
pub(crate) fn user_of(authorization: Option<&str>) -> Result<String, String> {
    user_at(authorization, Timestamp::UNIX_EPOCH).map_err(|e| format!("unauthorized: {e}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn at(header: Option<&str>, secs: i64) -> Result<String, String> {
        user_at(header, Timestamp::from_unix_millis(secs * 1000).unwrap())
    }

    #[test]
    fn round_trip_and_refusals() {
        let t = token_for("u-1");
        assert_eq!(at(Some(&format!("Bearer {t}")), 0).unwrap(), "u-1");
        assert_eq!(at(None, 0).unwrap_err(), "no authorization header");
        assert_eq!(
            at(Some("Basic abc"), 0).unwrap_err(),
            "no authorization header"
        );
        assert_eq!(
            at(Some("Bearer "), 0).unwrap_err(),
            "no authorization header"
        );
        assert_eq!(
            at(Some("Bearer abc"), 0).unwrap_err(),
            "parse token: token is malformed: token contains an invalid number of segments"
        );
        assert_eq!(
            at(Some("Bearer a!c.b.c"), 0).unwrap_err(),
            "parse token: token is malformed: could not base64 decode header: illegal base64 data at input byte 1"
        );
        let no_sub = token_with_claims(&json!({"iss": "x"}));
        assert_eq!(
            at(Some(&format!("Bearer {no_sub}")), 0).unwrap_err(),
            "missing sub claim"
        );
        let expiring = format!(
            "Bearer {}",
            token_with_claims(&json!({"sub": "u", "exp": 100.9}))
        );
        assert_eq!(at(Some(&expiring), 99).unwrap(), "u");
        assert_eq!(
            at(Some(&expiring), 100).unwrap_err(),
            "parse token: token has invalid claims: token is expired"
        );
        let later = format!(
            "Bearer {}",
            token_with_claims(&json!({"sub": "u", "nbf": 50}))
        );
        assert_eq!(
            at(Some(&later), 49).unwrap_err(),
            "parse token: token has invalid claims: token is not valid yet"
        );
        assert_eq!(at(Some(&later), 50).unwrap(), "u");
    }
}
