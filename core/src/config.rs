//! [`Config`]: where the server is and who is asking; [`BaseUrl`].

use std::fmt;
use std::sync::Arc;

use crate::guard::EncryptedFields;

use crate::limits::MAX_CLIENT_ID_BYTES;
use crate::{Error, Token};

/// A service's base URL: `http` or `https`, a host, an optional port and an
/// optional path prefix (with or without a trailing slash). No query, no
/// fragment, no credentials.
///
/// ```
/// # use mana_sync_core::surface as mana_sync_ureq;
/// use mana_sync_ureq::BaseUrl;
///
/// let url = BaseUrl::parse("https://example.com/mana/")?;
/// assert_eq!(url.as_str(), "https://example.com/mana");
/// assert!(BaseUrl::parse("ftp://example.com").is_err());
/// # Ok::<(), mana_sync_ureq::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct BaseUrl(String);

impl BaseUrl {
    /// Checks and normalises a base URL (the trailing slash is dropped).
    pub fn parse(url: &str) -> Result<BaseUrl, Error> {
        let invalid = |why: &str| Error::InvalidConfig {
            reason: format!("base URL {:?}: {why}", redact_userinfo(url)),
        };
        if url.trim().bytes().any(|b| !b.is_ascii_graphic()) {
            return Err(invalid(
                "holds a space, a control or a non-ASCII character; percent-encode it",
            ));
        }
        let uri: http::Uri = url
            .trim()
            .parse()
            .map_err(|_| invalid("not a URL; expected e.g. https://sync.example.com"))?;
        match uri.scheme_str() {
            Some("http") | Some("https") => {}
            _ => return Err(invalid("the scheme must be http or https")),
        }
        let authority = uri.authority().ok_or_else(|| invalid("missing the host"))?;
        if url.contains('@') {
            return Err(invalid(
                "credentials in the URL are not supported; the token goes in the config",
            ));
        }
        if uri.query().is_some() || url.contains('#') {
            return Err(invalid("a base URL has no query or fragment"));
        }
        check_port(authority.as_str()).map_err(invalid)?;
        let scheme = uri.scheme_str().unwrap_or("https");
        let path = uri.path().trim_end_matches('/');
        Ok(BaseUrl(format!("{scheme}://{authority}{path}")))
    }

    /// The normalised URL, without a trailing slash.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BaseUrl({})", self.0)
    }
}

/// The port of an authority (`host`, `host:port`, `[v6]:port`), if any,
/// must be 1 to 65535 in decimal.
fn check_port(authority: &str) -> Result<(), &'static str> {
    let after_host = match authority.rfind(']') {
        Some(i) => authority.get(i + 1..).unwrap_or_default(),
        None => authority,
    };
    let Some(colon) = after_host.find(':') else {
        return Ok(());
    };
    let port = after_host.get(colon + 1..).unwrap_or_default();
    if port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()) {
        return Err("the port must be a number from 1 to 65535");
    }
    match port.parse::<u32>() {
        Ok(1..=65535) => Ok(()),
        _ => Err("the port must be a number from 1 to 65535"),
    }
}

/// The URL as it may be shown: everything between `://` and the last `@`
/// (credentials, whatever characters the password holds) replaced by
/// `[redacted]`, any query or fragment replaced by `?[redacted]`, then at
/// most 200 characters.
fn redact_userinfo(url: &str) -> String {
    let start = url.find("://").map_or(0, |i| i + 3);
    let (scheme, rest) = url.split_at(start);
    let rest = match rest.rfind('@') {
        Some(at) => format!("[redacted]{}", rest.get(at..).unwrap_or_default()),
        None => rest.to_owned(),
    };
    let rest = match rest.find(['?', '#']) {
        Some(q) => format!("{}?[redacted]", rest.get(..q).unwrap_or_default()),
        None => rest,
    };
    crate::error::bound(&format!("{scheme}{rest}"), 200)
}

