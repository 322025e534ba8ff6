//! [`Registry`]: the browser's encryption registry, per app and wire
//! collection, from the embedded copy of `mana-apps.json`.

use std::sync::{Arc, LazyLock};

use mana_sync_core::guard::EncryptedFields;
use mana_sync_core::{Config, TableSpec};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The embedded copy of the registry file, `../shared/registry/mana-apps.json`, byte for byte.
pub const MANA_APPS_JSON: &str = include_str!("../mana-apps.json");

/// One synced collection of an app, as the browser syncs it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Collection {
    /// The wire name (what a change's `table` says).
    pub collection: String,
    /// The browser's Dexie table name (what the registry is keyed by).
    pub local_table: String,
    /// The fields the browser encrypts (empty for a plaintext table and for
    /// a disabled registry entry).
    pub encrypted: Vec<String>,
    /// The table is on the browser's plaintext allowlist.
    pub plaintext: bool,
    /// The registry has an enabled entry for the table.
    pub registry_enabled: bool,
    /// The registry has an entry for the table at all.
    pub in_registry: bool,
    /// The table is user-level (stamped with `userId`, not a space).
    pub user_level: bool,
    /// What needs care about this collection, if anything.
    #[serde(default)]
    pub notes: Option<String>,
}

impl Collection {
    /// The registry has an entry for the table but it is disabled: the
    /// browser stores and syncs it in plaintext although it is not on the
    /// allowlist.
    pub fn is_disabled(&self) -> bool {
        self.in_registry && !self.registry_enabled
    }

    /// The wire name differs from the browser's table name.
    pub fn is_renamed(&self) -> bool {
        self.collection != self.local_table
    }
}

/// An app and the collections it syncs.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct App {
    /// The app id (the `{appId}` of `/sync/{appId}`).
    pub app_id: String,
    /// Its collections, sorted by wire name.
    pub collections: Vec<Collection>,
}

#[derive(Deserialize)]
struct File {
    apps: Vec<App>,
}

/// A collection the registry does not list for that app.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "app {app_id:?} syncs no collection {collection:?} in the Mana registry; \
     see Registry::apps for the registered ones"
)]
pub struct UnknownCollection {
    /// The app asked for.
    pub app_id: String,
    /// The collection asked for.
    pub collection: String,
}

/// The Mana apps' encryption registry: every (app, wire collection) the
/// browser syncs, with the fields it encrypts.
///
/// Look-ups go by app *and* collection: four wire names (`conversations`,
/// `messages`, `questions`, `templates`) carry different encrypted fields in
/// different apps, and thirty differ from the browser's table names.
///
/// ```
/// use mana_sync_apps::Registry;
///
/// let registry = Registry::get();
/// assert_eq!(registry.encrypted("chat", "messages")?, ["messageText"]);
/// assert_eq!(registry.encrypted("playground", "messages")?, ["content"]);
/// assert_eq!(registry.collection("playground", "messages")?.local_table, "playgroundMessages");
/// assert!(registry.encrypted("todo", "nope").is_err());
/// # Ok::<(), mana_sync_apps::UnknownCollection>(())
/// ```
#[derive(Debug)]
pub struct Registry {
    apps: Vec<App>,
}

static REGISTRY: LazyLock<Arc<Registry>> = LazyLock::new(|| {
    // Embedded at build time and checked by this crate's tests, not input:
    // an empty registry would turn the guard off silently, so fail loudly.
    #[allow(clippy::expect_used)]
    let file: File =
        serde_json::from_str(MANA_APPS_JSON).expect("the embedded mana-apps.json parses");
    Arc::new(Registry { apps: file.apps })
});

impl Registry {
    /// The registry embedded in this crate, parsed on first use.
    pub fn get() -> &'static Registry {
        &REGISTRY
    }

    /// The same registry, shared (for [`Config::with_guard`]).
    pub fn shared() -> Arc<Registry> {
        Arc::clone(&REGISTRY)
    }

    /// Every app, sorted by id, with its collections: what an engine syncs
    /// when asked for "everything".
    pub fn apps(&self) -> &[App] {
        &self.apps
    }

    /// The app `app_id`, if it syncs anything.
    pub fn app(&self, app_id: &str) -> Option<&App> {
        self.apps.iter().find(|a| a.app_id == app_id)
    }

    /// Every (app, collection) pair.
    pub fn collections(&self) -> impl Iterator<Item = (&App, &Collection)> {
        self.apps
            .iter()
            .flat_map(|a| a.collections.iter().map(move |c| (a, c)))
    }

    /// The wire collection `collection` of app `app_id`.
    pub fn collection(
        &self,
        app_id: &str,
        collection: &str,
    ) -> Result<&Collection, UnknownCollection> {
        self.app(app_id)
            .and_then(|a| a.collections.iter().find(|c| c.collection == collection))
            .ok_or_else(|| UnknownCollection {
                app_id: app_id.to_owned(),
                collection: collection.to_owned(),
            })
    }

    /// The fields the browser encrypts in `collection` of app `app_id`.
    pub fn encrypted(
        &self,
        app_id: &str,
        collection: &str,
    ) -> Result<&[String], UnknownCollection> {
        self.collection(app_id, collection)
            .map(|c| c.encrypted.as_slice())
    }

    /// A [`TableSpec`] for `collection` of app `app_id` with exactly the
    /// registry's encrypted fields.
    ///
    /// ```
    /// use mana_sync_apps::Registry;
    ///
    /// let notes = Registry::get().table::<serde_json::Value>("notes", "notes")?;
    /// assert_eq!(notes.table(), "notes");
    /// # Ok::<(), mana_sync_apps::UnknownCollection>(())
    /// ```
    pub fn table<T: Serialize + DeserializeOwned>(
        &self,
        app_id: &str,
        collection: &str,
    ) -> Result<TableSpec<T>, UnknownCollection> {
        let fields = self.encrypted(app_id, collection)?;
        let names: Vec<&str> = fields.iter().map(String::as_str).collect();
        Ok(TableSpec::new(app_id, collection).encrypted(&names))
    }
}

impl EncryptedFields for Registry {
    fn encrypted_fields(&self, app_id: &str, collection: &str) -> Option<&[String]> {
        self.encrypted(app_id, collection).ok()
    }
}

/// `config` with the plaintext guard on, from the Mana registry: every push
/// built from it is refused, before anything is sent, if it would send a
/// registry-encrypted field as anything but `null` or an `enc:1:` string.
/// [`Config::without_guard`] turns it off again.
pub fn guarded(config: Config) -> Config {
    config.with_guard(Registry::shared())
}
