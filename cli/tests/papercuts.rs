//! The command's papercuts, each with its exit code and message: a closed
//! pipe, the vault's URL in hints, options listed where they apply, usage
//! lines, IVs, negative numbers, plain text to decrypt, own changes.

#![allow(clippy::unwrap_used)]

mod support;

use std::process::{Command, Stdio};

use predicates::prelude::*;
use support::{binary, closed_url, insert, mana, mana_as, stdout_of, Serve};

const KEY: &str = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";

#[test]
fn completions_into_a_closed_pipe_end_quietly() {
    // The reading end is closed before the command writes: every write
    // fails with EPIPE, as `| head -1` does once head has its line.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = Command::new(binary())
        .args(["completions", "fish"])
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // And into a pipe that reads, the whole script.
    let script = stdout_of(mana().args(["completions", "fish"]));
    assert!(script.contains("complete -c mana-sync"), "{script}");
}

#[test]
fn an_unreachable_vault_points_at_auth_url() {
    let (sync, auth) = (closed_url(), closed_url());
    mana_as(&sync, "u-1")
        .args(["key", "--auth-url", &auth])
        .assert()
        .code(5)
        .stderr(
            predicate::str::contains(format!("could not reach the server at {auth}"))
                .and(predicate::str::contains("check --auth-url"))
                .and(predicate::str::contains("check --url").not()),
        );
}

#[test]
fn connection_options_are_listed_only_where_they_apply() {
    for command in [
        "encrypt",
        "decrypt",
        "completions",
        "serve",
        "dev-token",
        "demo",
    ] {
        mana().args([command, "--help"]).assert().success().stdout(
            predicate::str::contains("--url")
                .or(predicate::str::contains("--token"))
                .or(predicate::str::contains("--client-id"))
                .not(),
        );
        // And refused there.
        mana()
            .args([command, "--url", "http://x.test"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("unexpected argument '--url'"));
    }
    for command in ["push", "pull", "records", "watch", "key"] {
        mana()
            .args([command, "--help"])
            .assert()
            .success()
            .stdout(predicate::str::contains("--url").and(predicate::str::contains("--token")));
    }
    // Before the subcommand or after it, the same option; after it wins.
    let serve = Serve::start(&[]);
    mana()
        .args(["--url", &closed_url(), "pull", "--url", &serve.url])
        .args(["--token", &mana_sync_testkit::token_for("u-1")])
        .args(["--app", "todo", "--collection", "tasks"])
        .assert()
        .success();
}

#[test]
fn the_usage_line_after_a_missing_argument_shows_no_connection_option() {
    mana()
        .args(["pull", "--app", "todo"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("--collection <COLLECTION>")
                .and(predicate::str::contains("Usage: mana-sync pull"))
                .and(predicate::str::contains("--url").not())
                .and(predicate::str::contains("--token").not()),
        );
}

#[test]
fn a_bad_iv_is_a_usage_error() {
    mana()
        .args(["encrypt", "--key-b64", KEY, "--iv-b64", "not-an-iv", "1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--iv-b64").and(predicate::str::contains("12 bytes")));
}

#[test]
fn a_negative_number_is_a_value_to_encrypt() {
    let wire = stdout_of(mana().args(["encrypt", "--key-b64", KEY, "-1.5"]));
    assert!(wire.starts_with("enc:1:"), "{wire}");
    let back = stdout_of(mana().args(["decrypt", "--key-b64", KEY, wire.trim()]));
    assert_eq!(back.trim(), "-1.5");
}

#[test]
fn plain_text_to_decrypt_passes_through_without_a_key() {
    let out = stdout_of(mana().args(["decrypt", "plain text"]));
    assert_eq!(out.trim(), "\"plain text\"");
    // An `enc:1:` value still needs a key.
    mana()
        .args(["decrypt", "enc:1:AAAAAAAAAAAAAAAA.AAAA"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--key-b64"));
}

#[test]
fn own_changes_are_hidden_with_a_hint_and_shown_with_include_own() {
    let serve = Serve::start(&[]);
    mana_as(&serve.url, "u-1")
        .args(["push", "--app", "todo"])
        .write_stdin(insert("t-1", "mine"))
        .assert()
        .success();
    for all in [false, true] {
        let pull = |own: bool| {
            let mut command = mana_as(&serve.url, "u-1");
            command.args(["pull", "--app", "todo", "--collection", "tasks"]);
            if all {
                command.arg("--all");
            }
            if own {
                command.arg("--include-own");
            }
            command
        };
        pull(false)
            .assert()
            .success()
            .stdout("")
            .stderr(predicate::str::contains("--include-own reads them too"));
        pull(true)
            .assert()
            .success()
            .stdout(predicate::str::contains("\"id\":\"t-1\""))
            .stderr(predicate::str::contains("--include-own").not());
    }
    let watched = stdout_of(mana_as(&serve.url, "u-1").args([
        "watch",
        "--app",
        "todo",
        "--collections",
        "tasks",
        "--include-own",
        "--max-events",
        "1",
    ]));
    assert!(watched.contains("\"id\":\"t-1\""), "{watched}");
    // `records` always reads them.
    let records = stdout_of(mana_as(&serve.url, "u-1").args([
        "records",
        "--app",
        "todo",
        "--collection",
        "tasks",
    ]));
    assert!(records.contains("\"mine\""), "{records}");
}
