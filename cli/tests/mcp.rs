//! `mana-sync mcp` driven over stdio by the MCP SDK's own client (the binary
//! spawned as a child), against the in-memory server on loopback:
//! initialize, tools/list (every schema a valid JSON Schema), a tools/call
//! of every tool, and the error paths (bad input, 401, 402, a zero-knowledge
//! user).

#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeSet;

use mana_sync_core::crypto::MasterKey;
use mana_sync_testkit::{token_for, LoopbackServer, MemoryServer, Vault};
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::{RoleClient, RunningService};
use rmcp::transport::TokioChildProcess;
use rmcp::ServiceExt;
use serde_json::{json, Value};
use support::{binary, temp_dir};

const USER: &str = "mcp-user";

async fn spawn(url: &str, token: &str, dir: &std::path::Path) -> RunningService<RoleClient, ()> {
    let mut command = tokio::process::Command::new(binary());
    command
        .args(["--url", url, "--auth-url", url, "--token", token, "mcp"])
        .arg("--client-id-file")
        .arg(dir.join("client-id"))
        .env_remove("MANA_CLIENT_ID")
        .env_remove("MANA_SPACE_ID");
    let transport = TokioChildProcess::new(command).unwrap();
    ().serve(transport).await.unwrap()
}

fn text(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

async fn call(client: &RunningService<RoleClient, ()>, name: &str, args: Value) -> CallToolResult {
    let params = CallToolRequestParams::new(name.to_owned())
        .with_arguments(args.as_object().cloned().unwrap_or_default());
    client.call_tool(params).await.unwrap()
}

/// A successful call's JSON output.
async fn ok(client: &RunningService<RoleClient, ()>, name: &str, args: Value) -> Value {
    let result = call(client, name, args).await;
    assert_ne!(result.is_error, Some(true), "{name}: {}", text(&result));
    serde_json::from_str(&text(&result)).unwrap()
}

/// A failed call's text.
async fn fails(client: &RunningService<RoleClient, ()>, name: &str, args: Value) -> String {
    let result = call(client, name, args).await;
    assert_eq!(
        result.is_error,
        Some(true),
        "{name} should fail: {}",
        text(&result)
    );
    text(&result)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mcp_server_serves_every_tool_over_stdio() {
    let server = MemoryServer::new();
    let key = MasterKey::from_bytes(&[5; 32]).unwrap();
    server.set_vault(USER, Vault::Standard(key));
    let running = LoopbackServer::start(server).unwrap();
    let url = running.base_url();
    let dir = temp_dir("mcp");
    let token = token_for(USER);
    let client = spawn(&url, &token, &dir).await;

    let info = client.peer_info().unwrap();
    assert_eq!(info.server_info.clone().unwrap().name, "mana-sync");

    let tools = client.list_all_tools().await.unwrap();
    let names: BTreeSet<String> = tools.iter().map(|t| t.name.to_string()).collect();
    assert_eq!(names.len(), 20, "{names:?}");
    assert!(!names.contains("me.generateWithReference"));
    for tool in &tools {
        let schema = Value::Object((*tool.input_schema).clone());
        jsonschema::meta::validate(&schema).unwrap_or_else(|e| panic!("{}: {e}", tool.name));
        let annotations = tool.annotations.clone().unwrap();
        let read = tool.name.ends_with(".list")
            || [
                "todo.list",
                "notes.search",
                "mood.recent",
                "mood.today",
                "augur.listOpenSigns",
                "augur.yearRecap",
                "augur.consultOracle",
                "me.listReferenceImages",
                "spaces.list",
            ]
            .contains(&tool.name.as_ref());
        assert_eq!(annotations.read_only_hint, Some(read), "{}", tool.name);
        assert_eq!(annotations.destructive_hint, Some(false), "{}", tool.name);
    }
    let schema_of = |name: &str| {
        let tool = tools.iter().find(|t| t.name == name).unwrap();
        Value::Object((*tool.input_schema).clone())
    };

    // Every tool, once.
    let args = json!({"title": "Buy milk", "description": "oat"});
    assert!(jsonschema::is_valid(&schema_of("todo.create"), &args));
    let task = ok(&client, "todo.create", args).await;
    let task_id = task["task"]["id"].as_str().unwrap().to_owned();
    ok(&client, "todo.complete", json!({"id": task_id})).await;
    let tasks = ok(&client, "todo.list", json!({"includeCompleted": true})).await;
    assert_eq!(tasks["tasks"][0]["isCompleted"], true);
    let stored = running.server().changes(USER, "todo");
    assert!(stored[0]["data"]["title"]
        .as_str()
        .unwrap()
        .starts_with("enc:1:"));

    ok(
        &client,
        "notes.create",
        json!({"title": "Groceries", "content": "milk"}),
    )
    .await;
    let found = ok(&client, "notes.search", json!({"query": "MILK"})).await;
    assert_eq!(found["notes"][0]["title"], "Groceries");
    ok(&client, "journal.add", json!({"content": "a good day"})).await;

    let habit = ok(&client, "habits.create", json!({"title": "Run"})).await;
    let habit_id = habit["habit"]["id"].as_str().unwrap().to_owned();
    ok(
        &client,
        "habits.update",
        json!({"id": habit_id, "title": "Run 5k"}),
    )
    .await;
    ok(&client, "habits.archive", json!({"id": habit_id})).await;
    let habits = ok(&client, "habits.list", json!({"includeArchived": true})).await;
    assert_eq!(
        (
            habits["habits"][0]["title"].as_str(),
            habits["habits"][0]["isArchived"].as_bool()
        ),
        (Some("Run 5k"), Some(true))
    );

    ok(&client, "mood.log", json!({"level": 7, "emotion": "calm"})).await;
    assert_eq!(
        ok(&client, "mood.recent", json!({})).await["entries"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(ok(&client, "mood.today", json!({})).await["entries"].is_array());

    let sign = ok(
        &client,
        "augur.captureSign",
        json!({"kind": "omen", "source": "a crow", "claim": "rain"}),
    )
    .await;
    let sign_id = sign["entryId"].as_str().unwrap().to_owned();
    assert_eq!(
        ok(&client, "augur.listOpenSigns", json!({})).await["entries"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    ok(
        &client,
        "augur.resolveSign",
        json!({"entryId": sign_id, "outcome": "fulfilled"}),
    )
    .await;
    assert!(ok(&client, "augur.yearRecap", json!({})).await["total"].is_number());
    assert_eq!(
        ok(
            &client,
            "augur.consultOracle",
            json!({"kind": "omen", "sourceCategory": "natural", "vibe": "bad"})
        )
        .await["speaks"],
        false
    );
    assert!(ok(&client, "me.listReferenceImages", json!({})).await["images"].is_array());
    // The dev server answers the auth service's organisation list at the
    // configured auth URL: the user's personal space.
    let spaces = ok(&client, "spaces.list", json!({})).await;
    let listed = spaces["spaces"].as_array().expect("a list of spaces");
    assert_eq!(listed.len(), 1, "{spaces}");
    assert_eq!(listed[0]["type"], "personal", "{spaces}");
    assert!(
        listed[0]["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("personal-")),
        "{spaces}"
    );

    // Bad input: a tool error naming the field, the server carries on.
    let bad = fails(&client, "todo.create", json!({"title": ""})).await;
    assert!(bad.contains("`title`"), "{bad}");
    let bad = fails(
        &client,
        "mood.log",
        json!({"level": "high", "emotion": "calm"}),
    )
    .await;
    assert!(bad.contains("`level`"), "{bad}");
    let unknown = fails(
        &client,
        "todo.create",
        json!({"title": "x", "secret": "hunter2"}),
    )
    .await;
    assert!(
        unknown.contains("secret") && !unknown.contains("hunter2"),
        "{unknown}"
    );

    // Sync turned off: 402.
    running.server().set_sync_active(USER, false);
    let payment = fails(&client, "habits.list", json!({})).await;
    assert!(payment.contains("402"), "{payment}");
    assert!(!payment.contains(&token));
    client.cancel().await.unwrap();

    // A zero-knowledge user: nothing can be encrypted for them (and tools
    // that need no key still work).
    running.server().set_vault("zk-user", Vault::ZeroKnowledge);
    let zk_client = spawn(&url, &token_for("zk-user"), &dir).await;
    let zk = fails(&zk_client, "notes.create", json!({"title": "x"})).await;
    assert!(
        zk.contains("zero-knowledge: nothing can be encrypted for them"),
        "{zk}"
    );
    ok(&zk_client, "habits.create", json!({"title": "Walk"})).await;
    zk_client.cancel().await.unwrap();

    // A refused token: 401, in words, never the token.
    let refused = spawn(&url, "not-a-jwt", &dir).await;
    let denied = fails(&refused, "habits.list", json!({})).await;
    assert!(denied.starts_with("token refused"), "{denied}");
    assert!(!denied.contains("not-a-jwt"));
    refused.cancel().await.unwrap();

    // The installation's client id was made once and kept.
    let id = std::fs::read_to_string(dir.join("client-id")).unwrap();
    assert!(id.starts_with("mana-tools-"), "{id}");
}
