//! An async agent that keeps its own replica live and acts on it while it
//! watches: every task that is overdue and not done is marked done. The
//! stream does not hold the replica (`stream_from`): the agent folds each
//! batch in one call (`apply_to`: changes, cursor and delivered ids), then
//! reads and writes freely before the next event.
//!
//! Run: `cargo run -p mana-sync-testkit --example watching_agent`

use mana_sync_hyper::prelude::*;
use mana_sync_testkit::{token_for, LoopbackServer, MemoryServer};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A local server; in real use, the service's URL and the user's JWT.
    let server = LoopbackServer::start(MemoryServer::new())?;
    let url = server.base_url();
    let agent = client(Config::new(&url, token_for("user-1"), "overdue-agent")?)?;
    let browser = client(Config::new(&url, token_for("user-1"), "browser")?)?;

    // Catch up first, then watch from where the replica stands.
    let mut replica = Replica::new();
    agent.pull_into("todo", "tasks", &mut replica).await?;
    let mut events = Box::pin(agent.stream_from("todo", &["tasks"], &replica)?);

    // Meanwhile, someone adds ten tasks; half of them are overdue.
    let now = Timestamp::now();
    let tasks: Vec<Change> = (0..10)
        .map(|i| {
            let due = if i % 2 == 0 { "2020-01-01" } else { "2999-01-01" };
            let task = json!({"title": format!("Task {i}"), "dueDate": due, "isCompleted": false});
            Change::insert("tasks", format!("t-{i}"), task.as_object().cloned().unwrap_or_default())
        })
        .collect();
    browser.push("todo", &tasks, &Cursor::from(now)).await?;

    let today = now.to_string();
    let flag = |t: &Record, v: bool| t.get("isCompleted").is_some_and(|f| f.as_bool() == Some(v));
    let mut marked = 0;
    while marked < 5 {
        let Some(event) = events.next().await else { break };
        let StreamEvent::Changes(batch) = event? else { continue };
        batch.apply_to(&mut replica); // fold it in; the replica is ours again
        let overdue: Vec<String> = replica
            .records("tasks")
            .filter(|t| flag(t, false))
            .filter(|t| t.get("dueDate").and_then(|d| d.as_str().map(|d| d < today.as_str())) == Some(true))
            .map(|t| t.id.clone())
            .collect();
        for id in overdue {
            let done = Change::update("tasks", &id).with_field("isCompleted", true, Timestamp::now());
            agent.push("todo", &[done], &Cursor::from(now)).await?;
            println!("marked {id} done");
            marked += 1;
        }
    }
    // The agent's own writes came back through the stream into its replica.
    while replica.records("tasks").filter(|t| flag(t, true)).count() < 5 {
        if let Some(StreamEvent::Changes(batch)) = events.next().await.transpose()? {
            batch.apply_to(&mut replica);
        }
    }
    assert_eq!(marked, 5);
    Ok(())
}
