//! [`FieldChange`]: one field of an update, `{value, at}`.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::{Stamp, Timestamp};

/// One field of an update: the new value and when it was written.
///
/// Written as `{"value": .., "at": ..}`. Read from `at`, or from `updatedAt`
/// (what older clients sent) when `at` is absent; with neither, the stamp is
/// [`Stamp::Empty`], as the server stores it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    /// The new value (any JSON; `null` included).
    pub value: Value,
    /// When it was written.
    pub at: Stamp,
}

impl FieldChange {
    /// A field written with `value` at `at`.
    pub fn new(value: impl Into<Value>, at: Timestamp) -> FieldChange {
        FieldChange {
            value: value.into(),
            at: Stamp::At(at),
        }
    }
}

impl<'de> Deserialize<'de> for FieldChange {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Raw {
            #[serde(default)]
            value: Value,
            #[serde(default)]
            at: Option<Stamp>,
            #[serde(default)]
            updated_at: Option<Stamp>,
        }
        let raw = crate::wire::map_only::<Raw, _>(d, "a field object {value, at}")?;
        Ok(FieldChange {
            value: raw.value,
            at: raw.at.or(raw.updated_at).unwrap_or(Stamp::Empty),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_at_and_the_legacy_alias_and_writes_at() {
        let f: FieldChange =
            serde_json::from_str(r#"{"value":1,"updatedAt":"2026-04-23T11:19:00.000Z"}"#).unwrap();
        assert_eq!(
            serde_json::to_string(&f).unwrap(),
            r#"{"value":1,"at":"2026-04-23T11:19:00.000Z"}"#
        );
        let f: FieldChange = serde_json::from_str(
            r#"{"value":1,"at":"2026-04-23T11:19:00.000Z","updatedAt":"2020-01-01T00:00:00Z","x":2}"#,
        )
        .unwrap();
        assert_eq!(f.at.to_string(), "2026-04-23T11:19:00.000Z");
        let f: FieldChange = serde_json::from_str(r#"{"value":null,"at":""}"#).unwrap();
        assert_eq!(f.at, Stamp::Empty);
        assert!(serde_json::from_str::<FieldChange>("5").is_err());
    }
}
