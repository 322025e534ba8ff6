//! [`FieldState`]: one field of a folded record (its value, stamp and
//! origin), in a compact form: a replica holds one per field of every
//! record.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Number, Value};

use crate::{Origin, Stamp, Timestamp};

/// Who wrote a field, in a byte, when it is one of the known origins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Known {
    None,
    User,
    Agent,
    System,
    Migration,
}

impl Known {
    fn of(origin: Option<&Origin>) -> Option<Known> {
        Some(match origin {
            None => Known::None,
            Some(Origin::User) => Known::User,
            Some(Origin::Agent) => Known::Agent,
            Some(Origin::System) => Known::System,
            Some(Origin::Migration) => Known::Migration,
            Some(Origin::Other(_)) => return None,
        })
    }

    fn origin(self) -> Option<Origin> {
        match self {
            Known::None => None,
            Known::User => Some(Origin::User),
            Known::Agent => Some(Origin::Agent),
            Known::System => Some(Origin::System),
            Known::Migration => Some(Origin::Migration),
        }
    }

    fn as_str(self) -> Option<&'static str> {
        match self {
            Known::None => None,
            Known::User => Some("user"),
            Known::Agent => Some("agent"),
            Known::System => Some("system"),
            Known::Migration => Some("migration"),
        }
    }
}

/// A field's value as held: 24 bytes (a `Value` takes 72 with
/// `preserve_order`), scalars and strings inline, arrays and objects boxed.
#[derive(Clone, PartialEq)]
enum Held {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    /// An array or an object.
    Other(Box<Value>),
}

impl Held {
    /// A copy of `value`.
    fn of(value: &Value) -> Held {
        match value {
            Value::Null => Held::Null,
            Value::Bool(b) => Held::Bool(*b),
            Value::Number(n) => Held::Number(n.clone()),
            Value::String(s) => Held::String(s.clone()),
            other => Held::Other(Box::new(other.clone())),
        }
    }

    /// `value`, moved.
    fn from_value(value: Value) -> Held {
        match value {
            Value::Null => Held::Null,
            Value::Bool(b) => Held::Bool(b),
            Value::Number(n) => Held::Number(n),
            Value::String(s) => Held::String(s),
            other => Held::Other(Box::new(other)),
        }
    }

    fn to_value(&self) -> Cow<'_, Value> {
        match self {
            Held::Null => Cow::Owned(Value::Null),
            Held::Bool(b) => Cow::Owned(Value::Bool(*b)),
            Held::Number(n) => Cow::Owned(Value::Number(n.clone())),
            Held::String(s) => Cow::Owned(Value::String(s.clone())),
            Held::Other(v) => Cow::Borrowed(v),
        }
    }

    fn into_value(self) -> Value {
        match self {
            Held::Null => Value::Null,
            Held::Bool(b) => Value::Bool(b),
            Held::Number(n) => Value::Number(n),
            Held::String(s) => Value::String(s),
            Held::Other(v) => *v,
        }
    }

    /// Whether it equals `value`, without copying.
    fn is(&self, value: &Value) -> bool {
        match (self, value) {
            (Held::Null, Value::Null) => true,
            (Held::Bool(a), Value::Bool(b)) => a == b,
            (Held::Number(a), Value::Number(b)) => a == b,
            (Held::String(a), Value::String(b)) => a == b,
            (Held::Other(a), b) => **a == *b,
            _ => false,
        }
    }
}

/// The seconds of the empty stamp in [`Meta::Plain`]: below every instant
/// (years -9999 to 9999 are about ±3.8e11 s).
const EMPTY_SECS: i64 = i64::MIN;

/// A field's stamp and origin: 16 bytes in the common case (an instant or
/// the empty stamp, a known origin), boxed otherwise (an unreadable stamp,
/// which only a hand-made snapshot can hold, or another origin).
#[derive(Clone, PartialEq, Eq)]
enum Meta {
    /// The stamp as [`Timestamp::parts`] (`EMPTY_SECS` for the empty one).
    Plain {
        secs: i64,
        nanos: i32,
        origin: Known,
    },
    /// Anything else, as it came.
    Rare(Box<(Stamp, Option<Origin>)>),
}

