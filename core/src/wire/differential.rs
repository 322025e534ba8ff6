//! The one-pass page reading against the reference reading (the envelope
//! through serde, then each change through [`super::lenient`]): the same
//! changes kept, the same reports, the same page errors, on the captures,
//! hostile cases and generated and mutated pages. Also checks that each
//! borrowed view reads what its copy holds.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::Path;

use proptest::prelude::*;
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::envelope::Envelope;
use super::lenient::decode_changes;
use super::{Change, ChangeRef, Conflict, SkippedChange};
use crate::response::{decode_json, decode_page};
use crate::{Cursor, Error, SyncResponse};

/// A page as the reading before [`super::Changes`] gave it.
#[derive(Debug)]
struct Reference {
    changes: Vec<Change>,
    skipped: Vec<SkippedChange>,
    conflicts: Vec<Conflict>,
    synced_until: Cursor,
    has_more: bool,
}

impl<'de> Deserialize<'de> for Reference {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let envelope: Envelope = super::map_only(d, "a sync response object")?;
        let (changes, skipped) = match &envelope.server_changes.0 {
            Some(array) => {
                let raw: Vec<Box<RawValue>> =
                    serde_json::from_str(array.get()).map_err(serde::de::Error::custom)?;
                decode_changes(&raw)
            }
            None => (Vec::new(), Vec::new()),
        };
        Ok(Reference {
            changes,
            skipped,
            conflicts: envelope.conflicts,
            synced_until: envelope.synced_until,
            has_more: envelope.has_more,
        })
    }
}

fn response(body: &[u8]) -> http::Response<Vec<u8>> {
    http::Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(body.to_vec())
        .unwrap()
}

/// Every member a view reads equals the copy's.
fn check_view(view: ChangeRef<'_>) {
    let change = view.to_change();
    assert_eq!(&*view.table(), change.table);
    assert_eq!(&*view.id(), change.id);
    assert_eq!(view.op(), change.op);
    assert_eq!(view.event_id().as_deref(), change.event_id.as_deref());
    assert_eq!(view.space_id().as_deref(), change.space_id.as_deref());
    assert_eq!(view.deleted_at(), change.deleted_at);
    assert_eq!(view.schema_version(), change.schema_version);
    assert_eq!(view.origin(), change.origin);
    let parse =
        |raw: Option<&RawValue>| raw.map(|r| serde_json::from_str::<Value>(r.get()).unwrap());
    assert_eq!(parse(view.data()), change.data.clone().map(Value::Object));
    assert_eq!(parse(view.actor()), change.actor);
    let fields: Option<BTreeMap<String, IgnoredAny>> = view
        .fields()
        .map(|f| serde_json::from_str(f.get()).unwrap());
    assert_eq!(
        fields.map(|f| f.into_keys().collect::<Vec<_>>()),
        change.fields.map(|f| f.into_keys().collect::<Vec<_>>())
    );
}

/// The new reading and the reference agree on `body`; returns whether the
/// one-pass reading took it (rather than handing it to serde).
fn agree(body: &[u8]) -> bool {
    let what = "pull response";
    let new = decode_page(response(body), what);
    let old = decode_json::<Reference>(body, Some("application/json"), what);
    let fast = SyncResponse::read_fast(body.to_vec()).is_ok();
    let shown = String::from_utf8_lossy(body);
    match (new, old) {
        (Ok(new), Ok(old)) => {
            assert_eq!(new.server_changes, old.changes, "{shown}");
            assert_eq!(new.skipped, old.skipped, "{shown}");
            assert_eq!(new.conflicts, old.conflicts, "{shown}");
            assert_eq!(
                new.synced_until.as_str(),
                old.synced_until.as_str(),
                "{shown}"
            );
            assert_eq!(new.has_more, old.has_more, "{shown}");
            for view in &new.server_changes {
                check_view(view);
            }
            // The fold from the page's text folds as the copies do.
            crate::fold::differential::folds_alike(body, 2);
            // The serde reading of the type agrees too.
            let via_serde: SyncResponse = serde_json::from_slice(body).unwrap();
            assert_eq!(via_serde, new, "{shown}");
        }
        (Err(new), Err(old)) => {
            assert!(!fast, "{shown}");
            assert_eq!(new.to_string(), old.to_string(), "{shown}");
            assert!(matches!(new, Error::Decode { .. }));
        }
        (new, old) => panic!("{shown}:\nnew {new:?}\nold {old:?}"),
    }
    fast
}

