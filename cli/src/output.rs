//! Writing to stdout: a reader that went away (`| head`) ends the command
//! quietly.

use std::io::Write;

use crate::failure::Failure;

/// Writes `text` and a newline to stdout.
pub fn line(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    finish(writeln!(out, "{text}").and_then(|()| out.flush()))
}

/// Writes `bytes` as they are to stdout.
pub fn bytes(bytes: &[u8]) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    finish(out.write_all(bytes).and_then(|()| out.flush()))
}

/// The outcome of a write: a reader that went away is a quiet success.
fn finish(written: std::io::Result<()>) -> Result<(), Failure> {
    written.map_err(|e| {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            Failure::new(0, "")
        } else {
            Failure::new(
                crate::failure::SERVER,
                format!("cannot write to stdout: {e}"),
            )
        }
    })
}

/// Writes `value` as one line of JSON.
pub fn json(value: &impl serde::Serialize) -> Result<(), Failure> {
    let text = serde_json::to_string(value)
        .map_err(|e| Failure::new(crate::failure::SERVER, format!("cannot write JSON: {e}")))?;
    line(&text)
}
