//! Only the object form: serde's derived `Deserialize` of a struct also
//! accepts a JSON array of the members in order (`["x","2030-01-01T00:00:00Z"]`
//! for `{value, at}`), which the protocol never sends, the browser never
//! reads and no saved state of ours ever holds. Every struct read from the
//! wire or from saved state is read through [`map_only`], which accepts a
//! map (a JSON object) and nothing else: a public type declared with
//! [`object_form!`], a private one with a plain derive read by `map_only`.

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// Reads a `T` (whose derived `Deserialize` would also take a sequence)
/// from a map only; anything else is refused as `invalid type: …, expected
/// {expecting}`.
pub(crate) fn map_only<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
    expecting: &'static str,
) -> Result<T, D::Error> {
    struct ObjectVisitor<T>(&'static str, PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
            T::deserialize(MapAccessDeserializer::new(map))
        }
    }
    d.deserialize_map(ObjectVisitor(expecting, PhantomData))
}

/// Declares a public struct that serde writes as derived and reads from an
/// object only: the fields are written once, the derived reading goes to a
/// private twin (so the type's docs show no generated inherent methods, as
/// `#[serde(remote = "Self")]` would) read through [`map_only`].
///
/// ```ignore
/// object_form! {
///     expecting "a health object";
///     /// What `GET /health` says.
///     #[derive(Debug, Clone)]
///     pub struct Health {
///         /// `"ok"` when the server is healthy.
///         pub status: String,
///     }
/// }
/// ```
///
/// `serde(…)` after the expecting text is the container's serde attribute
/// (for both directions).
macro_rules! object_form {
    (
        expecting $expecting:literal $(, serde($($serde:tt)*))?;
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $( $(#[$fmeta:meta])* $fvis:vis $field:ident : $fty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(serde::Serialize)]
        $(#[serde($($serde)*)])?
        $vis struct $name {
            $( $(#[$fmeta])* $fvis $field : $fty ),*
        }

        const _: () = {
            #[derive(serde::Deserialize)]
            $(#[serde($($serde)*)])?
            struct Form {
                $( $(#[$fmeta])* $field : $fty ),*
            }

            impl<'de> serde::Deserialize<'de> for $name {
                fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                    let form: Form = $crate::wire::map_only(d, $expecting)?;
                    Ok($name { $( $field: form.$field ),* })
                }
            }
        };
    };
}

pub(crate) use object_form;
