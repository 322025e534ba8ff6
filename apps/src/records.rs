//! Typed records of the tables the agent tools touch (`record-shapes.json`),
//! as the browser declares them: its optional fields `Option`s left out of
//! the JSON when `None`, its `T | null` fields `Option`s written as `null`,
//! every field it does not declare kept in `other`, so that a record read
//! and written back never loses what a newer browser added.
//!
//! Generated from `record-shapes.json` (field names, TS types, optional
//! flags); TS `number` is `f64`.
//!
//! ```
//! use mana_sync_apps::records::{Record, Task, TaskPriority};
//!
//! let task: Task = serde_json::from_value(serde_json::json!({
//!     "id": "t-1", "title": "Buy milk", "priority": "high", "isCompleted": false,
//!     "order": 0, "addedByANewerBrowser": {"x": 1}
//! }))?;
//! assert_eq!(task.priority, TaskPriority::High);
//! assert_eq!(serde_json::to_value(&task)?["addedByANewerBrowser"]["x"], 1);
//! let spec = Task::table();
//! assert_eq!((spec.app_id(), spec.table()), ("todo", "tasks"));
//! # Ok::<(), serde_json::Error>(())
//! ```

use mana_sync_core::TableSpec;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::Registry;

/// A typed record of a registered collection.
pub trait Record: Serialize + DeserializeOwned {
    /// Its app.
    const APP_ID: &'static str;
    /// Its wire collection.
    const COLLECTION: &'static str;

    /// Its table, with the registry's encrypted fields.
    fn table() -> TableSpec<Self> {
        let fields = Registry::get()
            .encrypted(Self::APP_ID, Self::COLLECTION)
            .unwrap_or_default();
        let names: Vec<&str> = fields.iter().map(String::as_str).collect();
        TableSpec::new(Self::APP_ID, Self::COLLECTION).encrypted(&names)
    }
}

/// `VisibilityLevel`: 'private' | 'space' | 'unlisted' | 'public' (`packages/shared-privacy/src/types.ts:11`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum VisibilityLevel {
    /// `private`
    #[serde(rename = "private")]
    Private,
    /// `space`
    #[serde(rename = "space")]
    Space,
    /// `unlisted`
    #[serde(rename = "unlisted")]
    Unlisted,
    /// `public`
    #[serde(rename = "public")]
    Public,
}

impl VisibilityLevel {
    /// Every value, in the order the browser declares them.
    pub const ALL: [VisibilityLevel; 4] = [
        VisibilityLevel::Private,
        VisibilityLevel::Space,
        VisibilityLevel::Unlisted,
        VisibilityLevel::Public,
    ];

    /// The wire text.
    pub fn as_str(self) -> &'static str {
        match self {
            VisibilityLevel::Private => "private",
            VisibilityLevel::Space => "space",
            VisibilityLevel::Unlisted => "unlisted",
            VisibilityLevel::Public => "public",
        }
    }
}

/// `TaskPriority`: 'low' | 'medium' | 'high' | 'urgent' (`apps/mana/apps/web/src/lib/modules/todo/types.ts:26`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum TaskPriority {
    /// `low`
    #[serde(rename = "low")]
    Low,
    /// `medium`
    #[serde(rename = "medium")]
    Medium,
    /// `high`
    #[serde(rename = "high")]
    High,
    /// `urgent`
    #[serde(rename = "urgent")]
    Urgent,
}

impl TaskPriority {
    /// Every value, in the order the browser declares them.
    pub const ALL: [TaskPriority; 4] = [
        TaskPriority::Low,
        TaskPriority::Medium,
        TaskPriority::High,
        TaskPriority::Urgent,
    ];

    /// The wire text.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskPriority::Low => "low",
            TaskPriority::Medium => "medium",
            TaskPriority::High => "high",
            TaskPriority::Urgent => "urgent",
        }
    }
}

/// `JournalMood`: 'dankbar' | 'glücklich' | 'zufrieden' | 'neutral' | 'nachdenklich' | 'traurig' | 'gestresst' | 'wütend' (`apps/mana/apps/web/src/lib/modules/journal/types.ts:7`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum JournalMood {
    /// `dankbar`
    #[serde(rename = "dankbar")]
    Dankbar,
    /// `glücklich`
    #[serde(rename = "glücklich")]
    Gluecklich,
    /// `zufrieden`
    #[serde(rename = "zufrieden")]
    Zufrieden,
    /// `neutral`
    #[serde(rename = "neutral")]
    Neutral,
    /// `nachdenklich`
    #[serde(rename = "nachdenklich")]
    Nachdenklich,
    /// `traurig`
    #[serde(rename = "traurig")]
    Traurig,
    /// `gestresst`
    #[serde(rename = "gestresst")]
    Gestresst,
    /// `wütend`
    #[serde(rename = "wütend")]
    Wuetend,
}

impl JournalMood {
    /// Every value, in the order the browser declares them.
    pub const ALL: [JournalMood; 8] = [
        JournalMood::Dankbar,
        JournalMood::Gluecklich,
        JournalMood::Zufrieden,
        JournalMood::Neutral,
        JournalMood::Nachdenklich,
        JournalMood::Traurig,
        JournalMood::Gestresst,
        JournalMood::Wuetend,
    ];

