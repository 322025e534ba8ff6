//! `push`, `pull` and `records` run as the real binary against `serve` (or
//! an in-test loopback server for the switches), bad paths included.

#![allow(clippy::unwrap_used)]

mod support;

use mana_sync_testkit::{token_for, Fault, LoopbackServer, MemoryServer};
use predicates::prelude::*;
use serde_json::{json, Value};
use support::{closed_url, insert, mana, mana_as, stdout_of, temp_dir, Serve};

const USER: &str = "cli-user";

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn push_then_pull_and_records_from_another_client() {
    let serve = Serve::start(&[]);
    let input = format!(
        "{}\n\n{}\n{}\n",
        insert("t-1", "Buy milk"),
        insert("t-2", "Call Anna"),
        json!({"table": "tasks", "id": "t-1", "op": "update",
               "fields": {"title": {"value": "Buy oat milk", "at": "2026-01-01T00:00:05.000Z"}}})
    );
    let summary = stdout_of(
        mana_as(&serve.url, USER)
            .args(["--client-id", "laptop", "push", "--app", "todo"])
            .write_stdin(input),
    );
    let summary: Value = serde_json::from_str(&summary).unwrap();
    assert_eq!(summary["pushed"], 3);
    assert_eq!(summary["requests"], 1);
    assert_eq!(summary["truncated"], false);
    assert!(summary["syncedUntil"].as_str().unwrap().ends_with('Z'));

    // Another device sees the three changes, in order.
    let pulled = mana_as(&serve.url, USER)
        .args([
            "--client-id",
            "phone",
            "pull",
            "--app",
            "todo",
            "--collection",
            "tasks",
        ])
        .assert()
        .success()
        .stderr(predicate::str::contains("resume with --since"));
    let changes = json_lines(&String::from_utf8(pulled.get_output().stdout.clone()).unwrap());
    let ops: Vec<_> = changes.iter().map(|c| c["op"].as_str().unwrap()).collect();
    assert_eq!(ops, ["insert", "insert", "update"]);
    assert!(changes.iter().all(|c| c["eventId"].is_string()));

    // The pushing client's own pull leaves its changes out (the protocol's rule).
    let own = stdout_of(mana_as(&serve.url, USER).args([
        "--client-id",
        "laptop",
        "pull",
        "--app",
        "todo",
        "--collection",
        "tasks",
    ]));
    assert_eq!(own, "");

    // Records: folded, sorted by id, the later title wins.
    let records = stdout_of(mana_as(&serve.url, USER).args([
        "records",
        "--app",
        "todo",
        "--collection",
        "tasks",
    ]));
    let records: Value = serde_json::from_str(&records).unwrap();
    assert_eq!(
        records,
        json!([
            {"id": "t-1", "title": "Buy oat milk", "createdAt": "2026-01-01T00:00:00.000Z"},
            {"id": "t-2", "title": "Call Anna", "createdAt": "2026-01-01T00:00:00.000Z"}
        ])
    );

    // Another user sees nothing.
    let other = stdout_of(mana_as(&serve.url, "someone-else").args([
        "records",
        "--app",
        "todo",
        "--collection",
        "tasks",
    ]));
    assert_eq!(other.trim(), "[]");
}

#[test]
fn deleted_records_only_with_include_deleted_and_a_file_as_input() {
    let serve = Serve::start(&[]);
    let dir = temp_dir("deleted");
    let file = dir.join("changes.json");
    let changes = format!(
        "[{}, {}, {}]",
        insert("a", "kept"),
        insert("b", "gone"),
        json!({"table": "tasks", "id": "b", "op": "delete", "deletedAt": "2026-01-01T00:00:09.000Z"})
    );
    std::fs::write(&file, changes).unwrap();
    mana_as(&serve.url, USER)
        .args(["push", "--app", "todo"])
        .arg(&file)
        .assert()
        .success()
        .stdout(predicate::str::contains("\"pushed\":3"));
    let live = stdout_of(mana_as(&serve.url, USER).args([
        "records",
        "--app",
        "todo",
        "--collection",
        "tasks",
    ]));
    let live: Vec<Value> = serde_json::from_str(&live).unwrap();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0]["id"], "a");
    let all = stdout_of(mana_as(&serve.url, USER).args([
        "records",
        "--app",
        "todo",
        "--collection",
        "tasks",
        "--include-deleted",
    ]));
    let all: Vec<Value> = serde_json::from_str(&all).unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[1]["deletedAt"], "2026-01-01T00:00:09.000Z");
}