const SU: &str = r#""syncedUntil":"2026-11-24T22:21:44.5Z""#;

fn page_of(changes: &[String]) -> String {
    format!(
        r#"{{"serverChanges":[{}],"conflicts":[],{SU},"hasMore":true}}"#,
        changes.join(",")
    )
}

#[test]
fn the_captures_read_alike_and_in_one_pass() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = match std::env::var_os("MANA_FIXTURES_DIR") {
        Some(dir) => root.join(dir),
        None => root.join("testdata/fixtures"),
    };
    let mut pages = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|x| x != "json") {
            continue;
        }
        let capture: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let Some(body) = capture["response"]["body"].as_str() else {
            continue;
        };
        if body.contains("serverChanges") {
            assert!(agree(body.as_bytes()), "{}", path.display());
            pages += 1;
        }
    }
    assert!(pages > 0, "no pages in {}", dir.display());
}

fn deep(levels: usize) -> String {
    format!("{}1{}", "[".repeat(levels), "]".repeat(levels))
}

/// Hand-picked changes: every way the guard refuses one, and the corners
/// of what `serde_json` reads (escapes, surrogates, numbers, depth,
/// duplicates).
fn cases() -> Vec<String> {
    let mut cases: Vec<String> = [
        r#"{"eventId":"e","table":"t","id":"ok","op":"update","fields":{"a":{"value":1,"at":"2026-01-01T00:00:00.000Z"}}}"#,
        r#"5"#,
        r#"[1,2]"#,
        r#"null"#,
        r#""x""#,
        r#"{}"#,
        r#"{"table":"t","id":"1","op":5}"#,
        r#"{"table":"t","id":"1","op":"upsert"}"#,
        r#"{"table":"t","id":"1"}"#,
        r#"{"table":"","id":"1","op":"delete"}"#,
        r#"{"table":"t","id":7,"op":"delete"}"#,
        r#"{"table":null,"id":"1","op":"delete"}"#,
        r#"{"table":"t","id":"1","op":"update","fields":[]}"#,
        r#"{"table":"t","id":"1","op":"update","fields":null}"#,
        r#"{"table":"t","id":"1","op":"update","fields":{}}"#,
        r#"{"table":"t","id":"1","op":"update","fields":{"title":["hacked","2030-01-01T00:00:00Z"]}}"#,
        r#"{"table":"t","id":"1","op":"update","fields":{"title":"x"}}"#,
        r#"{"table":"t","id":"1","op":"update","fields":{"title":{"at":"2030-01-01T00:00:00Z"}}}"#,
        r#"{"table":"t","id":"1","op":"update","fields":{"title":{"value":1,"at":5}}}"#,
        r#"{"table":"t","id":"1","op":"update","fields":{"title":{"value":1,"updatedAt":[]}}}"#,
        r#"{"table":"t","id":"1","op":"update","fields":{"a":{"value":null},"b":{"value":2,"updatedAt":"2026-01-01T00:00:00Z"}},"deletedAt":null}"#,
        r#"{"table":"t","id":"1","op":"update","fields":{"a":{"value":1,"at":null,"x":1e999}}}"#,
        r#"{"table":"t","id":"1","op":"update","fields":{"a":{"value":1,"value":2,"at":""}}}"#,
        r#"{"table":"t","id":"1","op":"update","fields":{"a":{"value":1,"at":""},"a":{"value":2,"at":""}}}"#,
        r#"{"table":"t","id":"1","op":"update","fields":{"a":{"value":1,"at":5},"a":{"value":2,"at":""}}}"#,
        r#"{"table":"t","id":"1","op":"update","fields":{"a":{"value":1,"at":""},"a":{"value":2,"at":5}}}"#,
        r#"{"table":"t","id":"1","op":"update","fields":{"a":{"value":1,"at":"x","at":5}}}"#,
        r#"{"table":"t","id":"1","op":"update","fields":{"a":{"v\u0061lue":1}}}"#,
        r#"{"table":"t","id":"1","op":"insert","data":[1]}"#,
        r#"{"table":"t","id":"1","op":"insert","data":{"n":1e400}}"#,
        r#"{"table":"t","id":"1","op":"insert","data":{"n":1e300,"m":-0,"k":0.5e-400,"big":123456789012345678901234567890}}"#,
        r#"{"table":"t","id":"1","op":"insert","data":{"s":"\ud800"}}"#,
        r#"{"table":"t","id":"1","op":"insert","data":{"s":"\ud83d\ude00 \u00e9 \n \" \\ \/"}}"#,
        r#"{"table":"t","id":"1","op":"insert","data":{"\udc00":1}}"#,
        r#"{"table":"t","id":"1","op":"insert","data":{"a":1,"a":2,"b":{"c":[1,{"d":null}]}}}"#,
        r#"{"table":"t","id":"1","op":"insert","data":null,"actor":null,"fields":null,"eventId":null}"#,
        r#"{"table":"t","id":"1","op":"delete","deletedAt":5}"#,
        r#"{"table":"t","id":"1","op":"delete","deletedAt":"garbage","schemaVersion":0}"#,
        r#"{"table":"t","id":"1","op":"delete","deletedAt":"2026-04-23T13:18:35.5+02:00"}"#,
        r#"{"table":"t","id":"1","op":"delete","deletedAt":""}"#,
        r#"{"table":"t","id":"1","op":"delete","eventId":{}}"#,
        r#"{"table":"t","id":"1","op":"delete","spaceId":1}"#,
        r#"{"table":"t","id":"1","op":"delete","actor":"me"}"#,
        r#"{"table":"t","id":"1","op":"delete","actor":[1]}"#,
        r#"{"table":"t","id":"1","op":"delete","actor":{"kind":"ai","deep":{"x":[1]}}}"#,
        r#"{"table":"t","id":"1","op":"delete","origin":[]}"#,
        r#"{"table":"t","id":"1","op":"delete","origin":"robot"}"#,
        r#"{"table":"t","id":"1","op":"delete","schemaVersion":"1"}"#,
        r#"{"table":"t","id":"1","op":"delete","schemaVersion":-1}"#,
        r#"{"table":"t","id":"1","op":"delete","schemaVersion":-0}"#,
        r#"{"table":"t","id":"1","op":"delete","schemaVersion":4294967295}"#,
        r#"{"table":"t","id":"1","op":"delete","schemaVersion":4294967296}"#,
        r#"{"table":"t","id":"1","op":"delete","schemaVersion":1.5}"#,
        r#"{"table":"t","id":"1","op":"delete","schemaVersion":1.0}"#,
        r#"{"table":"t","id":"1","op":"delete","schemaVersion":1e0}"#,
        r#"{"table":"t","id":"1","op":"delete","schemaVersion":99999999999999999999999}"#,
        r#"{"table":"t","table":"u","id":"1","op":"delete"}"#,
        r#"{"table":"","table":"u","id":"1","op":"delete"}"#,
        r#"{"table":"u","table":"","id":"1","op":"delete"}"#,
        r#"{"t\u0061ble":"u","id":"1","op":"delete"}"#,
        r#"{"table":"t\u00e9","id":"\"q\"","op":"delete","eventId":"e\n1","spaceId":"s\t"}"#,
        r#"{"table":"t","id":"1","op":"d\u0065lete"}"#,
        r#"{"table":"t","id":"1","op":"delete","unknown":1e999}"#,
        r#"{"table":"t","id":"1","op":"delete","unknown":"\udfff"}"#,
        r#"{"table":"t","id":"1","op":"delete","\udfff":1}"#,
        r#"{"table":"t","id":"1","op":"delete","\ud800\udc00":1}"#,
        r#"{ "table" : "t" , "id" : "1" , "op" : "delete" }"#,
        "{\"table\":\"t\",\"id\":\"1\",\"op\":\"delete\",\"x\":\"\u{10ffff}é\"}",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    for digits in [300, 301, 308, 309, 310, 400] {
        let big = format!("1{}", "0".repeat(digits - 1));
        cases.push(format!(
            r#"{{"table":"t","id":"n","op":"insert","data":{{"n":{big},"m":-{big}.5}}}}"#
        ));
    }
    for levels in [124, 125, 126, 127, 128, 300] {
        cases.push(format!(
            r#"{{"table":"t","id":"d","op":"insert","data":{{"x":{}}}}}"#,
            deep(levels)
        ));
        cases.push(format!(
            r#"{{"table":"t","id":"d","op":"delete","other":{}}}"#,
            deep(levels)
        ));
        cases.push(format!(
            r#"{{"table":"t","id":"d","op":"update","fields":{{"a":{{"value":{},"at":""}}}}}}"#,
            deep(levels)
        ));
    }
    cases
}

#[test]
fn hand_picked_changes_read_alike() {
    let cases = cases();
    let good = &cases[0];
    for case in &cases {
        assert!(
            agree(page_of(&[good.clone(), case.clone(), good.clone()]).as_bytes()),
            "{case}"
        );
        agree(page_of(std::slice::from_ref(case)).as_bytes());
    }
    assert!(agree(page_of(&cases).as_bytes()));
}

#[test]
fn envelopes_read_alike() {
    let good = &cases()[0];
    let bodies = [
        format!(r#"{{"serverChanges":[{good}],{SU}}}"#),
        format!(r#"  {{ "serverChanges" : [ {good} , {good} ] , {SU} , "hasMore" : false }} "#),
        format!(r#"{{{SU},"serverChanges":[]}}"#),
        format!(r#"{{{SU}}}"#),
        format!(r#"{{"serverChanges":[],"conflicts":[],{SU},"extra":{{"a":[1e999,"\ud800"]}}}}"#),
        format!(
            r#"{{"serverChanges":[],"conflicts":[{{"table":"t","id":"1","field":"f"}}],{SU}}}"#
        ),
        format!(r#"{{"serverChanges":[],"conflicts":[5],{SU}}}"#),
        format!(r#"{{"serverChanges":[],"conflicts":null,{SU}}}"#),
        format!(r#"{{"serverChanges":null,{SU}}}"#),
        format!(r#"{{"serverChanges":{{}},{SU}}}"#),
        format!(r#"{{"serverChanges":"x",{SU}}}"#),
        format!(r#"{{"serverChanges":[],"serverChanges":[],{SU}}}"#),
        format!(r#"{{"serverChanges":[],{SU},{SU}}}"#),
        format!(r#"{{"serverChanges":[],{SU},"hasMore":"yes"}}"#),
        format!(r#"{{"serverChanges":[],{SU},"hasMore":null}}"#),
        format!(r#"{{"serverChanges":[],{SU}}}x"#),
        format!(r#"{{"serverChanges":[],{SU}}}{{}}"#),
        format!(r#"{{"serverChanges":[{good},],{SU}}}"#),
        format!(r#"{{"serverChanges":[{good}{good}],{SU}}}"#),
        format!(r#"{{"serverChanges":[{good}],{SU},}}"#),
        format!(r#"{{"serverChanges":[{good}"#),
        format!(r#"{{"serverCh\u0061nges":[{good}],{SU}}}"#),
        r#"{"serverChanges":[],"syncedUntil":"yesterday"}"#.to_owned(),
        r#"{"serverChanges":[],"syncedUntil":"2026-11-24T22:21:44\u002e5Z"}"#.to_owned(),
        r#"{"serverChanges":[],"syncedUntil":5}"#.to_owned(),
        r#"{"serverChanges":[]}"#.to_owned(),
        r#"[[],[],"2026-11-24T22:21:44Z",true]"#.to_owned(),
        String::new(),
        "   ".to_owned(),
        "<html>".to_owned(),
    ];
    for body in &bodies {
        agree(body.as_bytes());
    }
    // Bytes that are not UTF-8, in the changes and beside them.
    let mut bytes = format!(r#"{{"serverChanges":[],{SU},"x":"?"}}"#).into_bytes();
    let at = bytes.iter().position(|b| *b == b'?').unwrap();
    bytes[at] = 0xff;
    agree(&bytes);
    let mut bytes = page_of(&[good.replace("ok", "o?")]).into_bytes();
    let at = bytes.iter().position(|b| *b == b'?').unwrap();
    bytes[at] = 0xc3;
    agree(&bytes);
}

fn piece() -> impl Strategy<Value = String> {
    let cases = cases();
    let scalar = prop_oneof![
        Just("null".to_owned()),
        Just("true".to_owned()),
        Just("0".to_owned()),
        Just("-0".to_owned()),
        Just("1.5".to_owned()),
        Just("1e400".to_owned()),
        Just("4294967296".to_owned()),
        Just(r#""""#.to_owned()),
        Just(r#""insert""#.to_owned()),
        Just(r#""update""#.to_owned()),
        Just(r#""delete""#.to_owned()),
        Just(r#""2026-01-01T00:00:00Z""#.to_owned()),
        Just(r#""\ud800""#.to_owned()),
        Just(r#""a\"b""#.to_owned()),
        Just("[]".to_owned()),
        Just("{}".to_owned()),
        Just(r#"{"value":1,"at":""}"#.to_owned()),
        Just(r#"{"value":null}"#.to_owned()),
        Just(r#"{"kind":"ai"}"#.to_owned()),
        "[a-z]{0,6}".prop_map(|s| format!("\"{s}\"")),
        (0u64..5_000_000_000).prop_map(|n| n.to_string()),
    ];
    let name = prop_oneof![
        Just("eventId"),
        Just("schemaVersion"),
        Just("table"),
        Just("id"),
        Just("op"),
        Just("data"),
        Just("fields"),
        Just("deletedAt"),
        Just("spaceId"),
        Just("actor"),
        Just("origin"),
        Just("other"),
        Just("t\\u0061ble"),
    ];
    let fields = prop::collection::vec(
        (
            prop_oneof![Just("a"), Just("b")],
            prop::collection::vec(
                (
                    prop_oneof![Just("value"), Just("at"), Just("updatedAt"), Just("x")],
                    scalar.clone(),
                ),
                0..4,
            ),
        ),
        0..3,
    )
    .prop_map(|fields| {
        let fields: Vec<String> = fields
            .iter()
            .map(|(name, members)| {
                let members: Vec<String> = members
                    .iter()
                    .map(|(k, v)| format!("\"{k}\":{v}"))
                    .collect();
                format!("\"{name}\":{{{}}}", members.join(","))
            })
            .collect();
        format!("{{{}}}", fields.join(","))
    });
    let value = prop_oneof![4 => scalar, 1 => fields];
    let generated = prop::collection::vec((name, value), 0..9).prop_map(|members| {
        let mut members: Vec<String> = members
            .iter()
            .map(|(k, v)| format!("\"{k}\":{v}"))
            .collect();
        members.insert(0, r#""table":"t","id":"i","op":"delete""#.to_owned());
        format!("{{{}}}", members.join(","))
    });
    prop_oneof![3 => generated, 1 => prop::sample::select(cases)]
}

/// A byte edit of a page.
#[derive(Debug, Clone)]
enum Edit {
    Delete(usize),
    Insert(usize, u8),
    Replace(usize, u8),
    Cut(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let byte = prop::sample::select(b"{}[]\",:\\ 0e-nu\x01\xff".to_vec());
    prop_oneof![
        any::<usize>().prop_map(Edit::Delete),
        (any::<usize>(), byte.clone()).prop_map(|(i, b)| Edit::Insert(i, b)),
        (any::<usize>(), byte).prop_map(|(i, b)| Edit::Replace(i, b)),
        any::<usize>().prop_map(Edit::Cut),
    ]
}

fn apply(body: &mut Vec<u8>, edit: &Edit) {
    let len = body.len().max(1);
    match *edit {
        Edit::Delete(i) if !body.is_empty() => {
            body.remove(i % len);
        }
        Edit::Insert(i, b) => body.insert(i % (body.len() + 1), b),
        Edit::Replace(i, b) if !body.is_empty() => body[i % len] = b,
        Edit::Cut(i) => body.truncate(i % len),
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(600))]

    #[test]
    fn generated_pages_read_alike(changes in prop::collection::vec(piece(), 0..6)) {
        agree(page_of(&changes).as_bytes());
    }

    #[test]
    fn mutated_pages_read_alike(
        changes in prop::collection::vec(piece(), 1..4),
        edits in prop::collection::vec(edit(), 1..4),
    ) {
        let mut body = page_of(&changes).into_bytes();
        for e in &edits {
            apply(&mut body, e);
        }
        agree(&body);
    }

    #[test]
    fn random_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..200)) {
        agree(&body);
    }
}
