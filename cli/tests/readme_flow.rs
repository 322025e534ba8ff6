//! The README's command-line flow, run as written from an empty folder:
//! `serve` with its data file, then the second block (token, vault key,
//! encrypt, push, pull with own changes, records decrypted, watch, a local
//! copy synced and read) through
//! `sh`, with only the server's address replaced by the one it got.

#![allow(clippy::unwrap_used)]

mod support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;
use support::{binary, temp_dir, LISTENING};

/// The `sh` blocks of the README's section "The command".
fn blocks() -> Vec<String> {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    let section = readme
        .split("\n## ")
        .find(|s| s.starts_with("The command"))
        .expect("README: no section \"The command\"");
    section
        .split("```sh\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap().to_owned())
        .collect()
}

/// A `serve` child in `dir`, killed when dropped.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_readme_flow_runs_from_an_empty_folder() {
    let blocks = blocks();
    assert_eq!(blocks.len(), 2, "README: the set-up and the flow");
    let serve_line = blocks[0]
        .lines()
        .find(|l| l.starts_with("mana-sync serve"))
        .expect("README: no `mana-sync serve` line");
    let serve_args: Vec<&str> = serve_line
        .split('#')
        .next()
        .unwrap()
        .split_whitespace()
        .skip(2)
        .collect();
    let dir = temp_dir("readme-flow");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);

    // The server: its address replaced by a free port's (the README's
    // default, 3050, may be taken).
    let mut serve = Command::new(binary());
    serve
        .arg("serve")
        .args(&serve_args)
        .args(["--addr", "127.0.0.1:0"])
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = Child(serve.spawn().unwrap());
    let mut stdout = BufReader::new(child.0.stdout.take().unwrap());
    let mut line = String::new();
    let url = loop {
        line.clear();
        assert_ne!(stdout.read_line(&mut line).unwrap(), 0, "serve ended");
        if let Some(url) = line.trim().strip_prefix(LISTENING) {
            break url.to_owned();
        }
    };

    // The flow, verbatim but for the address, with the binary on PATH.
    let script = blocks[1].replace("http://127.0.0.1:3050", &url);
    assert_ne!(script, blocks[1], "README: the flow names no server URL");
    let bin_dir = Path::new(binary()).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut sh = Command::new("sh");
    sh.arg("-e")
        .arg("-c")
        .arg(&script)
        .current_dir(&dir)
        .env("PATH", path);
    for var in [
        "MANA_SYNC_URL",
        "MANA_AUTH_URL",
        "MANA_TOKEN",
        "MANA_CLIENT_ID",
        "MANA_KEY_B64",
    ] {
        sh.env_remove(var);
    }
    let out = sh.output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{stdout}\n{stderr}");

    // Every line of output is JSON: the push's summary, the pulled change,
    // the records, the watched event.
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    assert_eq!(lines.len(), 6, "{stdout}");
    assert_eq!(lines[0]["pushed"], 1, "{stdout}");
    assert_eq!(lines[1]["id"], "t-1", "the pull shows the own change");
    let title = lines[1]["data"]["title"].as_str().unwrap();
    assert!(title.starts_with("enc:1:"), "stored encrypted: {title}");
    assert_eq!(
        lines[2],
        serde_json::json!([{"id": "t-1", "title": "Buy milk", "isCompleted": false}])
    );
    assert_eq!(lines[3]["event"], "changes");
    assert_eq!(lines[3]["changes"][0]["id"], "t-1");
    // The local copy: caught up, then read offline (the engine has a
    // client id of its own, so it reads the push's change).
    assert_eq!(lines[4]["caughtUp"], true, "{stdout}");
    assert_eq!(
        lines[5], lines[2],
        "the local copy holds what the server folds"
    );
    // The hint about own changes is not given: the pull printed one.
    assert!(!stderr.contains("--include-own reads them"), "{stderr}");
    // The server kept the change in its data file, in the folder; the
    // flow's own input is a different file.
    let data_file = serve_args
        .iter()
        .skip_while(|a| **a != "--data")
        .nth(1)
        .expect("README: serve keeps no --data file");
    let data = std::fs::read_to_string(dir.join(data_file)).unwrap();
    assert_eq!(data.lines().count(), 1, "{data}");
    assert!(dir.join("tasks.jsonl").exists());
    let _ = std::fs::remove_dir_all(&dir);
}
