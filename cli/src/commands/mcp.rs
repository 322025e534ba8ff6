//! `mcp`: the Mana agent tools ([`mana_sync_apps::tools`]) served over MCP
//! on stdin/stdout, with the official Rust SDK (`rmcp`).
//!
//! Each tool is listed with its input's JSON Schema and the annotations of
//! its policy hint (read-only, destructive); a call runs it as the user of
//! `--token` / `MANA_TOKEN`, against `--url` and `--auth-url`. A failing
//! call is a tool error whose text says what is wrong (the field, "token
//! refused", a zero-knowledge user), never a protocol error, never a secret.

use std::path::PathBuf;
use std::sync::Arc;

use indicatif::ProgressBar;
use mana_sync_apps::tools::{Policy, Tools, TOOLS};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
    ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};

use crate::args::{Global, McpArgs, DEFAULT_CLIENT_ID};
use crate::connect::{client, config, Client};
use crate::failure::Failure;

/// The MCP server: the tools over one blocking client, each call run on
/// tokio's blocking pool.
struct Server {
    tools: Arc<Tools<Client>>,
}

/// The tools as MCP lists them.
fn listed() -> Vec<Tool> {
    TOOLS
        .iter()
        .map(|info| {
            let schema = match (info.input_schema)() {
                serde_json::Value::Object(map) => map,
                _ => serde_json::Map::new(),
            };
            let annotations = ToolAnnotations::new()
                .read_only(info.policy == Policy::Read)
                .destructive(info.policy == Policy::Destructive)
                .open_world(false);
            Tool::new(info.name, info.description, schema).annotate(annotations)
        })
        .collect()
}

impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        let mut info = ServerConfig::new(ServerCapabilities::builder().enable_tools().build());
        info.server_info = Implementation::new("mana-sync", env!("CARGO_PKG_VERSION"));
        info.instructions = Some(
            "The user's Mana apps (todo, notes, journal, habits, mood, augur, profile images, \
             spaces), read and written through mana-sync with their encrypted fields kept \
             encrypted."
                .into(),
        );
        info
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(listed()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let tools = Arc::clone(&self.tools);
        let name = request.name.to_string();
        let input = serde_json::Value::Object(request.arguments.unwrap_or_default());
        let ran = tokio::task::spawn_blocking(move || tools.call_json(&name, input)).await;
        let result = match ran {
            Ok(Ok(output)) => {
                let text = serde_json::to_string(&output).unwrap_or_default();
                let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
                result.structured_content = Some(output);
                result
            }
            Ok(Err(error)) => CallToolResult::error(vec![ContentBlock::text(error.to_string())]),
            Err(_) => CallToolResult::error(vec![ContentBlock::text(
                "internal error: the tool stopped unexpectedly",
            )]),
        };
        Ok(result.into())
    }
}

/// Where this installation's client id is kept by default.
fn client_id_file() -> Option<PathBuf> {
    let state = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))?;
    Some(state.join("mana-sync/mcp-client-id"))
}

/// Runs `mcp` until the client closes stdin.
pub fn run(global: &Global, args: &McpArgs) -> Result<(), Failure> {
    let mut config = config(global, false)?;
    if let Some(auth) = global.auth_url.as_deref() {
        config = config
            .with_auth_url(auth)
            .map_err(|e| Failure::usage(format!("{e} (--auth-url)")))?;
    }
    if global.client_id == DEFAULT_CLIENT_ID {
        // One id per installation, kept across runs (see
        // mana_sync_apps::installation_client_id).
        let file = args.client_id_file.clone().or_else(client_id_file);
        if let Some(file) = file {
            let id = mana_sync_apps::installation_client_id(&file).map_err(|e| {
                Failure::usage(format!(
                    "client id file {}: {e} (--client-id-file)",
                    file.display()
                ))
            })?;
            config = mana_sync_core::Config::new(global.url.as_str(), config.token().expose(), &id)
                .map_err(|e| Failure::usage(e.to_string()))?
                .with_auth_url_opt(config.auth_url().map(|u| u.as_str().to_owned()))?;
        }
    }
    let config = mana_sync_apps::guarded(config);
    let client = client(global, config, &ProgressBar::hidden())?;
    let mut tools = Tools::new(client);
    if let Some(space) = &args.space {
        tools = tools.in_space(space.clone());
    }
    let server = Server {
        tools: Arc::new(tools),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| Failure::usage(format!("could not start the runtime: {e}")))?;
    runtime.block_on(async move {
        let running = server
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|e| Failure::usage(format!("MCP initialisation failed: {e}")))?;
        running
            .waiting()
            .await
            .map_err(|e| Failure::usage(format!("the MCP server stopped: {e}")))?;
        Ok(())
    })
}

/// `with_auth_url` when there is one.
trait WithAuthOpt: Sized {
    fn with_auth_url_opt(self, url: Option<String>) -> Result<Self, Failure>;
}

impl WithAuthOpt for mana_sync_core::Config {
    fn with_auth_url_opt(self, url: Option<String>) -> Result<Self, Failure> {
        match url {
            Some(url) => self
                .with_auth_url(&url)
                .map_err(|e| Failure::usage(format!("{e} (--auth-url)"))),
            None => Ok(self),
        }
    }
}
