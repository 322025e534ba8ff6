//! Each of the 20 tools against the in-memory server, in process: what it
//! writes as a second device (a plain client, the browser's fold) sees it,
//! what it reads folded, and its bad inputs.

use std::time::Duration;

use http::{Request, Response};
use mana_sync_apps::records::{AugurEntry, Habit, JournalEntry, MoodEntry, Note, Record, Task};
use mana_sync_apps::tools::{self, ToolError, Tools, TOOLS};
use mana_sync_apps::{guarded, Registry};
use mana_sync_core::crypto::{encrypt_fields, is_encrypted, MasterKey, PooledOsRng};
use mana_sync_core::{BlockingClient, BlockingTransport, Change, Config, Cursor, TransportError};
use mana_sync_testkit::{token_for, InProcess, Vault};
use serde::de::DeserializeOwned;
use serde_json::{json, Map, Value};

const USER: &str = "user-1";

fn key() -> MasterKey {
    MasterKey::from_bytes(&[9; 32]).expect("key")
}

fn config(client_id: &str) -> Config {
    Config::new("http://mana.test", token_for(USER), client_id)
        .and_then(|c| c.with_auth_url("http://mana.test"))
        .expect("config")
}

struct World {
    net: InProcess,
    tools: Tools<BlockingClient<InProcess>>,
    /// A second device: a plain client with its own id.
    phone: BlockingClient<InProcess>,
}

fn world() -> World {
    let net = InProcess::default();
    net.server().set_vault(USER, Vault::Standard(key()));
    let tools = Tools::new(net.blocking_client(guarded(config("agent-1"))));
    let phone = net.blocking_client(config("phone"));
    World { net, tools, phone }
}

impl World {
    fn tick(&self) {
        self.net.clock().advance(Duration::from_secs(1));
    }

    /// What the second device sees of `R`, decrypted.
    fn seen<R: Record>(&self) -> Vec<R> {
        self.phone
            .list(&R::table(), Some(&key()))
            .expect("listed")
            .all()
            .expect("decodes")
    }

    /// The raw stored changes of `app` (for "encrypted on the wire").
    fn wire(&self, app: &str) -> Vec<Value> {
        self.net.server().changes(USER, app)
    }

    fn call(&self, name: &str, input: Value) -> Result<Value, ToolError> {
        self.tools.call_json(name, input)
    }

    /// The second device writes record `id` of `R`'s collection (sealed as
    /// the browser does).
    fn phone_insert<R: Record>(&self, id: &str, data: Value) {
        let mut data = data.as_object().cloned().unwrap_or_default();
        data.insert("id".into(), json!(id));
        let fields = Registry::get()
            .encrypted(R::APP_ID, R::COLLECTION)
            .expect("registered");
        let names: Vec<&str> = fields.iter().map(String::as_str).collect();
        encrypt_fields(&key(), &mut data, &names, &mut PooledOsRng).expect("sealed");
        self.phone
            .push(
                R::APP_ID,
                &[Change::insert(R::COLLECTION, id, data)],
                &Cursor::EPOCH,
            )
            .expect("phone push");
        self.tick();
    }

    fn phone_update<R: Record>(&self, id: &str, field: &str, value: Value) {
        let now = self.net.clock().now();
        let change = Change::update(R::COLLECTION, id).with_field(field, value, now);
        self.phone
            .push(R::APP_ID, &[change], &Cursor::EPOCH)
            .expect("phone update");
        self.tick();
    }

    fn phone_delete<R: Record>(&self, id: &str) {
        let change = Change::delete(R::COLLECTION, id, self.net.clock().now());
        self.phone
            .push(R::APP_ID, &[change], &Cursor::EPOCH)
            .expect("phone delete");
        self.tick();
    }
}

fn out<T: DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).expect("input shape")
}

/// A bad input is a ToolError::Input naming `field`, and nothing is sent.
fn refused(w: &World, name: &str, input: Value, field: &str) {
    let before = w.net.server().stored_count(USER);
    match w.call(name, input.clone()) {
        Err(ToolError::Input { field: f, message }) => {
            assert!(
                f.contains(field),
                "{name} {input}: field {f:?} ({message}), want {field}"
            )
        }
        other => panic!("{name} {input}: want an input error on {field}, got {other:?}"),
    }
    assert_eq!(
        w.net.server().stored_count(USER),
        before,
        "{name}: nothing stored"
    );
}

