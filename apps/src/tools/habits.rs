//! `habits.create`, `habits.list`, `habits.update`, `habits.archive` (app
//! `habits`, collection `habits`, kept in plaintext by the browser).

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::context::Done;
use super::context::{decode, insert, iso, new_id, set_fields};
use super::todo::count;
use super::{input, Plan, Read, Spec, Tool, ToolError};
use crate::records::Habit;

fn star() -> String {
    "star".into()
}

fn indigo() -> String {
    "#6366f1".into()
}

/// The input of [`Create`].
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateInput {
    /// The habit's title (1 to 120 characters).
    #[schemars(length(min = 1, max = 120))]
    pub title: String,
    /// An icon name (1 to 40 characters, default `star`).
    #[serde(default = "star")]
    #[schemars(length(min = 1, max = 40))]
    pub icon: String,
    /// A colour `#rrggbb` (default `#6366f1`).
    #[serde(default = "indigo")]
    pub color: String,
    /// Times a day (a positive integer), or null.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub target_per_day: Option<u32>,
    /// Minutes a time (a positive integer), or null.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub default_duration: Option<u32>,
}

/// The output of [`Create`].
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CreateOutput {
    /// The habit as written.
    pub habit: Habit,
}

fn positive(field: &str, value: Option<u32>) -> Result<(), ToolError> {
    value.map_or(Ok(()), |v| input::range(field, v, 1, u32::MAX))
}

/// `habits.create`: a habit, placed after the live ones.
///
/// Differs from the TypeScript tool: `order` is the number of live habits
/// (folded), not of the non-delete changes of a first page.
pub struct Create;

impl Tool for Create {
    const SPEC: Spec =
        Spec::write::<Habit>("habits.create", "Create a habit to track.").reading_records();
    type Input = CreateInput;
    type Output = CreateOutput;

    fn check(i: &CreateInput) -> Result<(), ToolError> {
        input::length("title", &i.title, 1, 120)?;
        input::length("icon", &i.icon, 1, 40)?;
        input::color("color", &i.color)?;
        positive("targetPerDay", i.target_per_day)?;
        positive("defaultDuration", i.default_duration)
    }

    fn run(i: CreateInput, read: Read<'_>) -> Result<Plan<CreateOutput>, ToolError> {
        let id = new_id();
        let now = iso(read.now);
        let habit = Habit {
            id: id.clone(),
            user_id: None,
            created_at: Some(now.clone()),
            updated_at: Some(now),
            deleted_at: None,
            title: i.title,
            icon: i.icon,
            color: i.color,
            target_per_day: i.target_per_day.map(f64::from),
            default_duration: i.default_duration.map(f64::from),
            schedule: None,
            order: count(read.records.len()),
            is_archived: false,
            visibility: None,
            visibility_changed_at: None,
            visibility_changed_by: None,
            other: Map::new(),
        };
        Ok(Plan::write(
            insert(&habit, read.key, &id)?,
            CreateOutput { habit },
        ))
    }
}

/// The input of [`List`].
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListInput {
    /// Include archived habits (default: no).
    #[serde(default)]
    pub include_archived: bool,
}

/// The output of [`List`].
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ListOutput {
    /// The habits, by `order`.
    pub habits: Vec<Habit>,
    /// Records that could not be read as habits (left out).
    pub skipped: usize,
}

/// `habits.list`: the user's habits.
///
/// Differs from the TypeScript tool: the habits are folded records (its
/// updates and archiving applied, deleted ones out); the TypeScript tool
/// ignored every update, so a renamed or archived habit showed as created.
/// Sorted by `order`.
pub struct List;

impl Tool for List {
    const SPEC: Spec =
        Spec::read::<Habit>("habits.list", "List the user's habits.").reading_records();
    type Input = ListInput;
    type Output = ListOutput;

    fn run(i: ListInput, read: Read<'_>) -> Result<Plan<ListOutput>, ToolError> {
        let (mut habits, skipped) = decode::<Habit>(&read);
        habits.retain(|h| i.include_archived || !h.is_archived);
        habits.sort_by(|a, b| a.order.total_cmp(&b.order));
        Ok(Plan::read(ListOutput { habits, skipped }))
    }
}

