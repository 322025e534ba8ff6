//! `records`: pull everything, fold, print the live records.

use mana_sync_core::crypto::{decrypt_fields, MasterKey};
use mana_sync_core::fold::Record;
use serde_json::{Map, Value};

use crate::args::{Global, RecordsArgs};
use crate::commands::key::{given_key, vault_key};
use crate::connect::{client, config, progress};
use crate::failure::Failure;
use crate::output;

/// Runs `records`: a JSON array of records sorted by id, each with its `id`
/// first and its fields.
pub fn run(global: &Global, args: &RecordsArgs) -> Result<(), Failure> {
    let given = given_key(&args.key)?;
    let wants_vault = !args.decrypt.is_empty() && given.is_none();
    if wants_vault && global.auth_url.is_none() {
        return Err(Failure::usage(
            "--decrypt needs a key: give --key-b64 (or MANA_KEY_B64), or --auth-url (or \
             MANA_AUTH_URL) to ask the vault",
        ));
    }
    let config = config(global, wants_vault)?;
    let bar = progress(None, &format!("pulling {}", args.collection));
    let client = client(global, config, &bar)?;
    let records = client.records(&args.app, &args.collection, args.include_deleted);
    bar.finish_and_clear();
    let mut records = records.map_err(|e| Failure::from_error(&e, &global.url))?;
    records.sort_by(|a, b| a.id.cmp(&b.id));
    let key: Option<MasterKey> = match given {
        Some(key) => Some(key),
        None if wants_vault => Some(vault_key(
            &client,
            global.auth_url.as_deref().unwrap_or_default(),
        )?),
        None => None,
    };
    let fields: Vec<&str> = args.decrypt.iter().map(String::as_str).collect();
    print(&records, key.as_ref(), &fields)
}

/// Prints `records` as a JSON array, each with its `id` first and its
/// fields, `fields` decrypted with `key` when given.
pub fn print(records: &[Record], key: Option<&MasterKey>, fields: &[&str]) -> Result<(), Failure> {
    let mut out = Vec::with_capacity(records.len());
    for record in records {
        let mut object = Map::new();
        object.insert("id".into(), Value::String(record.id.clone()));
        object.extend(record.to_json());
        if let Some(key) = key {
            decrypt_fields(key, &mut object, fields).map_err(|e| {
                let mut failure = Failure::from(&e);
                failure.message = format!("record {:?}, {}", record.id, failure.message);
                failure
            })?;
        }
        out.push(Value::Object(object));
    }
    output::json(&Value::Array(out))
}