/// Everything an operation needs to address the server: the sync service's
/// base URL, the bearer token and this client's id (`X-Client-Id`; the server
/// leaves a client's own changes out of what it returns to it).
///
/// ```
/// # use mana_sync_core::surface as mana_sync_ureq;
/// use mana_sync_ureq::Config;
///
/// let config = Config::new("http://localhost:3050", "eyJ...", "mana-mcp")?;
/// assert_eq!(config.client_id(), "mana-mcp");
/// assert!(!format!("{config:?}").contains("eyJ"));
/// # Ok::<(), mana_sync_ureq::Error>(())
/// ```
#[derive(Clone)]
pub struct Config {
    sync_url: BaseUrl,
    auth_url: Option<BaseUrl>,
    token: Token,
    client_id: String,
    client_id_header: http::HeaderValue,
    guard: Option<Arc<dyn EncryptedFields>>,
}

impl Config {
    /// A config for the sync service at `sync_url`.
    pub fn new(sync_url: &str, token: impl Into<String>, client_id: &str) -> Result<Config, Error> {
        let sync_url = BaseUrl::parse(sync_url)?;
        let token = Token::new(token)?;
        let (client_id, client_id_header) = check_client_id(client_id)?;
        Ok(Config {
            sync_url,
            auth_url: None,
            token,
            client_id,
            client_id_header,
            guard: None,
        })
    }

    /// The sync service's base URL.
    pub fn sync_url(&self) -> &BaseUrl {
        &self.sync_url
    }

    /// Sets the auth service's base URL (mana-auth), where the vault hands out
    /// the user's master key.
    pub fn with_auth_url(mut self, auth_url: &str) -> Result<Config, Error> {
        self.auth_url = Some(BaseUrl::parse(auth_url)?);
        Ok(self)
    }

    /// The auth service's base URL, if set.
    pub fn auth_url(&self) -> Option<&BaseUrl> {
        self.auth_url.as_ref()
    }

    /// The token.
    pub fn token(&self) -> &Token {
        &self.token
    }

    /// Replaces the token (e.g. after a refresh).
    pub fn set_token(&mut self, token: Token) {
        self.token = token;
    }

    /// The same config with another client id (e.g. the one an engine's
    /// database keeps).
    pub fn with_client_id(mut self, client_id: &str) -> Result<Config, Error> {
        (self.client_id, self.client_id_header) = check_client_id(client_id)?;
        Ok(self)
    }

    /// This client's id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The client id this client reads its own changes with: its id and
    /// `#reader`. The server leaves out the changes of the `X-Client-Id` it
    /// is sent, and without one every row pushed without a client id; an id
    /// that never writes leaves nothing out. Never used to push.
    pub fn reader_client_id(&self) -> String {
        format!("{}#reader", self.client_id)
    }

    /// Turns the plaintext guard on: every push built from this config is
    /// checked against `fields` first ([`crate::guard::check_plaintext`]),
    /// and refused, before anything is sent, if it carries a field `fields`
    /// says is encrypted as anything but `null` or an `enc:1:` string.
    /// (`mana_sync_apps::guarded` sets the Mana apps' registry.)
    pub fn with_guard(mut self, fields: Arc<dyn EncryptedFields>) -> Config {
        self.guard = Some(fields);
        self
    }

    /// Turns the plaintext guard off (the explicit opt-out): pushes are
    /// sent as they are, plaintext included.
    pub fn without_guard(mut self) -> Config {
        self.guard = None;
        self
    }

    /// The plaintext guard's look-up, if the guard is on.
    pub fn guard(&self) -> Option<&dyn EncryptedFields> {
        self.guard.as_deref()
    }

    pub(crate) fn client_id_header(&self) -> &http::HeaderValue {
        &self.client_id_header
    }
}

