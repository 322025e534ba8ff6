//! [`ChangePages`]: the changes of several pages, in order, each page kept
//! as its response's bytes ([`Changes`]).

use std::fmt;

use serde::{Serialize, Serializer};

use super::{Change, ChangeRef, Changes};

/// The changes of several responses (the pages of a
/// [`crate::ops::PullAll`]), in order, kept as the pages' bytes: nothing is
/// copied per change until asked ([`ChangePages::to_vec`], or iterating by
/// value).
///
/// ```
/// # use mana_sync_core::surface as mana_sync_ureq;
/// use mana_sync_ureq::wire::ChangePages;
/// use mana_sync_ureq::SyncResponse;
///
/// let page = |id: &str| -> SyncResponse {
///     let body = format!(r#"{{"serverChanges":[{{"table":"t","id":"{id}","op":"delete"}}],"syncedUntil":"2026-01-01T00:00:00Z"}}"#);
///     serde_json::from_str(&body).unwrap()
/// };
/// let mut pages = ChangePages::new();
/// pages.push(page("a").server_changes);
/// pages.push(page("b").server_changes);
/// assert_eq!(pages.len(), 2);
/// let ids: Vec<String> = pages.iter().map(|c| c.id().into_owned()).collect();
/// assert_eq!(ids, ["a", "b"]);
/// assert_eq!(pages.get(1).map(|c| c.id().into_owned()).as_deref(), Some("b"));
/// assert_eq!(pages.to_vec()[0].id, "a");
/// ```
#[derive(Clone, Default)]
pub struct ChangePages {
    pages: Vec<Changes>,
    len: usize,
}

impl ChangePages {
    /// No pages.
    pub fn new() -> ChangePages {
        ChangePages::default()
    }

    /// Appends a page's changes.
    pub fn push(&mut self, page: Changes) {
        self.len = self.len.saturating_add(page.len());
        self.pages.push(page);
    }

    /// The pages, in order (a page may be empty).
    pub fn pages(&self) -> &[Changes] {
        &self.pages
    }

    /// How many changes, over all pages.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Change `index`, counted over all pages.
    pub fn get(&self, mut index: usize) -> Option<ChangeRef<'_>> {
        for page in &self.pages {
            match page.get(index) {
                Some(change) => return Some(change),
                None => index = index.checked_sub(page.len())?,
            }
        }
        None
    }

    /// The changes, in order.
    pub fn iter(&self) -> PagesIter<'_> {
        PagesIter {
            inner: self.pages.iter().flatten(),
            left: self.len,
        }
    }

    /// Every change, copied out.
    pub fn to_vec(&self) -> Vec<Change> {
        self.iter().map(|c| c.to_change()).collect()
    }

    /// Every change, copied out.
    pub fn into_vec(self) -> Vec<Change> {
        self.to_vec()
    }
}

impl fmt::Debug for ChangePages {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl PartialEq for ChangePages {
    fn eq(&self, other: &ChangePages) -> bool {
        self.len == other.len && self.iter().zip(other.iter()).all(|(a, b)| a == b)
    }
}

impl PartialEq<[Change]> for ChangePages {
    fn eq(&self, other: &[Change]) -> bool {
        self.len == other.len() && self.iter().zip(other).all(|(a, b)| a == *b)
    }
}

impl PartialEq<Vec<Change>> for ChangePages {
    fn eq(&self, other: &Vec<Change>) -> bool {
        *self == **other
    }
}

impl Serialize for ChangePages {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl From<Changes> for ChangePages {
    fn from(page: Changes) -> ChangePages {
        let mut pages = ChangePages::new();
        pages.push(page);
        pages
    }
}

impl<'a> IntoIterator for &'a ChangePages {
    type Item = ChangeRef<'a>;
    type IntoIter = PagesIter<'a>;
    fn into_iter(self) -> PagesIter<'a> {
        self.iter()
    }
}

impl IntoIterator for ChangePages {
    type Item = Change;
    type IntoIter = std::iter::Flatten<std::vec::IntoIter<Changes>>;
    fn into_iter(self) -> Self::IntoIter {
        self.pages.into_iter().flatten()
    }
}

/// The changes of a [`ChangePages`], borrowed.
#[derive(Clone)]
pub struct PagesIter<'a> {
    inner: std::iter::Flatten<std::slice::Iter<'a, Changes>>,
    left: usize,
}

impl<'a> Iterator for PagesIter<'a> {
    type Item = ChangeRef<'a>;
    fn next(&mut self) -> Option<ChangeRef<'a>> {
        let next = self.inner.next()?;
        self.left = self.left.saturating_sub(1);
        Some(next)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for PagesIter<'_> {}
