//! `demo`, `completions` and the help, run as the real binary.

#![allow(clippy::unwrap_used)]

mod support;

use predicates::prelude::*;
use support::{mana, stdout_of};

#[test]
fn the_demo_runs_end_to_end() {
    let out = stdout_of(mana().arg("demo"));
    assert!(
        out.starts_with("mana-sync (in memory) on http://127.0.0.1:"),
        "{out}"
    );
    assert!(out.contains("on the wire, a title reads enc:1:"), "{out}");
    assert!(out.contains("[x] task-0  Buy milk"), "{out}");
    assert!(out.contains("[ ] task-1  Write the report"), "{out}");
    assert!(
        !out.contains("Call Anna"),
        "the deleted task is shown: {out}"
    );
    assert!(
        out.contains("live: the laptop completed task-1; the phone got it through the stream"),
        "{out}"
    );
}

#[test]
fn completions_for_each_shell() {
    for (shell, marker) in [
        ("bash", "complete"),
        ("zsh", "#compdef mana-sync"),
        ("fish", "complete -c mana-sync"),
    ] {
        let script = stdout_of(mana().args(["completions", shell]));
        assert!(script.contains(marker), "{shell}");
        assert!(script.contains("records"), "{shell}");
    }
    mana().args(["completions", "cmd.exe"]).assert().code(2);
}

#[test]
fn the_help_never_shows_the_token_or_key_from_the_environment() {
    for args in [
        vec!["--help"],
        vec!["records", "--help"],
        vec!["encrypt", "--help"],
    ] {
        let out = stdout_of(
            mana()
                .env("MANA_TOKEN", "SECRET-TOKEN-VALUE")
                .env("MANA_KEY_B64", "SECRET-KEY-VALUE")
                .args(&args),
        );
        assert!(!out.contains("SECRET"), "{out}");
    }
    mana()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("Exit codes: 0 ok; 2 usage"));
}

#[test]
fn no_subcommand_is_a_usage_error() {
    mana()
        .assert()
        .code(2)
        .stderr(predicate::str::contains("Usage"));
    mana().arg("frobnicate").assert().code(2);
    mana()
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::contains("mana-sync"));
}
