//! The master key through both clients, four ways: the vault's answers as
//! typed results, and the per-user cache with its time-to-live.

#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use std::time::Duration;

use common::{Setup, Via, PREFIX};
use mana_sync_core::crypto::MasterKey;
use mana_sync_core::Error;
use mana_sync_testkit::Vault;

fn vault_requests(setup: &Setup) -> usize {
    let path = format!("{PREFIX}/api/v1/me/encryption-vault/key");
    setup
        .server
        .received()
        .iter()
        .filter(|r| r.uri == path)
        .count()
}

fn keys_and_cache(setup: &Setup) {
    let (k1, k2) = (
        MasterKey::from_bytes(&[1; 32]).unwrap(),
        MasterKey::from_bytes(&[2; 32]).unwrap(),
    );
    setup.server.set_vault("u-1", Vault::Standard(k1.clone()));
    setup.server.set_vault("u-2", Vault::Standard(k2.clone()));
    let c1 = setup.client("u-1", "agent");
    assert_eq!(c1.master_key("u-1").unwrap(), k1);
    setup.clock.advance(Duration::from_secs(299));
    assert_eq!(c1.master_key("u-1").unwrap(), k1);
    assert_eq!(
        vault_requests(setup),
        1,
        "a hit within the TTL fetches nothing"
    );
    setup.clock.advance(Duration::from_secs(1));
    assert_eq!(c1.master_key("u-1").unwrap(), k1);
    assert_eq!(
        vault_requests(setup),
        2,
        "after the TTL the key is fetched again"
    );
    let c2 = setup.client("u-2", "agent");
    assert_eq!(c2.master_key("u-2").unwrap(), k2);
    assert_eq!(
        vault_requests(setup),
        3,
        "each user has an entry of their own"
    );
}

fn vault_refusals(setup: &Setup) {
    setup.server.set_vault("zk", Vault::ZeroKnowledge);
    assert!(matches!(
        setup.client("zk", "a").master_key("zk"),
        Err(Error::ZeroKnowledgeUser)
    ));
    assert!(matches!(
        setup.client("new", "a").master_key("new"),
        Err(Error::VaultNotInitialised)
    ));
    let bad = setup.client_with_token("garbage", "a");
    assert!(matches!(
        bad.master_key("x"),
        Err(Error::Unauthorized { status: 401, .. })
    ));
    assert_eq!(vault_requests(setup), 3, "failures are not cached");
}

four_ways!(keys_and_cache, vault_refusals);
