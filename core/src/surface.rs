//! The import surface the transport crates re-export flat
//! (`pub use mana_sync_core::surface::*;`): everything an application
//! touches except the transport traits and the transport crate's own
//! client type, so that one list serves both crates.

pub use crate::crypto::{
    decrypt_fields, decrypt_value, encrypt_fields, encrypt_value, is_encrypted, to_js_json,
    CryptoError, FieldCryptoError, Iv, MasterKey, OsRng, PooledOsRng,
};
pub use crate::fold::{FieldState, FoldReport, Record, Replica};
pub use crate::ops::{ChangeBatch, PullAllOutcome, PushOutcome, StreamEvent};
pub use crate::wire::StreamMessage;
pub use crate::{
    crypto, fold, guard, limits, ops, retry, sse, wire, AsyncClient, BadRecord, BaseUrl, Batch,
    BlockingClient, Change, ChangeRef, Changes, Clock, Config, Conflict, Cursor, Error,
    FieldChange, Health, KeyCache, Listing, Op, Operation, Origin, Patch, RetryPolicy,
    SharedKeyCache, SkippedChange, Stamp, Step, SyncResponse, SystemClock, TableSpec, TimeoutKind,
    Timestamp, TimestampError, Token, TokenSource, TransportError, TransportOptions,
};
/// The date and time crate behind `Timestamp` (`From` both ways).
pub use jiff;
/// JSON values, as records and changes hold them (from `serde_json`).
pub use serde_json::{json, Map, Value};