    /// The wire text.
    pub fn as_str(self) -> &'static str {
        match self {
            JournalMood::Dankbar => "dankbar",
            JournalMood::Gluecklich => "glücklich",
            JournalMood::Zufrieden => "zufrieden",
            JournalMood::Neutral => "neutral",
            JournalMood::Nachdenklich => "nachdenklich",
            JournalMood::Traurig => "traurig",
            JournalMood::Gestresst => "gestresst",
            JournalMood::Wuetend => "wütend",
        }
    }
}

/// `CoreEmotion`: 'happy' | 'calm' | 'energized' | 'grateful' | 'sad' | 'anxious' | 'angry' | 'tired' | 'stressed' | 'bored' | 'excited' | 'loved' | 'frustrated' | 'hopeful' | 'overwhelmed' | 'neutral' (`apps/mana/apps/web/src/lib/modules/mood/types.ts:17`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum CoreEmotion {
    /// `happy`
    #[serde(rename = "happy")]
    Happy,
    /// `calm`
    #[serde(rename = "calm")]
    Calm,
    /// `energized`
    #[serde(rename = "energized")]
    Energized,
    /// `grateful`
    #[serde(rename = "grateful")]
    Grateful,
    /// `sad`
    #[serde(rename = "sad")]
    Sad,
    /// `anxious`
    #[serde(rename = "anxious")]
    Anxious,
    /// `angry`
    #[serde(rename = "angry")]
    Angry,
    /// `tired`
    #[serde(rename = "tired")]
    Tired,
    /// `stressed`
    #[serde(rename = "stressed")]
    Stressed,
    /// `bored`
    #[serde(rename = "bored")]
    Bored,
    /// `excited`
    #[serde(rename = "excited")]
    Excited,
    /// `loved`
    #[serde(rename = "loved")]
    Loved,
    /// `frustrated`
    #[serde(rename = "frustrated")]
    Frustrated,
    /// `hopeful`
    #[serde(rename = "hopeful")]
    Hopeful,
    /// `overwhelmed`
    #[serde(rename = "overwhelmed")]
    Overwhelmed,
    /// `neutral`
    #[serde(rename = "neutral")]
    Neutral,
}

impl CoreEmotion {
    /// Every value, in the order the browser declares them.
    pub const ALL: [CoreEmotion; 16] = [
        CoreEmotion::Happy,
        CoreEmotion::Calm,
        CoreEmotion::Energized,
        CoreEmotion::Grateful,
        CoreEmotion::Sad,
        CoreEmotion::Anxious,
        CoreEmotion::Angry,
        CoreEmotion::Tired,
        CoreEmotion::Stressed,
        CoreEmotion::Bored,
        CoreEmotion::Excited,
        CoreEmotion::Loved,
        CoreEmotion::Frustrated,
        CoreEmotion::Hopeful,
        CoreEmotion::Overwhelmed,
        CoreEmotion::Neutral,
    ];

    /// The wire text.
    pub fn as_str(self) -> &'static str {
        match self {
            CoreEmotion::Happy => "happy",
            CoreEmotion::Calm => "calm",
            CoreEmotion::Energized => "energized",
            CoreEmotion::Grateful => "grateful",
            CoreEmotion::Sad => "sad",
            CoreEmotion::Anxious => "anxious",
            CoreEmotion::Angry => "angry",
            CoreEmotion::Tired => "tired",
            CoreEmotion::Stressed => "stressed",
            CoreEmotion::Bored => "bored",
            CoreEmotion::Excited => "excited",
            CoreEmotion::Loved => "loved",
            CoreEmotion::Frustrated => "frustrated",
            CoreEmotion::Hopeful => "hopeful",
            CoreEmotion::Overwhelmed => "overwhelmed",
            CoreEmotion::Neutral => "neutral",
        }
    }
}

/// `ActivityContext`: 'work' | 'exercise' | 'social' | 'alone' | 'commute' | 'eating' | 'resting' | 'creative' | 'outdoors' | 'screen' | 'chores' | 'other' (`apps/mana/apps/web/src/lib/modules/mood/types.ts:36`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum ActivityContext {
    /// `work`
    #[serde(rename = "work")]
    Work,
    /// `exercise`
    #[serde(rename = "exercise")]
    Exercise,
    /// `social`
    #[serde(rename = "social")]
    Social,
    /// `alone`
    #[serde(rename = "alone")]
    Alone,
    /// `commute`
    #[serde(rename = "commute")]
    Commute,
    /// `eating`
    #[serde(rename = "eating")]
    Eating,
    /// `resting`
    #[serde(rename = "resting")]
    Resting,
    /// `creative`
    #[serde(rename = "creative")]
    Creative,
    /// `outdoors`
    #[serde(rename = "outdoors")]
    Outdoors,
    /// `screen`
    #[serde(rename = "screen")]
    Screen,
    /// `chores`
    #[serde(rename = "chores")]
    Chores,
    /// `other`
    #[serde(rename = "other")]
    Other,
}

