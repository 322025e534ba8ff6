//! [`Token`]: the bearer token, kept out of every log line.

use std::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop};

/// The bearer token (a JWT) sent in `Authorization: Bearer …`.
///
/// It is never validated by the client, only sent. `Debug` prints
/// `Token([redacted])`; it has no `Display`; its memory is zeroed on drop; the
/// header built from it is marked sensitive, so `http::Request`'s `Debug`
/// prints `Sensitive` in its place.
///
/// ```
/// # use mana_sync_core::surface as mana_sync_ureq;
/// use mana_sync_ureq::Token;
///
/// let token = Token::new("eyJhbGciOi.secret.sig")?;
/// assert_eq!(format!("{token:?}"), "Token([redacted])");
/// # Ok::<(), mana_sync_ureq::Error>(())
/// ```
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Token(String);

impl Token {
    /// Wraps a token. Fails, without echoing it, if it is empty or holds a
    /// character that cannot go in an HTTP header (a newline, say).
    pub fn new(token: impl Into<String>) -> Result<Token, crate::Error> {
        let token = Token(token.into());
        let t = token.0.trim();
        if t.is_empty() {
            return Err(crate::Error::InvalidConfig {
                reason: "the token is empty".into(),
            });
        }
        if t.bytes().any(|b| !(0x21..=0x7e).contains(&b)) {
            return Err(crate::Error::InvalidConfig {
                reason:
                    "the token holds a space, a control or a non-ASCII character, which cannot \
                         go in an Authorization header; pass the bare JWT without `Bearer `"
                        .into(),
            });
        }
        Ok(token)
    }

    /// The token itself, for the rare caller that must hand it on.
    pub fn expose(&self) -> &str {
        self.0.trim()
    }

    /// The user the token speaks for: its `sub` claim, read (never verified)
    /// as the server reads it, from the JWT's payload. `None` when the token
    /// is not a JWT, has no non-empty string `sub`, or has a claim whose
    /// name differs from `sub` only in case (which a Go decoder could read
    /// instead).
    ///
    /// ```
    /// # use mana_sync_core::surface as mana_sync_ureq;
    /// use mana_sync_ureq::Token;
    ///
    /// // {"sub":"u-1"}
    /// let token = Token::new("eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1LTEifQ.c2ln")?;
    /// assert_eq!(token.subject().as_deref(), Some("u-1"));
    /// assert_eq!(Token::new("opaque")?.subject(), None);
    /// # Ok::<(), mana_sync_ureq::Error>(())
    /// ```
    pub fn subject(&self) -> Option<String> {
        use base64::Engine;
        const RAW_URL: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
            &base64::alphabet::URL_SAFE,
            base64::engine::GeneralPurposeConfig::new()
                .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireNone)
                .with_decode_allow_trailing_bits(true),
        );
        let mut parts = self.expose().split('.');
        let (_, payload, _, None) = (parts.next()?, parts.next()?, parts.next()?, parts.next())
        else {
            return None;
        };
        let bytes = zeroize::Zeroizing::new(RAW_URL.decode(payload).ok()?);
        let claims: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(&bytes).ok()?;
        if claims
            .keys()
            .any(|k| k != "sub" && k.eq_ignore_ascii_case("sub"))
        {
            return None;
        }
        match claims.get("sub") {
            Some(serde_json::Value::String(sub)) if !sub.is_empty() => Some(sub.clone()),
            _ => None,
        }
    }

    /// `Bearer <token>`, marked sensitive.
    pub(crate) fn header_value(&self) -> http::HeaderValue {
        let mut value = http::HeaderValue::from_str(&format!("Bearer {}", self.expose()))
            // `new` admitted only visible ASCII, which a header value accepts.
            .unwrap_or_else(|_| http::HeaderValue::from_static("Bearer"));
        value.set_sensitive(true);
        value
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_tokens_are_refused_without_echo() {
        let err = Token::new("abc\ndef-SENTINEL").unwrap_err();
        assert!(!err.to_string().contains("SENTINEL"));
        assert!(!format!("{err:?}").contains("SENTINEL"));
        assert!(Token::new("  ").is_err());
        assert!(Token::new("Bearer x").is_err());
    }

    #[test]
    fn subject_is_read_as_the_server_reads_it() {
        use base64::Engine;
        let jwt = |claims: &str| {
            let enc = base64::engine::general_purpose::URL_SAFE_NO_PAD;
            Token::new(format!(
                "{}.{}.{}",
                enc.encode("{}"),
                enc.encode(claims),
                enc.encode("s")
            ))
            .unwrap()
        };
        assert_eq!(
            jwt(r#"{"sub":"alice"}"#).subject().as_deref(),
            Some("alice")
        );
        assert_eq!(
            jwt(r#"{"sub":"alice","sub":"bob"}"#).subject().as_deref(),
            Some("bob")
        );
        assert_eq!(jwt(r#"{"sub":""}"#).subject(), None);
        assert_eq!(jwt(r#"{"sub":5}"#).subject(), None);
        assert_eq!(jwt(r#"{"sub":"alice","SUB":"bob"}"#).subject(), None);
        assert_eq!(jwt(r#"[1]"#).subject(), None);
        assert_eq!(Token::new("a.b").unwrap().subject(), None);
        assert_eq!(Token::new("a.b.c.d").unwrap().subject(), None);
        assert_eq!(Token::new("a.!!!.c").unwrap().subject(), None);
    }

    #[test]
    fn header_is_sensitive() {
        let t = Token::new("SENTINEL").unwrap();
        let h = t.header_value();
        assert!(h.is_sensitive());
        assert_eq!(h.to_str().unwrap(), "Bearer SENTINEL");
        assert!(!format!("{h:?}").contains("SENTINEL"));
    }
}
