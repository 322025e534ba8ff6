//! `augur.captureSign`, `augur.listOpenSigns`, `augur.resolveSign`,
//! `augur.yearRecap`, `augur.consultOracle` (app `augur`, collection
//! `augurEntries`).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::context::{date_of, decode, insert, iso, must_exist, new_id, update};
use super::{input, Plan, Read, Spec, Tool, ToolError};
use crate::records::{
    AugurEntry, AugurKind, AugurOutcome, AugurSourceCategory, AugurVibe, VisibilityLevel,
};

fn other() -> AugurSourceCategory {
    AugurSourceCategory::Other
}

fn mysterious() -> AugurVibe {
    AugurVibe::Mysterious
}

/// The input of [`CaptureSign`].
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CaptureInput {
    /// `omen`, `fortune` or `hunch`.
    pub kind: AugurKind,
    /// Where the sign came from (1 to 500 characters).
    #[schemars(length(min = 1, max = 500))]
    pub source: String,
    /// What it says (1 to 2000 characters).
    #[schemars(length(min = 1, max = 2000))]
    pub claim: String,
    /// The kind of source (default `other`).
    #[serde(default = "other")]
    pub source_category: AugurSourceCategory,
    /// Its vibe (default `mysterious`).
    #[serde(default = "mysterious")]
    pub vibe: AugurVibe,
    /// What it felt like it meant (at most 2000), or null.
    #[serde(default)]
    #[schemars(length(max = 2000))]
    pub felt_meaning: Option<String>,
    /// What should happen (at most 2000), or null.
    #[serde(default)]
    #[schemars(length(max = 2000))]
    pub expected_outcome: Option<String>,
    /// By when, `YYYY-MM-DD`, or null.
    #[serde(default)]
    pub expected_by: Option<String>,
    /// How likely (0 to 1), or null.
    #[serde(default)]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub probability: Option<f64>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The day it was met, `YYYY-MM-DD` (default: today, UTC).
    #[serde(default)]
    pub encountered_at: Option<String>,
}

/// The output of [`CaptureSign`].
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CaptureOutput {
    /// The new entry's id.
    pub entry_id: String,
    /// Its kind.
    pub kind: AugurKind,
    /// Its source.
    pub source: String,
}

/// `augur.captureSign`: records a sign, its seven registry fields encrypted
/// (`source, claim, feltMeaning, expectedOutcome, outcomeNote, tags,
/// livingOracleSnapshot`).
///
/// Differs from the TypeScript tool: dates are checked as real dates.
pub struct CaptureSign;

impl Tool for CaptureSign {
    const SPEC: Spec = Spec::write::<AugurEntry>(
        "augur.captureSign",
        "Record an omen, fortune or hunch the user met.",
    )
    .with_key();
    type Input = CaptureInput;
    type Output = CaptureOutput;

    fn check(i: &CaptureInput) -> Result<(), ToolError> {
        input::length("source", &i.source, 1, 500)?;
        input::length("claim", &i.claim, 1, 2000)?;
        input::length_opt("feltMeaning", i.felt_meaning.as_deref(), 0, 2000)?;
        input::length_opt("expectedOutcome", i.expected_outcome.as_deref(), 0, 2000)?;
        input::date_opt("expectedBy", i.expected_by.as_deref())?;
        i.probability
            .map_or(Ok(()), |p| input::range("probability", p, 0.0, 1.0))?;
        input::date_opt("encounteredAt", i.encountered_at.as_deref())
    }

