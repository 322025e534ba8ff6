//! Only the object form: serde's derived `Deserialize` of a struct also
//! accepts a JSON array of the members in order (`["x","2030-01-01T00:00:00Z"]`
//! for `{value, at}`), which the protocol never sends and the browser never
//! reads. Every wire type is read through [`object_only!`], which accepts a
//! JSON object and nothing else.

/// Implements `Deserialize` for `$ty` by reading a map only, with the
/// inherent `deserialize` that `#[serde(remote = "Self")]` generates.
macro_rules! object_only {
    ($ty:ident, $expecting:literal) => {
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct ObjectVisitor;
                impl<'de> serde::de::Visitor<'de> for ObjectVisitor {
                    type Value = $ty;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_map<A: serde::de::MapAccess<'de>>(
                        self,
                        map: A,
                    ) -> Result<$ty, A::Error> {
                        $ty::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    }
                }
                d.deserialize_map(ObjectVisitor)
            }
        }
    };
}

/// Implements `Serialize` for `$ty` with the inherent `serialize` that
/// `#[serde(remote = "Self")]` generates.
macro_rules! serialize_derived {
    ($ty:ident) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                $ty::serialize(self, s)
            }
        }
    };
}

pub(crate) use object_only;
pub(crate) use serialize_derived;