impl Meta {
    fn new(at: &Stamp, origin: Option<&Origin>) -> Meta {
        let plain = match at {
            Stamp::Empty => Some((EMPTY_SECS, 0)),
            Stamp::At(t) => Some(t.parts()),
            Stamp::Unreadable(_) => None,
        };
        match (plain, Known::of(origin)) {
            (Some((secs, nanos)), Some(origin)) => Meta::Plain {
                secs,
                nanos,
                origin,
            },
            _ => Meta::Rare(Box::new((at.clone(), origin.cloned()))),
        }
    }
}

/// A stamp as an ordered key: `None` for an unreadable one (ordered against
/// nothing).
pub(crate) type StampKey = Option<(i64, i32)>;

/// The key of a stamp from a change.
pub(crate) fn stamp_key(at: &Stamp) -> StampKey {
    match at {
        Stamp::Empty => Some((EMPTY_SECS, 0)),
        Stamp::At(t) => Some(t.parts()),
        Stamp::Unreadable(_) => None,
    }
}

/// One field of a record: its value, when it was written, and by whom.
///
/// Kept compact (a replica holds one per field of every record): the stamp
/// and the origin are read with [`FieldState::at`] and
/// [`FieldState::origin`]. Serialises as `{"value", "at", "origin"?}`.
#[derive(Clone, PartialEq)]
pub struct FieldState {
    value: Held,
    meta: Meta,
}

impl FieldState {
    /// A field holding `value`, written at `at` by `origin`.
    ///
    /// ```
    /// # use mana_sync_core::surface as mana_sync_ureq;
    /// use mana_sync_ureq::fold::FieldState;
    /// use mana_sync_ureq::{Origin, Stamp};
    /// use serde_json::json;
    ///
    /// let f = FieldState::new(json!("x"), Stamp::Empty, Some(Origin::User));
    /// assert_eq!(*f.value(), json!("x"));
    /// assert_eq!(f.at(), Stamp::Empty);
    /// assert_eq!(f.origin(), Some(Origin::User));
    /// ```
    pub fn new(value: Value, at: Stamp, origin: Option<Origin>) -> FieldState {
        FieldState {
            value: Held::from_value(value),
            meta: Meta::new(&at, origin.as_ref()),
        }
    }

    /// A field from borrowed parts (the value copied).
    pub(crate) fn from_parts(value: &Value, at: &Stamp, origin: Option<&Origin>) -> FieldState {
        FieldState {
            value: Held::of(value),
            meta: Meta::new(at, origin),
        }
    }

    /// A field from a value borrowed or owned (moved when owned).
    pub(crate) fn from_cow(
        value: Cow<'_, Value>,
        at: &Stamp,
        origin: Option<&Origin>,
    ) -> FieldState {
        let value = match value {
            Cow::Borrowed(v) => Held::of(v),
            Cow::Owned(v) => Held::from_value(v),
        };
        FieldState {
            value,
            meta: Meta::new(at, origin),
        }
    }

