//! `notes.create`, `notes.search` (app `notes`, collection `notes`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Map;

use super::context::{contains_ci, decode, insert, iso, new_id};
use super::{input, Plan, Read, Spec, Tool, ToolError};
use crate::records::Note;

/// The input of [`Create`].
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateInput {
    /// The title (1 to 500 characters).
    #[schemars(length(min = 1, max = 500))]
    pub title: String,
    /// The text (at most 200000 characters; default empty).
    #[serde(default)]
    #[schemars(length(max = 200000))]
    pub content: String,
    /// A colour `#rrggbb`, or null.
    #[serde(default)]
    pub color: Option<String>,
    /// Pinned (default: no).
    #[serde(default)]
    pub is_pinned: bool,
}

/// The output of [`Create`].
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CreateOutput {
    /// The note as written, decrypted.
    pub note: Note,
}

/// `notes.create`: a note, `title` and `content` encrypted.
///
/// Differs from the TypeScript tool: nothing on the wire; the colour is
/// checked as `#rrggbb` here too.
pub struct Create;

impl Tool for Create {
    const SPEC: Spec = Spec::write::<Note>("notes.create", "Create a note.").with_key();
    type Input = CreateInput;
    type Output = CreateOutput;

    fn check(i: &CreateInput) -> Result<(), ToolError> {
        input::length("title", &i.title, 1, 500)?;
        input::length("content", &i.content, 0, 200_000)?;
        i.color
            .as_deref()
            .map_or(Ok(()), |c| input::color("color", c))
    }

    fn run(i: CreateInput, read: Read<'_>) -> Result<Plan<CreateOutput>, ToolError> {
        let id = new_id();
        let now = iso(read.now);
        let note = Note {
            id: id.clone(),
            user_id: None,
            created_at: Some(now.clone()),
            updated_at: Some(now),
            deleted_at: None,
            title: i.title,
            content: i.content,
            color: i.color,
            transcript_model: None,
            is_pinned: i.is_pinned,
            is_archived: false,
            is_space_context: None,
            other: Map::new(),
        };
        Ok(Plan::write(
            insert(&note, read.key, &id)?,
            CreateOutput { note },
        ))
    }
}

fn twenty() -> u32 {
    20
}

/// The input of [`Search`].
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SearchInput {
    /// Text to find in title or content, ignoring case (empty: all notes).
    #[serde(default)]
    #[schemars(length(max = 500))]
    pub query: String,
    /// Include archived notes (default: no).
    #[serde(default)]
    pub include_archived: bool,
    /// At most this many (1 to 100, default 20).
    #[serde(default = "twenty")]
    #[schemars(range(min = 1, max = 100))]
    pub limit: u32,
}

/// The output of [`Search`].
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SearchOutput {
    /// The notes found, newest first, decrypted.
    pub notes: Vec<Note>,
    /// Records that could not be read as notes (left out).
    pub skipped: usize,
}

/// `notes.search`: notes whose title or content contain the query.
///
/// Differs from the TypeScript tool: searches the folded notes (edits
/// applied, deleted ones out, every page), newest (`updatedAt`) first,
/// where the TypeScript tool searched the inserts of the first page in pull
/// order, so that an edited note was found by its old text.
pub struct Search;

impl Tool for Search {
    const SPEC: Spec = Spec::read::<Note>(
        "notes.search",
        "Search the user's notes by text (title or content).",
    )
    .reading_records()
    .with_key();
    type Input = SearchInput;
    type Output = SearchOutput;

    fn check(i: &SearchInput) -> Result<(), ToolError> {
        input::length("query", &i.query, 0, 500)?;
        input::range("limit", i.limit, 1, 100)
    }

    fn run(i: SearchInput, read: Read<'_>) -> Result<Plan<SearchOutput>, ToolError> {
        let (mut notes, skipped) = decode::<Note>(&read);
        notes.retain(|n| {
            (i.include_archived || !n.is_archived)
                && (contains_ci(&n.title, &i.query) || contains_ci(&n.content, &i.query))
        });
        notes.sort_by(|a, b| b.updated_at.cmp(&a.updated_at));
        notes.truncate(usize::try_from(i.limit).unwrap_or(usize::MAX));
        Ok(Plan::read(SearchOutput { notes, skipped }))
    }
}