fn ids<R: Record>(records: &[R], id: impl Fn(&R) -> &str) -> Vec<String> {
    records.iter().map(|r| id(r).to_owned()).collect()
}

#[test]
fn the_tool_list_is_the_registry_but_generate_with_reference() {
    let shapes: Value =
        serde_json::from_str(include_str!("../record-shapes.json")).expect("shapes");
    let mut want: Vec<String> = shapes["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .map(|t| t["name"].as_str().expect("name").to_owned())
        .filter(|n| n != "me.generateWithReference")
        .collect();
    want.sort();
    let mut have: Vec<String> = TOOLS.iter().map(|t| t.name.to_owned()).collect();
    have.sort();
    assert_eq!(have, want);
    assert_eq!(have.len(), 20);
    for t in TOOLS {
        let spec = shapes["tools"]
            .as_array()
            .expect("tools")
            .iter()
            .find(|s| s["name"] == t.name)
            .expect("listed");
        let hint = spec["policyHint"].as_str().expect("hint");
        let ours = match t.policy {
            tools::Policy::Read => "read",
            _ => "write",
        };
        assert_eq!(ours, hint, "{}", t.name);
        let schema = (t.input_schema)();
        assert_eq!(schema["type"], "object", "{}", t.name);
        // Every input field of the registry is in the schema.
        for field in spec["input"].as_array().expect("input") {
            let name = field["name"].as_str().expect("name");
            assert!(
                schema["properties"].get(name).is_some(),
                "{}: {name} in {schema}",
                t.name
            );
        }
    }
    let w = world();
    assert!(matches!(
        w.call("me.generateWithReference", json!({})),
        Err(ToolError::UnknownTool { .. })
    ));
}

#[test]
fn todo_create_writes_what_the_browser_reads_encrypted() {
    let w = world();
    let created: Value = w
        .call(
            "todo.create",
            json!({"title": "Buy milk", "priority": "high"}),
        )
        .expect("created");
    let id = created["task"]["id"].as_str().expect("id").to_owned();
    assert!(uuid::Uuid::try_parse(&id).is_ok());
    let seen: Vec<Task> = w.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        (
            seen[0].title.as_str(),
            seen[0].priority.as_str(),
            seen[0].order
        ),
        ("Buy milk", "high", 0.0)
    );
    let wire = w.wire("todo");
    assert!(is_encrypted(&wire[0]["data"]["title"]), "{}", wire[0]);
    assert_eq!(wire[0]["data"]["subtasks"], Value::Null);
    let push = w
        .net
        .server()
        .received()
        .into_iter()
        .find(|r| r.method == http::Method::POST)
        .expect("a push");
    assert_eq!(
        push.client_id.as_deref(),
        Some("agent-1"),
        "the config's client id"
    );
    // A second task is ordered after the live ones (a deleted one does not count).
    w.tick();
    w.phone_insert::<Task>(
        "t-gone",
        json!({"title": "x", "priority": "low", "isCompleted": false, "order": 1}),
    );
    w.phone_delete::<Task>("t-gone");
    let second: Value = w
        .call("todo.create", json!({"title": "Call Anna"}))
        .expect("second");
    assert_eq!(second["task"]["order"], 1.0);
    refused(&w, "todo.create", json!({"title": ""}), "title");
    refused(
        &w,
        "todo.create",
        json!({"title": "x".repeat(501)}),
        "title",
    );
    refused(
        &w,
        "todo.create",
        json!({"title": "x", "priority": "whenever"}),
        "priority",
    );
    refused(
        &w,
        "todo.create",
        json!({"title": "x", "dueDate": "tomorrow"}),
        "dueDate",
    );
    refused(
        &w,
        "todo.create",
        json!({"title": "x", "colour": "red"}),
        "",
    );
    refused(&w, "todo.create", json!({}), "");
}

