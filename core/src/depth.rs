//! Nesting depth: the one limit ([`MAX_DEPTH`]) every reading of and every
//! walk over caller or server JSON keeps, measured without recursion.
//!
//! A value is `n` levels deep when `n` containers (arrays and objects) are
//! open at its innermost point: `1` and `{}` are 0 and 1 level deep,
//! `{"a":[1]}` is 2. [`MAX_DEPTH`] is serde_json's own default (128 frames,
//! so 127 levels); it is switched off only where this module has measured
//! the text first, so that exactly [`MAX_DEPTH`] levels read everywhere.

use serde::de::{Deserialize, Error as _};
use serde::ser::{self, Serialize, Serializer};
use serde_json::Value;

pub(crate) use crate::limits::MAX_DEPTH;

/// What a value nested beyond the limit is told (the whole reason, or the
/// part after the name of what is too deep).
pub(crate) fn too_deep() -> String {
    format!(
        "nested deeper than {MAX_DEPTH} levels of arrays and objects (the most this client reads)"
    )
}

/// Whether the JSON `text` opens more than `limit` containers at once.
/// Brackets inside strings are not counted; the text need not be valid.
/// One pass, no allocation.
pub(crate) fn text_deeper_than(text: &[u8], limit: usize) -> bool {
    let mut open = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in text {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                open = open.saturating_add(1);
                if open > limit {
                    return true;
                }
            }
            b']' | b'}' => open = open.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// Whether `value` is nested deeper than [`MAX_DEPTH`] levels. Walks with
/// an explicit stack (memory linear in the containers, never the call
/// stack) and stops at the first container beyond the limit.
pub(crate) fn value_too_deep(value: &Value) -> bool {
    value_deeper_than(value, MAX_DEPTH)
}

/// Whether `value` opens more than `limit` containers at once (see
/// [`value_too_deep`]). A scalar, or a container of scalars, is answered
/// without allocating.
pub(crate) fn value_deeper_than(value: &Value, limit: usize) -> bool {
    let scalar = |v: &Value| !matches!(v, Value::Array(_) | Value::Object(_));
    let flat = match value {
        Value::Array(items) => items.iter().all(scalar),
        Value::Object(members) => members.values().all(scalar),
        _ => return false,
    };
    if flat {
        return limit == 0;
    }
    let mut todo: Vec<(&Value, usize)> = vec![(value, 1)];
    while let Some((v, level)) = todo.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match v {
            Value::Array(items) => Box::new(items.iter()),
            Value::Object(members) => Box::new(members.values()),
            _ => continue,
        };
        if level > limit {
            return true;
        }
        let inner = level.saturating_add(1);
        todo.extend(
            children
                .filter(|c| matches!(c, Value::Array(_) | Value::Object(_)))
                .map(|c| (c, inner)),
        );
    }
    false
}

/// Whether `change`, written as JSON, would open more than [`MAX_DEPTH`]
/// containers: the change is one, `data` and `fields` a second, each
/// field's `{value, at}` a third. Such a change cannot have come from the
/// server (its reading stops there) nor be pushed ([`to_value_within`]);
/// the fold drops it before copying, comparing or hashing a value, since
/// every one of those would recurse once a level.
pub(crate) fn change_too_deep(change: &crate::Change) -> bool {
    let data = change.data.iter().flat_map(|d| d.values());
    let fields = change.fields.iter().flat_map(|f| f.values());
    change
        .actor
        .as_ref()
        .is_some_and(|a| value_deeper_than(a, MAX_DEPTH.saturating_sub(1)))
        || data
            .into_iter()
            .any(|v| value_deeper_than(v, MAX_DEPTH.saturating_sub(2)))
        || fields
            .into_iter()
            .any(|f| value_deeper_than(&f.value, MAX_DEPTH.saturating_sub(3)))
}

/// Writes `value` as JSON to `writer`, stopping with [`too_deep`] once it
/// opens more than [`MAX_DEPTH`] containers (what was written up to there
/// stays written).
pub(crate) fn write_within<W: std::io::Write, T: Serialize + ?Sized>(
    writer: W,
    value: &T,
) -> Result<(), serde_json::Error> {
    let mut json = serde_json::Serializer::new(writer);
    value.serialize(Bounded {
        inner: &mut json,
        depth: 0,
    })
}

