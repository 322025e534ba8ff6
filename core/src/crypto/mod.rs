//! Field encryption in the browser's `enc:1:` format: AES-256-GCM over the
//! value's `JSON.stringify` text, byte-identical to the browser for the same
//! key, IV and value.

mod b64;
mod enc;
mod error;
mod js_json;
mod master_key;
mod pooled_rng;

pub use enc::{
    decrypt_fields, decrypt_value, encrypt_fields, encrypt_value, is_encrypted, Iv, PREFIX,
};
pub use error::{CryptoError, FieldCryptoError};
pub use js_json::to_js_json;
pub use master_key::MasterKey;
pub use pooled_rng::PooledOsRng;

/// The operating system's random number generator, for fresh IVs: a system
/// call for every request ([`PooledOsRng`] stretches it in bulk).
pub use rand_core::OsRng;
