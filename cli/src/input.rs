//! Reading what a subcommand is given: a file or stdin, changes in the wire
//! format as a JSON array or JSON lines.

use std::io::Read;

use mana_sync_core::Change;

use crate::failure::Failure;

/// The text of `path`, or of stdin for `-`.
pub fn read_text(path: &str) -> Result<String, Failure> {
    if path == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Failure::usage(format!("cannot read stdin: {e}")))?;
        Ok(text)
    } else {
        std::fs::read_to_string(path)
            .map_err(|e| Failure::usage(format!("cannot read {path}: {e}; check the path")))
    }
}

/// The argument if given, else stdin, trimmed.
pub fn argument_or_stdin(argument: Option<&str>) -> Result<String, Failure> {
    match argument {
        Some(text) => Ok(text.trim().to_owned()),
        None => Ok(read_text("-")?.trim().to_owned()),
    }
}

/// Changes from a JSON array, or from JSON lines (blank lines skipped).
pub fn parse_changes(text: &str) -> Result<Vec<Change>, Failure> {
    let changes = if text.trim_start().starts_with('[') {
        serde_json::from_str::<Vec<Change>>(text).map_err(|e| {
            Failure::bad_input(format!(
                "the input is not a JSON array of changes in the wire format: {e}"
            ))
        })?
    } else {
        let mut changes = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let change = serde_json::from_str::<Change>(line).map_err(|e| {
                Failure::bad_input(format!(
                    "input line {} is not a change in the wire format: {e}",
                    i.saturating_add(1)
                ))
            })?;
            changes.push(change);
        }
        changes
    };
    if changes.is_empty() {
        return Err(Failure::bad_input(
            "the input holds no changes (give a JSON array or one change per line)",
        ));
    }
    Ok(changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: &str = r#"{"table":"tasks","id":"t-1","op":"insert","data":{"title":"x"}}"#;

    #[test]
    fn arrays_and_lines_read_the_same() {
        let array = parse_changes(&format!("[{ONE},{ONE}]")).unwrap_or_default();
        let lines = parse_changes(&format!("{ONE}\n\n{ONE}\n")).unwrap_or_default();
        assert_eq!(array.len(), 2);
        assert_eq!(array, lines);
    }

    #[test]
    fn malformed_input_names_the_line() {
        let Err(failure) = parse_changes(&format!("{ONE}\n{{\"table\":\"t\",\"id\":\"1\"}}"))
        else {
            panic!("a change without an op was read");
        };
        assert_eq!(failure.code, crate::failure::BAD_REQUEST);
        assert!(
            failure.message.contains("input line 2"),
            "{}",
            failure.message
        );
        assert!(parse_changes("[1,2]").is_err());
        assert!(parse_changes(" \n").is_err());
    }
}
