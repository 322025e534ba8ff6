//! The test suite of the CSV import example (examples/csv_import.rs), in
//! process: what the server stores, what a reader decrypts, and the bad
//! paths (a bad line, no vault key, a lapsed subscription, a flaky server).

#![allow(clippy::unwrap_used)]

#[path = "../examples/csv_import.rs"]
#[rustfmt::skip] // formatted as an example (examples/rustfmt.toml)
#[allow(dead_code)]
mod csv_import;

use csv_import::{import, tasks, Task};
use mana_sync_testkit::{token_for, Endpoint, Fault, InProcess, Vault};
use mana_sync_ureq::prelude::*;

const CSV: &str = "id,done,title\nt-1,false,Buy milk\n\nt-2,true,Call Anna, Ben\n";

fn setup(vault: bool) -> (InProcess, BlockingClient<InProcess>, MasterKey) {
    let net = InProcess::default();
    let key = MasterKey::from_bytes(&[7; 32]).unwrap();
    if vault {
        net.server().set_vault("u-1", Vault::Standard(key.clone()));
    }
    let config = Config::new("http://mana.test", token_for("u-1"), "import").unwrap();
    let client = net.blocking_client(config.with_auth_url("http://mana.test").unwrap());
    (net, client, key)
}

#[test]
fn every_row_is_stored_with_its_title_encrypted() {
    let (net, client, key) = setup(true);
    assert_eq!(import(&client, CSV).unwrap(), 2);
    let stored = net.server().changes("u-1", "todo");
    assert_eq!(stored.len(), 2);
    assert!(stored
        .iter()
        .all(|c| c["data"]["title"].as_str().unwrap().starts_with("enc:1:")));
    let listing = client.list(&tasks(), Some(&key)).unwrap();
    assert!(listing.bad.is_empty());
    let got: Vec<(&str, &str, bool)> = listing
        .records
        .iter()
        .map(|t| (t.id.as_str(), t.title.as_str(), t.is_completed))
        .collect();
    assert_eq!(
        got,
        [("t-1", "Buy milk", false), ("t-2", "Call Anna, Ben", true)]
    );
}

#[test]
fn a_bad_line_is_named_and_nothing_is_pushed() {
    let (net, client, _) = setup(true);
    for csv in [
        "id,done,title\nt-1,false,ok\nt-2,maybe,bad",
        "id,done,title\nt-1,false,ok\nonly-an-id",
    ] {
        let error = import(&client, csv).unwrap_err().to_string();
        assert!(
            error.starts_with("line 3: expected id,done,title"),
            "{error}"
        );
    }
    assert_eq!(net.server().stored_count("u-1"), 0);
}

#[test]
fn without_a_vault_key_nothing_is_pushed() {
    let (net, client, _) = setup(false);
    let error = import(&client, CSV).unwrap_err();
    assert!(
        matches!(
            error.downcast_ref::<Error>(),
            Some(Error::VaultNotInitialised)
        ),
        "{error}"
    );
    assert_eq!(net.server().stored_count("u-1"), 0);
}

#[test]
fn a_lapsed_subscription_is_payment_required() {
    let (net, client, _) = setup(true);
    net.server().set_sync_active("u-1", false);
    let error = import(&client, CSV).unwrap_err();
    assert!(
        matches!(
            error.downcast_ref::<Error>(),
            Some(Error::PaymentRequired { .. })
        ),
        "{error}"
    );
}

#[test]
fn a_flaky_push_is_retried_and_stored_once() {
    let (net, client, key) = setup(true);
    net.server()
        .fail_next_requests_to(Endpoint::Push, 2, Fault::Unavailable);
    assert_eq!(import(&client, CSV).unwrap(), 2);
    assert_eq!(net.server().faults_injected().len(), 2);
    assert_eq!(net.server().stored_count("u-1"), 2);
    let titles: Vec<Task> = client.list(&tasks(), Some(&key)).unwrap().records;
    assert_eq!(titles.len(), 2);
}