/// `text` read as a `T`, when it nests at most `limit` levels (at most
/// [`MAX_DEPTH`]: a member inside a change has one level less); deeper
/// text fails with [`too_deep`] before anything is read.
pub(crate) fn from_str_within<'a, T: Deserialize<'a>>(
    text: &'a str,
    limit: usize,
) -> Result<T, serde_json::Error> {
    if text_deeper_than(text.as_bytes(), limit.min(MAX_DEPTH)) {
        return Err(serde_json::Error::custom(too_deep()));
    }
    from_str_measured(text)
}

/// `text` read as a `T`, when [`text_deeper_than`] has found it within
/// [`MAX_DEPTH`] levels (serde_json's own limit of 127 is off).
pub(crate) fn from_str_measured<'a, T: Deserialize<'a>>(
    text: &'a str,
) -> Result<T, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    // Bounded by the measure above: at most MAX_DEPTH frames.
    de.disable_recursion_limit();
    let value = T::deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn nested(levels: usize) -> String {
        format!("{}1{}", "[".repeat(levels), "]".repeat(levels))
    }

    #[test]
    fn exactly_the_limit_reads() {
        let at = nested(MAX_DEPTH);
        let beyond = nested(MAX_DEPTH + 1);
        assert!(!text_deeper_than(at.as_bytes(), MAX_DEPTH));
        assert!(text_deeper_than(beyond.as_bytes(), MAX_DEPTH));
        assert!(!text_deeper_than(br#"["[[[[","{{{\"{{"]"#, 1));
        let value: Value = from_str_within(&at, MAX_DEPTH).unwrap();
        assert!(!value_too_deep(&value));
        let e = from_str_within::<Value>(&beyond, MAX_DEPTH).unwrap_err();
        assert!(e.to_string().contains("deeper than 127"), "{e}");
        let mut v = Value::from(1);
        for _ in 0..=MAX_DEPTH {
            v = Value::Array(vec![Value::Null, v]);
        }
        assert!(value_too_deep(&v));
        assert!(!value_too_deep(&Value::from("x")));
    }
}

/// `value`'s serde form as a [`Value`], refused with [`too_deep`] once it
/// opens more than [`MAX_DEPTH`] containers: the serialisation stops
/// there, so a caller's value of any depth never exhausts the stack.
pub(crate) fn to_value_within<T: Serialize>(value: T) -> Result<Value, serde_json::Error> {
    value.serialize(Bounded {
        inner: serde_json::value::Serializer,
        depth: 0,
    })
}

/// A serializer that counts the containers open around what it writes and
/// fails beyond [`MAX_DEPTH`]; `inner` does the writing.
struct Bounded<S> {
    inner: S,
    depth: usize,
}

/// A value written at `depth` open containers.
struct At<'a, T: ?Sized> {
    value: &'a T,
    depth: usize,
}

impl<T: Serialize + ?Sized> Serialize for At<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(Bounded {
            inner: s,
            depth: self.depth,
        })
    }
}

impl<S: Serializer> Bounded<S> {
    /// The depth inside one more container, or the error beyond the limit.
    fn open(&self) -> Result<usize, S::Error> {
        let inside = self.depth.saturating_add(1);
        if inside > MAX_DEPTH {
            Err(ser::Error::custom(too_deep()))
        } else {
            Ok(inside)
        }
    }
}

/// One compound (array or object) being written, with its depth inside.
struct Compound<C> {
    inner: C,
    depth: usize,
}

macro_rules! forward_scalars {
    ($($method:ident($ty:ty)),* $(,)?) => {
        $(fn $method(self, v: $ty) -> Result<S::Ok, S::Error> { self.inner.$method(v) })*
    };
}