impl ActivityContext {
    /// Every value, in the order the browser declares them.
    pub const ALL: [ActivityContext; 12] = [
        ActivityContext::Work,
        ActivityContext::Exercise,
        ActivityContext::Social,
        ActivityContext::Alone,
        ActivityContext::Commute,
        ActivityContext::Eating,
        ActivityContext::Resting,
        ActivityContext::Creative,
        ActivityContext::Outdoors,
        ActivityContext::Screen,
        ActivityContext::Chores,
        ActivityContext::Other,
    ];

    /// The wire text.
    pub fn as_str(self) -> &'static str {
        match self {
            ActivityContext::Work => "work",
            ActivityContext::Exercise => "exercise",
            ActivityContext::Social => "social",
            ActivityContext::Alone => "alone",
            ActivityContext::Commute => "commute",
            ActivityContext::Eating => "eating",
            ActivityContext::Resting => "resting",
            ActivityContext::Creative => "creative",
            ActivityContext::Outdoors => "outdoors",
            ActivityContext::Screen => "screen",
            ActivityContext::Chores => "chores",
            ActivityContext::Other => "other",
        }
    }
}

/// `AugurKind`: 'omen' | 'fortune' | 'hunch' (`apps/mana/apps/web/src/lib/modules/augur/types.ts:6`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum AugurKind {
    /// `omen`
    #[serde(rename = "omen")]
    Omen,
    /// `fortune`
    #[serde(rename = "fortune")]
    Fortune,
    /// `hunch`
    #[serde(rename = "hunch")]
    Hunch,
}

impl AugurKind {
    /// Every value, in the order the browser declares them.
    pub const ALL: [AugurKind; 3] = [AugurKind::Omen, AugurKind::Fortune, AugurKind::Hunch];

    /// The wire text.
    pub fn as_str(self) -> &'static str {
        match self {
            AugurKind::Omen => "omen",
            AugurKind::Fortune => "fortune",
            AugurKind::Hunch => "hunch",
        }
    }
}

/// `AugurVibe`: 'good' | 'bad' | 'mysterious' (`apps/mana/apps/web/src/lib/modules/augur/types.ts:8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum AugurVibe {
    /// `good`
    #[serde(rename = "good")]
    Good,
    /// `bad`
    #[serde(rename = "bad")]
    Bad,
    /// `mysterious`
    #[serde(rename = "mysterious")]
    Mysterious,
}

impl AugurVibe {
    /// Every value, in the order the browser declares them.
    pub const ALL: [AugurVibe; 3] = [AugurVibe::Good, AugurVibe::Bad, AugurVibe::Mysterious];

    /// The wire text.
    pub fn as_str(self) -> &'static str {
        match self {
            AugurVibe::Good => "good",
            AugurVibe::Bad => "bad",
            AugurVibe::Mysterious => "mysterious",
        }
    }
}

/// `AugurOutcome`: 'open' | 'fulfilled' | 'partly' | 'not-fulfilled' (`apps/mana/apps/web/src/lib/modules/augur/types.ts:10`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum AugurOutcome {
    /// `open`
    #[serde(rename = "open")]
    Open,
    /// `fulfilled`
    #[serde(rename = "fulfilled")]
    Fulfilled,
    /// `partly`
    #[serde(rename = "partly")]
    Partly,
    /// `not-fulfilled`
    #[serde(rename = "not-fulfilled")]
    NotFulfilled,
}

impl AugurOutcome {
    /// Every value, in the order the browser declares them.
    pub const ALL: [AugurOutcome; 4] = [
        AugurOutcome::Open,
        AugurOutcome::Fulfilled,
        AugurOutcome::Partly,
        AugurOutcome::NotFulfilled,
    ];

    /// The wire text.
    pub fn as_str(self) -> &'static str {
        match self {
            AugurOutcome::Open => "open",
            AugurOutcome::Fulfilled => "fulfilled",
            AugurOutcome::Partly => "partly",
            AugurOutcome::NotFulfilled => "not-fulfilled",
        }
    }
}

/// `AugurSourceCategory`: 'gut' | 'tarot' | 'horoscope' | 'fortune-cookie' | 'iching' | 'dream' | 'person' | 'media' | 'natural' | 'other' (`apps/mana/apps/web/src/lib/modules/augur/types.ts:18`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum AugurSourceCategory {
    /// `gut`
    #[serde(rename = "gut")]
    Gut,
    /// `tarot`
    #[serde(rename = "tarot")]
    Tarot,
    /// `horoscope`
    #[serde(rename = "horoscope")]
    Horoscope,
    /// `fortune-cookie`
    #[serde(rename = "fortune-cookie")]
    FortuneCookie,
    /// `iching`
    #[serde(rename = "iching")]
    Iching,
    /// `dream`
    #[serde(rename = "dream")]
    Dream,
    /// `person`
    #[serde(rename = "person")]
    Person,
    /// `media`
    #[serde(rename = "media")]
    Media,
    /// `natural`
    #[serde(rename = "natural")]
    Natural,
    /// `other`
    #[serde(rename = "other")]
    Other,
}

