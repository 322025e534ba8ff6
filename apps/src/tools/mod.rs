//! The agent tools of the Mana apps (the upstream tool registry's, as
//! `record-shapes.json` lists them), as a library: each a function of
//! [`Tools`] over a [`BlockingClient`] or an [`AsyncClient`], with a typed
//! input (a JSON Schema from `schemars`) and a typed output.
//!
//! Each tool is one sans-IO [`Tool`]: what it reads (a folded collection,
//! and the master key if it encrypts or decrypts), then a pure function from
//! its input and what was read to the changes it pushes and its output. The
//! facades only fetch what it needs and push what it returns, written once
//! for both by one macro.
//!
//! Where the TypeScript tools went wrong against the real server, these do
//! it the protocol's way, for every tool:
//!
//! * reads fold the whole collection (every page, updates and deletes
//!   applied, this client's own writes included), not the inserts of the
//!   first page;
//! * field changes are stamped with `at` (the TypeScript tools wrote
//!   `updatedAt`, which the browser ignores), and `updatedAt` is written as
//!   a field of the same change;
//! * the fields encrypted are exactly the registry's for the app and
//!   collection ([`crate::Registry`]), and the pushes go through the
//!   plaintext guard when the client's config has it on;
//! * the client id is the caller's config's: see
//!   [`crate::installation_client_id`] for one unique per installation.
//!
//! ```
//! use mana_sync_apps::tools::{todo, Tools};
//! use mana_sync_core::{crypto::MasterKey, Config};
//! use mana_sync_testkit::{token_for, InProcess, Vault};
//!
//! let net = InProcess::default(); // in real use: mana_sync_ureq::client(config)?
//! net.server().set_vault("u-1", Vault::Standard(MasterKey::from_bytes(&[7; 32])?));
//! let config = Config::new("http://mana.test", token_for("u-1"), "my-agent")?
//!     .with_auth_url("http://mana.test")?;
//! let tools = Tools::new(net.blocking_client(mana_sync_apps::guarded(config)));
//!
//! let task = tools.todo_create(todo::CreateInput::titled("Buy milk"))?.task;
//! tools.call_json("todo.complete", serde_json::json!({"id": task.id}))?;
//! let done = tools.todo_list(todo::ListInput { include_completed: true, limit: 10 })?;
//! assert!(done.tasks[0].is_completed);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`BlockingClient`]: mana_sync_core::BlockingClient
//! [`AsyncClient`]: mana_sync_core::AsyncClient

mod context;
mod error;
mod input;
mod spec;

pub mod augur;
pub mod habits;
pub mod journal;
pub mod me;
pub mod mood;
pub mod notes;
pub mod spaces;
pub mod todo;

pub use context::{Plan, Read};
pub use error::ToolError;
pub use spec::Spec;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// What a tool does to the user's data, for an agent's policy (MCP
/// annotations).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Reads only.
    Read,
    /// Writes (creates or changes records).
    Write,
    /// Writes something that cannot be taken back by the tools themselves.
    Destructive,
}

/// What a tool reads before it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// Nothing from sync.
    Nothing,
    /// The folded records of one collection of its app.
    Records,
    /// The user's spaces, from the auth service.
    Spaces,
}

/// One agent tool, sans IO.
pub trait Tool {
    /// What it is: name, description, policy, collection, what it reads.
    const SPEC: Spec;
    /// Its input.
    type Input: DeserializeOwned + JsonSchema + Send;
    /// Its output.
    type Output: Serialize + JsonSchema + Send;

    /// Checks the input (lengths, ranges, formats): a [`ToolError::Input`]
    /// naming the field. By default, every input its type admits is good.
    fn check(input: &Self::Input) -> Result<(), ToolError> {
        let _ = input;
        Ok(())
    }

    /// The changes to push and the output, from the input and what was read.
    fn run(input: Self::Input, read: Read<'_>) -> Result<Plan<Self::Output>, ToolError>;
}

/// The agent tools over a client (blocking or async): `Tools::new(client)`,
/// then one method per tool.
#[derive(Clone, Debug)]
pub struct Tools<C> {
    client: C,
    space_id: Option<String>,
}

impl<C> Tools<C> {
    /// The tools over `client`; writes carry no space id (the server's
    /// default, the user's personal space).
    pub fn new(client: C) -> Tools<C> {
        Tools {
            client,
            space_id: None,
        }
    }

    /// Writes go to space `space_id` (set on each change), and the tools
    /// that keep to one space read only its records.
    pub fn in_space(mut self, space_id: impl Into<String>) -> Tools<C> {
        self.space_id = Some(space_id.into());
        self
    }

    /// The client.
    pub fn client(&self) -> &C {
        &self.client
    }
}

/// A tool's entry in [`TOOLS`]: its name, description, policy and input
/// schema, for a server that lists them (MCP).
#[derive(Debug, Clone, Copy)]
pub struct ToolInfo {
    /// The tool's name.
    pub name: &'static str,
    /// What it is for.
    pub description: &'static str,
    /// Its policy hint.
    pub policy: Policy,
    /// Its input's JSON Schema.
    pub input_schema: fn() -> serde_json::Value,
    /// Its output's JSON Schema.
    pub output_schema: fn() -> serde_json::Value,
}

fn schema<T: JsonSchema>() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(T)).unwrap_or_default()
}

