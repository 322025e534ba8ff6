//! `todo.create`, `todo.list`, `todo.complete` (app `todo`, collection
//! `tasks`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::context::{decode, insert, iso, new_id, set_fields};
use super::{input, Plan, Read, Spec, Tool, ToolError};
use crate::records::{Task, TaskPriority};

pub use super::context::Done;

fn medium() -> TaskPriority {
    TaskPriority::Medium
}

/// The input of [`Create`].
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateInput {
    /// The task's title (1 to 500 characters).
    #[schemars(length(min = 1, max = 500))]
    pub title: String,
    /// A longer description (at most 10000 characters).
    #[serde(default)]
    #[schemars(length(max = 10000))]
    pub description: Option<String>,
    /// `low`, `medium` (the default), `high` or `urgent`.
    #[serde(default = "medium")]
    pub priority: TaskPriority,
    /// When it is due, ISO-8601 (or null).
    #[serde(default)]
    pub due_date: Option<String>,
}

impl CreateInput {
    /// A task with this title and the defaults.
    pub fn titled(title: &str) -> CreateInput {
        CreateInput {
            title: title.to_owned(),
            description: None,
            priority: TaskPriority::Medium,
            due_date: None,
        }
    }
}

/// The output of [`Create`]: the task as written, decrypted.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CreateOutput {
    /// The task.
    pub task: Task,
}

/// `todo.create`: creates a task, its `title` and `description` encrypted
/// (the registry's `title, description, subtasks, metadata`).
///
/// Differs from the TypeScript tool: `order` is the number of live tasks
/// (folded, deletes applied), not the count of non-delete changes of a
/// first page; `dueDate` is checked as a date-time.
pub struct Create;

impl Tool for Create {
    const SPEC: Spec = Spec::write::<Task>("todo.create", "Create a task in the user's todo list.")
        .reading_records()
        .with_key();
    type Input = CreateInput;
    type Output = CreateOutput;

    fn check(i: &CreateInput) -> Result<(), ToolError> {
        input::length("title", &i.title, 1, 500)?;
        input::length_opt("description", i.description.as_deref(), 0, 10_000)?;
        i.due_date
            .as_deref()
            .map_or(Ok(()), |d| input::datetime("dueDate", d))
    }

    fn run(i: CreateInput, read: Read<'_>) -> Result<Plan<CreateOutput>, ToolError> {
        let id = new_id();
        let now = iso(read.now);
        let task = Task {
            id: id.clone(),
            user_id: None,
            created_at: Some(now.clone()),
            updated_at: Some(now),
            deleted_at: None,
            title: i.title,
            description: i.description,
            project_id: None,
            priority: i.priority,
            is_completed: false,
            completed_at: None,
            due_date: i.due_date,
            scheduled_block_id: None,
            estimated_duration: None,
            order: count(read.records.len()),
            subtasks: None,
            transcript_model: None,
            metadata: None,
            visibility: None,
            visibility_changed_at: None,
            visibility_changed_by: None,
            unlisted_token: None,
            other: Map::new(),
        };
        let change = insert(&task, read.key, &id)?;
        Ok(Plan::write(change, CreateOutput { task }))
    }
}

/// A count as a JSON number.
pub(crate) fn count(n: usize) -> f64 {
    u32::try_from(n).map_or(f64::from(u32::MAX), f64::from)
}

fn fifty() -> u32 {
    50
}

/// The input of [`List`].
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListInput {
    /// Include completed tasks (default: no).
    #[serde(default)]
    pub include_completed: bool,
    /// At most this many (1 to 500, default 50).
    #[serde(default = "fifty")]
    #[schemars(range(min = 1, max = 500))]
    pub limit: u32,
}

impl Default for ListInput {
    fn default() -> ListInput {
        ListInput {
            include_completed: false,
            limit: 50,
        }
    }
}

/// The output of [`List`].
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ListOutput {
    /// The tasks, decrypted.
    pub tasks: Vec<Task>,
    /// Records that could not be read as tasks (left out).
    pub skipped: usize,
}

/// `todo.list`: the user's tasks, decrypted.
///
/// Differs from the TypeScript tool: the tasks are the folded records
/// (updates such as a completion applied, deleted ones left out, every page
/// read), sorted as the browser lists them (by `order`, then newest
/// first), where the TypeScript tool returned the inserts of the first page
/// in pull order; `skipped` counts the records that do not decode.
pub struct List;

impl Tool for List {
    const SPEC: Spec = Spec::read::<Task>(
        "todo.list",
        "List the user's open tasks (or all, with includeCompleted).",
    )
    .reading_records()
    .with_key();
    type Input = ListInput;
    type Output = ListOutput;

    fn check(i: &ListInput) -> Result<(), ToolError> {
        input::range("limit", i.limit, 1, 500)
    }

    fn run(i: ListInput, read: Read<'_>) -> Result<Plan<ListOutput>, ToolError> {
        let (mut tasks, skipped) = decode::<Task>(&read);
        tasks.retain(|t| i.include_completed || !t.is_completed);
        tasks.sort_by(|a, b| {
            a.order
                .total_cmp(&b.order)
                .then_with(|| b.created_at.cmp(&a.created_at))
        });
        tasks.truncate(usize::try_from(i.limit).unwrap_or(usize::MAX));
        Ok(Plan::read(ListOutput { tasks, skipped }))
    }
}

/// The input of [`Complete`].
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CompleteInput {
    /// The task's id (a UUID).
    pub id: String,
}

/// `todo.complete`: marks a task done (`isCompleted`, `completedAt`,
/// `updatedAt`, each stamped with `at`, so the browser's fold applies it).
///
/// Differs from the TypeScript tool: the fields carry `at` (the TypeScript
/// tool's `updatedAt` stamps are ignored by the browser); an id that is not
/// a live task is an error, not a silent write of a stray record.
pub struct Complete;

impl Tool for Complete {
    const SPEC: Spec =
        Spec::write::<Task>("todo.complete", "Mark a task as completed.").reading_records();
    type Input = CompleteInput;
    type Output = Done;

    fn check(i: &CompleteInput) -> Result<(), ToolError> {
        input::uuid("id", &i.id)
    }

    fn run(i: CompleteInput, read: Read<'_>) -> Result<Plan<Done>, ToolError> {
        let mut fields = Map::new();
        fields.insert("isCompleted".into(), Value::Bool(true));
        fields.insert("completedAt".into(), Value::from(iso(read.now)));
        set_fields::<Task>(&read, "task", &i.id, fields)
    }
}
