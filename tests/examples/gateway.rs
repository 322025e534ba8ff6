//! A gateway serving several users: one client per request, built from the
//! caller's token, all sharing one master-key cache (each user's key is
//! fetched from the vault once, and is only ever handed to that user's
//! token).
//!
//! Run: `cargo run -p mana-sync-testkit --example gateway`

use mana_sync_hyper::prelude::*;
use mana_sync_hyper::SharedKeyCache;
use mana_sync_testkit::{token_for, LoopbackServer, MemoryServer, Vault};

/// One gateway request: add a note with an encrypted text for the user the
/// token names, and return that user's notes, decrypted.
async fn add_note(url: &str, keys: &SharedKeyCache, token: String, id: &str) -> Result<Vec<String>, Error> {
    let config = Config::new(url, token, "notes-gateway")?.with_auth_url(url)?;
    let client = client(config)?.with_key_cache(keys.clone());
    let key = client.master_key().await?;
    let notes: TableSpec<Value> = TableSpec::new("notes", "notes").encrypted(&["text"]);
    let text = format!("note {id}, a secret");
    client.create(&notes, id, &json!({ "text": text }), Some(&key)).await?;
    let listing = client.list(&notes, Some(&key)).await?;
    Ok(listing.records.iter().map(|n| n["text"].as_str().unwrap_or("?").to_owned()).collect())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = LoopbackServer::start(MemoryServer::new())?;
    let users = ["ana", "ben", "chloe"];
    for (i, user) in users.iter().enumerate() {
        server.server().set_vault(user, Vault::Standard(MasterKey::from_bytes(&[i as u8 + 1; 32])?));
    }
    let keys = SharedKeyCache::default();
    for round in 0..2 {
        for user in users {
            let notes =
                add_note(&server.base_url(), &keys, token_for(user), &format!("{user}-{round}")).await?;
            println!("{user}: {notes:?}");
            assert!(notes.iter().all(|n| n.contains(user)));
        }
    }
    let vault_fetches = server.server().received().iter().filter(|r| r.uri.contains("vault")).count();
    println!("6 requests for 3 users: {vault_fetches} vault fetches");
    assert_eq!(vault_fetches, 3);
    Ok(())
}
