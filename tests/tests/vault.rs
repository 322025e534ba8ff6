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
    assert_eq!(c1.master_key().unwrap(), k1);
    setup.clock.advance(Duration::from_secs(299));
    assert_eq!(c1.master_key().unwrap(), k1);
    assert_eq!(
        vault_requests(setup),
        1,
        "a hit within the TTL fetches nothing"
    );
    setup.clock.advance(Duration::from_secs(1));
    assert_eq!(c1.master_key().unwrap(), k1);
    assert_eq!(
        vault_requests(setup),
        2,
        "after the TTL the key is fetched again"
    );
    let c2 = setup.client("u-2", "agent");
    assert_eq!(c2.master_key().unwrap(), k2);
    assert_eq!(
        vault_requests(setup),
        3,
        "each user has an entry of their own"
    );
}

fn vault_refusals(setup: &Setup) {
    setup.server.set_vault("zk", Vault::ZeroKnowledge);
    assert!(matches!(
        setup.client("zk", "a").master_key(),
        Err(Error::ZeroKnowledgeUser)
    ));
    assert!(matches!(
        setup.client("new", "a").master_key(),
        Err(Error::VaultNotInitialised)
    ));
    let bad = setup.client_with_token("garbage", "a");
    assert!(matches!(
        bad.master_key(),
        Err(Error::Unauthorized { status: 401, .. })
    ));
    assert_eq!(vault_requests(setup), 3, "failures are not cached");
}

four_ways!(keys_and_cache, vault_refusals);

/// Two users' clients share one key cache (a gateway): each gets its own
/// key, whatever the order, and no call names a user the token does not.
#[test]
fn a_shared_cache_never_crosses_users() {
    use std::sync::{Arc, Mutex};

    use mana_sync_core::{Config, KeyCache};
    use mana_sync_testkit::{token_for, token_with_claims, InProcess, ManualClock, MemoryServer};

    let clock = ManualClock::new(common::start());
    let server = Arc::new(MemoryServer::with_clock(clock.clone()));
    let (alice_key, bob_key) = (
        MasterKey::from_bytes(&[0xa; 32]).unwrap(),
        MasterKey::from_bytes(&[0xb; 32]).unwrap(),
    );
    server.set_vault("alice", Vault::Standard(alice_key.clone()));
    server.set_vault("bob", Vault::Standard(bob_key.clone()));
    let net = InProcess::new(server.clone(), clock.clone());
    let shared = Arc::new(Mutex::new(KeyCache::default()));
    let client = |token: String| {
        let config = Config::new("http://h", token, "gw")
            .and_then(|c| c.with_auth_url("http://h"))
            .unwrap();
        net.blocking_client(config).with_key_cache(shared.clone())
    };
    let alice = client(token_for("alice"));
    let bob = client(token_for("bob"));
    assert_eq!(alice.master_key().unwrap(), alice_key);
    assert_eq!(
        bob.master_key().unwrap(),
        bob_key,
        "bob never gets alice's key"
    );
    assert_eq!(alice.master_key().unwrap(), alice_key);
    {
        let mut cache = shared.lock().unwrap();
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.get("alice", clock.now()), Some(alice_key.clone()));
        assert_eq!(cache.get("bob", clock.now()), Some(bob_key.clone()));
    }
    // A token naming no user (or naming it ambiguously) is never cached.
    let before = server.received().len();
    let ambiguous = client(token_with_claims(
        &serde_json::json!({"sub": "bob", "SUB": "alice"}),
    ));
    let _ = ambiguous.master_key();
    let _ = ambiguous.master_key();
    assert_eq!(
        server.received().len(),
        before + 2,
        "nothing read from the cache"
    );
    assert_eq!(shared.lock().unwrap().len(), 2);
}
