//! What a tool is: its name, description and policy, the collection it
//! works on and what it reads before it runs ([`Spec`]).

use super::{Needs, Policy};
use crate::records::Record;

/// A tool's facts, for the driver (what to read, where to push) and for a
/// server that lists the tools (name, description, policy hint).
///
/// Built in a `const` from the typed record the tool works on, so its app
/// and wire collection are the record's:
///
/// ```
/// use mana_sync_apps::records::Task;
/// use mana_sync_apps::tools::{Needs, Policy, Spec};
///
/// const SPEC: Spec = Spec::read::<Task>("todo.list", "List the user's tasks.")
///     .reading_records()
///     .with_key();
/// assert_eq!((SPEC.app_id, SPEC.collection), ("todo", "tasks"));
/// assert_eq!((SPEC.policy, SPEC.needs, SPEC.needs_key), (Policy::Read, Needs::Records, true));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    /// Its name in the tool registry (`todo.create`).
    pub name: &'static str,
    /// What it is for (shown to a model).
    pub description: &'static str,
    /// Its policy hint.
    pub policy: Policy,
    /// Its app (`spaces` for the tools of the auth service).
    pub app_id: &'static str,
    /// Its wire collection (empty for the tools of the auth service).
    pub collection: &'static str,
    /// What it reads.
    pub needs: Needs,
    /// Whether it needs the user's master key (it encrypts or decrypts).
    pub needs_key: bool,
}

impl Spec {
    /// A tool on `R`'s collection with `policy`, reading nothing, without
    /// the key.
    pub const fn new<R: Record>(
        policy: Policy,
        name: &'static str,
        description: &'static str,
    ) -> Spec {
        Spec {
            name,
            description,
            policy,
            app_id: R::APP_ID,
            collection: R::COLLECTION,
            needs: Needs::Nothing,
            needs_key: false,
        }
    }

    /// A tool that only reads `R`'s collection.
    pub const fn read<R: Record>(name: &'static str, description: &'static str) -> Spec {
        Spec::new::<R>(Policy::Read, name, description)
    }

    /// A tool that writes to `R`'s collection.
    pub const fn write<R: Record>(name: &'static str, description: &'static str) -> Spec {
        Spec::new::<R>(Policy::Write, name, description)
    }

    /// A tool that reads the user's spaces from the auth service.
    pub const fn spaces(name: &'static str, description: &'static str) -> Spec {
        Spec {
            name,
            description,
            policy: Policy::Read,
            app_id: "spaces",
            collection: "",
            needs: Needs::Spaces,
            needs_key: false,
        }
    }

    /// The tool reads the folded records of its collection first.
    pub const fn reading_records(self) -> Spec {
        Spec {
            needs: Needs::Records,
            ..self
        }
    }

    /// The tool needs the user's master key.
    pub const fn with_key(self) -> Spec {
        Spec {
            needs_key: true,
            ..self
        }
    }
}