/// `Some(value)` when the key is present (`null` included), `None` when
/// absent.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<u32>>, D::Error> {
    Option::<u32>::deserialize(d).map(Some)
}

/// The input of [`Update`]: the id and the fields to change.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateInput {
    /// The habit's id (a UUID).
    pub id: String,
    /// A new title (1 to 120 characters).
    #[serde(default)]
    #[schemars(length(min = 1, max = 120))]
    pub title: Option<String>,
    /// A new icon (1 to 40 characters).
    #[serde(default)]
    #[schemars(length(min = 1, max = 40))]
    pub icon: Option<String>,
    /// A new colour `#rrggbb`.
    #[serde(default)]
    pub color: Option<String>,
    /// Times a day (positive), or null to clear it.
    #[serde(default, deserialize_with = "present")]
    pub target_per_day: Option<Option<u32>>,
    /// Minutes a time (positive), or null to clear it.
    #[serde(default, deserialize_with = "present")]
    pub default_duration: Option<Option<u32>>,
}

/// `habits.update`: changes the given fields of a habit, each stamped with
/// `at`.
///
/// Differs from the TypeScript tool: stamps with `at` (the browser ignored
/// the TypeScript tool's `updatedAt` stamps); an unknown id or an update of
/// nothing is an error.
pub struct Update;

impl Tool for Update {
    const SPEC: Spec = Spec::write::<Habit>(
        "habits.update",
        "Change a habit's title, icon, colour or targets.",
    )
    .reading_records();
    type Input = UpdateInput;
    type Output = Done;

    fn check(i: &UpdateInput) -> Result<(), ToolError> {
        input::uuid("id", &i.id)?;
        input::length_opt("title", i.title.as_deref(), 1, 120)?;
        input::length_opt("icon", i.icon.as_deref(), 1, 40)?;
        i.color
            .as_deref()
            .map_or(Ok(()), |c| input::color("color", c))?;
        positive("targetPerDay", i.target_per_day.flatten())?;
        positive("defaultDuration", i.default_duration.flatten())?;
        let any = i.title.is_some()
            || i.icon.is_some()
            || i.color.is_some()
            || i.target_per_day.is_some()
            || i.default_duration.is_some();
        if any {
            Ok(())
        } else {
            Err(ToolError::Input {
                field: String::new(),
                message:
                    "nothing to change: give title, icon, color, targetPerDay or defaultDuration"
                        .into(),
            })
        }
    }

    fn run(i: UpdateInput, read: Read<'_>) -> Result<Plan<Done>, ToolError> {
        let mut fields = Map::new();
        let mut put = |name: &str, value: Option<Value>| {
            if let Some(v) = value {
                fields.insert(name.into(), v);
            }
        };
        put("title", i.title.map(Value::from));
        put("icon", i.icon.map(Value::from));
        put("color", i.color.map(Value::from));
        put(
            "targetPerDay",
            i.target_per_day.map(|v| v.map_or(Value::Null, Value::from)),
        );
        put(
            "defaultDuration",
            i.default_duration
                .map(|v| v.map_or(Value::Null, Value::from)),
        );
        set_fields::<Habit>(&read, "habit", &i.id, fields)
    }
}

fn yes() -> bool {
    true
}

/// The input of [`Archive`].
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ArchiveInput {
    /// The habit's id (a UUID).
    pub id: String,
    /// Archive (true, the default) or bring back (false).
    #[serde(default = "yes")]
    pub archived: bool,
}

/// `habits.archive`: archives a habit (or brings it back).
///
/// Differs from the TypeScript tool: stamped with `at`; an unknown id is an
/// error.
pub struct Archive;

impl Tool for Archive {
    const SPEC: Spec = Spec::write::<Habit>(
        "habits.archive",
        "Archive a habit (or unarchive it with archived: false).",
    )
    .reading_records();
    type Input = ArchiveInput;
    type Output = Done;

    fn check(i: &ArchiveInput) -> Result<(), ToolError> {
        input::uuid("id", &i.id)
    }

    fn run(i: ArchiveInput, read: Read<'_>) -> Result<Plan<Done>, ToolError> {
        let mut fields = Map::new();
        fields.insert("isArchived".into(), Value::Bool(i.archived));
        set_fields::<Habit>(&read, "habit", &i.id, fields)
    }
}