impl AugurSourceCategory {
    /// Every value, in the order the browser declares them.
    pub const ALL: [AugurSourceCategory; 10] = [
        AugurSourceCategory::Gut,
        AugurSourceCategory::Tarot,
        AugurSourceCategory::Horoscope,
        AugurSourceCategory::FortuneCookie,
        AugurSourceCategory::Iching,
        AugurSourceCategory::Dream,
        AugurSourceCategory::Person,
        AugurSourceCategory::Media,
        AugurSourceCategory::Natural,
        AugurSourceCategory::Other,
    ];

    /// The wire text.
    pub fn as_str(self) -> &'static str {
        match self {
            AugurSourceCategory::Gut => "gut",
            AugurSourceCategory::Tarot => "tarot",
            AugurSourceCategory::Horoscope => "horoscope",
            AugurSourceCategory::FortuneCookie => "fortune-cookie",
            AugurSourceCategory::Iching => "iching",
            AugurSourceCategory::Dream => "dream",
            AugurSourceCategory::Person => "person",
            AugurSourceCategory::Media => "media",
            AugurSourceCategory::Natural => "natural",
            AugurSourceCategory::Other => "other",
        }
    }
}

/// `MeImageKind`: 'face' | 'fullbody' | 'halfbody' | 'hands' | 'reference' (`apps/mana/apps/web/src/lib/modules/profile/types.ts:142`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum MeImageKind {
    /// `face`
    #[serde(rename = "face")]
    Face,
    /// `fullbody`
    #[serde(rename = "fullbody")]
    Fullbody,
    /// `halfbody`
    #[serde(rename = "halfbody")]
    Halfbody,
    /// `hands`
    #[serde(rename = "hands")]
    Hands,
    /// `reference`
    #[serde(rename = "reference")]
    Reference,
}

impl MeImageKind {
    /// Every value, in the order the browser declares them.
    pub const ALL: [MeImageKind; 5] = [
        MeImageKind::Face,
        MeImageKind::Fullbody,
        MeImageKind::Halfbody,
        MeImageKind::Hands,
        MeImageKind::Reference,
    ];

    /// The wire text.
    pub fn as_str(self) -> &'static str {
        match self {
            MeImageKind::Face => "face",
            MeImageKind::Fullbody => "fullbody",
            MeImageKind::Halfbody => "halfbody",
            MeImageKind::Hands => "hands",
            MeImageKind::Reference => "reference",
        }
    }
}

/// `MeImagePrimarySlot`: 'avatar' | 'face-ref' | 'body-ref' (`apps/mana/apps/web/src/lib/modules/profile/types.ts:151`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum MeImagePrimarySlot {
    /// `avatar`
    #[serde(rename = "avatar")]
    Avatar,
    /// `face-ref`
    #[serde(rename = "face-ref")]
    FaceRef,
    /// `body-ref`
    #[serde(rename = "body-ref")]
    BodyRef,
}

impl MeImagePrimarySlot {
    /// Every value, in the order the browser declares them.
    pub const ALL: [MeImagePrimarySlot; 3] = [
        MeImagePrimarySlot::Avatar,
        MeImagePrimarySlot::FaceRef,
        MeImagePrimarySlot::BodyRef,
    ];

    /// The wire text.
    pub fn as_str(self) -> &'static str {
        match self {
            MeImagePrimarySlot::Avatar => "avatar",
            MeImagePrimarySlot::FaceRef => "face-ref",
            MeImagePrimarySlot::BodyRef => "body-ref",
        }
    }
}

/// The visibility of a `LocalMeImage`: `'space' | 'private'` (`apps/mana/apps/web/src/lib/modules/profile/types.ts`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum MeImageVisibility {
    /// `space`
    #[serde(rename = "space")]
    Space,
    /// `private`
    #[serde(rename = "private")]
    Private,
}

impl MeImageVisibility {
    /// Every value, in the order the browser declares them.
    pub const ALL: [MeImageVisibility; 2] = [MeImageVisibility::Space, MeImageVisibility::Private];

    /// The wire text.
    pub fn as_str(self) -> &'static str {
        match self {
            MeImageVisibility::Space => "space",
            MeImageVisibility::Private => "private",
        }
    }
}

/// `Subtask` (`apps/mana/apps/web/src/lib/modules/todo/types.ts:18`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Subtask {
    /// `id: string`.
    #[serde(rename = "id")]
    pub id: String,
    /// `title: string`.
    #[serde(rename = "title")]
    pub title: String,
    /// `isCompleted: boolean`.
    #[serde(rename = "isCompleted")]
    pub is_completed: bool,
    /// `completedAt: string | null` (optional).
    #[serde(
        rename = "completedAt",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub completed_at: Option<String>,
    /// `order: number`.
    #[serde(rename = "order")]
    pub order: f64,
    /// Fields this client does not know, kept as they are.
    #[serde(flatten)]
    #[schemars(skip)]
    pub other: Map<String, Value>,
}

/// `HabitSchedule` (`apps/mana/apps/web/src/lib/modules/habits/types.ts:13`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HabitSchedule {
    /// `days: number[]`.
    #[serde(rename = "days")]
    pub days: Vec<f64>,
    /// `time: string` (optional).
    #[serde(rename = "time", default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// Fields this client does not know, kept as they are.
    #[serde(flatten)]
    #[schemars(skip)]
    pub other: Map<String, Value>,
}

