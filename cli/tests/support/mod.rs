//! Running the real `mana-sync` binary: one-shot commands, and `serve` as a
//! child process whose URL is read from its first line.

#![allow(dead_code, clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};

/// What `serve` prints before its URL.
pub const LISTENING: &str = "mana-sync (in memory) listening on ";

/// The binary under test.
pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_mana-sync")
}

/// A command for the binary, with no `MANA_*` variable inherited.
pub fn mana() -> assert_cmd::Command {
    let mut command = assert_cmd::Command::new(binary());
    for var in [
        "MANA_SYNC_URL",
        "MANA_AUTH_URL",
        "MANA_TOKEN",
        "MANA_CLIENT_ID",
        "MANA_KEY_B64",
    ] {
        command.env_remove(var);
    }
    // The tests push plaintext titles to todo/tasks to test the push
    // itself; the plaintext guard's own tests remove this.
    command.env("MANA_ALLOW_PLAINTEXT", "true");
    command
}

/// A command for `url` with the token of `user`.
pub fn mana_as(url: &str, user: &str) -> assert_cmd::Command {
    let mut command = mana();
    command
        .arg("--url")
        .arg(url)
        .arg("--token")
        .arg(mana_sync_testkit::token_for(user));
    command
}

/// A fresh empty folder for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mana-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A URL on which nothing listens.
pub fn closed_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

/// `mana-sync serve` running as a child process; killed when dropped.
pub struct Serve {
    child: Option<Child>,
    /// Its base URL, as it printed it.
    pub url: String,
    stdout: BufReader<ChildStdout>,
}

impl Serve {
    /// Starts `serve --addr 127.0.0.1:0` with `extra` arguments and waits
    /// for the line with its URL. (The child is waited for when the
    /// returned value is dropped.)
    #[allow(clippy::zombie_processes)]
    pub fn start(extra: &[&str]) -> Serve {
        let mut child = Command::new(binary())
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        loop {
            line.clear();
            if stdout.read_line(&mut line).unwrap() == 0 {
                let mut err = String::new();
                child
                    .stderr
                    .take()
                    .unwrap()
                    .read_to_string(&mut err)
                    .unwrap();
                let status = child.wait().unwrap();
                panic!("serve ended before printing its URL ({status}): {err}");
            }
            if let Some(url) = line.trim().strip_prefix(LISTENING) {
                let url = url.to_owned();
                return Serve {
                    child: Some(child),
                    url,
                    stdout,
                };
            }
        }
    }

    /// Kills it without warning (as a crash would) and waits for it.
    pub fn crash(mut self) {
        let mut child = self.child.take().unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
    }

    /// Sends it SIGINT (Ctrl-C) and returns its exit status and stderr.
    #[cfg(unix)]
    pub fn interrupt(mut self) -> (std::process::ExitStatus, String) {
        let mut child = self.child.take().unwrap();
        let sent = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let status = child.wait().unwrap();
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        (status, err)
    }

    /// The host and port.
    pub fn authority(&self) -> &str {
        self.url.trim_start_matches("http://")
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A raw HTTP/1.1 exchange (the request should say `Connection: close`):
/// the head and the body of the answer.
pub fn raw_request(authority: &str, request: &str) -> (String, String) {
    let mut stream = TcpStream::connect(authority).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    (head.to_owned(), body.to_owned())
}

/// The lines of a file.
pub fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// A change inserting `tasks/{id}` with a title, as the browser writes it.
pub fn insert(id: &str, title: &str) -> String {
    serde_json::json!({"table": "tasks", "id": id, "op": "insert",
                       "data": {"title": title, "createdAt": "2026-01-01T00:00:00.000Z"}})
    .to_string()
}

/// The stdout of a successful run, as text.
pub fn stdout_of(command: &mut assert_cmd::Command) -> String {
    let output = command.assert().success().get_output().clone();
    String::from_utf8(output.stdout).unwrap()
}
