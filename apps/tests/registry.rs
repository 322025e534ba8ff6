//! The embedded registry against the shared file: every registered
//! collection resolves to the file's fields, the collisions per app, the
//! disabled entries, and the copy has not drifted.

use std::path::PathBuf;

use mana_sync_apps::{Registry, MANA_APPS_JSON};
use mana_sync_core::guard::EncryptedFields;
use serde_json::Value;

/// `mana-apps.json` of `MANA_REGISTRY_DIR`, by default of
/// `../shared/registry` beside the workspace root.
fn shared_file() -> PathBuf {
    let dir = std::env::var_os("MANA_REGISTRY_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/registry"),
        PathBuf::from,
    );
    dir.join("mana-apps.json")
}

fn file() -> Value {
    serde_json::from_str(MANA_APPS_JSON).expect("the embedded copy is JSON")
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("an array")
        .iter()
        .map(|s| s.as_str().expect("a string").to_owned())
        .collect()
}

#[test]
fn the_copy_is_byte_for_byte_the_shared_file() {
    let path = shared_file();
    match std::fs::read(&path) {
        Ok(shared) => assert!(
            shared == MANA_APPS_JSON.as_bytes(),
            "apps/mana-apps.json drifted from {}: copy the shared file over it",
            path.display()
        ),
        Err(_) => println!("note: {} is absent; drift not checked", path.display()),
    }
}

#[test]
fn every_registered_collection_resolves_to_the_files_fields() {
    let registry = Registry::get();
    let file = file();
    let mut seen = 0;
    for app in file["apps"].as_array().expect("apps") {
        let app_id = app["appId"].as_str().expect("appId");
        for c in app["collections"].as_array().expect("collections") {
            let name = c["collection"].as_str().expect("collection");
            let want = strings(&c["encrypted"]);
            assert_eq!(
                registry.encrypted(app_id, name).expect(name),
                want,
                "{app_id}/{name}"
            );
            assert_eq!(
                registry.encrypted_fields(app_id, name),
                Some(want.as_slice())
            );
            let entry = registry.collection(app_id, name).expect(name);
            assert_eq!(
                entry.local_table,
                c["localTable"].as_str().expect("localTable")
            );
            assert_eq!(
                entry.plaintext,
                c["plaintext"].as_bool().expect("plaintext")
            );
            assert_eq!(
                entry.is_disabled(),
                !c["registryEnabled"].as_bool().expect("enabled")
                    && c["inRegistry"].as_bool().expect("in")
            );
            let spec = registry.table::<Value>(app_id, name).expect(name);
            assert_eq!((spec.app_id(), spec.table()), (app_id, name));
            seen += 1;
        }
    }
    assert_eq!(seen, registry.collections().count());
    assert_eq!(
        file["counts"]["collections"].as_u64(),
        u64::try_from(seen).ok(),
        "the file's own count"
    );
}

#[test]
fn wire_names_with_different_fields_per_app_resolve_per_app() {
    let registry = Registry::get();
    let file = file();
    let differing: Vec<&Value> = file["collisions"]
        .as_array()
        .expect("collisions")
        .iter()
        .filter(|c| c["encryptedFieldsDiffer"] == Value::Bool(true))
        .collect();
    assert_eq!(
        differing.len(),
        4,
        "conversations, messages, questions, templates"
    );
    for collision in differing {
        let name = collision["collection"].as_str().expect("collection");
        let mut per_app = Vec::new();
        for app in collision["apps"].as_array().expect("apps") {
            let app_id = app["appId"].as_str().expect("appId");
            let want = strings(&app["encrypted"]);
            assert_eq!(
                registry.encrypted(app_id, name).expect(name),
                want,
                "{app_id}/{name}"
            );
            per_app.push(want);
        }
        per_app.dedup();
        assert!(per_app.len() > 1, "{name} differs between its apps");
    }
    // Spelled out, so the look-up cannot be by wire name alone.
    assert_eq!(
        registry.encrypted("chat", "conversations").expect("chat"),
        ["title"]
    );
    assert_eq!(
        registry
            .encrypted("playground", "conversations")
            .expect("playground"),
        ["title", "systemPrompt"]
    );
}

#[test]
fn disabled_entries_and_shadows_are_plaintext() {
    let registry = Registry::get();
    let disabled: Vec<_> = registry
        .collections()
        .filter(|(_, c)| c.is_disabled())
        .map(|(a, c)| format!("{}/{}", a.app_id, c.collection))
        .collect();
    assert_eq!(disabled.len(), 8, "{disabled:?}");
    for (app, c) in registry.collections().filter(|(_, c)| c.is_disabled()) {
        assert!(c.encrypted.is_empty(), "{}/{}", app.app_id, c.collection);
    }
    // app `links` sends the plaintext table manaLinks as `links`, which is
    // not the retired `links` registry entry.
    let links = registry.collection("links", "links").expect("links");
    assert_eq!(links.local_table, "manaLinks");
    assert!(links.encrypted.is_empty());
    assert!(registry.encrypted("todo", "conversations").is_err());
    assert!(registry.encrypted("nope", "tasks").is_err());
    assert_eq!(registry.apps().len(), 47);
}