/// `MeImageUsage` (`apps/mana/apps/web/src/lib/modules/profile/types.ts:153`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MeImageUsage {
    /// `aiReference: boolean`.
    #[serde(rename = "aiReference")]
    pub ai_reference: bool,
    /// `showInProfile: boolean`.
    #[serde(rename = "showInProfile")]
    pub show_in_profile: bool,
    /// Fields this client does not know, kept as they are.
    #[serde(flatten)]
    #[schemars(skip)]
    pub other: Map<String, Value>,
}

/// A record of `todo/tasks` (the browser's `LocalTask`, `apps/mana/apps/web/src/lib/modules/todo/types.ts:29`),
/// decrypted: the browser encrypts `title`, `description`, `subtasks`, `metadata`.
///
/// Fields this client does not know are kept in [`Self::other`] and written
/// back as they are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Task {
    /// `id: string`.
    #[serde(rename = "id")]
    pub id: String,
    /// `userId: string` (optional).
    #[serde(rename = "userId", default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// `createdAt: string` (optional).
    #[serde(rename = "createdAt", default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// `updatedAt: string` (optional).
    #[serde(rename = "updatedAt", default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// `deletedAt: string | null` (optional).
    #[serde(rename = "deletedAt", default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<String>,
    /// `title: string` — encrypted by the browser.
    #[serde(rename = "title")]
    pub title: String,
    /// `description: string` (optional) — encrypted by the browser.
    #[serde(
        rename = "description",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<String>,
    /// `projectId: string | null` (optional).
    #[serde(rename = "projectId", default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    /// `priority: TaskPriority`.
    #[serde(rename = "priority")]
    pub priority: TaskPriority,
    /// `isCompleted: boolean`.
    #[serde(rename = "isCompleted")]
    pub is_completed: bool,
    /// `completedAt: string | null` (optional).
    #[serde(
        rename = "completedAt",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub completed_at: Option<String>,
    /// `dueDate: string | null` (optional).
    #[serde(rename = "dueDate", default, skip_serializing_if = "Option::is_none")]
    pub due_date: Option<String>,
    /// `scheduledBlockId: string | null` (optional).
    #[serde(
        rename = "scheduledBlockId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub scheduled_block_id: Option<String>,
    /// `estimatedDuration: number | null` (optional).
    #[serde(
        rename = "estimatedDuration",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub estimated_duration: Option<f64>,
    /// `order: number`.
    #[serde(rename = "order")]
    pub order: f64,
    /// `subtasks: Subtask[] | null` (optional) — encrypted by the browser.
    #[serde(rename = "subtasks", default, skip_serializing_if = "Option::is_none")]
    pub subtasks: Option<Vec<Subtask>>,
    /// `transcriptModel: string | null` (optional).
    #[serde(
        rename = "transcriptModel",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub transcript_model: Option<String>,
    /// `metadata: Record<string, unknown>` (optional) — encrypted by the browser.
    #[serde(rename = "metadata", default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
    /// `visibility: VisibilityLevel` (optional).
    #[serde(
        rename = "visibility",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub visibility: Option<VisibilityLevel>,
    /// `visibilityChangedAt: string` (optional).
    #[serde(
        rename = "visibilityChangedAt",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub visibility_changed_at: Option<String>,
    /// `visibilityChangedBy: string` (optional).
    #[serde(
        rename = "visibilityChangedBy",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub visibility_changed_by: Option<String>,
    /// `unlistedToken: string` (optional).
    #[serde(
        rename = "unlistedToken",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub unlisted_token: Option<String>,
    /// Fields this client does not know, kept as they are.
    #[serde(flatten)]
    #[schemars(skip)]
    pub other: Map<String, Value>,
}

impl Record for Task {
    const APP_ID: &'static str = "todo";
    const COLLECTION: &'static str = "tasks";
}

/// A record of `notes/notes` (the browser's `LocalNote`, `apps/mana/apps/web/src/lib/modules/notes/types.ts:11`),
/// decrypted: the browser encrypts `title`, `content`.
///
/// Fields this client does not know are kept in [`Self::other`] and written
/// back as they are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Note {
    /// `id: string`.
    #[serde(rename = "id")]
    pub id: String,
    /// `userId: string` (optional).
    #[serde(rename = "userId", default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// `createdAt: string` (optional).
    #[serde(rename = "createdAt", default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// `updatedAt: string` (optional).
    #[serde(rename = "updatedAt", default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// `deletedAt: string | null` (optional).
    #[serde(rename = "deletedAt", default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<String>,
    /// `title: string` — encrypted by the browser.
    #[serde(rename = "title")]
    pub title: String,
    /// `content: string` — encrypted by the browser.
    #[serde(rename = "content")]
    pub content: String,
    /// `color: string | null`.
    #[serde(rename = "color", default)]
    pub color: Option<String>,
    /// `transcriptModel: string | null` (optional).
    #[serde(
        rename = "transcriptModel",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub transcript_model: Option<String>,
    /// `isPinned: boolean`.
    #[serde(rename = "isPinned")]
    pub is_pinned: bool,
    /// `isArchived: boolean`.
    #[serde(rename = "isArchived")]
    pub is_archived: bool,
    /// `isSpaceContext: boolean` (optional).
    #[serde(
        rename = "isSpaceContext",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub is_space_context: Option<bool>,
    /// Fields this client does not know, kept as they are.
    #[serde(flatten)]
    #[schemars(skip)]
    pub other: Map<String, Value>,
}

