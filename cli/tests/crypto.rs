//! `encrypt`, `decrypt`, `key` and `records --decrypt` run as the real
//! binary: the browser's vectors, wrong keys, tampering, the vault's cases.

#![allow(clippy::unwrap_used)]

mod support;

use base64::Engine;
use mana_sync_core::crypto::{encrypt_value, Iv, MasterKey};
use mana_sync_testkit::{LoopbackServer, MemoryServer, Vault};
use predicates::prelude::*;
use serde_json::{json, Value};
use support::{closed_url, mana, mana_as, stdout_of};

const USER: &str = "crypto-user";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn key_b64(b: u8) -> String {
    b64(&[b; 32])
}

#[test]
fn encrypt_writes_the_cores_bytes_and_decrypt_reads_them_back() {
    // The core writes the browser's bytes (its tests check every vector in
    // testdata/vectors); the command must write exactly the same.
    let (key, iv, value) = (
        key_b64(3),
        b64(&[4; 12]),
        r#"{"b":1,"2":2,"1":[true,null,"ü"]}"#,
    );
    let parsed: Value = serde_json::from_str(value).unwrap();
    let wire = encrypt_value(
        &MasterKey::from_base64(&key).unwrap(),
        &Iv::from_base64(&iv).unwrap(),
        &parsed,
    );
    let wire = wire.as_str().unwrap();
    let out = stdout_of(mana().args(["encrypt", "--key-b64", &key, "--iv-b64", &iv, value]));
    assert_eq!(out.trim_end(), wire);
    // From stdin, with the key from the environment.
    let out = stdout_of(
        mana()
            .env("MANA_KEY_B64", &key)
            .args(["encrypt", "--iv-b64", &iv])
            .write_stdin(value),
    );
    assert_eq!(out.trim_end(), wire);
    let back = stdout_of(mana().args(["decrypt", "--key-b64", &key, wire]));
    assert_eq!(serde_json::from_str::<Value>(&back).unwrap(), parsed);
}