#[test]
fn a_large_push_is_batched_and_pull_all_follows_has_more() {
    let serve = Serve::start(&[]);
    let input: Vec<String> = (0..1500)
        .map(|i| insert(&format!("t-{i:04}"), "x"))
        .collect();
    let summary = stdout_of(
        mana_as(&serve.url, USER)
            .args(["push", "--app", "todo"])
            .write_stdin(input.join("\n")),
    );
    let summary: Value = serde_json::from_str(&summary).unwrap();
    assert_eq!(summary["pushed"], 1500);
    assert_eq!(summary["requests"], 8);

    let page = mana_as(&serve.url, USER)
        .args([
            "--client-id",
            "reader",
            "pull",
            "--app",
            "todo",
            "--collection",
            "tasks",
        ])
        .assert()
        .success()
        .stderr(predicate::str::contains("more after this page"));
    let page = json_lines(&String::from_utf8(page.get_output().stdout.clone()).unwrap());
    assert_eq!(page.len(), 1000);

    let all = mana_as(&serve.url, USER)
        .args([
            "--client-id",
            "reader",
            "pull",
            "--app",
            "todo",
            "--collection",
            "tasks",
            "--all",
        ])
        .assert()
        .success()
        .stderr(predicate::str::contains("1500 changes in 2 page(s)"));
    let all = json_lines(&String::from_utf8(all.get_output().stdout.clone()).unwrap());
    assert_eq!(all.len(), 1500);
    assert_eq!(all[1499]["id"], "t-1499");

    // Resuming from the printed cursor gives nothing new.
    let cursor = String::from_utf8(
        mana_as(&serve.url, USER)
            .args([
                "--client-id",
                "reader",
                "pull",
                "--app",
                "todo",
                "--collection",
                "tasks",
                "--all",
            ])
            .output()
            .unwrap()
            .stderr,
    )
    .unwrap();
    let cursor = cursor.trim().rsplit(' ').next().unwrap().to_owned();
    let after = stdout_of(mana_as(&serve.url, USER).args([
        "--client-id",
        "reader",
        "pull",
        "--app",
        "todo",
        "--collection",
        "tasks",
        "--since",
        &cursor,
    ]));
    assert_eq!(after, "");
}

