//! The sample chat's Lambda functions on ws-runtime, over real sockets: `$connect` stores each
//! client, `sendmessage` reaches every client through the AWS SDK and the management API (and
//! drops a stale id on `GoneException`), `$disconnect` forgets the client, an unknown action is
//! `Forbidden` (the sample has no `$default`). ws-runtime's `tests/lambda.rs` covers the rest of
//! the adapter (events field by field, refusals, two-way routes, failures).

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use futures_util::SinkExt;
use lambda_chat::handlers::Connections;
use lambda_chat::{Table, router};
use serde_json::json;
use test_support::bounded;
use test_support::ws::{Client, connect};
use tokio_tungstenite::tungstenite::Message as Frame;

async fn say(client: &mut Client, text: &str) {
    client.send(Frame::text(text)).await.unwrap();
}

/// The next text frame as it came (the sample posts `data` as is, not JSON).
async fn text(client: &mut Client) -> String {
    use futures_util::StreamExt;
    let frame = tokio::time::timeout(std::time::Duration::from_secs(5), client.next())
        .await
        .expect("a frame within 5 s")
        .unwrap()
        .unwrap();
    frame.into_text().unwrap().to_string()
}

/// Waits until the table holds `count` connections (the functions run as the clients act).
async fn table_holds(table: &Table, count: usize) {
    while table.scan().len() != count {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn the_sample_chat_runs_unchanged_on_ws_runtime() {
    bounded(60, async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let table = Arc::new(Table::default());
        let app = router(addr, Arc::clone(&table)).build().unwrap();
        let server = app.serve(listener).await.unwrap();

        let mut ada = connect(addr, "/").await;
        let mut bob = connect(addr, "/").await;
        let mut cy = connect(addr, "/").await;
        table_holds(&table, 3).await;

        say(
            &mut ada,
            r#"{"action":"sendmessage","data":"hello everyone"}"#,
        )
        .await;
        for client in [&mut ada, &mut bob, &mut cy] {
            assert_eq!(text(client).await, "hello everyone");
        }

        // A client that leaves is forgotten by `$disconnect`; a stale id (one the table kept
        // after its client left, as DynamoDB may) is dropped when the SDK gets GoneException.
        cy.close(None).await.unwrap();
        table_holds(&table, 2).await;
        table.put("stale-connection-id");
        say(&mut bob, r#"{"action":"sendmessage","data":"still here?"}"#).await;
        for client in [&mut ada, &mut bob] {
            assert_eq!(text(client).await, "still here?");
        }
        table_holds(&table, 2).await;
        assert!(!table.scan().contains(&"stale-connection-id".to_owned()));

        // No route and no `$default`: API Gateway's Forbidden frame.
        say(&mut ada, r#"{"action":"dance"}"#).await;
        let forbidden: serde_json::Value = serde_json::from_str(&text(&mut ada).await).unwrap();
        assert_eq!(forbidden["message"], "Forbidden");
        // Text that is not JSON selects no route either.
        say(&mut ada, "hello?").await;
        let forbidden: serde_json::Value = serde_json::from_str(&text(&mut ada).await).unwrap();
        assert_eq!(forbidden["message"], "Forbidden");
        // `data` that is not a string is posted as its JSON text.
        say(
            &mut ada,
            r#"{"action":"sendmessage","data":{"nested":true}}"#,
        )
        .await;
        for client in [&mut ada, &mut bob] {
            assert_eq!(text(client).await, json!({"nested": true}).to_string());
        }
        server.shutdown().await;
        assert!(table.scan().is_empty(), "{:?}", table.scan());
    })
    .await;
}
