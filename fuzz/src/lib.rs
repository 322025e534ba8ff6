//! Fuzz targets for mana-sync-core; see `harness`.

pub mod harness;
