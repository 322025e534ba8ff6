//! `serve` as the real binary: its URL, CORS, the data file across restarts
//! and crashes, a torn last line, a damaged file, Ctrl-C.

#![allow(clippy::unwrap_used)]

mod support;

use predicates::prelude::*;
use serde_json::Value;
use support::{insert, lines, mana, mana_as, raw_request, stdout_of, temp_dir, Serve};

const USER: &str = "serve-user";

fn push(url: &str, input: &str) {
    mana_as(url, USER)
        .args(["push", "--app", "todo"])
        .write_stdin(input.to_owned())
        .assert()
        .success();
}

fn ids(url: &str) -> Vec<String> {
    let out = stdout_of(mana_as(url, USER).args([
        "--client-id",
        "reader",
        "pull",
        "--app",
        "todo",
        "--collection",
        "tasks",
        "--all",
    ]));
    out.lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

#[test]
fn it_prints_its_url_and_answers_there() {
    let serve = Serve::start(&[]);
    assert!(serve.url.starts_with("http://127.0.0.1:"), "{}", serve.url);
    let (head, body) = raw_request(
        serve.authority(),
        "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let health: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(health["status"], "ok");
    // The system clock: the health timestamp is today's, not the testkit's
    // fixed 2026-01-01.
    assert_ne!(health["timestamp"], "2026-01-01T00:00:00Z");
}

#[test]
fn cors_preflights_are_answered_for_the_allowed_origins() {
    let serve = Serve::start(&["--allow-origin", "http://localhost:5173"]);
    let preflight = |origin: &str| {
        raw_request(
            serve.authority(),
            &format!(
                "OPTIONS /sync/todo HTTP/1.1\r\nHost: x\r\nOrigin: {origin}\r\n\
                 Access-Control-Request-Method: POST\r\n\
                 Access-Control-Request-Headers: authorization, content-type, x-client-id\r\n\
                 Connection: close\r\n\r\n"
            ),
        )
        .0
        .to_ascii_lowercase()
    };
    let allowed = preflight("http://localhost:5173");
    assert!(allowed.starts_with("http/1.1 204"), "{allowed}");
    assert!(allowed.contains("access-control-allow-origin: http://localhost:5173"));
    assert!(allowed.contains("access-control-allow-methods: post"));
    assert!(
        allowed.contains("access-control-allow-headers: authorization, content-type, x-client-id")
    );
    let refused = preflight("http://elsewhere.test");
    assert!(refused.starts_with("http/1.1 204"), "{refused}");
    assert!(!refused.contains("access-control-allow-origin"));
    // A real request from the allowed origin is marked too.
    let (head, _) = raw_request(
        serve.authority(),
        "GET /health HTTP/1.1\r\nHost: x\r\nOrigin: http://localhost:5173\r\nConnection: close\r\n\r\n",
    );
    assert!(head
        .to_ascii_lowercase()
        .contains("access-control-allow-origin: http://localhost:5173"));
}

#[test]
fn any_origin_by_default() {
    let serve = Serve::start(&[]);
    let (head, _) = raw_request(
        serve.authority(),
        "OPTIONS /sync/todo/pull HTTP/1.1\r\nHost: x\r\nOrigin: http://any.test\r\n\
         Access-Control-Request-Method: GET\r\nConnection: close\r\n\r\n",
    );
    assert!(head
        .to_ascii_lowercase()
        .contains("access-control-allow-origin: http://any.test"));
}

#[test]
fn the_data_file_survives_a_restart_and_a_crash() {
    let dir = temp_dir("restart");
    let data = dir.join("changes.jsonl");
    let data_arg = data.to_str().unwrap();
    let serve = Serve::start(&["--data", data_arg]);
    push(&serve.url, &insert("t-1", "first"));
    // Acknowledged means on disk, before the server stops.
    assert_eq!(lines(&data).len(), 1);
    push(
        &serve.url,
        &format!("{}\n{}", insert("t-2", "a"), insert("t-3", "b")),
    );
    assert_eq!(lines(&data).len(), 3);
    serve.crash();

    let serve = Serve::start(&["--data", data_arg]);
    assert_eq!(ids(&serve.url), ["t-1", "t-2", "t-3"]);
    push(&serve.url, &insert("t-4", "after the restart"));
    assert_eq!(ids(&serve.url), ["t-1", "t-2", "t-3", "t-4"]);
    serve.crash();
    let serve = Serve::start(&["--data", data_arg]);
    assert_eq!(ids(&serve.url).len(), 4);
}

#[test]
fn a_torn_last_line_is_skipped_with_a_warning() {
    let dir = temp_dir("torn");
    let data = dir.join("changes.jsonl");
    let data_arg = data.to_str().unwrap();
    let serve = Serve::start(&["--data", data_arg]);
    push(
        &serve.url,
        &format!("{}\n{}", insert("t-1", "a"), insert("t-2", "b")),
    );
    serve.crash();
    let mut text = std::fs::read_to_string(&data).unwrap();
    text.push_str(r#"{"user":"serve-user","appId":"todo","tab"#);
    std::fs::write(&data, text).unwrap();

    let serve = Serve::start(&["--data", data_arg]);
    assert_eq!(ids(&serve.url), ["t-1", "t-2"]);
    push(&serve.url, &insert("t-3", "c"));
    assert_eq!(lines(&data).len(), 3);
    #[cfg(unix)]
    {
        let (status, err) = serve.interrupt();
        assert!(status.success(), "{status}: {err}");
        assert!(
            err.contains("warning") && err.contains("torn last line 3"),
            "{err}"
        );
    }
}

#[test]
fn a_damaged_data_file_stops_serve_with_exit_5() {
    let dir = temp_dir("damaged");
    let data = dir.join("changes.jsonl");
    std::fs::write(&data, "garbage\n{}\n").unwrap();
    mana()
        .args(["serve", "--addr", "127.0.0.1:0", "--data"])
        .arg(&data)
        .assert()
        .code(5)
        .stdout("")
        .stderr(
            predicate::str::contains("line 1").and(predicate::str::contains("move the file aside")),
        );
    // A whole (newline-ended) last line that does not read is damage too,
    // not a torn write: the start stops, naming it, and the file is kept.
    std::fs::write(&data, "").unwrap();
    let good = {
        let serve = Serve::start(&["--data", data.to_str().unwrap()]);
        push(&serve.url, &insert("t-1", "x"));
        drop(serve);
        std::fs::read_to_string(&data).unwrap()
    };
    let damaged = format!("{good}{{\"user\":\"u\"}}\n");
    std::fs::write(&data, &damaged).unwrap();
    mana()
        .args(["serve", "--addr", "127.0.0.1:0", "--data"])
        .arg(&data)
        .assert()
        .code(5)
        .stderr(
            predicate::str::contains("line 2").and(predicate::str::contains("move the file aside")),
        );
    assert_eq!(std::fs::read_to_string(&data).unwrap(), damaged);
    // A data file that cannot be opened: exit 2.
    mana()
        .args(["serve", "--addr", "127.0.0.1:0", "--data"])
        .arg(&dir)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--data"));
}

#[test]
fn an_address_in_use_is_exit_5() {
    let serve = Serve::start(&[]);
    mana()
        .args(["serve", "--addr", serve.authority()])
        .assert()
        .code(5)
        .stderr(predicate::str::contains("--addr"));
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_it_cleanly() {
    let serve = Serve::start(&[]);
    push(&serve.url, &insert("t-1", "x"));
    let (status, err) = serve.interrupt();
    assert!(status.success(), "{status}: {err}");
    assert!(err.contains("stopped"), "{err}");
}

#[test]
fn dev_token_speaks_for_the_user_and_says_it_is_for_the_dev_server() {
    let out = mana()
        .args(["dev-token", "--user", "alice"])
        .assert()
        .success()
        .stderr(predicate::str::contains("development server"))
        .get_output()
        .clone();
    let token = String::from_utf8(out.stdout).unwrap();
    assert_eq!(token.trim(), mana_sync_testkit::token_for("alice"));
    mana()
        .args(["dev-token", "--user", " "])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--user"));
}

#[test]
fn the_vault_holds_given_keys_and_mints_the_others_once() {
    let given = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";
    let serve = Serve::start(&["--vault-key", &format!("alice={given}")]);
    let key = |user: &str| {
        stdout_of(
            mana_as(&serve.url, user)
                .args(["--auth-url", &serve.url])
                .args(["key", "--show"]),
        )
        .trim()
        .to_owned()
    };
    assert_eq!(key("alice"), given);
    let minted = key("bob");
    assert_eq!(minted.len(), 44, "{minted}");
    assert_ne!(minted, given);
    assert_eq!(key("bob"), minted, "minted once, then kept");
    let (_, stderr) = serve.interrupt();
    assert!(stderr.contains("To get going"), "{stderr}");
    assert!(
        stderr.contains("minted a vault key for user \"bob\"") && stderr.contains(&minted),
        "{stderr}"
    );
    assert!(!stderr.contains("\"alice\""), "{stderr}");
}

#[test]
fn no_mint_leaves_the_vault_uninitialised_and_a_bad_key_is_a_usage_error() {
    let serve = Serve::start(&["--no-mint"]);
    mana_as(&serve.url, USER)
        .args(["--auth-url", &serve.url, "key"])
        .assert()
        .code(6)
        .stderr(predicate::str::contains("no master key available"));
    mana()
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--vault-key",
            "alice=short",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("the key of alice"));
    mana()
        .args(["serve", "--addr", "127.0.0.1:0", "--vault-key", "nokey"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("USER=KEY"));
}

#[test]
fn an_inactive_user_is_refused_with_402_and_others_are_not() {
    let serve = Serve::start(&["--inactive", "lapsed"]);
    mana_as(&serve.url, "lapsed")
        .args(["pull", "--app", "todo", "--collection", "tasks"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("sync_inactive").or(predicate::str::contains("402")));
    mana_as(&serve.url, "lapsed")
        .args(["push", "--app", "todo"])
        .write_stdin(insert("t-1", "x"))
        .assert()
        .code(3);
    mana_as(&serve.url, USER)
        .args(["pull", "--app", "todo", "--collection", "tasks"])
        .assert()
        .success();
}
