//! `me.listReferenceImages` (app `profile`, collection `meImages`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::context::decode;
use super::{Plan, Read, Spec, Tool, ToolError};
use crate::records::{MeImage, MeImageKind, MeImagePrimarySlot};

/// The input of [`ListReferenceImages`].
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListImagesInput {
    /// Only this kind.
    #[serde(default)]
    pub kind: Option<MeImageKind>,
}

/// A reference image, in short.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReferenceImage {
    /// The record's id.
    pub id: String,
    /// The media id (what an image service is given).
    pub media_id: String,
    /// Its kind.
    pub kind: MeImageKind,
    /// Its label, decrypted.
    pub label: Option<String>,
    /// What it is the primary image for.
    pub primary_for: Option<MeImagePrimarySlot>,
    /// Its public URL.
    pub public_url: Option<String>,
    /// Its thumbnail's URL.
    pub thumbnail_url: Option<String>,
    /// Width in pixels.
    pub width: Option<f64>,
    /// Height in pixels.
    pub height: Option<f64>,
    /// Its tags, decrypted.
    pub tags: Vec<String>,
}

/// The output of [`ListReferenceImages`].
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ListImagesOutput {
    /// The images the user allows as AI references.
    pub images: Vec<ReferenceImage>,
    /// Records that could not be read as images (left out).
    pub skipped: usize,
}

/// `me.listReferenceImages`: the user's images marked for AI reference
/// (`usage.aiReference`), `label` and `tags` decrypted.
///
/// Differs from the TypeScript tool: the folded records (an image whose
/// `usage` was later turned off is left out; the TypeScript tool, reading
/// inserts, still offered it); the space filter uses the record's own
/// `spaceId` field and applies only when the tools were given a space.
pub struct ListReferenceImages;

impl Tool for ListReferenceImages {
    const SPEC: Spec = Spec::read::<MeImage>(
        "me.listReferenceImages",
        "List the images of the user they allow as references for image generation.",
    )
    .reading_records()
    .with_key();
    type Input = ListImagesInput;
    type Output = ListImagesOutput;

    fn run(i: ListImagesInput, read: Read<'_>) -> Result<Plan<ListImagesOutput>, ToolError> {
        let (all, skipped) = decode::<MeImage>(&read);
        let images = all
            .into_iter()
            .filter(|m| {
                m.usage.ai_reference
                    && m.deleted_at.is_none()
                    && i.kind.is_none_or(|k| k == m.kind)
                    && read
                        .space_id
                        .is_none_or(|s| m.space_id.as_deref().is_none_or(|own| own == s))
            })
            .map(|m| ReferenceImage {
                id: m.id,
                media_id: m.media_id,
                kind: m.kind,
                label: m.label,
                primary_for: m.primary_for,
                public_url: Some(m.public_url),
                thumbnail_url: m.thumbnail_url,
                width: Some(m.width),
                height: Some(m.height),
                tags: m.tags,
            })
            .collect();
        Ok(Plan::read(ListImagesOutput { images, skipped }))
    }
}