impl<S: Serializer> Serializer for Bounded<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = Compound<S::SerializeSeq>;
    type SerializeTuple = Compound<S::SerializeTuple>;
    type SerializeTupleStruct = Compound<S::SerializeTupleStruct>;
    type SerializeTupleVariant = Compound<S::SerializeTupleVariant>;
    type SerializeMap = Compound<S::SerializeMap>;
    type SerializeStruct = Compound<S::SerializeStruct>;
    type SerializeStructVariant = Compound<S::SerializeStructVariant>;

    forward_scalars!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_i128(i128),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_u128(u128),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
        serialize_str(&str),
        serialize_bytes(&[u8]),
        serialize_unit_struct(&'static str),
    );

    fn serialize_none(self) -> Result<S::Ok, S::Error> {
        self.inner.serialize_none()
    }
    fn serialize_unit(self) -> Result<S::Ok, S::Error> {
        self.inner.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<S::Ok, S::Error> {
        let depth = self.depth;
        self.inner.serialize_some(&At { value, depth })
    }
    fn serialize_unit_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
    ) -> Result<S::Ok, S::Error> {
        self.inner.serialize_unit_variant(name, index, variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        let depth = self.depth;
        self.inner
            .serialize_newtype_struct(name, &At { value, depth })
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        // Written as an object of one member.
        let depth = self.open()?;
        self.inner
            .serialize_newtype_variant(name, index, variant, &At { value, depth })
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq, S::Error> {
        let depth = self.open()?;
        Ok(Compound {
            inner: self.inner.serialize_seq(len)?,
            depth,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, S::Error> {
        let depth = self.open()?;
        Ok(Compound {
            inner: self.inner.serialize_tuple(len)?,
            depth,
        })
    }
    fn serialize_tuple_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct, S::Error> {
        let depth = self.open()?;
        Ok(Compound {
            inner: self.inner.serialize_tuple_struct(name, len)?,
            depth,
        })
    }
    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant, S::Error> {
        // An object holding an array: two levels.
        let depth = self.open()?.saturating_add(1);
        if depth > MAX_DEPTH {
            return Err(ser::Error::custom(too_deep()));
        }
        Ok(Compound {
            inner: self
                .inner
                .serialize_tuple_variant(name, index, variant, len)?,
            depth,
        })
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
        let depth = self.open()?;
        Ok(Compound {
            inner: self.inner.serialize_map(len)?,
            depth,
        })
    }
    fn serialize_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, S::Error> {
        let depth = self.open()?;
        Ok(Compound {
            inner: self.inner.serialize_struct(name, len)?,
            depth,
        })
    }
    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        let depth = self.open()?.saturating_add(1);
        if depth > MAX_DEPTH {
            return Err(ser::Error::custom(too_deep()));
        }
        Ok(Compound {
            inner: self
                .inner
                .serialize_struct_variant(name, index, variant, len)?,
            depth,
        })
    }
}

macro_rules! compound {
    ($trait:ident, named) => {
        impl<C: ser::$trait> ser::$trait for Compound<C> {
            type Ok = C::Ok;
            type Error = C::Error;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<(), C::Error> {
                let depth = self.depth;
                self.inner.serialize_field(key, &At { value, depth })
            }
            fn end(self) -> Result<C::Ok, C::Error> {
                self.inner.end()
            }
        }
    };
    ($trait:ident, $method:ident) => {
        impl<C: ser::$trait> ser::$trait for Compound<C> {
            type Ok = C::Ok;
            type Error = C::Error;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), C::Error> {
                let depth = self.depth;
                self.inner.$method(&At { value, depth })
            }
            fn end(self) -> Result<C::Ok, C::Error> {
                self.inner.end()
            }
        }
    };
}

compound!(SerializeSeq, serialize_element);
compound!(SerializeTuple, serialize_element);
compound!(SerializeTupleStruct, serialize_field);
compound!(SerializeTupleVariant, serialize_field);
compound!(SerializeStruct, named);
compound!(SerializeStructVariant, named);

impl<C: ser::SerializeMap> ser::SerializeMap for Compound<C> {
    type Ok = C::Ok;
    type Error = C::Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), C::Error> {
        let depth = self.depth;
        self.inner.serialize_key(&At { value: key, depth })
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), C::Error> {
        let depth = self.depth;
        self.inner.serialize_value(&At { value, depth })
    }
    fn end(self) -> Result<C::Ok, C::Error> {
        self.inner.end()
    }
}
