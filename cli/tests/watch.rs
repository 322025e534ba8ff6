//! `watch` run as the real binary against `serve`: pending changes, a change
//! arriving live while it runs, and the bad paths with their exit codes.

#![allow(clippy::unwrap_used)]

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use mana_sync_testkit::{token_for, LoopbackServer, MemoryServer};
use serde_json::Value;
use support::{binary, closed_url, insert, mana, mana_as, stdout_of, Serve};

const USER: &str = "cli-user";

fn push(url: &str, client: &str, input: String) {
    stdout_of(
        mana_as(url, USER)
            .args(["--client-id", client, "push", "--app", "todo"])
            .write_stdin(input),
    );
}

#[test]
fn watch_prints_pending_changes_as_json_lines() {
    let serve = Serve::start(&[]);
    push(
        &serve.url,
        "laptop",
        format!("{}\n{}\n", insert("t-1", "a"), insert("t-2", "b")),
    );
    let out = stdout_of(mana_as(&serve.url, USER).args([
        "watch",
        "--app",
        "todo",
        "--collections",
        "tasks,notes",
        "--max-events",
        "1",
    ]));
    let line: Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(line["event"], "changes");
    assert_eq!(line["collection"], "tasks");
    let ids: Vec<&str> = line["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["t-1", "t-2"]);
    assert!(line["cursor"].as_str().unwrap().ends_with('Z'));
}

#[test]
fn watch_shows_a_change_pushed_while_it_runs() {
    let serve = Serve::start(&[]);
    push(&serve.url, "laptop", format!("{}\n", insert("t-1", "a")));
    let mut child = Command::new(binary())
        .args(["--url", &serve.url, "--token", &token_for(USER)])
        .args([
            "watch",
            "--app",
            "todo",
            "--collections",
            "tasks",
            "--max-events",
            "2",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(first["changes"][0]["id"], "t-1");
    // The stream is open: a push by another device arrives live.
    push(&serve.url, "phone", format!("{}\n", insert("t-2", "b")));
    let second = loop {
        let line: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
        if line["event"] == "changes" {
            break line;
        }
    };
    assert_eq!(second["changes"][0]["id"], "t-2");
    assert!(child.wait().unwrap().success());
}

#[test]
fn watch_bad_paths_have_their_exit_codes() {
    // A refused token: 3.
    let serve = Serve::start(&[]);
    mana()
        .args(["--url", &serve.url, "--token", "not-a-jwt"])
        .args(["watch", "--app", "todo", "--collections", "tasks"])
        .assert()
        .code(3);
    // A lapsed subscription: 3.
    let server = MemoryServer::new();
    server.set_sync_active(USER, false);
    let running = LoopbackServer::start(server).unwrap();
    mana_as(&running.base_url(), USER)
        .args(["watch", "--app", "todo", "--collections", "tasks"])
        .assert()
        .code(3);
    // Nothing listening, and a limit on reconnects: 5.
    mana_as(&closed_url(), USER)
        .args([
            "--retry-for",
            "1",
            "watch",
            "--app",
            "todo",
            "--collections",
            "tasks",
            "--max-reconnects",
            "1",
        ])
        .assert()
        .code(5);
    // Usage: no collections, a bad --since.
    mana_as(&serve.url, USER)
        .args(["watch", "--app", "todo"])
        .assert()
        .code(2);
    mana_as(&serve.url, USER)
        .args([
            "watch",
            "--app",
            "todo",
            "--collections",
            "tasks",
            "--since",
            "yesterday",
        ])
        .assert()
        .code(2);
}
