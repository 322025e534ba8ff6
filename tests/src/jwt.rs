//! Tokens for tests: [`token_for`] makes one, [`user_of`] reads the `sub`
//! claim back as the server does (decoded, not verified).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// A well-formed but unsigned JWT whose `sub` claim is `user`.
///
/// ```
/// let token = mana_sync_testkit::token_for("user-1");
/// assert_eq!(token.split('.').count(), 3);
/// ```
pub fn token_for(user: &str) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let claims = serde_json::json!({ "sub": user, "iss": "mana-sync-testkit" });
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{header}.{payload}.unsigned")
}

/// The user an `Authorization` header speaks for, or the server's 401 text.
pub(crate) fn user_of(authorization: Option<&str>) -> Result<String, String> {
    let Some(value) = authorization else {
        return Err("unauthorized: no authorization header".into());
    };
    let Some(token) = value.strip_prefix("Bearer ") else {
        return Err("unauthorized: invalid authorization header".into());
    };
    let malformed = |why: &str| format!("unauthorized: parse token: token is malformed: {why}");
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err(malformed("token contains an invalid number of segments"));
    }
    let payload = URL_SAFE_NO_PAD
        .decode(parts[1].trim_end_matches('='))
        .map_err(|_| malformed("could not base64 decode claim"))?;
    let claims: serde_json::Value =
        serde_json::from_slice(&payload).map_err(|_| malformed("could not JSON decode claim"))?;
    match claims.get("sub").and_then(|s| s.as_str()) {
        Some(sub) if !sub.is_empty() => Ok(sub.to_owned()),
        _ => Err("unauthorized: token has no sub claim".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let t = token_for("u-1");
        assert_eq!(user_of(Some(&format!("Bearer {t}"))).unwrap(), "u-1");
        assert_eq!(
            user_of(None).unwrap_err(),
            "unauthorized: no authorization header"
        );
        assert!(user_of(Some("Bearer abc"))
            .unwrap_err()
            .contains("malformed"));
        assert!(user_of(Some("Basic abc")).is_err());
        assert!(user_of(Some("Bearer a.!!!.c")).is_err());
    }
}
