//! [`Patch`]: the fields an update of a typed table sets, each checked
//! against the record type's serde form (its field names and the type of
//! each value) before anything is sent.

use std::marker::PhantomData;

use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::Error;

/// The fields an update sets on a record of type `T`, by the names `T`
/// has on the wire (its serde names, e.g. `isCompleted` under
/// `rename_all = "camelCase"`).
///
/// [`Patch::set`] refuses a name `T` does not have (a misspelt field would
/// otherwise be pushed as a new one) and a value `T` could not read back
/// (a string where `T` has a `bool` would otherwise poison the record for
/// every typed reader). The error names the field and the expected type,
/// never the value.
///
/// ```
/// # use mana_sync_core::surface as mana_sync_ureq;
/// use mana_sync_ureq::{Error, Patch};
///
/// #[derive(serde::Serialize, serde::Deserialize)]
/// #[serde(rename_all = "camelCase")]
/// struct Task { title: String, is_completed: bool }
///
/// let patch = Patch::<Task>::new().set("isCompleted", true)?.set("title", "Buy oat milk")?;
/// assert_eq!(patch.fields().len(), 2);
///
/// let misspelt = Patch::<Task>::new().set("is_completed", true);
/// assert!(matches!(misspelt, Err(Error::InvalidRequest { .. })));
/// let wrong_type = Patch::<Task>::new().set("isCompleted", "yes");
/// assert!(wrong_type.unwrap_err().to_string().contains("expected a boolean"));
///
/// // Or from two values: the fields that differ.
/// let before = Task { title: "Buy milk".into(), is_completed: false };
/// let after = Task { title: "Buy milk".into(), is_completed: true };
/// assert_eq!(Patch::diff(&before, &after)?.fields().keys().collect::<Vec<_>>(), ["isCompleted"]);
/// # Ok::<(), Error>(())
/// ```
pub struct Patch<T> {
    fields: Map<String, Value>,
    record: PhantomData<fn() -> T>,
}

impl<T> Clone for Patch<T> {
    fn clone(&self) -> Self {
        Patch {
            fields: self.fields.clone(),
            record: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for Patch<T> {
    /// Names the fields, never their values (they may be secrets).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Patch")
            .field("fields", &self.fields.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl<T: Serialize + DeserializeOwned> Default for Patch<T> {
    fn default() -> Self {
        Patch::new()
    }
}

impl<T: Serialize + DeserializeOwned> Patch<T> {
    /// An empty patch.
    pub fn new() -> Patch<T> {
        Patch {
            fields: Map::new(),
            record: PhantomData,
        }
    }

    /// Sets `field` (its wire name) to `value`, after checking that `T`
    /// has that field and can read that value in it. A value nested deeper
    /// than [`crate::limits::MAX_DEPTH`] levels is refused (it could not be
    /// read back, and checking it would exhaust the stack).
    pub fn set(mut self, field: &str, value: impl Serialize) -> Result<Patch<T>, Error> {
        let value = crate::depth::to_value_within(value).map_err(|e| Error::InvalidRequest {
            reason: format!("the value of field {field} cannot be written as JSON: {e}"),
        })?;
        check_field::<T>(field, &value)?;
        self.fields.insert(field.to_owned(), value);
        Ok(self)
    }

    /// The fields whose serde form differs between `before` and `after`
    /// (a field `after` lacks is not set: a patch never removes one).
    pub fn diff(before: &T, after: &T) -> Result<Patch<T>, Error> {
        let before = object(before)?;
        let mut patch = Patch::new();
        for (name, value) in object(after)? {
            if before.get(&name) != Some(&value) {
                patch.fields.insert(name, value);
            }
        }
        Ok(patch)
    }

    /// The fields set, by wire name.
    pub fn fields(&self) -> &Map<String, Value> {
        &self.fields
    }

    /// Whether no field is set.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    pub(crate) fn into_fields(self) -> Map<String, Value> {
        self.fields
    }
}

/// `value`'s serde form, which must be a JSON object.
pub(crate) fn object<T: Serialize>(value: &T) -> Result<Map<String, Value>, Error> {
    match serde_json::to_value(value) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Error::InvalidRequest {
            reason: "a record must serialise to a JSON object".into(),
        }),
        Err(e) => Err(Error::InvalidRequest {
            reason: format!("the record cannot be written as JSON: {e}"),
        }),
    }
}

/// Whether `T` has `field` and reads `value` there.
fn check_field<T: DeserializeOwned>(field: &str, value: &Value) -> Result<(), Error> {
    let type_name = short_type_name::<T>();
    if let Some(names) = field_names::<T>() {
        if !names.contains(&field) {
            return Err(Error::InvalidRequest {
                reason: format!(
                    "{type_name} has no field {field:?} (its fields, by wire name: {})",
                    names.join(", ")
                ),
            });
        }
    }
    // Read a `T` from the one field: serde reads (and type-checks) the
    // fields it is given first and only then misses the others, so an
    // error at the field's own path is about its value.
    let mut one = Map::new();
    one.insert(field.to_owned(), value.clone());
    match serde_path_to_error::deserialize::<_, T>(Value::Object(one)) {
        Ok(_) => Ok(()),
        Err(e) => {
            let path = e.path().to_string();
            let at_field = path == field
                || path.starts_with(&format!("{field}."))
                || path.starts_with(&format!("{field}["));
            if at_field {
                Err(Error::InvalidRequest {
                    reason: format!(
                        "field {path} of {type_name}: {}",
                        without_value(&e.into_inner().to_string())
                    ),
                })
            } else {
                Ok(())
            }
        }
    }
}

/// serde's message with the value it may quote left out (`invalid type:
/// string "…", expected a boolean` may hold a secret): only what names the
/// expected type is kept.
pub(crate) fn without_value(message: &str) -> String {
    if message.starts_with("missing field")
        || message.starts_with("unknown field")
        || message.starts_with("duplicate field")
    {
        return message.to_owned();
    }
    match message.rfind(", expected ") {
        Some(i) => format!(
            "the value does not fit the record type (expected {}; the value is not shown)",
            message.get(i + ", expected ".len()..).unwrap_or_default()
        ),
        None => "the value does not fit the record type (the value is not shown)".into(),
    }
}

fn short_type_name<T>() -> &'static str {
    let full = std::any::type_name::<T>();
    let base = full.split('<').next().unwrap_or(full);
    base.rsplit("::").next().unwrap_or(base)
}

/// The field names `T`'s `Deserialize` asks for, when it reads a struct
/// (serde derive passes them to `deserialize_struct`); `None` for anything
/// else (a map, a flattened struct, a hand-written impl).
fn field_names<T: DeserializeOwned>() -> Option<&'static [&'static str]> {
    let mut names = None;
    let _ = T::deserialize(Tracer(&mut names));
    names
}