impl Record for Note {
    const APP_ID: &'static str = "notes";
    const COLLECTION: &'static str = "notes";
}

/// A record of `journal/journalEntries` (the browser's `LocalJournalEntry`, `apps/mana/apps/web/src/lib/modules/journal/types.ts:19`),
/// decrypted: the browser encrypts `title`, `content`.
///
/// Fields this client does not know are kept in [`Self::other`] and written
/// back as they are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct JournalEntry {
    /// `id: string`.
    #[serde(rename = "id")]
    pub id: String,
    /// `userId: string` (optional).
    #[serde(rename = "userId", default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// `createdAt: string` (optional).
    #[serde(rename = "createdAt", default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// `updatedAt: string` (optional).
    #[serde(rename = "updatedAt", default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// `deletedAt: string | null` (optional).
    #[serde(rename = "deletedAt", default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<String>,
    /// `title: string | null` — encrypted by the browser.
    #[serde(rename = "title", default)]
    pub title: Option<String>,
    /// `content: string` — encrypted by the browser.
    #[serde(rename = "content")]
    pub content: String,
    /// `entryDate: string`.
    #[serde(rename = "entryDate")]
    pub entry_date: String,
    /// `mood: JournalMood | null`.
    #[serde(rename = "mood", default)]
    pub mood: Option<JournalMood>,
    /// `tags: string[]`.
    #[serde(rename = "tags")]
    pub tags: Vec<String>,
    /// `isPinned: boolean`.
    #[serde(rename = "isPinned")]
    pub is_pinned: bool,
    /// `isArchived: boolean`.
    #[serde(rename = "isArchived")]
    pub is_archived: bool,
    /// `isFavorite: boolean`.
    #[serde(rename = "isFavorite")]
    pub is_favorite: bool,
    /// `wordCount: number`.
    #[serde(rename = "wordCount")]
    pub word_count: f64,
    /// `transcriptModel: string | null` (optional).
    #[serde(
        rename = "transcriptModel",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub transcript_model: Option<String>,
    /// Fields this client does not know, kept as they are.
    #[serde(flatten)]
    #[schemars(skip)]
    pub other: Map<String, Value>,
}

impl Record for JournalEntry {
    const APP_ID: &'static str = "journal";
    const COLLECTION: &'static str = "journalEntries";
}

/// A record of `habits/habits` (the browser's `LocalHabit`, `apps/mana/apps/web/src/lib/modules/habits/types.ts:18`),
/// decrypted: the browser encrypts none of its fields.
///
/// Fields this client does not know are kept in [`Self::other`] and written
/// back as they are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Habit {
    /// `id: string`.
    #[serde(rename = "id")]
    pub id: String,
    /// `userId: string` (optional).
    #[serde(rename = "userId", default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// `createdAt: string` (optional).
    #[serde(rename = "createdAt", default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// `updatedAt: string` (optional).
    #[serde(rename = "updatedAt", default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// `deletedAt: string | null` (optional).
    #[serde(rename = "deletedAt", default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<String>,
    /// `title: string`.
    #[serde(rename = "title")]
    pub title: String,
    /// `icon: string`.
    #[serde(rename = "icon")]
    pub icon: String,
    /// `color: string`.
    #[serde(rename = "color")]
    pub color: String,
    /// `targetPerDay: number | null`.
    #[serde(rename = "targetPerDay", default)]
    pub target_per_day: Option<f64>,
    /// `defaultDuration: number | null` (optional).
    #[serde(
        rename = "defaultDuration",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub default_duration: Option<f64>,
    /// `schedule: HabitSchedule | null` (optional).
    #[serde(rename = "schedule", default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<HabitSchedule>,
    /// `order: number`.
    #[serde(rename = "order")]
    pub order: f64,
    /// `isArchived: boolean`.
    #[serde(rename = "isArchived")]
    pub is_archived: bool,
    /// `visibility: VisibilityLevel` (optional).
    #[serde(
        rename = "visibility",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub visibility: Option<VisibilityLevel>,
    /// `visibilityChangedAt: string` (optional).
    #[serde(
        rename = "visibilityChangedAt",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub visibility_changed_at: Option<String>,
    /// `visibilityChangedBy: string` (optional).
    #[serde(
        rename = "visibilityChangedBy",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub visibility_changed_by: Option<String>,
    /// Fields this client does not know, kept as they are.
    #[serde(flatten)]
    #[schemars(skip)]
    pub other: Map<String, Value>,
}

impl Record for Habit {
    const APP_ID: &'static str = "habits";
    const COLLECTION: &'static str = "habits";
}

