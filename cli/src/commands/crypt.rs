//! `encrypt` and `decrypt`: one value in the browser's `enc:1:` format.

use mana_sync_core::crypto::{decrypt_value, encrypt_value, is_encrypted, Iv};
use serde_json::Value;

use crate::args::{DecryptArgs, EncryptArgs};
use crate::commands::key::required_key;
use crate::failure::Failure;
use crate::input::argument_or_stdin;
use crate::output;

/// Runs `encrypt`: prints the `enc:1:` string (`null` stays `null`).
pub fn encrypt(args: &EncryptArgs) -> Result<(), Failure> {
    let key = required_key(&args.key)?;
    let iv = match args.iv_b64 {
        Some(iv) => iv,
        None => Iv::random().map_err(|e| Failure::from(&e))?,
    };
    let text = argument_or_stdin(args.json.as_deref())?;
    let value: Value = serde_json::from_str(&text).map_err(|e| {
        Failure::bad_input(format!(
            "the value is not JSON: {e} (a string needs its quotes: '\"text\"')"
        ))
    })?;
    match encrypt_value(&key, &iv, &value) {
        Value::String(wire) => output::line(&wire),
        other => output::json(&other),
    }
}

/// Runs `decrypt`: prints the JSON value. Text that is not `enc:1:` is
/// printed back as a JSON string, with no key needed, as the library and
/// the browser pass such values through.
pub fn decrypt(args: &DecryptArgs) -> Result<(), Failure> {
    let blob = Value::String(argument_or_stdin(args.blob.as_deref())?);
    if !is_encrypted(&blob) {
        return output::json(&blob);
    }
    let key = required_key(&args.key)?;
    let value = decrypt_value(&key, &blob).map_err(|e| Failure::from(&e))?;
    output::json(&value)
}