#[test]
fn todo_list_folds_updates_and_deletes_and_reads_every_page() {
    let w = world();
    for n in 0..3 {
        w.phone_insert::<Task>(&format!("t-{n}"), json!({"title": format!("task {n}"), "priority": "medium", "isCompleted": false, "order": n}));
    }
    w.phone_update::<Task>("t-0", "isCompleted", json!(true));
    w.phone_delete::<Task>("t-1");
    let listed: tools::todo::ListOutput = w
        .tools
        .todo_list(tools::todo::ListInput::default())
        .expect("listed");
    assert_eq!(ids(&listed.tasks, |t| &t.id), ["t-2"]);
    let all: Value = w
        .call("todo.list", json!({"includeCompleted": true, "limit": 1}))
        .expect("all");
    assert_eq!(all["tasks"].as_array().map(Vec::len), Some(1));
    assert_eq!(all["tasks"][0]["id"], "t-0", "by order");
    refused(&w, "todo.list", json!({"limit": 0}), "limit");
    refused(&w, "todo.list", json!({"limit": 501}), "limit");
    refused(&w, "todo.list", json!({"limit": "ten"}), "limit");
}

#[test]
fn todo_list_reads_past_the_first_page() {
    let w = world();
    let changes: Vec<Change> = (0..1200)
        .map(|n| {
            let mut data = json!({"title": format!("t{n}"), "priority": "low", "isCompleted": false, "order": n})
                .as_object()
                .cloned()
                .unwrap_or_default();
            encrypt_fields(&key(), &mut data, &["title"], &mut PooledOsRng).expect("sealed");
            Change::insert("tasks", format!("t-{n:04}"), data)
        })
        .collect();
    w.phone
        .push("todo", &changes, &Cursor::EPOCH)
        .expect("pushed");
    let listed: Value = w.call("todo.list", json!({"limit": 500})).expect("listed");
    assert_eq!(listed["tasks"].as_array().map(Vec::len), Some(500));
    // The newest ones are there too: sorted by order, the last page's are read.
    let last: Value = w
        .call("todo.list", json!({"limit": 500, "includeCompleted": true}))
        .expect("listed");
    assert_eq!(last["tasks"][0]["id"], "t-0000");
    w.phone_update::<Task>("t-1199", "order", json!(-1));
    let first: Value = w.call("todo.list", json!({"limit": 1})).expect("listed");
    assert_eq!(
        first["tasks"][0]["id"], "t-1199",
        "an update of a record of the last page is seen"
    );
}

#[test]
fn todo_complete_is_seen_completed_by_the_second_device() {
    let w = world();
    let created: tools::todo::CreateOutput = w
        .tools
        .todo_create(tools::todo::CreateInput::titled("Milk"))
        .expect("created");
    w.tick();
    w.call("todo.complete", json!({"id": created.task.id}))
        .expect("completed");
    let seen: Vec<Task> = w.seen();
    assert!(
        seen[0].is_completed,
        "the browser's fold applies the update"
    );
    assert!(seen[0].completed_at.is_some());
    let wire = w.wire("todo");
    let update = &wire[1]["fields"];
    assert!(
        update["isCompleted"]["at"].is_string(),
        "stamped with at: {update}"
    );
    assert!(update["updatedAt"]["at"].is_string());
    assert!(update["isCompleted"].get("updatedAt").is_none());
    refused(&w, "todo.complete", json!({"id": "not-a-uuid"}), "id");
    let missing = w.call(
        "todo.complete",
        json!({"id": uuid::Uuid::new_v4().to_string()}),
    );
    assert!(
        matches!(missing, Err(ToolError::NotFound { .. })),
        "{missing:?}"
    );
}

