//! [`PullInto`]: the incremental read of a collection into a [`Replica`],
//! each page folded as it arrives.

use http::Response;

use super::PullAll;
use crate::fold::{Applied, FoldReport, Replica, Seen};
use crate::{Config, Error, Operation, Step, Timestamp, TransportError};

/// Reads what is new in a collection since a [`Replica`]'s cursor and folds
/// it into the replica **page by page**: each page is applied when it
/// arrives and then dropped, so memory holds the replica and one page, never
/// the whole collection. Ends with the replica's read recorded
/// ([`Replica::set_read`]) and a [`FoldReport`].
///
/// It reads as [`PullAll::for_replica`] does: from the replica's cursor held
/// back by its overlap, this client's own changes included, re-read changes
/// recognised by `eventId` and not applied twice. The facades' `pull_into`
/// runs it.
///
/// If the read fails part-way, the pages that arrived are already folded in
/// but the cursor has not moved: the next read starts from the old cursor
/// again and recognises nothing it re-reads as seen, which the fold absorbs
/// (applying a change twice changes nothing).
///
/// ```
/// # use mana_sync_core::surface as mana_sync_ureq;
/// use mana_sync_ureq::fold::Replica;
/// use mana_sync_ureq::ops::PullInto;
/// use mana_sync_ureq::{Config, Operation, Step, Timestamp};
///
/// let config = Config::new("http://localhost:3050", "token", "my-app")?;
/// let mut replica = Replica::new();
/// let mut op = PullInto::new(&config, "todo", "tasks", &mut replica)?;
/// let Step::Send(request) = op.step(Timestamp::UNIX_EPOCH) else { unreachable!() };
/// assert!(request.uri().path().ends_with("/sync/todo/pull"));
/// // ...send it, hand the response to `op.on_response`, and step again
/// // until `Step::Done(report)`.
/// # Ok::<(), mana_sync_ureq::Error>(())
/// ```
pub struct PullInto<'r> {
    pull: PullAll,
    replica: &'r mut Replica,
    collection: String,
    /// What was applied, with the bounds of its pages.
    delivered: Seen,
    report: FoldReport,
    /// Changes delivered so far (the index [`FoldReport::dropped`] gives).
    index: usize,
}

impl<'r> PullInto<'r> {
    /// The incremental read of `collection` of app `app_id` into `replica`.
    pub fn new(
        config: &Config,
        app_id: &str,
        collection: &str,
        replica: &'r mut Replica,
    ) -> Result<PullInto<'r>, Error> {
        let pull = PullAll::for_replica(config, app_id, collection, replica)?.hand_over();
        Ok(PullInto {
            pull,
            replica,
            collection: collection.to_owned(),
            delivered: Seen::new(),
            report: FoldReport::default(),
            index: 0,
        })
    }

    /// Gives up after `pages` pages that all said `hasMore` (see
    /// [`PullAll::max_pages`]).
    pub fn max_pages(mut self, pages: usize) -> PullInto<'r> {
        self.pull = self.pull.max_pages(pages);
        self
    }

    /// Folds the page that just arrived, if any, and forgets its bytes.
    fn fold_page(&mut self) {
        let Some((page, bound)) = self.pull.take_page() else {
            return;
        };
        for change in page.iter() {
            match self.replica.apply_ref(change) {
                Applied::Applied(conflicts) => {
                    self.report.applied = self.report.applied.saturating_add(1);
                    self.report.conflicts.extend(conflicts);
                }
                Applied::Ignored => self.report.ignored = self.report.ignored.saturating_add(1),
                Applied::Dropped(why) => self.report.dropped.push((self.index, why)),
            }
            self.delivered.insert_change(change, bound);
            self.index = self.index.saturating_add(1);
        }
    }
}

impl Operation for PullInto<'_> {
    type Output = FoldReport;

    fn step(&mut self, now: Timestamp) -> Step<FoldReport> {
        match self.pull.step(now) {
            Step::Send(request) => Step::Send(request),
            Step::Wait(wait) => Step::Wait(wait),
            Step::Done(Err(e)) => Step::Done(Err(e)),
            Step::Done(Ok(outcome)) => {
                let mut delivered = std::mem::take(&mut self.delivered);
                for (key, bound) in outcome.refreshed {
                    delivered.insert(key, bound);
                }
                self.replica
                    .set_read(&self.collection, outcome.resume, delivered);
                let mut report = std::mem::take(&mut self.report);
                report.repeated = outcome.repeated;
                Step::Done(Ok(report))
            }
        }
    }

    fn on_response(&mut self, now: Timestamp, response: Result<Response<Vec<u8>>, TransportError>) {
        self.pull.on_response(now, response);
        self.fold_page();
    }
}
