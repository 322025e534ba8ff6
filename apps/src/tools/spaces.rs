//! `spaces.list`: the user's spaces, from the auth service
//! (`GET {auth}/api/auth/organization/list`).

use http::{header, Method, Request, Response};
use mana_sync_core::{Config, Error, Operation, Step, Timestamp, TransportError};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Plan, Read, Spec, Tool, ToolError};

/// Bodies past this are refused (a list of spaces is small).
const MAX_BODY: u64 = 1 << 20;

/// One space.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Space {
    /// Its id (the `spaceId` of changes).
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its slug.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slug: Option<String>,
    /// `personal`, `brand`, `club`, `family`, `team` or `practice`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The user's role in it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

/// The operation: one GET to the auth service with the user's token.
#[derive(Debug)]
pub struct Fetch {
    request: Option<Request<Vec<u8>>>,
    result: Option<Result<Vec<Space>, Error>>,
}

impl Fetch {
    /// The GET for `config`'s token at its auth URL
    /// ([`Config::with_auth_url`]).
    pub fn new(config: &Config) -> Result<Fetch, Error> {
        let auth = config.auth_url().ok_or_else(|| Error::InvalidConfig {
            reason: "spaces come from the auth service: set the auth URL (Config::with_auth_url, \
                     --auth-url or MANA_AUTH_URL)"
                .into(),
        })?;
        let request = Request::builder()
            .method(Method::GET)
            .uri(format!("{}/api/auth/organization/list", auth.as_str()))
            .header(
                header::AUTHORIZATION,
                format!("Bearer {}", config.token().expose()),
            )
            .header(header::ACCEPT, "application/json")
            .body(Vec::new())
            .map_err(|_| Error::InvalidConfig {
                reason: "the auth URL does not make a request URL".into(),
            })?;
        Ok(Fetch {
            request: Some(request),
            result: None,
        })
    }
}

fn text(body: &[u8]) -> String {
    String::from_utf8_lossy(body).chars().take(200).collect()
}

/// The spaces of a 200 answer: an array of organisations (or `{data: [..]}`),
/// each `{id, name, slug?, metadata: {type}|"json", role?}`.
fn parse(body: &[u8]) -> Result<Vec<Space>, Error> {
    let value: Value = serde_json::from_slice(body).map_err(|e| Error::Protocol {
        reason: format!("the auth service's space list is not JSON: {e}"),
    })?;
    let list = match &value {
        Value::Array(list) => list.as_slice(),
        Value::Object(o) => o
            .get("data")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice),
        _ => &[],
    };
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    Ok(list
        .iter()
        .filter_map(|org| {
            let metadata = match org.get("metadata") {
                Some(Value::String(text)) => serde_json::from_str(text).unwrap_or(Value::Null),
                Some(other) => other.clone(),
                None => Value::Null,
            };
            Some(Space {
                id: s(org, "id")?,
                name: s(org, "name").unwrap_or_default(),
                slug: s(org, "slug"),
                kind: s(&metadata, "type"),
                role: s(org, "role"),
            })
        })
        .collect())
}

impl Operation for Fetch {
    type Output = Vec<Space>;

    fn step(&mut self, _now: Timestamp) -> Step<Vec<Space>> {
        if let Some(request) = self.request.take() {
            return Step::Send(request);
        }
        Step::Done(self.result.take().unwrap_or(Err(Error::Misuse {
            reason: "spaces::Fetch stepped after it finished",
        })))
    }

    fn on_response(
        &mut self,
        _now: Timestamp,
        response: Result<Response<Vec<u8>>, TransportError>,
    ) {
        let result = match response {
            Err(e) => Err(Error::Transport(e)),
            Ok(r) if u64::try_from(r.body().len()).unwrap_or(u64::MAX) > MAX_BODY => {
                Err(Error::ResponseTooLarge { limit: MAX_BODY })
            }
            Ok(r) => match r.status().as_u16() {
                200 => parse(r.body()),
                status @ (401 | 403) => Err(Error::Unauthorized {
                    status,
                    body: text(r.body()),
                }),
                status @ 500..=599 => Err(Error::Server {
                    status,
                    body: text(r.body()),
                }),
                status => Err(Error::Rejected {
                    status,
                    body: text(r.body()),
                }),
            },
        };
        self.result = Some(result);
    }
}

/// The input of [`List`]: none.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListInput {}

/// The output of [`List`].
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListOutput {
    /// The user's spaces.
    pub spaces: Vec<Space>,
    /// The space the tools write to (`Tools::in_space`), else the personal
    /// one's id, if the list has one.
    pub active_space_id: Option<String>,
}

/// `spaces.list`: the spaces the user belongs to.
///
/// Differs from the TypeScript tool: asks the auth URL of the client's
/// config (the TypeScript tool read a process-wide `MANA_AUTH_URL`);
/// `activeSpaceId` is null when no space was chosen and none is personal.
pub struct List;

impl Tool for List {
    const SPEC: Spec = Spec::spaces(
        "spaces.list",
        "List the spaces (personal, team, family...) the user belongs to.",
    );
    type Input = ListInput;
    type Output = ListOutput;

    fn run(_: ListInput, read: Read<'_>) -> Result<Plan<ListOutput>, ToolError> {
        let spaces = read.spaces.unwrap_or_default();
        let active = read.space_id.map(str::to_owned).or_else(|| {
            spaces
                .iter()
                .find(|s| s.kind.as_deref() == Some("personal"))
                .map(|s| s.id.clone())
        });
        Ok(Plan::read(ListOutput {
            spaces,
            active_space_id: active,
        }))
    }
}
