//! `mood.log`, `mood.recent`, `mood.today` (app `mood`, collection
//! `moodEntries`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Map;

use super::context::{date_of, days_before, decode, insert, iso, new_id, time_of};
use super::{input, Plan, Read, Spec, Tool, ToolError};
use crate::records::{ActivityContext, CoreEmotion, MoodEntry};

/// The input of [`Log`].
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LogInput {
    /// How good (1 to 10).
    #[schemars(range(min = 1, max = 10))]
    pub level: u8,
    /// The main emotion.
    pub emotion: CoreEmotion,
    /// Up to 5 more.
    #[serde(default)]
    #[schemars(length(max = 5))]
    pub secondary_emotions: Vec<CoreEmotion>,
    /// What the user was doing, or null.
    #[serde(default)]
    pub activity: Option<ActivityContext>,
    /// With whom (at most 500 characters).
    #[serde(default)]
    #[schemars(length(max = 500))]
    pub with_whom: String,
    /// Notes (at most 5000 characters).
    #[serde(default)]
    #[schemars(length(max = 5000))]
    pub notes: String,
    /// Up to 20 tags of up to 60 characters.
    #[serde(default)]
    #[schemars(length(max = 20))]
    pub tags: Vec<String>,
    /// The day, `YYYY-MM-DD` (default: today, UTC).
    #[serde(default)]
    pub date: Option<String>,
    /// The time, `HH:mm` (default: now, UTC).
    #[serde(default)]
    pub time: Option<String>,
}

/// The output of [`Log`].
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct LogOutput {
    /// The entry as written, decrypted.
    pub entry: MoodEntry,
}

/// `mood.log`: a mood entry, `withWhom` and `notes` encrypted.
///
/// Differs from the TypeScript tool: the date and time are checked as real
/// ones.
pub struct Log;

impl Tool for Log {
    const SPEC: Spec = Spec::write::<MoodEntry>(
        "mood.log",
        "Log how the user feels (level 1-10 and an emotion).",
    )
    .with_key();
    type Input = LogInput;
    type Output = LogOutput;

    fn check(i: &LogInput) -> Result<(), ToolError> {
        input::range("level", i.level, 1, 10)?;
        input::items("secondaryEmotions", &i.secondary_emotions, 5)?;
        input::length("withWhom", &i.with_whom, 0, 500)?;
        input::length("notes", &i.notes, 0, 5000)?;
        input::items("tags", &i.tags, 20)?;
        for (n, tag) in i.tags.iter().enumerate() {
            input::length(&format!("tags[{n}]"), tag, 0, 60)?;
        }
        input::date_opt("date", i.date.as_deref())?;
        i.time.as_deref().map_or(Ok(()), |t| input::time("time", t))
    }

    fn run(i: LogInput, read: Read<'_>) -> Result<Plan<LogOutput>, ToolError> {
        let id = new_id();
        let now = iso(read.now);
        let entry = MoodEntry {
            id: id.clone(),
            user_id: None,
            created_at: Some(now.clone()),
            updated_at: Some(now),
            deleted_at: None,
            date: i.date.unwrap_or_else(|| date_of(read.now)),
            time: i.time.unwrap_or_else(|| time_of(read.now)),
            level: f64::from(i.level),
            emotion: i.emotion,
            secondary_emotions: i.secondary_emotions,
            activity: i.activity,
            with_whom: i.with_whom,
            notes: i.notes,
            tags: i.tags,
            other: Map::new(),
        };
        Ok(Plan::write(
            insert(&entry, read.key, &id)?,
            LogOutput { entry },
        ))
    }
}

fn seven() -> u32 {
    7
}

fn fifty() -> u32 {
    50
}

/// The input of [`Recent`].
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RecentInput {
    /// How many days back (1 to 90, default 7).
    #[serde(default = "seven")]
    #[schemars(range(min = 1, max = 90))]
    pub days: u32,
    /// At most this many (1 to 200, default 50).
    #[serde(default = "fifty")]
    #[schemars(range(min = 1, max = 200))]
    pub limit: u32,
}

/// Mood entries.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct EntriesOutput {
    /// The entries, decrypted.
    pub entries: Vec<MoodEntry>,
    /// Records that could not be read as mood entries (left out).
    pub skipped: usize,
}

/// `mood.recent`: the entries of the last `days` days, newest first.
///
/// Differs from the TypeScript tool: "recent" is the newest entries of the
/// whole folded collection; the TypeScript tool read the oldest page only,
/// so past a page it never saw the recent ones.
pub struct Recent;

impl Tool for Recent {
    const SPEC: Spec = Spec::read::<MoodEntry>(
        "mood.recent",
        "The user's mood entries of the last days, newest first.",
    )
    .reading_records()
    .with_key();
    type Input = RecentInput;
    type Output = EntriesOutput;

    fn check(i: &RecentInput) -> Result<(), ToolError> {
        input::range("days", i.days, 1, 90)?;
        input::range("limit", i.limit, 1, 200)
    }

    fn run(i: RecentInput, read: Read<'_>) -> Result<Plan<EntriesOutput>, ToolError> {
        let from = days_before(read.now, i.days);
        let (mut entries, skipped) = decode::<MoodEntry>(&read);
        entries.retain(|e| e.date >= from);
        entries.sort_by(|a, b| (&b.date, &b.time).cmp(&(&a.date, &a.time)));
        entries.truncate(usize::try_from(i.limit).unwrap_or(usize::MAX));
        Ok(Plan::read(EntriesOutput { entries, skipped }))
    }
}

/// The input of [`Today`].
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TodayInput {
    /// The day, `YYYY-MM-DD` (default: today, UTC).
    #[serde(default)]
    pub date: Option<String>,
}

/// `mood.today`: the entries of one day, by time.
///
/// Differs from the TypeScript tool: reads the folded collection (every
/// page, edits and deletes applied).
pub struct Today;

impl Tool for Today {
    const SPEC: Spec = Spec::read::<MoodEntry>(
        "mood.today",
        "The user's mood entries of today (or of a given day).",
    )
    .reading_records()
    .with_key();
    type Input = TodayInput;
    type Output = EntriesOutput;

    fn check(i: &TodayInput) -> Result<(), ToolError> {
        input::date_opt("date", i.date.as_deref())
    }

    fn run(i: TodayInput, read: Read<'_>) -> Result<Plan<EntriesOutput>, ToolError> {
        let day = i.date.unwrap_or_else(|| date_of(read.now));
        let (mut entries, skipped) = decode::<MoodEntry>(&read);
        entries.retain(|e| e.date == day);
        entries.sort_by(|a, b| a.time.cmp(&b.time));
        Ok(Plan::read(EntriesOutput { entries, skipped }))
    }
}
