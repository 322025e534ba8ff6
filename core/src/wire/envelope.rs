//! [`SyncResponse`]: what push and pull answer.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

use super::changes::read_array;
use super::scan::Scanner;
use super::{Changes, Conflict, SkippedChange};
use crate::Cursor;

/// The response of a push or a pull.
///
/// The envelope is read strictly (an object; `serverChanges` and `conflicts`
/// arrays; `syncedUntil` a timestamp the server can read back; `hasMore` a
/// boolean): anything else fails the whole response. Each change is then
/// read on its own: a malformed one (see [`SkippedChange`]) is dropped and
/// reported in [`SyncResponse::skipped`], and the rest of the page is kept,
/// as [`Changes`]: the response's bytes, read in one pass.
///
/// ```
/// # use mana_sync_core::surface as mana_sync_ureq;
/// use mana_sync_ureq::SyncResponse;
///
/// let r: SyncResponse = serde_json::from_str(
///     r#"{"serverChanges":[{"table":"t","id":"1","op":5},{"table":"t","id":"2","op":"delete"}],
///         "conflicts":[],"syncedUntil":"2026-11-24T22:21:44.564112Z","hasMore":true}"#,
/// )?;
/// assert!(r.has_more);
/// assert_eq!(r.synced_until.as_str(), "2026-11-24T22:21:44.564112Z");
/// assert_eq!(r.server_changes.len(), 1);
/// assert_eq!(r.skipped[0].index, 0);
/// assert!(serde_json::from_str::<SyncResponse>(r#"[[],[],"2026-11-24T22:21:44Z",true]"#).is_err());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncResponse {
    /// Other clients' changes, oldest first (the well-formed ones).
    pub server_changes: Changes,
    /// Always empty today.
    pub conflicts: Vec<Conflict>,
    /// The cursor to send back as the next `since`, verbatim.
    pub synced_until: Cursor,
    /// Pull only: more changes wait after `synced_until`. Omitted when false.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub has_more: bool,
    /// The changes of `serverChanges` that were dropped as malformed (never
    /// written back).
    #[serde(skip)]
    pub skipped: Vec<SkippedChange>,
}

/// The envelope as it is on the wire, the changes kept as raw text.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Envelope {
    #[serde(default)]
    pub(crate) server_changes: RawArray,
    #[serde(default)]
    pub(crate) conflicts: Vec<Conflict>,
    pub(crate) synced_until: Cursor,
    #[serde(default)]
    pub(crate) has_more: bool,
}

impl<'de> Deserialize<'de> for SyncResponse {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let envelope = crate::wire::map_only::<Envelope, _>(d, "a sync response object")?;
        let (server_changes, skipped) = match envelope.server_changes.0 {
            Some(array) => Changes::from_array(String::from(Box::<str>::from(array)))
                .map_err(|_| serde::de::Error::custom("the changes could not be read"))?,
            None => (Changes::new(), Vec::new()),
        };
        Ok(SyncResponse {
            server_changes,
            conflicts: envelope.conflicts,
            synced_until: envelope.synced_until,
            has_more: envelope.has_more,
            skipped,
        })
    }
}

impl SyncResponse {
    /// Reads a response body in one pass, keeping it (no copy) as the
    /// changes' storage. Gives the body back when it is anything but the
    /// usual page (not UTF-8, a member name with an escape, a member twice,
    /// conflicts, anything that fails): the serde reading ([`Deserialize`])
    /// then decides, and names what is wrong. What this accepts, that
    /// reading accepts, as the same response.
    pub(crate) fn read_fast(body: Vec<u8>) -> Result<SyncResponse, Vec<u8>> {
        match read_envelope(&body) {
            Some((entries, skipped, synced_until, has_more)) => Ok(SyncResponse {
                server_changes: Changes::from_parts(bytes::Bytes::from(body), entries),
                conflicts: Vec::new(),
                synced_until,
                has_more,
                skipped,
            }),
            None => Err(body),
        }
    }
}

type Read = (Vec<super::changes::Entry>, Vec<SkippedChange>, Cursor, bool);

