//! The typed records against record-shapes.json: every declared field is a
//! field of the type, required ones required, and unknown fields survive a
//! read and a write.

use mana_sync_apps::records::{
    AugurEntry, Habit, HabitLog, JournalEntry, MeImage, MoodEntry, Note, Record, Task,
};
use mana_sync_apps::Registry;
use serde_json::{json, Value};

fn shapes() -> Value {
    serde_json::from_str(include_str!("../record-shapes.json")).expect("record-shapes.json")
}

/// The schema's property names and required list of record type `R`.
fn schema_of<R: schemars::JsonSchema>() -> (Vec<String>, Vec<String>) {
    let schema = serde_json::to_value(schemars::schema_for!(R)).expect("schema");
    let mut props: Vec<String> = schema["properties"]
        .as_object()
        .expect("properties")
        .keys()
        .cloned()
        .collect();
    props.sort();
    let mut required: Vec<String> = schema["required"]
        .as_array()
        .map(|r| {
            r.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    required.sort();
    (props, required)
}

fn check<R: Record + schemars::JsonSchema>(shapes: &Value, checked: &mut Vec<String>) {
    let table = shapes["tables"]
        .as_array()
        .expect("tables")
        .iter()
        .find(|t| t["appId"] == R::APP_ID && t["collection"] == R::COLLECTION)
        .expect("the table is in record-shapes.json");
    let fields = table["fields"].as_array().expect("fields");
    let mut names: Vec<String> = fields
        .iter()
        .map(|f| f["name"].as_str().expect("name").to_owned())
        .collect();
    names.sort();
    let mut required: Vec<String> = fields
        .iter()
        .filter(|f| {
            f["optional"] == false && !f["tsType"].as_str().unwrap_or("").ends_with("| null")
        })
        .map(|f| f["name"].as_str().expect("name").to_owned())
        .collect();
    required.sort();
    let (props, schema_required) = schema_of::<R>();
    assert_eq!(props, names, "{}: fields", R::COLLECTION);
    assert_eq!(
        schema_required,
        required,
        "{}: required fields",
        R::COLLECTION
    );
    let encrypted = Registry::get()
        .encrypted(R::APP_ID, R::COLLECTION)
        .expect("registered");
    assert_eq!(
        table["encryptedFields"].as_array().map(Vec::len),
        Some(encrypted.len())
    );
    checked.push(format!("{}/{}", R::APP_ID, R::COLLECTION));
}

#[test]
fn every_table_of_record_shapes_has_its_type_with_its_fields() {
    let shapes = shapes();
    let mut checked = Vec::new();
    check::<Task>(&shapes, &mut checked);
    check::<Note>(&shapes, &mut checked);
    check::<JournalEntry>(&shapes, &mut checked);
    check::<Habit>(&shapes, &mut checked);
    check::<HabitLog>(&shapes, &mut checked);
    check::<MoodEntry>(&shapes, &mut checked);
    check::<AugurEntry>(&shapes, &mut checked);
    check::<MeImage>(&shapes, &mut checked);
    let all = shapes["tables"].as_array().expect("tables").len();
    assert_eq!(checked.len(), all, "a type for every table: {checked:?}");
}

#[test]
fn unknown_fields_survive_and_optional_ones_stay_absent() {
    let input = json!({
        "id": "n-1", "title": "T", "content": "C", "color": null, "isPinned": false,
        "isArchived": false, "fromTheFuture": {"nested": [1, 2]}, "__fieldMeta": {"title": {"at": "x"}}
    });
    let note: Note = serde_json::from_value(input.clone()).expect("a note");
    assert_eq!(note.color, None);
    let back = serde_json::to_value(&note).expect("json");
    assert_eq!(back, input, "nothing lost, nothing added");
    // A required field missing is an error naming it.
    let err =
        serde_json::from_value::<Note>(json!({"id": "n-2", "title": "T"})).expect_err("missing");
    assert!(err.to_string().contains("content"), "{err}");
    // An enum value the browser does not declare is refused, not guessed.
    let bad =
        json!({"id": "t", "title": "x", "priority": "whenever", "isCompleted": false, "order": 0});
    assert!(serde_json::from_value::<Task>(bad).is_err());
}