fn check_client_id(client_id: &str) -> Result<(String, http::HeaderValue), Error> {
    let bad = |why: &str| Error::InvalidConfig {
        reason: format!("client id {:?}: {why}", crate::error::bound(client_id, 64)),
    };
    if client_id.is_empty() {
        return Err(bad("must not be empty"));
    }
    if client_id.len() > MAX_CLIENT_ID_BYTES {
        return Err(bad(&format!(
            "is {} bytes long; at most {MAX_CLIENT_ID_BYTES} are accepted (it goes in a header \
             and in every push body)",
            client_id.len()
        )));
    }
    if client_id.bytes().any(|b| !(0x20..=0x7e).contains(&b)) {
        return Err(bad("only printable ASCII can go in the X-Client-Id header"));
    }
    let header =
        http::HeaderValue::from_str(client_id).map_err(|_| bad("not a valid header value"))?;
    Ok((client_id.to_owned(), header))
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("sync_url", &self.sync_url)
            .field("auth_url", &self.auth_url)
            .field("token", &self.token)
            .field("client_id", &self.client_id)
            .field("plaintext_guard", &self.guard.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls() {
        for (input, want) in [
            ("http://localhost:3050", "http://localhost:3050"),
            ("http://localhost:3050/", "http://localhost:3050"),
            ("https://h.example/api/v2/", "https://h.example/api/v2"),
            ("https://h.example/api//", "https://h.example/api"),
        ] {
            assert_eq!(BaseUrl::parse(input).unwrap().as_str(), want);
        }
        for bad in [
            "",
            "localhost:3050",
            "ftp://h",
            "https://u:p@h.example",
            "https://h.example/?x=1",
            "https://h.example/#x",
            "https:///path",
        ] {
            let err = BaseUrl::parse(bad).unwrap_err();
            assert!(matches!(err, Error::InvalidConfig { .. }), "{bad}: {err}");
        }
    }

    #[test]
    fn secrets_in_base_urls_are_never_echoed() {
        for url in [
            "https://user:SEC#RET@h.example",
            "https://user:SEC?RET@h.example",
            "https://user:SEC/RET@h.example",
            "https://u:SECRET@h.example:abc",
            "ftp://user:SECRET@h.example",
            "https://h.example/?token=SECRET",
            "https://h.example/#SECRET",
            "https://h.example/a?b=1&token=SECRET",
        ] {
            let err = BaseUrl::parse(url).unwrap_err().to_string();
            assert!(!err.contains("SEC"), "{url}: {err}");
            assert!(!err.contains("RET"), "{url}: {err}");
        }
        let long = format!("https://user:{}SECRET@h.example", "p".repeat(400));
        let err = BaseUrl::parse(&long).unwrap_err().to_string();
        assert!(!err.contains("SECRET") && !err.contains("ppp"), "{err}");
        assert!(err.chars().count() < 400, "{err}");
    }

    #[test]
    fn ports_are_checked() {
        for bad in [
            "http://h:abc",
            "http://h:65536",
            "http://h:0",
            "http://h:",
            "http://[::1]:99999",
            "http://h:+80",
        ] {
            assert!(BaseUrl::parse(bad).is_err(), "{bad}");
        }
        for ok in [
            "http://h:1",
            "http://h:65535",
            "http://[::1]:3050",
            "http://[::1]",
            "http://h",
        ] {
            assert!(BaseUrl::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn client_ids() {
        for len in [
            MAX_CLIENT_ID_BYTES + 1,
            10 * 1024 * 1024 - 100,
            10 * 1024 * 1024 + 1,
        ] {
            let err = Config::new("http://h", "t", &"c".repeat(len)).unwrap_err();
            assert!(err.to_string().contains("bytes long"), "{err}");
            assert!(err.to_string().len() < 300);
        }
        assert!(Config::new("http://h", "t", &"c".repeat(MAX_CLIENT_ID_BYTES)).is_ok());
        assert!(Config::new("http://h", "t", "").is_err());
        assert!(Config::new("http://h", "t", "a\nb").is_err());
        let config = Config::new("http://h", "t", "agent 7").unwrap();
        assert_eq!(config.reader_client_id(), "agent 7#reader");
    }
}