    /// The value: borrowed for an array or an object, made for a scalar or
    /// a string (held in a compact form).
    pub fn value(&self) -> Cow<'_, Value> {
        self.value.to_value()
    }

    /// The value, taken.
    pub fn into_value(self) -> Value {
        self.value.into_value()
    }

    /// Whether the value is `null`.
    pub fn is_null(&self) -> bool {
        self.value == Held::Null
    }

    /// Whether the value equals `value` (nothing copied).
    pub fn value_is(&self, value: &Value) -> bool {
        self.value.is(value)
    }

    /// The order of `value` against the value held, in the fold's fixed
    /// order of JSON values (nothing copied for a string or a scalar).
    pub(crate) fn cmp_to_held(&self, value: &Value) -> Ordering {
        match (value, &self.value) {
            (Value::String(a), Held::String(b)) => a.as_str().cmp(b.as_str()),
            (Value::Bool(a), Held::Bool(b)) => a.cmp(b),
            (Value::Null, Held::Null) => Ordering::Equal,
            (a, Held::Other(b)) => super::order::cmp_values(a, b),
            (a, _) => super::order::cmp_values(a, &self.value()),
        }
    }

    /// When it was written.
    pub fn at(&self) -> Stamp {
        match &self.meta {
            Meta::Plain { secs, .. } if *secs == EMPTY_SECS => Stamp::Empty,
            // Parts made from a timestamp always make it again.
            Meta::Plain { secs, nanos, .. } => {
                Timestamp::from_parts(*secs, *nanos).map_or(Stamp::Empty, Stamp::At)
            }
            Meta::Rare(rare) => rare.0.clone(),
        }
    }

    /// The origin of the change that wrote it.
    pub fn origin(&self) -> Option<Origin> {
        match &self.meta {
            Meta::Plain { origin, .. } => origin.origin(),
            Meta::Rare(rare) => rare.1.clone(),
        }
    }

    /// The stamp as an ordered key.
    pub(crate) fn stamp_key(&self) -> StampKey {
        match &self.meta {
            Meta::Plain { secs, nanos, .. } => Some((*secs, *nanos)),
            Meta::Rare(rare) => stamp_key(&rare.0),
        }
    }

    /// The origin's wire text.
    pub(crate) fn origin_str(&self) -> Option<&str> {
        match &self.meta {
            Meta::Plain { origin, .. } => origin.as_str(),
            Meta::Rare(rare) => rare.1.as_ref().map(Origin::as_str),
        }
    }

    /// Whether the origin is [`Origin::User`].
    pub(crate) fn by_user(&self) -> bool {
        match &self.meta {
            Meta::Plain { origin, .. } => *origin == Known::User,
            Meta::Rare(rare) => rare.1 == Some(Origin::User),
        }
    }

    /// Overwrites this field with `value` (moved when owned, else copied,
    /// reusing the string's buffer when both are strings), `at` and
    /// `origin`.
    pub(crate) fn overwrite(&mut self, value: Cow<'_, Value>, at: &Stamp, origin: Option<&Origin>) {
        match (&mut self.value, value) {
            (Held::String(old), Cow::Borrowed(Value::String(new))) => {
                old.clear();
                old.push_str(new);
            }
            (old, Cow::Borrowed(new)) => *old = Held::of(new),
            (old, Cow::Owned(new)) => *old = Held::from_value(new),
        }
        self.meta = Meta::new(at, origin);
    }
}

impl fmt::Debug for FieldState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FieldState")
            .field("value", &self.value())
            .field("at", &self.at())
            .field("origin", &self.origin())
            .finish()
    }
}

/// The saved form of a [`FieldState`] (unchanged from when its members
/// were public).
#[derive(Serialize)]
struct FieldStateOut<'a> {
    value: Cow<'a, Value>,
    at: Stamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    origin: Option<Origin>,
}

#[derive(Deserialize)]
struct FieldStateIn {
    value: Value,
    at: Stamp,
    #[serde(default)]
    origin: Option<Origin>,
}

