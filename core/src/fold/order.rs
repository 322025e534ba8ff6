//! Which of two writes of one field wins: the later stamp, and on equal
//! stamps a fixed order of the values, so that the winner never depends on
//! the order the writes arrive in.

use std::cmp::Ordering;

use serde_json::Value;

use super::field::{cmp_keys, stamp_key, StampKey};
use super::FieldState;
use crate::{Origin, Stamp};

/// A write of one field, borrowed from a change being applied (nothing is
/// copied until it wins), with its stamp as an ordered key.
#[derive(Clone, Copy)]
pub(crate) struct Write<'a> {
    /// The value.
    pub(crate) value: &'a Value,
    /// When it was written.
    pub(crate) at: &'a Stamp,
    /// `at` as an ordered key.
    pub(crate) key: StampKey,
    /// By whom.
    pub(crate) origin: Option<&'a Origin>,
}

impl<'a> Write<'a> {
    /// A write of `value` at `at` by `origin`.
    pub(crate) fn new(value: &'a Value, at: &'a Stamp, origin: Option<&'a Origin>) -> Write<'a> {
        Write {
            value,
            at,
            key: stamp_key(at),
            origin,
        }
    }

    /// The write as an owned field state.
    pub(crate) fn to_state(self) -> FieldState {
        FieldState::from_parts(self.value, self.at, self.origin)
    }

    /// The order of this write against the one a field holds: by stamp (by
    /// instant, the empty stamp first), then by value ([`cmp_values`]), then
    /// by origin. `None` when a stamp is unreadable.
    pub(crate) fn order(&self, held: &FieldState) -> Option<Ordering> {
        let by_stamp = cmp_keys(self.key, held.stamp_key())?;
        Some(by_stamp.then_with(|| {
            held.cmp_to_held(self.value)
                .then_with(|| self.origin.map(Origin::as_str).cmp(&held.origin_str()))
        }))
    }
}

fn rank(v: &Value) -> u8 {
    match v {
        Value::Null => 0,
        Value::Bool(_) => 1,
        Value::Number(_) => 2,
        Value::String(_) => 3,
        Value::Array(_) => 4,
        Value::Object(_) => 5,
    }
}

/// A total order on JSON values, equal only for equal values: null < bools
/// < numbers < strings < arrays < objects; numbers by value, then by their
/// text (`1` and `1.0` differ); strings by code point; arrays element by
/// element; objects as their members sorted by name.
///
/// Without recursion: the comparisons still to make are an explicit stack
/// (memory linear in the values, never the call stack), so values of any
/// depth compare.
pub(crate) fn cmp_values(a: &Value, b: &Value) -> Ordering {
    /// A comparison still to make, in order.
    enum Todo<'v> {
        Values(&'v Value, &'v Value),
        Names(&'v str, &'v str),
        Lengths(usize, usize),
    }
    let mut todo = vec![Todo::Values(a, b)];
    while let Some(next) = todo.pop() {
        let o = match next {
            Todo::Names(x, y) => x.cmp(y),
            Todo::Lengths(x, y) => x.cmp(&y),
            Todo::Values(a, b) => match (a, b) {
                (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
                (Value::Number(x), Value::Number(y)) => {
                    let (fx, fy) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
                    fx.total_cmp(&fy)
                        .then_with(|| x.to_string().cmp(&y.to_string()))
                }
                (Value::String(x), Value::String(y)) => x.cmp(y),
                (Value::Array(x), Value::Array(y)) => {
                    // Element by element, then the lengths: pushed last first.
                    todo.push(Todo::Lengths(x.len(), y.len()));
                    todo.extend(x.iter().zip(y).rev().map(|(u, v)| Todo::Values(u, v)));
                    Ordering::Equal
                }
                (Value::Object(x), Value::Object(y)) => {
                    let mut xs: Vec<_> = x.iter().collect();
                    let mut ys: Vec<_> = y.iter().collect();
                    xs.sort_by(|p, q| p.0.cmp(q.0));
                    ys.sort_by(|p, q| p.0.cmp(q.0));
                    todo.push(Todo::Lengths(xs.len(), ys.len()));
                    for ((kx, vx), (ky, vy)) in xs.into_iter().zip(ys).rev() {
                        todo.push(Todo::Values(vx, vy));
                        todo.push(Todo::Names(kx, ky));
                    }
                    Ordering::Equal
                }
                _ => rank(a).cmp(&rank(b)),
            },
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    /// JSON values of every kind, in the fold's order (strictly ascending).
    pub(crate) fn ordered_values() -> Vec<Value> {
        vec![
            json!(null),
            json!(false),
            json!(true),
            json!(-1),
            json!(1),
            json!(1.0),
            json!(2),
            json!(""),
            json!("a"),
            json!("b"),
            json!([]),
            json!([1]),
            json!([1, 2]),
            json!({}),
            json!({"a": 1}),
            json!({"a": 2}),
            json!({"b": 0}),
        ]
    }

    #[test]
    fn values_are_totally_ordered() {
        let ordered = ordered_values();
        for (i, a) in ordered.iter().enumerate() {
            for (j, b) in ordered.iter().enumerate() {
                assert_eq!(cmp_values(a, b), i.cmp(&j), "{a} vs {b}");
            }
        }
        // Member order does not matter.
        let x: Value = serde_json::from_str(r#"{"a":1,"b":2}"#).unwrap_or_default();
        let y: Value = serde_json::from_str(r#"{"b":2,"a":1}"#).unwrap_or_default();
        assert_eq!(cmp_values(&x, &y), Ordering::Equal);
    }
}
