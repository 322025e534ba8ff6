//! [`Config`]: where the server is and who is asking; [`BaseUrl`].

use std::fmt;

use crate::{Error, Token};

/// A service's base URL: `http` or `https`, a host, an optional port and an
/// optional path prefix (with or without a trailing slash). No query, no
/// fragment, no credentials.
///
/// ```
/// use mana_sync_core::BaseUrl;
///
/// let url = BaseUrl::parse("https://example.com/mana/")?;
/// assert_eq!(url.as_str(), "https://example.com/mana");
/// assert!(BaseUrl::parse("ftp://example.com").is_err());
/// # Ok::<(), mana_sync_core::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct BaseUrl(String);

impl BaseUrl {
    /// Checks and normalises a base URL (the trailing slash is dropped).
    pub fn parse(url: &str) -> Result<BaseUrl, Error> {
        let invalid = |why: &str| Error::InvalidConfig {
            reason: format!("base URL {:?}: {why}", redact_userinfo(url)),
        };
        let uri: http::Uri = url
            .trim()
            .parse()
            .map_err(|_| invalid("not a URL; expected e.g. https://sync.example.com"))?;
        match uri.scheme_str() {
            Some("http") | Some("https") => {}
            _ => return Err(invalid("the scheme must be http or https")),
        }
        let authority = uri.authority().ok_or_else(|| invalid("missing the host"))?;
        if authority.as_str().contains('@') {
            return Err(invalid(
                "credentials in the URL are not supported; the token goes in the config",
            ));
        }
        if uri.query().is_some() || url.contains('#') {
            return Err(invalid("a base URL has no query or fragment"));
        }
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

/// The URL as it may be shown: at most 200 characters, and any
/// `user:password@` replaced by `[redacted]@`.
fn redact_userinfo(url: &str) -> String {
    let shown: String = url.chars().take(200).collect();
    let start = shown.find("://").map_or(0, |i| i + 3);
    let end = shown[start..]
        .find(['/', '?', '#'])
        .map_or(shown.len(), |i| start + i);
    match shown[start..end].rfind('@') {
        Some(at) => format!("{}[redacted]{}", &shown[..start], &shown[start + at..]),
        None => shown,
    }
}

/// Everything an operation needs to address the server: the sync service's
/// base URL, the bearer token and this client's id (`X-Client-Id`; the server
/// leaves a client's own changes out of what it returns to it).
///
/// ```
/// use mana_sync_core::Config;
///
/// let config = Config::new("http://localhost:3050", "eyJ...", "mana-mcp")?;
/// assert_eq!(config.client_id(), "mana-mcp");
/// assert!(!format!("{config:?}").contains("eyJ"));
/// # Ok::<(), mana_sync_core::Error>(())
/// ```
#[derive(Clone)]
pub struct Config {
    sync_url: BaseUrl,
    auth_url: Option<BaseUrl>,
    token: Token,
    client_id: String,
    client_id_header: http::HeaderValue,
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

    pub(crate) fn client_id_header(&self) -> &http::HeaderValue {
        &self.client_id_header
    }
}

fn check_client_id(client_id: &str) -> Result<(String, http::HeaderValue), Error> {
    let bad = |why: &str| Error::InvalidConfig {
        reason: format!("client id {client_id:?}: {why}"),
    };
    if client_id.is_empty() {
        return Err(bad("must not be empty"));
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
    fn client_ids() {
        assert!(Config::new("http://h", "t", "").is_err());
        assert!(Config::new("http://h", "t", "a\nb").is_err());
        let config = Config::new("http://h", "t", "agent 7").unwrap();
        assert_eq!(config.reader_client_id(), "agent 7#reader");
    }
}