    fn run(i: CaptureInput, read: Read<'_>) -> Result<Plan<CaptureOutput>, ToolError> {
        let id = new_id();
        let now = iso(read.now);
        let entry = AugurEntry {
            id: id.clone(),
            user_id: None,
            created_at: Some(now.clone()),
            updated_at: Some(now),
            deleted_at: None,
            kind: i.kind,
            source: i.source.clone(),
            source_category: i.source_category,
            claim: i.claim,
            vibe: i.vibe,
            felt_meaning: i.felt_meaning,
            expected_outcome: i.expected_outcome,
            expected_by: i.expected_by,
            probability: i.probability,
            outcome: AugurOutcome::Open,
            outcome_note: None,
            resolved_at: None,
            encountered_at: i.encountered_at.unwrap_or_else(|| date_of(read.now)),
            tags: i.tags,
            related_dream_id: None,
            related_decision_id: None,
            living_oracle_snapshot: None,
            is_private: true,
            is_archived: false,
            visibility: Some(VisibilityLevel::Private),
            visibility_changed_at: None,
            visibility_changed_by: None,
            unlisted_token: None,
            unlisted_expires_at: None,
            other: Map::new(),
        };
        Ok(Plan::write(
            insert(&entry, read.key, &id)?,
            CaptureOutput {
                entry_id: id,
                kind: i.kind,
                source: i.source,
            },
        ))
    }
}

fn thirty() -> u32 {
    30
}

/// The input of [`ListOpenSigns`].
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListOpenInput {
    /// Only this kind.
    #[serde(default)]
    pub kind: Option<AugurKind>,
    /// At most this many (1 to 100, default 30).
    #[serde(default = "thirty")]
    #[schemars(range(min = 1, max = 100))]
    pub limit: u32,
}

/// An open sign, in short.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OpenSign {
    /// Its id.
    pub id: String,
    /// Its kind.
    pub kind: AugurKind,
    /// Its source.
    pub source: String,
    /// What it says.
    pub claim: String,
    /// Its vibe.
    pub vibe: AugurVibe,
    /// When it was met.
    pub encountered_at: String,
    /// By when it should come true.
    pub expected_by: Option<String>,
}

/// The output of [`ListOpenSigns`].
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ListOpenOutput {
    /// The open signs, the soonest due first.
    pub entries: Vec<OpenSign>,
    /// Records that could not be read as entries (left out).
    pub skipped: usize,
}

/// `augur.listOpenSigns`: the signs still open, soonest due first
/// (`expectedBy`, else `encounteredAt`).
///
/// Differs from the TypeScript tool: the folded records (a resolution
/// applied closes a sign; the TypeScript tool still listed it); no filter
/// on the space of the change, which the fold does not keep (entries of
/// other spaces are the user's too).
pub struct ListOpenSigns;

impl Tool for ListOpenSigns {
    const SPEC: Spec = Spec::read::<AugurEntry>(
        "augur.listOpenSigns",
        "List the user's signs that are still open.",
    )
    .reading_records()
    .with_key();
    type Input = ListOpenInput;
    type Output = ListOpenOutput;

    fn check(i: &ListOpenInput) -> Result<(), ToolError> {
        input::range("limit", i.limit, 1, 100)
    }

    fn run(i: ListOpenInput, read: Read<'_>) -> Result<Plan<ListOpenOutput>, ToolError> {
        let (mut all, skipped) = decode::<AugurEntry>(&read);
        all.retain(|e| {
            !e.is_archived && e.outcome == AugurOutcome::Open && i.kind.is_none_or(|k| k == e.kind)
        });
        all.sort_by(|a, b| {
            let due = |e: &AugurEntry| {
                e.expected_by
                    .clone()
                    .unwrap_or_else(|| e.encountered_at.clone())
            };
            due(a).cmp(&due(b))
        });
        all.truncate(usize::try_from(i.limit).unwrap_or(usize::MAX));
        let entries = all
            .into_iter()
            .map(|e| OpenSign {
                id: e.id,
                kind: e.kind,
                source: e.source,
                claim: e.claim,
                vibe: e.vibe,
                encountered_at: e.encountered_at,
                expected_by: e.expected_by,
            })
            .collect();
        Ok(Plan::read(ListOpenOutput { entries, skipped }))
    }
}

/// How a sign turned out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Resolution {
    /// It came true.
    Fulfilled,
    /// Partly.
    Partly,
    /// It did not.
    NotFulfilled,
}

impl Resolution {
    fn outcome(self) -> AugurOutcome {
        match self {
            Resolution::Fulfilled => AugurOutcome::Fulfilled,
            Resolution::Partly => AugurOutcome::Partly,
            Resolution::NotFulfilled => AugurOutcome::NotFulfilled,
        }
    }
}