/// A record of `habits/habitLogs` (the browser's `LocalHabitLog`, `apps/mana/apps/web/src/lib/modules/habits/types.ts:38`),
/// decrypted: the browser encrypts none of its fields.
///
/// Fields this client does not know are kept in [`Self::other`] and written
/// back as they are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HabitLog {
    /// `id: string`.
    #[serde(rename = "id")]
    pub id: String,
    /// `userId: string` (optional).
    #[serde(rename = "userId", default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// `createdAt: string` (optional).
    #[serde(rename = "createdAt", default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// `updatedAt: string` (optional).
    #[serde(rename = "updatedAt", default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// `deletedAt: string | null` (optional).
    #[serde(rename = "deletedAt", default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<String>,
    /// `habitId: string`.
    #[serde(rename = "habitId")]
    pub habit_id: String,
    /// `timeBlockId: string`.
    #[serde(rename = "timeBlockId")]
    pub time_block_id: String,
    /// `note: string | null`.
    #[serde(rename = "note", default)]
    pub note: Option<String>,
    /// Fields this client does not know, kept as they are.
    #[serde(flatten)]
    #[schemars(skip)]
    pub other: Map<String, Value>,
}

impl Record for HabitLog {
    const APP_ID: &'static str = "habits";
    const COLLECTION: &'static str = "habitLogs";
}

/// A record of `mood/moodEntries` (the browser's `LocalMoodEntry`, `apps/mana/apps/web/src/lib/modules/mood/types.ts:52`),
/// decrypted: the browser encrypts `withWhom`, `notes`.
///
/// Fields this client does not know are kept in [`Self::other`] and written
/// back as they are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MoodEntry {
    /// `id: string`.
    #[serde(rename = "id")]
    pub id: String,
    /// `userId: string` (optional).
    #[serde(rename = "userId", default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// `createdAt: string` (optional).
    #[serde(rename = "createdAt", default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// `updatedAt: string` (optional).
    #[serde(rename = "updatedAt", default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// `deletedAt: string | null` (optional).
    #[serde(rename = "deletedAt", default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<String>,
    /// `date: string`.
    #[serde(rename = "date")]
    pub date: String,
    /// `time: string`.
    #[serde(rename = "time")]
    pub time: String,
    /// `level: number`.
    #[serde(rename = "level")]
    pub level: f64,
    /// `emotion: CoreEmotion`.
    #[serde(rename = "emotion")]
    pub emotion: CoreEmotion,
    /// `secondaryEmotions: CoreEmotion[]`.
    #[serde(rename = "secondaryEmotions")]
    pub secondary_emotions: Vec<CoreEmotion>,
    /// `activity: ActivityContext | null`.
    #[serde(rename = "activity", default)]
    pub activity: Option<ActivityContext>,
    /// `withWhom: string` — encrypted by the browser.
    #[serde(rename = "withWhom")]
    pub with_whom: String,
    /// `notes: string` — encrypted by the browser.
    #[serde(rename = "notes")]
    pub notes: String,
    /// `tags: string[]`.
    #[serde(rename = "tags")]
    pub tags: Vec<String>,
    /// Fields this client does not know, kept as they are.
    #[serde(flatten)]
    #[schemars(skip)]
    pub other: Map<String, Value>,
}

impl Record for MoodEntry {
    const APP_ID: &'static str = "mood";
    const COLLECTION: &'static str = "moodEntries";
}