#[test]
fn a_refused_token_is_exit_3_and_never_printed() {
    let serve = Serve::start(&[]);
    let token = "not-a-jwt-SECRET-VALUE";
    for args in [
        vec!["pull", "--app", "todo", "--collection", "tasks"],
        vec!["records", "--app", "todo", "--collection", "tasks"],
    ] {
        let output = mana()
            .args(["--url", &serve.url, "--token", token])
            .args(&args)
            .assert()
            .code(3)
            .stderr(predicate::str::contains("refused the token"))
            .get_output()
            .clone();
        let err = String::from_utf8(output.stderr).unwrap();
        assert!(!err.contains("SECRET-VALUE"), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    mana()
        .args([
            "--url", &serve.url, "--token", token, "push", "--app", "todo",
        ])
        .write_stdin(insert("t-1", "x"))
        .assert()
        .code(3);
}

#[test]
fn an_inactive_subscription_is_exit_3() {
    let server = MemoryServer::deterministic();
    server.set_sync_active(USER, false);
    let running = LoopbackServer::start(server).unwrap();
    mana_as(&running.base_url(), USER)
        .args(["pull", "--app", "todo", "--collection", "tasks"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("402").and(predicate::str::contains("settings")));
}

#[test]
fn an_unreachable_server_is_exit_5() {
    let url = closed_url();
    for args in [
        vec!["pull", "--app", "todo", "--collection", "tasks"],
        vec!["pull", "--app", "todo", "--collection", "tasks", "--all"],
        vec!["records", "--app", "todo", "--collection", "tasks"],
    ] {
        mana_as(&url, USER)
            .args(["--retry-for", "1"])
            .args(&args)
            .assert()
            .code(5)
            .stderr(
                predicate::str::contains("could not reach the server")
                    .and(predicate::str::contains("--url")),
            );
    }
    mana_as(&url, USER)
        .args(["--retry-for", "1", "push", "--app", "todo"])
        .write_stdin(insert("t-1", "x"))
        .assert()
        .code(5);
}

#[test]
fn a_server_failure_is_exit_5() {
    // A failure that outlasts the retries (one attempt with --retry-for 0).
    let server = MemoryServer::deterministic();
    server.fail_next_requests(3, Fault::Unavailable);
    let running = LoopbackServer::start(server).unwrap();
    mana_as(&running.base_url(), USER)
        .args(["--retry-for", "0", "push", "--app", "todo"])
        .write_stdin(insert("t-1", "x"))
        .assert()
        .code(5)
        .stderr(predicate::str::contains("503"));
}

#[test]
fn malformed_input_is_exit_4_and_nothing_is_sent() {
    let server = std::sync::Arc::new(MemoryServer::deterministic());
    let running = LoopbackServer::start(server.clone()).unwrap();
    let url = running.base_url();
    for (input, says) in [
        (
            format!("{}\nnot json\n", insert("t-1", "x")),
            "input line 2",
        ),
        ("[{\"table\":\"t\"".to_owned(), "not a JSON array"),
        (String::new(), "no changes"),
        (
            json!({"table": "", "id": "1", "op": "insert", "data": {}}).to_string(),
            "nothing was sent",
        ),
    ] {
        mana_as(&url, USER)
            .args(["push", "--app", "todo"])
            .write_stdin(input)
            .assert()
            .code(4)
            .stderr(predicate::str::contains(says));
    }
    assert_eq!(server.request_count(), 0);
    assert_eq!(server.stored_count(USER), 0);
}

#[test]
fn usage_errors_are_exit_2() {
    let serve = Serve::start(&[]);
    // A file that does not exist.
    mana_as(&serve.url, USER)
        .args(["push", "--app", "todo", "/no/such/file.json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot read /no/such/file.json"));
    // No token.
    mana()
        .args([
            "--url",
            &serve.url,
            "pull",
            "--app",
            "todo",
            "--collection",
            "tasks",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("MANA_TOKEN"));
    // A bad cursor.
    mana_as(&serve.url, USER)
        .args([
            "pull",
            "--app",
            "todo",
            "--collection",
            "tasks",
            "--since",
            "yesterday",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--since"));
    // A bad URL.
    mana_as("ftp://x", USER)
        .args(["pull", "--app", "todo", "--collection", "tasks"])
        .assert()
        .code(2);
    // A missing argument (clap).
    mana_as(&serve.url, USER)
        .args(["pull", "--app", "todo"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--collection"));
}

#[test]
fn the_environment_gives_the_url_token_and_client_id() {
    let serve = Serve::start(&[]);
    mana()
        .env("MANA_SYNC_URL", &serve.url)
        .env("MANA_TOKEN", token_for(USER))
        .env("MANA_CLIENT_ID", "env-client")
        .args(["push", "--app", "todo"])
        .write_stdin(insert("t-1", "x"))
        .assert()
        .success();
    // The env client's own changes are left out of its pull; another sees them.
    let own = stdout_of(
        mana()
            .env("MANA_SYNC_URL", &serve.url)
            .env("MANA_TOKEN", token_for(USER))
            .env("MANA_CLIENT_ID", "env-client")
            .args(["pull", "--app", "todo", "--collection", "tasks"]),
    );
    assert_eq!(own, "");
    let other = stdout_of(
        mana()
            .env("MANA_SYNC_URL", &serve.url)
            .env("MANA_TOKEN", token_for(USER))
            .args(["pull", "--app", "todo", "--collection", "tasks"]),
    );
    assert_eq!(json_lines(&other).len(), 1);
}

#[test]
fn push_refuses_a_plaintext_encrypted_field_unless_allowed() {
    let serve = Serve::start(&[]);
    let refused = mana_as(&serve.url, USER)
        .env_remove("MANA_ALLOW_PLAINTEXT")
        .args(["push", "--app", "todo"])
        .write_stdin(insert("t-1", "a secret title"))
        .assert()
        .failure()
        .stderr(predicate::str::contains("`title`"))
        .stderr(predicate::str::contains("tasks/t-1"))
        .stderr(predicate::str::contains("--allow-plaintext"))
        .stderr(predicate::str::contains("secret").not());
    assert_ne!(refused.get_output().status.code(), Some(0));
    let records = |user: &str| {
        stdout_of(mana_as(&serve.url, user).args([
            "records",
            "--app",
            "todo",
            "--collection",
            "tasks",
        ]))
    };
    assert_eq!(records(USER).trim(), "[]", "nothing was sent");

    // A ciphertext title goes through with the guard on.
    let sealed = json!({"table": "tasks", "id": "t-2", "op": "insert",
                        "data": {"title": "enc:1:AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA==", "order": 1}});
    stdout_of(
        mana_as(&serve.url, USER)
            .env_remove("MANA_ALLOW_PLAINTEXT")
            .args(["push", "--app", "todo"])
            .write_stdin(sealed.to_string()),
    );
    // And the opt-out sends plaintext.
    stdout_of(
        mana_as(&serve.url, USER)
            .env_remove("MANA_ALLOW_PLAINTEXT")
            .args(["push", "--app", "todo", "--allow-plaintext"])
            .write_stdin(insert("t-3", "plain")),
    );
    let records: Vec<Value> = serde_json::from_str(&records(USER)).unwrap();
    let ids: Vec<String> = records
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, ["t-2", "t-3"]);
}