/// A deserializer that only records what `deserialize_struct` is given.
struct Tracer<'a>(&'a mut Option<&'static [&'static str]>);

impl<'de> Deserializer<'de> for Tracer<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("not a struct"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = Some(fields);
        Err(de::Error::custom("traced"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map enum identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::collections::BTreeMap;

    #[derive(serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Task {
        title: String,
        is_completed: bool,
        #[serde(default)]
        order: Option<u32>,
        #[serde(default)]
        tags: Vec<String>,
    }

    #[test]
    fn names_come_from_the_serde_form() {
        assert_eq!(
            field_names::<Task>().unwrap(),
            ["title", "isCompleted", "order", "tags"]
        );
        assert_eq!(field_names::<BTreeMap<String, Value>>(), None);
    }

    #[test]
    fn good_fields_pass_bad_ones_are_refused_without_the_value() {
        let p = Patch::<Task>::new()
            .set("isCompleted", true)
            .unwrap()
            .set("order", None::<u32>)
            .unwrap()
            .set("tags", ["a"])
            .unwrap();
        assert_eq!(p.fields().len(), 3);

        let e = Patch::<Task>::new().set("is_completed", true).unwrap_err();
        assert!(e.to_string().contains("\"is_completed\""), "{e}");
        assert!(e.to_string().contains("isCompleted"), "{e}");

        let e = Patch::<Task>::new()
            .set("isCompleted", "secret-yes")
            .unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("isCompleted") && text.contains("a boolean"),
            "{text}"
        );
        assert!(!text.contains("secret-yes"), "{text}");

        let e = Patch::<Task>::new().set("tags", [1, 2]).unwrap_err();
        assert!(e.to_string().contains("tags[0]"), "{e}");
        assert!(Patch::<Task>::new().set("title", Value::Null).is_err());
    }

    #[test]
    fn maps_take_any_name() {
        let p = Patch::<BTreeMap<String, Value>>::new()
            .set("anything", 1)
            .unwrap();
        assert_eq!(p.fields()["anything"], 1);
    }

    #[test]
    fn diff_sets_what_changed() {
        let a = Task {
            title: "a".into(),
            is_completed: false,
            order: None,
            tags: vec![],
        };
        let b = Task {
            title: "zz-secret".into(),
            is_completed: false,
            order: Some(2),
            tags: vec![],
        };
        let p = Patch::diff(&a, &b).unwrap();
        assert_eq!(p.fields().keys().collect::<Vec<_>>(), ["title", "order"]);
        assert!(Patch::diff(&a, &a).unwrap().is_empty());
        assert!(!format!("{p:?}").contains("zz-secret"));
    }
}