/// A record of `augur/augurEntries` (the browser's `LocalAugurEntry`, `apps/mana/apps/web/src/lib/modules/augur/types.ts:32`),
/// decrypted: the browser encrypts `source`, `claim`, `feltMeaning`, `expectedOutcome`, `outcomeNote`, `tags`, `livingOracleSnapshot`.
///
/// Fields this client does not know are kept in [`Self::other`] and written
/// back as they are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AugurEntry {
    /// `id: string`.
    #[serde(rename = "id")]
    pub id: String,
    /// `userId: string` (optional).
    #[serde(rename = "userId", default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// `createdAt: string` (optional).
    #[serde(rename = "createdAt", default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// `updatedAt: string` (optional).
    #[serde(rename = "updatedAt", default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// `deletedAt: string | null` (optional).
    #[serde(rename = "deletedAt", default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<String>,
    /// `kind: AugurKind`.
    #[serde(rename = "kind")]
    pub kind: AugurKind,
    /// `source: string` — encrypted by the browser.
    #[serde(rename = "source")]
    pub source: String,
    /// `sourceCategory: AugurSourceCategory`.
    #[serde(rename = "sourceCategory")]
    pub source_category: AugurSourceCategory,
    /// `claim: string` — encrypted by the browser.
    #[serde(rename = "claim")]
    pub claim: String,
    /// `vibe: AugurVibe`.
    #[serde(rename = "vibe")]
    pub vibe: AugurVibe,
    /// `feltMeaning: string | null` — encrypted by the browser.
    #[serde(rename = "feltMeaning", default)]
    pub felt_meaning: Option<String>,
    /// `expectedOutcome: string | null` — encrypted by the browser.
    #[serde(rename = "expectedOutcome", default)]
    pub expected_outcome: Option<String>,
    /// `expectedBy: string | null`.
    #[serde(rename = "expectedBy", default)]
    pub expected_by: Option<String>,
    /// `probability: number | null`.
    #[serde(rename = "probability", default)]
    pub probability: Option<f64>,
    /// `outcome: AugurOutcome`.
    #[serde(rename = "outcome")]
    pub outcome: AugurOutcome,
    /// `outcomeNote: string | null` — encrypted by the browser.
    #[serde(rename = "outcomeNote", default)]
    pub outcome_note: Option<String>,
    /// `resolvedAt: string | null`.
    #[serde(rename = "resolvedAt", default)]
    pub resolved_at: Option<String>,
    /// `encounteredAt: string`.
    #[serde(rename = "encounteredAt")]
    pub encountered_at: String,
    /// `tags: string[]` — encrypted by the browser.
    #[serde(rename = "tags")]
    pub tags: Vec<String>,
    /// `relatedDreamId: string | null`.
    #[serde(rename = "relatedDreamId", default)]
    pub related_dream_id: Option<String>,
    /// `relatedDecisionId: string | null`.
    #[serde(rename = "relatedDecisionId", default)]
    pub related_decision_id: Option<String>,
    /// `livingOracleSnapshot: string | null` — encrypted by the browser.
    #[serde(rename = "livingOracleSnapshot", default)]
    pub living_oracle_snapshot: Option<String>,
    /// `isPrivate: boolean`.
    #[serde(rename = "isPrivate")]
    pub is_private: bool,
    /// `isArchived: boolean`.
    #[serde(rename = "isArchived")]
    pub is_archived: bool,
    /// `visibility: VisibilityLevel` (optional).
    #[serde(
        rename = "visibility",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub visibility: Option<VisibilityLevel>,
    /// `visibilityChangedAt: string` (optional).
    #[serde(
        rename = "visibilityChangedAt",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub visibility_changed_at: Option<String>,
    /// `visibilityChangedBy: string` (optional).
    #[serde(
        rename = "visibilityChangedBy",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub visibility_changed_by: Option<String>,
    /// `unlistedToken: string` (optional).
    #[serde(
        rename = "unlistedToken",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub unlisted_token: Option<String>,
    /// `unlistedExpiresAt: string | null` (optional).
    #[serde(
        rename = "unlistedExpiresAt",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub unlisted_expires_at: Option<String>,
    /// Fields this client does not know, kept as they are.
    #[serde(flatten)]
    #[schemars(skip)]
    pub other: Map<String, Value>,
}

impl Record for AugurEntry {
    const APP_ID: &'static str = "augur";
    const COLLECTION: &'static str = "augurEntries";
}

/// A record of `profile/meImages` (the browser's `LocalMeImage`, `apps/mana/apps/web/src/lib/modules/profile/types.ts:160`),
/// decrypted: the browser encrypts `label`, `tags`.
///
/// Fields this client does not know are kept in [`Self::other`] and written
/// back as they are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MeImage {
    /// `userId: string` (optional).
    #[serde(rename = "userId", default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// `createdAt: string` (optional).
    #[serde(rename = "createdAt", default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// `updatedAt: string` (optional).
    #[serde(rename = "updatedAt", default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// `deletedAt: string | null` (optional).
    #[serde(rename = "deletedAt", default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<String>,
    /// `id: string`.
    #[serde(rename = "id")]
    pub id: String,
    /// `kind: MeImageKind`.
    #[serde(rename = "kind")]
    pub kind: MeImageKind,
    /// `label: string` (optional) — encrypted by the browser.
    #[serde(rename = "label", default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// `mediaId: string`.
    #[serde(rename = "mediaId")]
    pub media_id: String,
    /// `storagePath: string`.
    #[serde(rename = "storagePath")]
    pub storage_path: String,
    /// `publicUrl: string`.
    #[serde(rename = "publicUrl")]
    pub public_url: String,
    /// `thumbnailUrl: string | null` (optional).
    #[serde(
        rename = "thumbnailUrl",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub thumbnail_url: Option<String>,
    /// `width: number`.
    #[serde(rename = "width")]
    pub width: f64,
    /// `height: number`.
    #[serde(rename = "height")]
    pub height: f64,
    /// `tags: string[]` — encrypted by the browser.
    #[serde(rename = "tags")]
    pub tags: Vec<String>,
    /// `usage: MeImageUsage`.
    #[serde(rename = "usage")]
    pub usage: MeImageUsage,
    /// `primaryFor: MeImagePrimarySlot | null` (optional).
    #[serde(
        rename = "primaryFor",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub primary_for: Option<MeImagePrimarySlot>,
    /// `spaceId: string` (optional).
    #[serde(rename = "spaceId", default, skip_serializing_if = "Option::is_none")]
    pub space_id: Option<String>,
    /// `authorId: string` (optional).
    #[serde(rename = "authorId", default, skip_serializing_if = "Option::is_none")]
    pub author_id: Option<String>,
    /// `visibility: 'space' | 'private'` (optional).
    #[serde(
        rename = "visibility",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub visibility: Option<MeImageVisibility>,
    /// Fields this client does not know, kept as they are.
    #[serde(flatten)]
    #[schemars(skip)]
    pub other: Map<String, Value>,
}

impl Record for MeImage {
    const APP_ID: &'static str = "profile";
    const COLLECTION: &'static str = "meImages";
}
