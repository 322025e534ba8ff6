//! The vault operation's answers, one by one, and its request.

#![allow(clippy::unwrap_used)]

use mana_sync_core::crypto::MasterKey;
use mana_sync_core::ops::VaultKey;
use mana_sync_core::{Config, Error, Operation, Step, Timestamp};

fn config() -> Config {
    Config::new("https://sync.example.com", "tok", "c")
        .unwrap()
        .with_auth_url("https://auth.example.com/")
        .unwrap()
}

fn answer(status: u16, body: &str) -> Result<MasterKey, Error> {
    let now = Timestamp::UNIX_EPOCH;
    let mut op = VaultKey::new(&config()).unwrap();
    let Step::Send(req) = op.step(now) else {
        panic!("no request")
    };
    assert_eq!(
        req.uri(),
        "https://auth.example.com/api/v1/me/encryption-vault/key"
    );
    assert_eq!(req.headers()["authorization"], "Bearer tok");
    let response = http::Response::builder()
        .status(status)
        .body(body.as_bytes().to_vec())
        .unwrap();
    op.on_response(now, Ok(response));
    match op.step(now) {
        Step::Done(result) => result,
        _ => panic!("not done"),
    }
}

const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

#[test]
fn standard_mode_gives_the_key() {
    let key = answer(
        200,
        &format!(r#"{{"masterKey":"{KEY}","formatVersion":1,"kekId":"k-1"}}"#),
    )
    .unwrap();
    assert_eq!(key, MasterKey::from_base64(KEY).unwrap());
}

#[test]
fn zero_knowledge_answers() {
    for body in [
        r#"{"requiresRecoveryCode":true,"recoveryWrappedMk":"abc","recoveryIv":"def","formatVersion":1}"#,
        r#"{"formatVersion":1}"#,
        &format!(r#"{{"masterKey":"{KEY}","zeroKnowledge":true}}"#),
    ] {
        assert!(
            matches!(answer(200, body), Err(Error::ZeroKnowledgeUser)),
            "{body}"
        );
    }
}

#[test]
fn refusals_and_failures() {
    assert!(matches!(
        answer(404, r#"{"code":"VAULT_NOT_INITIALISED"}"#),
        Err(Error::VaultNotInitialised)
    ));
    assert!(matches!(
        answer(404, "not here"),
        Err(Error::VaultFetch { status: 404, .. })
    ));
    assert!(matches!(
        answer(401, "nope"),
        Err(Error::Unauthorized { status: 401, .. })
    ));
    assert!(matches!(
        answer(403, "nope"),
        Err(Error::Unauthorized { status: 403, .. })
    ));
    let long = "x".repeat(300);
    match answer(503, &long) {
        Err(Error::VaultFetch { status: 503, body }) => assert_eq!(body, "x".repeat(200)),
        other => panic!("{other:?}"),
    }
    // A key of the wrong size is an error, and the body (a key) is not echoed.
    match answer(200, r#"{"masterKey":"AAECAwQFBgcICQoLDA0ODw=="}"#) {
        Err(e @ Error::Decode { .. }) => {
            assert!(
                e.to_string().contains("masterKey") && !e.to_string().contains("AAECAwQF"),
                "{e}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(answer(200, "<html>"), Err(Error::Decode { .. })));
}

#[test]
fn no_auth_url_is_a_config_error() {
    let config = Config::new("https://sync.example.com", "tok", "c").unwrap();
    assert!(matches!(
        VaultKey::new(&config),
        Err(Error::InvalidConfig { .. })
    ));
}