/// The envelope and the changes of a usual page; `None` for anything else.
fn read_envelope(body: &[u8]) -> Option<Read> {
    if u32::try_from(body.len()).is_err() || std::str::from_utf8(body).is_err() {
        return None;
    }
    let mut sc = Scanner::new(body);
    let mut i = sc.ws(0);
    if sc.at(i) != b'{' {
        return None;
    }
    i = sc.ws(i.saturating_add(1));
    let mut changes = None;
    let mut conflicts = false;
    let mut synced_until = None;
    let mut has_more = None;
    if sc.at(i) == b'}' {
        return None;
    }
    loop {
        if sc.at(i) != b'"' {
            return None;
        }
        let (name_end, after, flags) = sc.string(i.saturating_add(1)).ok()?;
        if flags != 0 {
            return None;
        }
        let name = sc.slice(i.saturating_add(1), name_end);
        i = sc.ws(after);
        if sc.at(i) != b':' {
            return None;
        }
        i = sc.ws(i.saturating_add(1));
        match name {
            b"serverChanges" => {
                if changes.is_some() || sc.at(i) != b'[' {
                    return None;
                }
                let (end, entries, skipped) = read_array(&mut sc, body, i).ok()?;
                changes = Some((entries, skipped));
                i = end;
            }
            b"conflicts" => {
                if conflicts || sc.at(i) != b'[' {
                    return None;
                }
                i = sc.ws(i.saturating_add(1));
                if sc.at(i) != b']' {
                    return None;
                }
                i = i.saturating_add(1);
                conflicts = true;
            }
            b"syncedUntil" => {
                if synced_until.is_some() || sc.at(i) != b'"' {
                    return None;
                }
                let (text_end, end, flags) = sc.string(i.saturating_add(1)).ok()?;
                if flags != 0 {
                    return None;
                }
                let text = std::str::from_utf8(sc.slice(i.saturating_add(1), text_end)).ok()?;
                synced_until = Some(Cursor::parse(text).ok()?);
                i = end;
            }
            b"hasMore" => {
                if has_more.is_some() {
                    return None;
                }
                let (value, end) = match sc.at(i) {
                    b't' if sc.slice(i, i.saturating_add(4)) == b"true" => (true, 4),
                    b'f' if sc.slice(i, i.saturating_add(5)) == b"false" => (false, 5),
                    _ => return None,
                };
                has_more = Some(value);
                i = i.saturating_add(end);
            }
            _ => i = sc.value(i, 1).ok()?.0,
        }
        i = sc.ws(i);
        match sc.at(i) {
            b',' => i = sc.ws(i.saturating_add(1)),
            b'}' => break,
            _ => return None,
        }
    }
    if sc.ws(i.saturating_add(1)) != body.len() {
        return None;
    }
    let (entries, skipped) = changes.unwrap_or_default();
    Some((entries, skipped, synced_until?, has_more.unwrap_or(false)))
}

/// The text of a JSON array (anything else, `null` included, fails as
/// serde's sequences do); `None` when the member is absent.
#[derive(Default)]
pub(crate) struct RawArray(pub(crate) Option<Box<RawValue>>);

impl<'de> Deserialize<'de> for RawArray {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{Error, Unexpected};
        let raw = Box::<RawValue>::deserialize(d)?;
        if raw.get().starts_with('[') {
            return Ok(RawArray(Some(raw)));
        }
        let value: Value = serde_json::from_str(raw.get()).map_err(D::Error::custom)?;
        let unexpected = match &value {
            Value::Null => Unexpected::Unit,
            Value::Bool(b) => Unexpected::Bool(*b),
            Value::Number(n) => match (n.as_u64(), n.as_i64()) {
                (Some(u), _) => Unexpected::Unsigned(u),
                (None, Some(i)) => Unexpected::Signed(i),
                _ => Unexpected::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            Value::String(s) => Unexpected::Str(s),
            Value::Array(_) => Unexpected::Seq,
            Value::Object(_) => Unexpected::Map,
        };
        Err(D::Error::invalid_type(unexpected, &"a sequence"))
    }
}