/// The input of [`ResolveSign`].
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResolveInput {
    /// The entry's id.
    pub entry_id: String,
    /// How it turned out.
    pub outcome: Resolution,
    /// A note (at most 2000), or null.
    #[serde(default)]
    #[schemars(length(max = 2000))]
    pub note: Option<String>,
}

/// The output of [`ResolveSign`].
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResolveOutput {
    /// The entry's id.
    pub entry_id: String,
    /// How it turned out.
    pub outcome: Resolution,
}

/// `augur.resolveSign`: says how a sign turned out (`outcome`,
/// `outcomeNote` encrypted, `resolvedAt`, `updatedAt`, stamped with `at`).
///
/// Differs from the TypeScript tool: stamped with `at`; an unknown id is an
/// error.
pub struct ResolveSign;

impl Tool for ResolveSign {
    const SPEC: Spec =
        Spec::write::<AugurEntry>("augur.resolveSign", "Record how a sign turned out.")
            .reading_records()
            .with_key();
    type Input = ResolveInput;
    type Output = ResolveOutput;

    fn check(i: &ResolveInput) -> Result<(), ToolError> {
        input::length("entryId", &i.entry_id, 1, 200)?;
        input::length_opt("note", i.note.as_deref(), 0, 2000)
    }

    fn run(i: ResolveInput, read: Read<'_>) -> Result<Plan<ResolveOutput>, ToolError> {
        must_exist(&read, "augur entry", &i.entry_id)?;
        let mut fields = Map::new();
        fields.insert("outcome".into(), Value::from(i.outcome.outcome().as_str()));
        fields.insert(
            "outcomeNote".into(),
            i.note.map_or(Value::Null, Value::from),
        );
        fields.insert("resolvedAt".into(), Value::from(iso(read.now)));
        Ok(Plan::write(
            update::<AugurEntry>(&i.entry_id, fields, read.key, read.now)?,
            ResolveOutput {
                entry_id: i.entry_id,
                outcome: i.outcome,
            },
        ))
    }
}

/// The input of [`YearRecap`].
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RecapInput {
    /// The year (2000 to 2100; default: this year, UTC).
    #[serde(default)]
    #[schemars(range(min = 2000, max = 2100))]
    pub year: Option<u16>,
}

/// A source category's record.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CategoryScore {
    /// The category.
    pub category: AugurSourceCategory,
    /// Its signs that year.
    pub n: usize,
    /// Its hit rate among the resolved ones (0 when none).
    pub hit_rate: f64,
}

/// The output of [`YearRecap`].
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecapOutput {
    /// The year.
    pub year: u16,
    /// Signs met that year.
    pub total: usize,
    /// Of which resolved.
    pub resolved: usize,
    /// Of which open.
    pub open: usize,
    /// `(fulfilled + partly / 2) / resolved`, null with none resolved.
    pub hit_rate: Option<f64>,
    /// Counts by kind.
    pub by_kind: BTreeMap<String, usize>,
    /// Counts by vibe.
    pub by_vibe: BTreeMap<String, usize>,
    /// Counts by outcome.
    pub by_outcome: BTreeMap<String, usize>,
    /// The five most used source categories.
    pub top_categories: Vec<CategoryScore>,
    /// The category with the best hit rate (at least 3 signs), or null.
    pub best_source: Option<CategoryScore>,
    /// The category with the worst hit rate (at least 3 signs), or null.
    pub worst_source: Option<CategoryScore>,
}

fn hit_rate(entries: &[&AugurEntry]) -> Option<f64> {
    let resolved: Vec<_> = entries
        .iter()
        .filter(|e| e.outcome != AugurOutcome::Open)
        .collect();
    if resolved.is_empty() {
        return None;
    }
    let score: f64 = resolved
        .iter()
        .map(|e| match e.outcome {
            AugurOutcome::Fulfilled => 1.0,
            AugurOutcome::Partly => 0.5,
            _ => 0.0,
        })
        .sum();
    Some(score / super::todo::count(resolved.len()))
}

