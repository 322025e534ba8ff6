//! Errors that point at the fix: a refused connection names where it
//! tried, a 404 says the base URL is probably wrong, and the `source()`
//! chain never says the same thing twice.

#![allow(clippy::unwrap_used)]

use std::error::Error as _;

use mana_sync_core::{Config, Cursor, Error, RetryPolicy};
use mana_sync_testkit::{token_for, LoopbackServer, MemoryServer};

/// Every line a chain printer would show: the error, then each source.
fn chain(e: &Error) -> Vec<String> {
    let mut lines = vec![e.to_string()];
    let mut next = e.source();
    while let Some(s) = next {
        lines.push(s.to_string());
        next = s.source();
    }
    lines
}

/// No line of the chain repeats (or is held whole in) the one before it.
fn assert_no_repeats(e: &Error) {
    let lines = chain(e);
    for pair in lines.windows(2) {
        assert!(!pair[0].contains(&pair[1]), "repeated in {lines:#?}");
    }
}

/// A port nothing listens on: bound, then freed.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[test]
fn a_refused_connection_names_host_and_port_ureq() {
    let port = closed_port();
    let config = Config::new(&format!("http://127.0.0.1:{port}"), token_for("u"), "c").unwrap();
    let client = mana_sync_ureq::client(config)
        .unwrap()
        .with_retry(RetryPolicy::none());
    let e = client.pull("todo", "tasks", &Cursor::EPOCH).unwrap_err();
    println!("{e}");
    assert!(matches!(e, Error::Transport(_)), "{e:?}");
    assert!(e.to_string().contains(&format!("127.0.0.1:{port}")), "{e}");
    assert_no_repeats(&e);
    assert_eq!(chain(&e).len(), 1, "the causes are in the message");
}

#[tokio::test]
async fn a_refused_connection_names_host_and_port_hyper() {
    let port = closed_port();
    let config = Config::new(&format!("http://127.0.0.1:{port}"), token_for("u"), "c").unwrap();
    let client = mana_sync_hyper::client(config)
        .unwrap()
        .with_retry(RetryPolicy::none());
    let e = client.health().await.unwrap_err();
    println!("{e}");
    assert!(matches!(e, Error::Transport(_)), "{e:?}");
    assert!(e.to_string().contains(&format!("127.0.0.1:{port}")), "{e}");
    assert_no_repeats(&e);
}

#[test]
fn a_404_says_the_base_url_is_probably_wrong() {
    let server = LoopbackServer::start(MemoryServer::new()).unwrap();
    // The real server lives at the root; a made-up prefix misses every route.
    let url = format!("{}/sync-api", server.base_url());
    let client = mana_sync_ureq::client(Config::new(&url, token_for("u"), "c").unwrap()).unwrap();
    let e = client
        .pull_all("todo", "tasks", &Cursor::EPOCH)
        .unwrap_err();
    assert!(
        matches!(&e, Error::Rejected { status: 404, body } if body == "404 page not found"),
        "{e:?}"
    );
    assert!(e.to_string().contains("base URL"), "{e}");
    assert_no_repeats(&e);
    // Other statuses get no such hint.
    let other = Error::Rejected {
        status: 409,
        body: "conflict".into(),
    };
    assert!(!other.to_string().contains("base URL"));
}

#[test]
fn a_partial_push_says_its_cause_once() {
    let e = Error::PartialPush {
        stored_at_least: 200,
        stored_at_most: 299,
        total: 300,
        cause: Box::new(Error::Server {
            status: 502,
            body: "bad gateway".into(),
        }),
    };
    assert!(e.to_string().contains("bad gateway"));
    assert_no_repeats(&e);
    assert_eq!(e.status(), Some(502));
}

#[test]
fn a_field_that_does_not_decrypt_says_so_once() {
    use mana_sync_core::crypto::{decrypt_fields, encrypt_fields, MasterKey, OsRng};
    let key = MasterKey::from_bytes(&[1; 32]).unwrap();
    let mut record = serde_json::Map::new();
    record.insert("title".into(), "x".into());
    encrypt_fields(&key, &mut record, &["title"], &mut OsRng).unwrap();
    let wrong = MasterKey::from_bytes(&[2; 32]).unwrap();
    let e = Error::from(decrypt_fields(&wrong, &mut record, &["title"]).unwrap_err());
    assert!(e.to_string().contains("title"), "{e}");
    assert_no_repeats(&e);
}
