//! `sync` (the offline engine over a SQLite file) and `local` (reads of that
//! file) as the real binary against `serve`: once and live, the one-owner
//! lock, and the bad paths.

#![allow(clippy::unwrap_used)]

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use predicates::prelude::*;
use serde_json::Value;
use support::{binary, closed_url, insert, mana, mana_as, stdout_of, temp_dir, Serve};

const USER: &str = "cli-user";

fn phone_pushes(serve: &Serve, id: &str, title: &str) {
    stdout_of(
        mana_as(&serve.url, USER)
            .args(["--client-id", "phone", "push", "--app", "todo"])
            .write_stdin(insert(id, title)),
    );
}

fn local_records(db: &std::path::Path) -> Value {
    let out = stdout_of(
        mana()
            .args(["local", "--db"])
            .arg(db)
            .args(["records", "--table", "tasks"]),
    );
    serde_json::from_str(&out).unwrap()
}

#[test]
fn sync_once_catches_up_into_the_file_and_local_reads_it_offline() {
    let serve = Serve::start(&[]);
    phone_pushes(&serve, "t-1", "Buy milk");
    let dir = temp_dir("sync-once");
    let db = dir.join("todo.db");
    let out = stdout_of(
        mana_as(&serve.url, USER)
            .args(["--client-id", "laptop", "sync", "--db"])
            .arg(&db)
            .args(["--app", "todo", "--collections", "tasks", "--once"]),
    );
    let status: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (status["caughtUp"].clone(), status["pending"].clone()),
        (Value::Bool(true), 0.into())
    );
    assert!(
        status["lastPull"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z')),
        "{status}"
    );
    // The server is gone: the file still answers.
    drop(serve);
    let records = local_records(&db);
    assert_eq!(records[0]["id"], "t-1");
    assert_eq!(records[0]["title"], "Buy milk");
    for what in ["pending", "dead-letters", "conflicts"] {
        let out = stdout_of(mana().args(["local", "--db"]).arg(&db).arg(what));
        assert_eq!(
            serde_json::from_str::<Value>(&out).unwrap(),
            Value::Array(vec![]),
            "{what}"
        );
    }
}

#[test]
fn sync_follows_the_live_stream_owns_the_file_and_stops_on_ctrl_c() {
    let serve = Serve::start(&[]);
    let dir = temp_dir("sync-live");
    let db = dir.join("todo.db");
    let mut child = Command::new(binary())
        .args([
            "--url",
            &serve.url,
            "--token",
            &mana_sync_testkit::token_for(USER),
        ])
        .args(["--client-id", "laptop", "sync", "--db"])
        .arg(&db)
        .args(["--app", "todo", "--collections", "tasks"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut until = |check: &dyn Fn(&Value) -> bool| loop {
        let line = lines
            .next()
            .unwrap_or_else(|| panic!("sync ended"))
            .unwrap();
        let line: Value = serde_json::from_str(&line).unwrap();
        if check(&line) {
            return line;
        }
    };
    until(&|l| l["event"] == "status" && l["caughtUp"] == true);
    // One process syncs a file at a time.
    mana()
        .args(["local", "--db"])
        .arg(&db)
        .arg("pending")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("in use by another process"));
    // Another device's write arrives by the stream.
    phone_pushes(&serve, "t-2", "Call Anna");
    let changes = until(&|l| l["event"] == "changes");
    assert_eq!(
        (changes["table"].as_str(), changes["ids"][0].as_str()),
        (Some("tasks"), Some("t-2"))
    );
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    assert!(child.wait().unwrap().success());
    let records = local_records(&db);
    assert_eq!(records[0]["id"], "t-2");
}

#[test]
fn sync_and_local_say_what_is_wrong() {
    let dir = temp_dir("sync-bad");
    let db = dir.join("todo.db");
    // Unreachable, no retries: exit 5, and the file is kept for later.
    mana_as(&closed_url(), USER)
        .args(["--retry-for", "0", "sync", "--db"])
        .arg(&db)
        .args(["--app", "todo", "--collections", "tasks", "--once"])
        .assert()
        .code(5)
        .stderr(predicate::str::contains("gave up"));
    assert!(db.is_file());
    // No database there.
    mana()
        .args(["local", "--db"])
        .arg(dir.join("missing.db"))
        .arg("pending")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no such database"));
    // Not a database.
    let text = dir.join("notes.txt");
    std::fs::write(&text, "not a database, just some text ".repeat(100)).unwrap();
    mana()
        .args(["local", "--db"])
        .arg(&text)
        .arg("pending")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a mana-sync engine database"));
    // No collection.
    mana_as(&closed_url(), USER)
        .args(["sync", "--db"])
        .arg(&db)
        .args(["--app", "todo", "--collections", " ", "--once"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("at least one collection"));
    // Decrypting needs a key: a local read asks no vault.
    mana()
        .args(["local", "--db"])
        .arg(&db)
        .args(["records", "--table", "tasks", "--decrypt", "title"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--key-b64"));
}