/// `augur.yearRecap`: a year of signs in numbers.
///
/// Differs from the TypeScript tool: counts the folded records (resolutions
/// applied: the TypeScript tool never saw one); the hit rate counts a
/// partly fulfilled sign as half.
pub struct YearRecap;

impl Tool for YearRecap {
    const SPEC: Spec = Spec::read::<AugurEntry>(
        "augur.yearRecap",
        "A recap of the user's signs of one year.",
    )
    .reading_records()
    .with_key();
    type Input = RecapInput;
    type Output = RecapOutput;

    fn check(i: &RecapInput) -> Result<(), ToolError> {
        i.year
            .map_or(Ok(()), |y| input::range("year", y, 2000, 2100))
    }

    fn run(i: RecapInput, read: Read<'_>) -> Result<Plan<RecapOutput>, ToolError> {
        let year = i.year.unwrap_or_else(|| {
            date_of(read.now)
                .get(..4)
                .and_then(|y| y.parse().ok())
                .unwrap_or(2000)
        });
        let (all, _) = decode::<AugurEntry>(&read);
        let prefix = format!("{year:04}");
        let entries: Vec<&AugurEntry> = all
            .iter()
            .filter(|e| e.encountered_at.starts_with(&prefix))
            .collect();
        let mut by_kind: BTreeMap<String, usize> = AugurKind::ALL
            .iter()
            .map(|k| (k.as_str().to_owned(), 0))
            .collect();
        let mut by_vibe: BTreeMap<String, usize> = AugurVibe::ALL
            .iter()
            .map(|k| (k.as_str().to_owned(), 0))
            .collect();
        let mut by_outcome: BTreeMap<String, usize> = AugurOutcome::ALL
            .iter()
            .map(|k| (k.as_str().to_owned(), 0))
            .collect();
        let mut by_category: BTreeMap<&'static str, (AugurSourceCategory, Vec<&AugurEntry>)> =
            BTreeMap::new();
        for e in &entries {
            *by_kind.entry(e.kind.as_str().to_owned()).or_default() += 1;
            *by_vibe.entry(e.vibe.as_str().to_owned()).or_default() += 1;
            *by_outcome.entry(e.outcome.as_str().to_owned()).or_default() += 1;
            by_category
                .entry(e.source_category.as_str())
                .or_insert_with(|| (e.source_category, Vec::new()))
                .1
                .push(e);
        }
        let mut scores: Vec<CategoryScore> = by_category
            .values()
            .map(|(category, list)| CategoryScore {
                category: *category,
                n: list.len(),
                hit_rate: hit_rate(list).unwrap_or(0.0),
            })
            .collect();
        scores.sort_by_key(|s| std::cmp::Reverse(s.n));
        let rated: Vec<&CategoryScore> = scores.iter().filter(|s| s.n >= 3).collect();
        let best = rated
            .iter()
            .max_by(|a, b| a.hit_rate.total_cmp(&b.hit_rate))
            .map(|s| (*s).clone());
        let worst = rated
            .iter()
            .min_by(|a, b| a.hit_rate.total_cmp(&b.hit_rate))
            .map(|s| (*s).clone());
        let open = entries
            .iter()
            .filter(|e| e.outcome == AugurOutcome::Open)
            .count();
        let output = RecapOutput {
            year,
            total: entries.len(),
            resolved: entries.len() - open,
            open,
            hit_rate: hit_rate(&entries),
            by_kind,
            by_vibe,
            by_outcome,
            top_categories: scores.into_iter().take(5).collect(),
            best_source: best,
            worst_source: worst,
        };
        Ok(Plan::read(output))
    }
}

/// The input of [`ConsultOracle`]: the sign to weigh.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConsultInput {
    /// Its kind.
    pub kind: AugurKind,
    /// Its source category.
    pub source_category: AugurSourceCategory,
    /// Its vibe.
    pub vibe: AugurVibe,
    /// Its source (at most 500).
    #[serde(default)]
    #[schemars(length(max = 500))]
    pub source: Option<String>,
    /// What it says (at most 2000).
    #[serde(default)]
    #[schemars(length(max = 2000))]
    pub claim: Option<String>,
    /// Its tags.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// How the matching signs turned out.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Breakdown {
    /// Came true.
    pub fulfilled: usize,
    /// Partly.
    pub partly: usize,
    /// Did not.
    pub not_fulfilled: usize,
}