#[test]
fn notes_create_and_search() {
    let w = world();
    let created: Value = w
        .call(
            "notes.create",
            json!({"title": "Groceries", "content": "milk, oats", "isPinned": true}),
        )
        .expect("note");
    let id = created["note"]["id"].as_str().expect("id").to_owned();
    let seen: Vec<Note> = w.seen();
    assert_eq!(
        (
            seen[0].title.as_str(),
            seen[0].content.as_str(),
            seen[0].is_pinned
        ),
        ("Groceries", "milk, oats", true)
    );
    let wire = w.wire("notes");
    assert!(is_encrypted(&wire[0]["data"]["title"]) && is_encrypted(&wire[0]["data"]["content"]));
    refused(&w, "notes.create", json!({"title": ""}), "title");
    refused(
        &w,
        "notes.create",
        json!({"title": "x", "color": "red"}),
        "color",
    );

    w.tick();
    w.phone_update::<Note>(&id, "content", json!(null));
    // An edit by the second device is what is searched (sealed as the browser does).
    let mut sealed = Map::new();
    sealed.insert("content".into(), json!("bread and butter"));
    encrypt_fields(&key(), &mut sealed, &["content"], &mut PooledOsRng).expect("sealed");
    w.phone_update::<Note>(&id, "content", sealed["content"].clone());
    w.phone_insert::<Note>("n-old", json!({"title": "Old", "content": "milk", "color": null, "isPinned": false, "isArchived": true}));
    let found: Value = w
        .call("notes.search", json!({"query": "BUTTER"}))
        .expect("search");
    assert_eq!(found["notes"][0]["id"], id.as_str());
    let none: Value = w
        .call("notes.search", json!({"query": "milk"}))
        .expect("search");
    assert_eq!(
        none["notes"].as_array().map(Vec::len),
        Some(0),
        "old text and archived notes are not found"
    );
    let archived: Value = w
        .call(
            "notes.search",
            json!({"query": "milk", "includeArchived": true}),
        )
        .expect("search");
    assert_eq!(archived["notes"][0]["id"], "n-old");
    refused(&w, "notes.search", json!({"limit": 101}), "limit");
}

#[test]
fn journal_add() {
    let w = world();
    let added: Value = w
        .call(
            "journal.add",
            json!({"content": "A long  walk by the sea", "mood": "glücklich", "tags": ["walk"]}),
        )
        .expect("added");
    assert_eq!(added["entry"]["wordCount"], 6.0);
    let seen: Vec<JournalEntry> = w.seen();
    assert_eq!(seen[0].content, "A long  walk by the sea");
    assert_eq!(seen[0].entry_date, "2026-01-01");
    assert_eq!(seen[0].mood.map(|m| m.as_str()), Some("glücklich"));
    assert!(is_encrypted(&w.wire("journal")[0]["data"]["content"]));
    assert_eq!(w.wire("journal")[0]["data"]["title"], Value::Null);
    refused(&w, "journal.add", json!({"content": ""}), "content");
    refused(
        &w,
        "journal.add",
        json!({"content": "x", "entryDate": "2026-13-01"}),
        "entryDate",
    );
    refused(
        &w,
        "journal.add",
        json!({"content": "x", "mood": "happy"}),
        "mood",
    );
}

#[test]
fn habits_create_list_update_archive() {
    let w = world();
    let created: Value = w
        .call("habits.create", json!({"title": "Run", "targetPerDay": 1}))
        .expect("created");
    let id = created["habit"]["id"].as_str().expect("id").to_owned();
    assert_eq!(
        (
            created["habit"]["icon"].as_str(),
            created["habit"]["color"].as_str()
        ),
        (Some("star"), Some("#6366f1"))
    );
    refused(
        &w,
        "habits.create",
        json!({"title": "x", "color": "#12345"}),
        "color",
    );
    refused(
        &w,
        "habits.create",
        json!({"title": "x", "targetPerDay": 0}),
        "targetPerDay",
    );
    refused(
        &w,
        "habits.create",
        json!({"title": "x".repeat(121)}),
        "title",
    );
    w.tick();
    w.call(
        "habits.update",
        json!({"id": id, "title": "Run 5k", "targetPerDay": null}),
    )
    .expect("updated");
    let seen: Vec<Habit> = w.seen();
    assert_eq!(
        (seen[0].title.as_str(), seen[0].target_per_day),
        ("Run 5k", None)
    );
    refused(&w, "habits.update", json!({"id": id}), "");
    refused(&w, "habits.update", json!({"id": "x", "title": "y"}), "id");
    assert!(matches!(
        w.call(
            "habits.update",
            json!({"id": uuid::Uuid::new_v4().to_string(), "title": "y"})
        ),
        Err(ToolError::NotFound { .. })
    ));
    let listed: Value = w.call("habits.list", json!({})).expect("listed");
    assert_eq!(
        listed["habits"][0]["title"], "Run 5k",
        "the update is folded in"
    );
    w.tick();
    w.call("habits.archive", json!({"id": id}))
        .expect("archived");
    let seen: Vec<Habit> = w.seen();
    assert!(seen[0].is_archived);
    let listed: Value = w.call("habits.list", json!({})).expect("listed");
    assert_eq!(listed["habits"].as_array().map(Vec::len), Some(0));
    let with: Value = w
        .call("habits.list", json!({"includeArchived": true}))
        .expect("listed");
    assert_eq!(with["habits"].as_array().map(Vec::len), Some(1));
    refused(&w, "habits.archive", json!({"id": 7}), "id");
    refused(
        &w,
        "habits.list",
        json!({"includeArchived": "yes"}),
        "includeArchived",
    );
    w.tick();
    w.call("habits.archive", json!({"id": id, "archived": false}))
        .expect("back");
    assert!(!w.seen::<Habit>()[0].is_archived);
}

