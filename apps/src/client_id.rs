//! [`installation_client_id`]: a client id unique per installation, kept in
//! a file.

use std::io::Write;
use std::path::Path;

/// The client id of this installation: read from `path` if it holds one,
/// else made (`mana-tools-` and a random UUID) and written there (the
/// folder created if needed), so that it stays the same across runs and
/// differs between installations (and between processes given different
/// files).
///
/// One id per installation matters: the server leaves a client's own
/// changes out of what it returns to it, so two processes sharing an id
/// (as the TypeScript tools did) miss each other's writes; and a fresh id
/// on every run makes every run a new device.
///
/// ```
/// let dir = std::env::temp_dir().join(format!("mana-id-doc-{}", std::process::id()));
/// let first = mana_sync_apps::installation_client_id(&dir.join("client-id"))?;
/// assert!(first.starts_with("mana-tools-"));
/// assert_eq!(mana_sync_apps::installation_client_id(&dir.join("client-id"))?, first);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn installation_client_id(path: &Path) -> std::io::Result<String> {
    if let Ok(text) = std::fs::read_to_string(path) {
        let id = text.trim();
        let ok = !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic());
        if ok {
            return Ok(id.to_owned());
        }
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let id = format!("mana-tools-{}", uuid::Uuid::new_v4());
    // Written whole to a temporary file, then renamed: a reader never sees
    // half an id.
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(id.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)?;
    Ok(id)
}