/// When the oracle speaks.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Thresholds {
    /// Resolved signs needed in the history before it speaks.
    pub cold_start: usize,
    /// Matching signs needed.
    pub min_matches: usize,
    /// Resolved signs in the history.
    pub history_total: usize,
}

/// The output of [`ConsultOracle`].
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConsultOutput {
    /// Whether the history is large enough to say anything.
    pub speaks: bool,
    /// What it says, when it speaks.
    pub reflection: Option<String>,
    /// Resolved signs like this one.
    pub matches: usize,
    /// Their hit rate (0 with none).
    pub hit_rate: f64,
    /// How they turned out.
    pub breakdown: Breakdown,
    /// The thresholds.
    pub thresholds: Thresholds,
}

const COLD_START: usize = 50;
const MIN_MATCHES: usize = 3;

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() > 3)
        .map(str::to_lowercase)
        .collect()
}

/// `augur.consultOracle`: weighs a sign against how the user's resolved
/// signs like it turned out (same kind, category, vibe, shared tags or
/// words: two of them make a match); speaks with at least 50 resolved signs
/// and 3 matches.
///
/// Differs from the TypeScript tool: weighs the folded records (the
/// TypeScript tool saw no resolution, so it never spoke); the history
/// counts resolved signs.
pub struct ConsultOracle;

impl Tool for ConsultOracle {
    const SPEC: Spec = Spec::read::<AugurEntry>(
        "augur.consultOracle",
        "Weigh a sign against how the user's past signs like it turned out.",
    )
    .reading_records()
    .with_key();
    type Input = ConsultInput;
    type Output = ConsultOutput;

    fn check(i: &ConsultInput) -> Result<(), ToolError> {
        input::length_opt("source", i.source.as_deref(), 0, 500)?;
        input::length_opt("claim", i.claim.as_deref(), 0, 2000)
    }

    fn run(i: ConsultInput, read: Read<'_>) -> Result<Plan<ConsultOutput>, ToolError> {
        let (all, _) = decode::<AugurEntry>(&read);
        let history: Vec<&AugurEntry> = all
            .iter()
            .filter(|e| e.outcome != AugurOutcome::Open)
            .collect();
        let mut mine = words(i.source.as_deref().unwrap_or_default());
        mine.extend(words(i.claim.as_deref().unwrap_or_default()));
        let matching: Vec<&AugurEntry> = history
            .iter()
            .copied()
            .filter(|e| {
                let theirs: Vec<String> = words(&e.source)
                    .into_iter()
                    .chain(words(&e.claim))
                    .collect();
                let score = usize::from(e.kind == i.kind)
                    + usize::from(e.source_category == i.source_category)
                    + usize::from(e.vibe == i.vibe)
                    + usize::from(e.tags.iter().any(|t| i.tags.contains(t)))
                    + usize::from(theirs.iter().any(|w| mine.contains(w)));
                score >= 2
            })
            .collect();
        let count = |o: AugurOutcome| matching.iter().filter(|e| e.outcome == o).count();
        let rate = hit_rate(&matching).unwrap_or(0.0);
        let speaks = history.len() >= COLD_START && matching.len() >= MIN_MATCHES;
        let reflection = speaks.then(|| {
            format!(
                "Of {} signs like this one, {} came true and {} partly: a hit rate of {:.0}%.",
                matching.len(),
                count(AugurOutcome::Fulfilled),
                count(AugurOutcome::Partly),
                rate * 100.0
            )
        });
        Ok(Plan::read(ConsultOutput {
            speaks,
            reflection,
            matches: matching.len(),
            hit_rate: rate,
            breakdown: Breakdown {
                fulfilled: count(AugurOutcome::Fulfilled),
                partly: count(AugurOutcome::Partly),
                not_fulfilled: count(AugurOutcome::NotFulfilled),
            },
            thresholds: Thresholds {
                cold_start: COLD_START,
                min_matches: MIN_MATCHES,
                history_total: history.len(),
            },
        }))
    }
}
