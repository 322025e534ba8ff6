//! Field encryption in the browser's `enc:1:` format: AES-256-GCM over the
//! value's `JSON.stringify` text, byte-identical to the browser for the same
//! key, IV and value.

mod enc;
mod error;
mod js_json;
mod master_key;

pub use enc::{
    decrypt_fields, decrypt_value, encrypt_fields, encrypt_value, is_encrypted, Iv, PREFIX,
};
pub use error::{CryptoError, FieldCryptoError};
pub use js_json::to_js_json;
pub use master_key::MasterKey;

/// The operating system's random number generator, for fresh IVs.
pub use aes_gcm::aead::OsRng;
