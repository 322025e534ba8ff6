//! `journal.add` (app `journal`, collection `journalEntries`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Map;

use super::context::{date_of, insert, iso, new_id};
use super::todo::count;
use super::{input, Plan, Read, Spec, Tool, ToolError};
use crate::records::{JournalEntry, JournalMood};

/// The input of [`Add`].
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddInput {
    /// A title (at most 500 characters), or null.
    #[serde(default)]
    #[schemars(length(max = 500))]
    pub title: Option<String>,
    /// The entry's text (1 to 200000 characters).
    #[schemars(length(min = 1, max = 200000))]
    pub content: String,
    /// The day it is about, `YYYY-MM-DD` (default: today, UTC).
    #[serde(default)]
    pub entry_date: Option<String>,
    /// The mood, or null.
    #[serde(default)]
    pub mood: Option<JournalMood>,
    /// Tags (default none).
    #[serde(default)]
    pub tags: Vec<String>,
}

/// The output of [`Add`].
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AddOutput {
    /// The entry as written, decrypted.
    pub entry: JournalEntry,
}

/// `journal.add`: a journal entry, `title` and `content` encrypted.
///
/// Differs from the TypeScript tool: `entryDate` is checked as a real date.
pub struct Add;

impl Tool for Add {
    const SPEC: Spec =
        Spec::write::<JournalEntry>("journal.add", "Add an entry to the user's journal.")
            .with_key();
    type Input = AddInput;
    type Output = AddOutput;

    fn check(i: &AddInput) -> Result<(), ToolError> {
        input::length_opt("title", i.title.as_deref(), 0, 500)?;
        input::length("content", &i.content, 1, 200_000)?;
        input::date_opt("entryDate", i.entry_date.as_deref())
    }

    fn run(i: AddInput, read: Read<'_>) -> Result<Plan<AddOutput>, ToolError> {
        let id = new_id();
        let now = iso(read.now);
        let words = i.content.split_whitespace().count();
        let entry = JournalEntry {
            id: id.clone(),
            user_id: None,
            created_at: Some(now.clone()),
            updated_at: Some(now),
            deleted_at: None,
            title: i.title,
            content: i.content,
            entry_date: i.entry_date.unwrap_or_else(|| date_of(read.now)),
            mood: i.mood,
            tags: i.tags,
            is_pinned: false,
            is_archived: false,
            is_favorite: false,
            word_count: count(words),
            transcript_model: None,
            other: Map::new(),
        };
        Ok(Plan::write(
            insert(&entry, read.key, &id)?,
            AddOutput { entry },
        ))
    }
}