impl Serialize for FieldState {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        FieldStateOut {
            value: self.value(),
            at: self.at(),
            origin: self.origin(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for FieldState {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let f: FieldStateIn = crate::wire::map_only(d, "a saved field object {value, at}")?;
        Ok(FieldState::new(f.value, f.at, f.origin))
    }
}

/// The order of two stamp keys (`None`: one is unreadable).
pub(crate) fn cmp_keys(a: StampKey, b: StampKey) -> Option<Ordering> {
    Some(a?.cmp(&b?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fold::order::cmp_values;
    use serde_json::json;

    #[test]
    fn a_field_stays_compact() {
        // A field of a record is this plus its shared name (8 bytes).
        assert!(std::mem::size_of::<FieldState>() <= 40);
    }

    #[test]
    fn values_of_every_kind_come_back_as_they_went_in() {
        for v in [
            json!(null),
            json!(true),
            json!(1),
            json!(-1),
            json!(1.0),
            json!(1.5e300),
            json!(""),
            json!("x"),
            json!([1, {"a": null}]),
            json!({"b": 1, "a": [2]}),
        ] {
            let f = FieldState::new(v.clone(), Stamp::Empty, None);
            assert_eq!(*f.value(), v);
            assert!(f.value_is(&v));
            assert_eq!(f.is_null(), v.is_null());
            assert_eq!(f.clone().into_value(), v);
            let back: FieldState =
                serde_json::from_str(&serde_json::to_string(&f).unwrap()).unwrap();
            assert_eq!(back, f);
        }
        let f = FieldState::new(json!(1), Stamp::Empty, None);
        assert!(
            !f.value_is(&json!(1.0)),
            "1 and 1.0 differ, as in the fold's order"
        );
        assert!(!f.value_is(&json!("1")));
    }

    #[test]
    fn the_held_order_is_the_order_of_values() {
        let values = crate::fold::order::tests::ordered_values();
        for a in &values {
            for b in &values {
                let held = FieldState::new(b.clone(), Stamp::Empty, None);
                assert_eq!(held.cmp_to_held(a), cmp_values(a, b), "{a} vs {b}");
            }
        }
    }

    #[test]
    fn stamps_and_origins_come_back_whatever_they_are() {
        let t = Timestamp::parse("2026-04-23T11:19:00.123456789Z").unwrap();
        let early = Timestamp::parse("1900-01-01T00:00:00.5-01:00").unwrap();
        for (at, origin) in [
            (Stamp::At(t), Some(Origin::User)),
            (Stamp::At(early), None),
            (Stamp::Empty, Some(Origin::Migration)),
            (Stamp::Unreadable("soon".into()), Some(Origin::Agent)),
            (Stamp::At(t), Some(Origin::Other("bot".into()))),
        ] {
            let f = FieldState::new(json!("x"), at.clone(), origin.clone());
            assert_eq!(f.at(), at);
            assert_eq!(f.origin(), origin);
            assert_eq!(f.stamp_key(), stamp_key(&at));
            assert_eq!(f.by_user(), origin == Some(Origin::User));
            // Saved to the millisecond, as a stamp is written.
            let text = serde_json::to_string(&f).unwrap();
            let back: FieldState = serde_json::from_str(&text).unwrap();
            let at_ms = Stamp::from_wire(&at.to_string());
            assert_eq!(back, FieldState::new(json!("x"), at_ms, origin), "{text}");
        }
        // The saved form is the one of the public members it had.
        let f = FieldState::new(
            json!(1),
            Stamp::Unreadable("soon".into()),
            Some(Origin::Other("bot".into())),
        );
        assert_eq!(
            serde_json::to_value(&f).unwrap(),
            json!({"value": 1, "at": "soon", "origin": "bot"})
        );
        let f = FieldState::new(json!(1), Stamp::Empty, None);
        assert_eq!(
            serde_json::to_value(&f).unwrap(),
            json!({"value": 1, "at": ""})
        );
    }

    #[test]
    fn stamp_keys_order_as_instants() {
        let ts = [
            Timestamp::from_unix_millis(-62_000_000_000_000).unwrap(),
            Timestamp::from_unix_nanos(-1_500_000_000).unwrap(),
            Timestamp::from_unix_nanos(-500_000_000).unwrap(),
            Timestamp::UNIX_EPOCH,
            Timestamp::from_unix_nanos(1).unwrap(),
            Timestamp::parse("2026-04-23T11:19:00Z").unwrap(),
        ];
        let keys: Vec<StampKey> = std::iter::once(stamp_key(&Stamp::Empty))
            .chain(ts.iter().map(|t| stamp_key(&Stamp::At(*t))))
            .collect();
        for (i, a) in keys.iter().enumerate() {
            for (j, b) in keys.iter().enumerate() {
                assert_eq!(cmp_keys(*a, *b), Some(i.cmp(&j)));
            }
        }
        assert_eq!(
            cmp_keys(stamp_key(&Stamp::Unreadable("x".into())), keys[0]),
            None
        );
    }
}