#[test]
fn mood_log_recent_today() {
    let w = world();
    w.call(
        "mood.log",
        json!({"level": 7, "emotion": "calm", "withWhom": "Anna", "notes": "tea"}),
    )
    .expect("logged");
    let seen: Vec<MoodEntry> = w.seen();
    assert_eq!(
        (
            seen[0].with_whom.as_str(),
            seen[0].date.as_str(),
            seen[0].time.as_str()
        ),
        ("Anna", "2026-01-01", "00:00")
    );
    assert!(is_encrypted(&w.wire("mood")[0]["data"]["withWhom"]));
    refused(
        &w,
        "mood.log",
        json!({"level": 11, "emotion": "calm"}),
        "level",
    );
    refused(
        &w,
        "mood.log",
        json!({"level": 5, "emotion": "meh"}),
        "emotion",
    );
    refused(
        &w,
        "mood.log",
        json!({"level": 5, "emotion": "calm", "time": "25:00"}),
        "time",
    );
    refused(
        &w,
        "mood.log",
        json!({"level": 5, "emotion": "calm", "tags": ["x".repeat(61)]}),
        "tags[0]",
    );
    // Older entries of the second device, one outside the window.
    w.phone_insert::<MoodEntry>("m-old", json!({"date": "2025-12-01", "time": "08:00", "level": 3, "emotion": "sad", "secondaryEmotions": [], "activity": null, "withWhom": "", "notes": "", "tags": []}));
    w.phone_insert::<MoodEntry>("m-yday", json!({"date": "2025-12-31", "time": "22:00", "level": 5, "emotion": "tired", "secondaryEmotions": [], "activity": null, "withWhom": "", "notes": "", "tags": []}));
    w.call(
        "mood.log",
        json!({"level": 8, "emotion": "happy", "time": "09:30"}),
    )
    .expect("logged");
    let recent = w.tools.mood_recent(out(json!({}))).expect("recent");
    let times: Vec<(&str, &str)> = recent
        .entries
        .iter()
        .map(|e| (e.date.as_str(), e.time.as_str()))
        .collect();
    assert_eq!(
        times,
        [
            ("2026-01-01", "09:30"),
            ("2026-01-01", "00:00"),
            ("2025-12-31", "22:00")
        ],
        "newest first"
    );
    let one: Value = w.call("mood.recent", json!({"limit": 1})).expect("recent");
    assert_eq!(one["entries"][0]["time"], "09:30");
    refused(&w, "mood.recent", json!({"days": 91}), "days");
    let today: Value = w.call("mood.today", json!({})).expect("today");
    let times: Vec<&str> = today["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["time"].as_str())
        .collect();
    assert_eq!(times, ["00:00", "09:30"]);
    let yday: Value = w
        .call("mood.today", json!({"date": "2025-12-31"}))
        .expect("day");
    assert_eq!(yday["entries"][0]["id"], "m-yday");
    refused(&w, "mood.today", json!({"date": "31.12.2025"}), "date");
}

fn sign(kind: &str, category: &str, vibe: &str, outcome: &str) -> Value {
    json!({"kind": kind, "source": "a crow", "sourceCategory": category, "claim": "rain tomorrow", "vibe": vibe,
           "feltMeaning": null, "expectedOutcome": null, "expectedBy": null, "probability": null, "outcome": outcome,
           "outcomeNote": null, "resolvedAt": null, "encounteredAt": "2026-01-01", "tags": ["weather"],
           "relatedDreamId": null, "relatedDecisionId": null, "livingOracleSnapshot": null, "isPrivate": true, "isArchived": false})
}

#[test]
fn augur_capture_list_resolve() {
    let w = world();
    let captured: Value = w
        .call("augur.captureSign", json!({"kind": "omen", "source": "a black cat", "claim": "bad luck", "tags": ["cat"], "expectedBy": "2026-02-01"}))
        .expect("captured");
    let id = captured["entryId"].as_str().expect("id").to_owned();
    assert_eq!(captured["kind"], "omen");
    let wire = w.wire("augur");
    for field in ["source", "claim", "tags"] {
        assert!(
            is_encrypted(&wire[0]["data"][field]),
            "{field}: {}",
            wire[0]
        );
    }
    let seen: Vec<AugurEntry> = w.seen();
    assert_eq!(
        (seen[0].tags.as_slice(), seen[0].outcome.as_str()),
        (&["cat".to_owned()][..], "open")
    );
    refused(
        &w,
        "augur.captureSign",
        json!({"kind": "omen", "source": "", "claim": "x"}),
        "source",
    );
    refused(
        &w,
        "augur.captureSign",
        json!({"kind": "omen", "source": "x", "claim": "x", "probability": 2}),
        "probability",
    );
    refused(
        &w,
        "augur.captureSign",
        json!({"kind": "prophecy", "source": "x", "claim": "x"}),
        "kind",
    );

    w.tick();
    w.phone_insert::<AugurEntry>("a-soon", json!({"kind": "hunch", "source": "gut", "sourceCategory": "gut", "claim": "call", "vibe": "good",
        "feltMeaning": null, "expectedOutcome": null, "expectedBy": "2026-01-05", "probability": null, "outcome": "open", "outcomeNote": null,
        "resolvedAt": null, "encounteredAt": "2026-01-01", "tags": [], "relatedDreamId": null, "relatedDecisionId": null,
        "livingOracleSnapshot": null, "isPrivate": true, "isArchived": false}));
    let open: Value = w.call("augur.listOpenSigns", json!({})).expect("open");
    let order: Vec<&str> = open["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["id"].as_str())
        .collect();
    assert_eq!(order, ["a-soon", id.as_str()], "soonest due first");
    let hunches: Value = w
        .call("augur.listOpenSigns", json!({"kind": "hunch"}))
        .expect("open");
    assert_eq!(hunches["entries"].as_array().map(Vec::len), Some(1));
    refused(&w, "augur.listOpenSigns", json!({"limit": 0}), "limit");

    w.call(
        "augur.resolveSign",
        json!({"entryId": id, "outcome": "not-fulfilled", "note": "nothing happened"}),
    )
    .expect("resolved");
    let seen: Vec<AugurEntry> = w.seen();
    let mine = seen.iter().find(|e| e.id == id).expect("mine");
    assert_eq!(
        (mine.outcome.as_str(), mine.outcome_note.as_deref()),
        ("not-fulfilled", Some("nothing happened"))
    );
    let update = w
        .wire("augur")
        .into_iter()
        .find(|c| c["op"] == "update")
        .expect("update");
    assert!(is_encrypted(&update["fields"]["outcomeNote"]["value"]));
    let open: Value = w.call("augur.listOpenSigns", json!({})).expect("open");
    assert_eq!(
        open["entries"].as_array().map(Vec::len),
        Some(1),
        "a resolved sign is no longer open"
    );
    refused(
        &w,
        "augur.resolveSign",
        json!({"entryId": id, "outcome": "open"}),
        "outcome",
    );
    assert!(matches!(
        w.call(
            "augur.resolveSign",
            json!({"entryId": "nope", "outcome": "partly"})
        ),
        Err(ToolError::NotFound { .. })
    ));
}

#[test]
fn augur_year_recap_and_oracle() {
    let w = world();
    let mut changes = Vec::new();
    for n in 0..60 {
        let outcome = ["fulfilled", "partly", "not-fulfilled"][n % 3];
        let mut data = sign(
            if n % 2 == 0 { "omen" } else { "hunch" },
            "natural",
            "bad",
            outcome,
        )
        .as_object()
        .cloned()
        .unwrap_or_default();
        data.insert("id".into(), json!(format!("s-{n}")));
        encrypt_fields(
            &key(),
            &mut data,
            &["source", "claim", "tags"],
            &mut PooledOsRng,
        )
        .expect("sealed");
        changes.push(Change::insert("augurEntries", format!("s-{n}"), data));
    }
    w.phone
        .push("augur", &changes, &Cursor::EPOCH)
        .expect("pushed");
    w.tick();
    let recap: Value = w.call("augur.yearRecap", json!({})).expect("recap");
    assert_eq!(
        (
            recap["year"].as_u64(),
            recap["total"].as_u64(),
            recap["resolved"].as_u64()
        ),
        (Some(2026), Some(60), Some(60))
    );
    assert_eq!(recap["byKind"]["omen"], 30);
    assert_eq!(recap["byOutcome"]["partly"], 20);
    assert_eq!(recap["hitRate"], 0.5);
    assert_eq!(recap["bestSource"]["category"], "natural");
    let empty: Value = w
        .call("augur.yearRecap", json!({"year": 2030}))
        .expect("recap");
    assert_eq!(
        (empty["total"].as_u64(), empty["hitRate"].is_null()),
        (Some(0), true)
    );
    refused(&w, "augur.yearRecap", json!({"year": 1999}), "year");

    let oracle: Value = w
        .call(
            "augur.consultOracle",
            json!({"kind": "omen", "sourceCategory": "natural", "vibe": "bad", "claim": "rain"}),
        )
        .expect("oracle");
    assert_eq!(oracle["speaks"], true, "{oracle}");
    assert_eq!(oracle["thresholds"]["historyTotal"], 60);
    assert!(oracle["reflection"]
        .as_str()
        .is_some_and(|r| r.contains("signs like this one")));
    let unlike: Value = w
        .call(
            "augur.consultOracle",
            json!({"kind": "fortune", "sourceCategory": "tarot", "vibe": "good"}),
        )
        .expect("oracle");
    assert_eq!(
        (unlike["speaks"].as_bool(), unlike["matches"].as_u64()),
        (Some(false), Some(0))
    );
    refused(
        &w,
        "augur.consultOracle",
        json!({"kind": "omen", "sourceCategory": "natural"}),
        "",
    );
}

#[test]
fn me_list_reference_images() {
    let w = world();
    let image = |usage: bool, kind: &str| {
        json!({"kind": kind, "label": "me", "mediaId": "m-1", "storagePath": "p", "publicUrl": "https://x/1.png",
               "width": 10, "height": 20, "tags": ["front"], "usage": {"aiReference": usage, "showInProfile": true}})
    };
    w.phone_insert::<mana_sync_apps::records::MeImage>("i-1", image(true, "face"));
    w.phone_insert::<mana_sync_apps::records::MeImage>("i-2", image(true, "hands"));
    w.phone_insert::<mana_sync_apps::records::MeImage>("i-3", image(false, "face"));
    let listed: Value = w.call("me.listReferenceImages", json!({})).expect("listed");
    let got: Vec<&str> = listed["images"]
        .as_array()
        .expect("images")
        .iter()
        .filter_map(|i| i["id"].as_str())
        .collect();
    assert_eq!(got, ["i-1", "i-2"]);
    assert_eq!(listed["images"][0]["label"], "me", "decrypted");
    w.phone_update::<mana_sync_apps::records::MeImage>(
        "i-1",
        "usage",
        json!({"aiReference": false, "showInProfile": true}),
    );
    let faces: Value = w
        .call("me.listReferenceImages", json!({"kind": "face"}))
        .expect("listed");
    assert_eq!(
        faces["images"].as_array().map(Vec::len),
        Some(0),
        "usage turned off later is folded in"
    );
    refused(
        &w,
        "me.listReferenceImages",
        json!({"kind": "selfie"}),
        "kind",
    );
}

/// A transport that answers the auth service's organisation list and hands
/// the rest to the in-memory server.
#[derive(Clone)]
struct WithSpaces(InProcess, u16);

impl BlockingTransport for WithSpaces {
    type Body = <InProcess as BlockingTransport>::Body;
    fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        if request.uri().path() == "/auth/api/auth/organization/list" {
            let authed = request
                .headers()
                .get("authorization")
                .and_then(|h| h.to_str().ok())
                == Some(&format!("Bearer {}", token_for(USER)));
            let body = json!([
                {"id": "sp-1", "name": "Me", "slug": "me", "metadata": "{\"type\":\"personal\"}", "role": "owner"},
                {"id": "sp-2", "name": "Family", "metadata": {"type": "family"}},
                {"name": "no id"}
            ]);
            let status = if authed { self.1 } else { 401 };
            return Ok(Response::builder()
                .status(status)
                .body(body.to_string().into_bytes())
                .expect("response"));
        }
        BlockingTransport::send(&self.0, request)
    }
    fn open(&self, request: Request<Vec<u8>>) -> Result<Response<Self::Body>, TransportError> {
        BlockingTransport::open(&self.0, request)
    }
    fn sleep(&self, d: Duration) {
        BlockingTransport::sleep(&self.0, d)
    }
}

#[test]
fn spaces_list_asks_the_configured_auth_url() {
    let net = InProcess::default();
    let config = Config::new("http://mana.test", token_for(USER), "agent")
        .and_then(|c| c.with_auth_url("http://mana.test/auth"))
        .expect("config");
    let tools = Tools::new(BlockingClient::new(
        config.clone(),
        WithSpaces(net.clone(), 200),
    ));
    let listed: tools::spaces::ListOutput = tools
        .spaces_list(tools::spaces::ListInput::default())
        .expect("listed");
    assert_eq!(
        listed
            .spaces
            .iter()
            .map(|s| s.id.as_str())
            .collect::<Vec<_>>(),
        ["sp-1", "sp-2"]
    );
    assert_eq!(listed.spaces[0].kind.as_deref(), Some("personal"));
    assert_eq!(listed.spaces[1].kind.as_deref(), Some("family"));
    assert_eq!(listed.active_space_id.as_deref(), Some("sp-1"));
    let family = tools.clone().in_space("sp-2");
    assert_eq!(
        family.call_json("spaces.list", json!({})).expect("listed")["activeSpaceId"],
        "sp-2"
    );
    assert!(matches!(
        family.call_json("spaces.list", json!({"x": 1})),
        Err(ToolError::Input { .. })
    ));
    // Without an auth URL: a clear configuration error.
    let bare = Tools::new(net.blocking_client(
        Config::new("http://mana.test", token_for(USER), "agent").expect("config"),
    ));
    let err = bare
        .call_json("spaces.list", json!({}))
        .expect_err("no auth url");
    assert!(err.to_string().contains("auth URL"), "{err}");
    // A refused token.
    let refused = Tools::new(
        BlockingClient::new(config, WithSpaces(net, 401))
            .with_retry(mana_sync_core::RetryPolicy::none()),
    );
    let err = refused
        .call_json("spaces.list", json!({}))
        .expect_err("401");
    assert!(err.to_string().contains("token refused"), "{err}");
}

#[test]
fn sync_failures_read_clearly_and_hold_no_secret() {
    let w = world();
    w.net.server().set_vault(USER, Vault::ZeroKnowledge);
    let err = w
        .call("notes.create", json!({"title": "x"}))
        .expect_err("zero knowledge");
    assert!(
        err.to_string()
            .contains("zero-knowledge: nothing can be encrypted for them"),
        "{err}"
    );
    // A plaintext-only tool still works for that user.
    w.call("habits.create", json!({"title": "Run"}))
        .expect("habits need no key");
    w.net.server().set_sync_active(USER, false);
    let err = w.call("habits.list", json!({})).expect_err("402");
    assert!(err.to_string().contains("402"), "{err}");
    let bad =
        Tools::new(w.net.blocking_client(
            Config::new("http://mana.test", "not-a-jwt", "agent").expect("config"),
        ));
    let err = bad.call_json("habits.list", json!({})).expect_err("401");
    assert!(err.to_string().starts_with("token refused"), "{err}");
    assert!(!err.to_string().contains("not-a-jwt"));
}

#[tokio::test]
async fn the_async_facade_runs_the_same_tools() {
    let net = InProcess::default();
    net.server().set_vault(USER, Vault::Standard(key()));
    let tools = Tools::new(net.async_client(guarded(config("agent-async"))));
    let created = tools
        .todo_create(tools::todo::CreateInput::titled("Async milk"))
        .await
        .expect("created");
    net.clock().advance(Duration::from_secs(1));
    tools
        .call_json("todo.complete", json!({"id": created.task.id}))
        .await
        .expect("completed");
    let all: Value = tools
        .call_json("todo.list", json!({"includeCompleted": true}))
        .await
        .expect("listed");
    assert_eq!(all["tasks"][0]["isCompleted"], true);
    assert!(matches!(
        tools.call_json("todo.list", json!({"limit": -1})).await,
        Err(ToolError::Input { .. })
    ));
}