#[test]
fn a_random_iv_round_trips() {
    let key = key_b64(1);
    let a = stdout_of(mana().args(["encrypt", "--key-b64", &key, r#"{"x":[1,"é"]}"#]));
    let b = stdout_of(mana().args(["encrypt", "--key-b64", &key, r#"{"x":[1,"é"]}"#]));
    assert!(a.starts_with("enc:1:"));
    assert_ne!(a, b);
    let back = stdout_of(mana().args(["decrypt", "--key-b64", &key]).write_stdin(a));
    assert_eq!(
        serde_json::from_str::<Value>(&back).unwrap(),
        json!({"x": [1, "é"]})
    );
}

#[test]
fn wrong_keys_tampering_and_bad_input_are_crypto_or_usage_errors() {
    let wire = stdout_of(mana().args(["encrypt", "--key-b64", &key_b64(1), "\"secret\""]));
    let wire = wire.trim_end();
    // The wrong key.
    mana()
        .args(["decrypt", "--key-b64", &key_b64(2), wire])
        .assert()
        .code(6)
        .stdout("")
        .stderr(predicate::str::contains("authentication failed"));
    // One character of the ciphertext changed.
    let mut tampered = wire.to_owned();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    mana()
        .args(["decrypt", "--key-b64", &key_b64(1), &tampered])
        .assert()
        .code(6);
    // Not an enc:1: value (passed through, as the library does), a
    // malformed one, a short key, a bad IV (a usage error).
    mana()
        .args(["decrypt", "--key-b64", &key_b64(1), "hello"])
        .assert()
        .success()
        .stdout("\"hello\"\n");
    mana()
        .args(["decrypt", "--key-b64", &key_b64(1), "enc:1:nodot"])
        .assert()
        .code(6);
    mana()
        .args(["decrypt", "--key-b64", &b64(&[1; 16]), wire])
        .assert()
        .code(6)
        .stderr(predicate::str::contains("32 bytes"));
    mana()
        .args(["encrypt", "--key-b64", &key_b64(1), "--iv-b64", "AAAA", "1"])
        .assert()
        .code(2);
    // Not JSON; no key at all.
    mana()
        .args(["encrypt", "--key-b64", &key_b64(1), "plain words"])
        .assert()
        .code(4)
        .stderr(predicate::str::contains("not JSON"));
    mana()
        .args(["decrypt", wire])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--key-b64"));
}

fn vault_server(vault: Vault) -> LoopbackServer {
    let server = MemoryServer::new();
    server.set_vault(USER, vault);
    LoopbackServer::start(server).unwrap()
}

#[test]
fn key_says_whether_the_vault_holds_a_key_and_shows_it_only_when_asked() {
    let key = MasterKey::from_bytes(&[9; 32]).unwrap();
    let server = vault_server(Vault::Standard(key));
    let url = server.base_url();
    let said = stdout_of(mana_as(&url, USER).args(["--auth-url", &url, "key"]));
    assert!(said.contains("available"), "{said}");
    assert!(!said.contains(&key_b64(9)));
    let shown = stdout_of(mana_as(&url, USER).args(["--auth-url", &url, "key", "--show"]));
    assert_eq!(shown.trim_end(), key_b64(9));
    // The auth URL from the environment.
    mana_as(&url, USER)
        .env("MANA_AUTH_URL", &url)
        .arg("key")
        .assert()
        .success();
}

#[test]
fn key_bad_paths() {
    let zk = vault_server(Vault::ZeroKnowledge);
    let url = zk.base_url();
    mana_as(&url, USER)
        .args(["--auth-url", &url, "key", "--show"])
        .assert()
        .code(6)
        .stdout("")
        .stderr(predicate::str::contains("zero-knowledge"));
    let empty = vault_server(Vault::NotInitialised);
    let url = empty.base_url();
    mana_as(&url, USER)
        .args(["--auth-url", &url, "key"])
        .assert()
        .code(6)
        .stderr(predicate::str::contains("not initialised"));
    // A refused token, no auth URL, an unreachable vault.
    mana()
        .args(["--token", "garbage", "--auth-url", &url, "key"])
        .assert()
        .code(3);
    mana_as(&url, USER)
        .arg("key")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--auth-url"));
    let closed = closed_url();
    mana_as(&closed, USER)
        .args(["--auth-url", &closed, "key"])
        .assert()
        .code(5);
}

#[test]
fn records_decrypts_with_the_given_key_or_the_vaults() {
    let key = MasterKey::from_bytes(&[5; 32]).unwrap();
    let server = vault_server(Vault::Standard(key));
    let url = server.base_url();
    let title = stdout_of(mana().args(["encrypt", "--key-b64", &key_b64(5), "\"Steuer\""]));
    let change = json!({"table": "tasks", "id": "t-1", "op": "insert",
                        "data": {"title": title.trim_end(), "done": false}});
    mana_as(&url, USER)
        .args(["push", "--app", "todo"])
        .write_stdin(change.to_string())
        .assert()
        .success();
    let args = [
        "records",
        "--app",
        "todo",
        "--collection",
        "tasks",
        "--decrypt",
        "title,notes",
    ];
    let expected = json!([{"id": "t-1", "title": "Steuer", "done": false}]);
    let with_key = stdout_of(
        mana_as(&url, USER)
            .args(args)
            .args(["--key-b64", &key_b64(5)]),
    );
    assert_eq!(serde_json::from_str::<Value>(&with_key).unwrap(), expected);
    let with_vault = stdout_of(mana_as(&url, USER).args(["--auth-url", &url]).args(args));
    assert_eq!(
        serde_json::from_str::<Value>(&with_vault).unwrap(),
        expected
    );
    // Without --decrypt the field stays encrypted.
    let raw = stdout_of(mana_as(&url, USER).args(&args[..5]));
    assert!(raw.contains("enc:1:"));
    // The wrong key: exit 6, nothing on stdout, the field named.
    mana_as(&url, USER)
        .args(args)
        .args(["--key-b64", &key_b64(6)])
        .assert()
        .code(6)
        .stdout("")
        .stderr(predicate::str::contains("\"title\"").and(predicate::str::contains("t-1")));
    // No key and no vault to ask.
    mana_as(&url, USER).args(args).assert().code(2);
}
