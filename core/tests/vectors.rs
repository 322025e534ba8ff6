//! The browser's own `enc:1:` vectors (`testdata/vectors`, or the folder
//! named by `MANA_VECTORS_DIR`; a relative path is taken from the workspace
//! root): every file, every vector.

#![allow(clippy::unwrap_used)]

mod shared;

use mana_sync_core::crypto::{
    decrypt_value, encrypt_value, to_js_json, CryptoError, Iv, MasterKey,
};
use serde_json::Value;

fn str_of<'a>(v: &'a Value, member: &str) -> Result<&'a str, String> {
    v[member]
        .as_str()
        .ok_or_else(|| format!("no string `{member}`"))
}

fn check_encrypt(v: &Value) -> Result<(), String> {
    let key = MasterKey::from_base64(str_of(v, "key")?).map_err(|e| e.to_string())?;
    let iv = Iv::from_base64(str_of(v, "iv")?).map_err(|e| e.to_string())?;
    let value: Value =
        serde_json::from_str(str_of(v, "value_json")?).map_err(|e| format!("value_json: {e}"))?;
    let plaintext = to_js_json(&value);
    if value.is_null() {
        // `null` is not encrypted: no plaintext goes into AES-GCM.
        if !v["wire"].is_null() {
            return Err(format!(
                "null must not be encrypted, but the vector has wire {}",
                v["wire"]
            ));
        }
    } else if plaintext != str_of(v, "plaintext")? {
        return Err(format!(
            "JSON text {plaintext:?}, browser wrote {:?}",
            v["plaintext"]
        ));
    }
    let wire = encrypt_value(&key, &iv, &value);
    if wire != v["wire"] {
        return Err(format!("encrypted to {wire}, browser wrote {}", v["wire"]));
    }
    let back = decrypt_value(&key, &wire).map_err(|e| format!("decrypting: {e}"))?;
    if to_js_json(&back) != to_js_json(&value) {
        return Err(format!("decrypted to {back}, want {value}"));
    }
    Ok(())
}

fn check_decrypt(v: &Value) -> Result<(), String> {
    let key = MasterKey::from_base64(str_of(v, "key")?).map_err(|e| e.to_string())?;
    let input = &v["input"];
    let got = decrypt_value(&key, input);
    let expect = str_of(v, "expect")?;
    let ok = match (expect, &got) {
        ("value", Ok(value)) => value == &v["value"],
        ("passthrough", Ok(value)) => value == input,
        ("error:auth", Err(CryptoError::Auth)) => true,
        ("error:malformed", Err(CryptoError::Malformed { .. })) => true,
        ("error:json", Err(CryptoError::Json { .. })) => true,
        ("value" | "passthrough" | "error:auth" | "error:malformed" | "error:json", _) => false,
        (other, _) => return Err(format!("unknown expect {other:?}")),
    };
    if ok {
        Ok(())
    } else {
        Err(format!("expected {expect}, got {got:?}"))
    }
}

#[test]
fn every_vector_of_every_file() {
    let files = shared::json_files("MANA_VECTORS_DIR", "vectors");
    let mut checked = 0;
    let mut failures = Vec::new();
    for (name, doc) in &files {
        let kind = doc["kind"].as_str().unwrap_or_default().to_owned();
        let Some(vectors) = doc["vectors"].as_array() else {
            failures.push(format!("{name}: no `vectors` array"));
            continue;
        };
        for v in vectors {
            let label = format!("{name} / {}", v["name"].as_str().unwrap_or("?"));
            let result = match kind.as_str() {
                "encrypt" => check_encrypt(v),
                "decrypt" => check_decrypt(v),
                other => Err(format!("unknown kind {other:?}")),
            };
            match result {
                Ok(()) => checked += 1,
                Err(why) => failures.push(format!("{label}: {why}")),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "vectors that failed:\n{}",
        failures.join("\n")
    );
    assert!(checked > 0, "no vectors in the vector files");
    eprintln!("{checked} vectors from {} files", files.len());
}