macro_rules! tools {
    ($( $method:ident => $tool:ty ),* $(,)?) => {
        /// Every tool: name, description, policy, schemas.
        pub const TOOLS: &[ToolInfo] = &[$(ToolInfo {
            name: <$tool as Tool>::SPEC.name,
            description: <$tool as Tool>::SPEC.description,
            policy: <$tool as Tool>::SPEC.policy,
            input_schema: schema::<<$tool as Tool>::Input>,
            output_schema: schema::<<$tool as Tool>::Output>,
        }),*];

        impl<T: mana_sync_core::BlockingTransport> Tools<mana_sync_core::BlockingClient<T>> {
            $(
                #[doc = concat!("Runs [`", stringify!($tool), "`] (see there).")]
                pub fn $method(&self, input: <$tool as Tool>::Input) -> Result<<$tool as Tool>::Output, ToolError> {
                    self.call::<$tool>(input)
                }
            )*

            /// Runs the tool named `name` on a JSON input, returning its
            /// JSON output (for a server that dispatches by name).
            pub fn call_json(&self, name: &str, input: serde_json::Value) -> Result<serde_json::Value, ToolError> {
                match name {
                    $( n if n == <$tool as Tool>::SPEC.name => context::to_json(self.call::<$tool>(context::from_json::<$tool>(input)?)?), )*
                    _ => Err(ToolError::UnknownTool { name: mana_sync_core_bound(name) }),
                }
            }
        }

        impl<T: mana_sync_core::AsyncTransport> Tools<mana_sync_core::AsyncClient<T>> {
            $(
                #[doc = concat!("Runs [`", stringify!($tool), "`] (see there).")]
                pub async fn $method(&self, input: <$tool as Tool>::Input) -> Result<<$tool as Tool>::Output, ToolError> {
                    self.call::<$tool>(input).await
                }
            )*

            /// Runs the tool named `name` on a JSON input, returning its
            /// JSON output (for a server that dispatches by name).
            pub async fn call_json(&self, name: &str, input: serde_json::Value) -> Result<serde_json::Value, ToolError> {
                match name {
                    $( n if n == <$tool as Tool>::SPEC.name => context::to_json(self.call::<$tool>(context::from_json::<$tool>(input)?).await?), )*
                    _ => Err(ToolError::UnknownTool { name: mana_sync_core_bound(name) }),
                }
            }
        }
    };
}

/// `name`, at most 100 characters (it goes into an error).
fn mana_sync_core_bound(name: &str) -> String {
    name.chars().take(100).collect()
}

tools! {
    augur_capture_sign => augur::CaptureSign,
    augur_consult_oracle => augur::ConsultOracle,
    augur_list_open_signs => augur::ListOpenSigns,
    augur_resolve_sign => augur::ResolveSign,
    augur_year_recap => augur::YearRecap,
    habits_archive => habits::Archive,
    habits_create => habits::Create,
    habits_list => habits::List,
    habits_update => habits::Update,
    journal_add => journal::Add,
    me_list_reference_images => me::ListReferenceImages,
    mood_log => mood::Log,
    mood_recent => mood::Recent,
    mood_today => mood::Today,
    notes_create => notes::Create,
    notes_search => notes::Search,
    spaces_list => spaces::List,
    todo_complete => todo::Complete,
    todo_create => todo::Create,
    todo_list => todo::List,
}

/// The driver, written once for both facades: `$($await)*` is empty for
/// the blocking client and `.await` for the async one.
macro_rules! driver {
    ($client:ty, $bound:path, $($async:ident)?, $($await:tt)*) => {
        impl<T: $bound> Tools<$client> {
            /// Runs tool `X`: checks the input, reads what it needs, runs it
            /// and pushes what it writes (one push, asking for nothing back).
            pub $($async)? fn call<X: Tool>(&self, input: X::Input) -> Result<X::Output, ToolError> {
                X::check(&input)?;
                let now = self.client.batch(X::SPEC.app_id).now();
                let key = if X::SPEC.needs_key { Some(self.client.master_key() $($await)* ?) } else { None };
                let records = match X::SPEC.needs {
                    Needs::Records => self.client.records(X::SPEC.app_id, X::SPEC.collection, false) $($await)* ?,
                    _ => Vec::new(),
                };
                let spaces = match X::SPEC.needs {
                    Needs::Spaces => Some(self.client.run(spaces::Fetch::new(self.client.config())?) $($await)* ?),
                    _ => None,
                };
                let read = Read {
                    records: &records,
                    key: key.as_ref(),
                    now,
                    space_id: self.space_id.as_deref(),
                    spaces,
                };
                let plan = X::run(input, read)?;
                if !plan.changes.is_empty() {
                    let changes: Vec<_> = match &self.space_id {
                        Some(space) => plan.changes.into_iter().map(|c| c.with_space(space.clone())).collect(),
                        None => plan.changes,
                    };
                    self.client.push(X::SPEC.app_id, &changes, &mana_sync_core::Cursor::from(now)) $($await)* ?;
                }
                Ok(plan.output)
            }
        }
    };
}

driver!(mana_sync_core::BlockingClient<T>, mana_sync_core::BlockingTransport, ,);
driver!(mana_sync_core::AsyncClient<T>, mana_sync_core::AsyncTransport, async, .await);
