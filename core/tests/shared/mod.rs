//! Reading the data folders (`testdata/fixtures`, `testdata/vectors`: copies
//! of the shared captures and vectors, checked in).

#![allow(clippy::unwrap_used, dead_code)]

pub mod stream;

use std::path::{Path, PathBuf};

use serde_json::Value;

/// Every `*.json` in the folder named by `env_var` (a relative path is taken
/// from the workspace root), else `testdata/{default}`, parsed, sorted by
/// file name. Panics if the folder cannot be read or holds none: further
/// captures in the same format are checked by pointing the variable at them.
pub fn json_files(env_var: &str, default: &str) -> Vec<(String, Value)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = match std::env::var_os(env_var) {
        Some(dir) => root.join(dir),
        None => root.join("testdata").join(default),
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {} ({env_var}): {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "no *.json files in {} ({env_var})",
        dir.display()
    );
    files
        .iter()
        .map(|file| {
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(file).unwrap();
            let value =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name} is not JSON: {e}"));
            (name, value)
        })
        .collect()
}
