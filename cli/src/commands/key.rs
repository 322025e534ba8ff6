//! `key`: whether the vault holds a master key for the user; and the keys
//! other subcommands are given.

use base64::Engine;
use mana_sync_core::crypto::MasterKey;

use crate::args::{Global, KeyArg, KeyArgs};
use crate::connect::{client, config, progress, Client};
use crate::failure::Failure;
use crate::output;

/// The key from `--key-b64` / `MANA_KEY_B64`, if given.
pub fn given_key(arg: &KeyArg) -> Result<Option<MasterKey>, Failure> {
    arg.key_b64
        .as_deref()
        .map(|text| MasterKey::from_base64(text).map_err(|e| Failure::from(&e)))
        .transpose()
}

/// The key from `--key-b64`, required.
pub fn required_key(arg: &KeyArg) -> Result<MasterKey, Failure> {
    given_key(arg)?.ok_or_else(|| {
        Failure::usage("no key: give --key-b64 or set MANA_KEY_B64 (32 bytes, standard base64)")
    })
}

/// The user's key from the vault at `auth_url`.
pub fn vault_key(client: &Client, auth_url: &str) -> Result<MasterKey, Failure> {
    client
        .master_key()
        .map_err(|e| Failure::from_vault_error(&e, auth_url))
}

/// Runs `key`.
pub fn run(global: &Global, args: &KeyArgs) -> Result<(), Failure> {
    let config = config(global, true)?;
    let bar = progress(None, "asking the vault");
    let client = client(global, config, &bar)?;
    let auth = global.auth_url.as_deref().unwrap_or_default();
    let key = vault_key(&client, auth);
    bar.finish_and_clear();
    let key = key?;
    if args.show {
        output::line(&base64::engine::general_purpose::STANDARD.encode(key.expose()))
    } else {
        output::line("a master key is available for this user (standard vault); --show prints it")
    }
}
