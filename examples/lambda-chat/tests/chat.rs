//! The sample chat's Lambda functions over real sockets, run two ways with the same checks:
//! in the server's process (`lambda_chat::router`), and as the sample is deployed, from its SAM
//! template (`template.yaml`) with each function a `lambda_runtime` binary of its own
//! (`src/bin`), its connections in DynamoDB (dynalite, a local DynamoDB from npm), served by
//! `asyncapi-rs local`'s library. `$connect` stores each client, `sendmessage` reaches every
//! client through the AWS SDK and the management API (and drops a stale id on
//! `GoneException`), `$disconnect` forgets the client, an unknown action is `Forbidden` (the
//! sample has no `$default`). ws-runtime's `tests/lambda.rs` covers the rest of the adapter
//! (events field by field, refusals, two-way routes, failures).

#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use asyncapi_cli::local_server::{self, Options, Serve, Template};
use futures_util::SinkExt;
use lambda_chat::aws::DynamoTable;
use lambda_chat::handlers::Connections;
use lambda_chat::{Table, router};
use serde_json::json;
use test_support::bounded;
use test_support::functions::DynamoDb;
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
async fn table_holds(table: &impl Connections, count: usize) {
    while table.scan().await.unwrap().len() != count {
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
        the_chat(addr, "/", &*table).await;
        server.shutdown().await;
        let left = table.scan().await.unwrap();
        assert!(left.is_empty(), "{left:?}");
    })
    .await;
}

/// The table, in the local DynamoDB, through the AWS SDK for Rust.
fn table(dynamodb: &DynamoDb, name: &str) -> DynamoTable {
    let config = aws_sdk_dynamodb::Config::builder()
        .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
        .credentials_provider(aws_credential_types::Credentials::new(
            "local", "local", None, None, "test",
        ))
        .endpoint_url(&dynamodb.endpoint)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    DynamoTable::new(aws_sdk_dynamodb::Client::from_conf(config), name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sample_chat_runs_unchanged_from_its_sam_template_each_function_a_process() {
    bounded(120, async {
        const TABLE: &str = "simplechat-connections-table";
        let dynamodb = DynamoDb::start(&[TABLE]);
        let template =
            Template::read(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("template.yaml"))
                .unwrap();
        // The functions as cargo built them for this test (`cargo lambda build` puts them in
        // `target/lambda/{binary}/bootstrap`, where `asyncapi-rs local` also looks).
        let bootstraps = [
            ("OnConnectFunction", env!("CARGO_BIN_EXE_on_connect")),
            ("OnDisconnectFunction", env!("CARGO_BIN_EXE_on_disconnect")),
            ("SendMessageFunction", env!("CARGO_BIN_EXE_send_message")),
        ];
        let options = Options {
            bootstraps: bootstraps
                .into_iter()
                .map(|(function, path)| (function.to_owned(), PathBuf::from(path)))
                .collect(),
            // Its table is there already (made above): `local` keeps it as it is.
            dynamodb: Some(dynamodb.endpoint.clone()),
            ..Options::default()
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let what = Serve {
            template: &template,
            parameters: &[],
            api: None,
            options: &options,
        };
        let served = local_server::serve(listener, what).await.unwrap();
        assert_eq!(served.api.stage, "Prod");
        assert!(served.created_tables.is_empty());
        let table = table(&dynamodb, TABLE);
        the_chat(served.server.local_addr(), "/Prod", &table).await;
        served.shutdown().await;
        let left = table.scan().await.unwrap();
        assert!(left.is_empty(), "{left:?}");
    })
    .await;
}

/// The chat, end to end, on the server at `addr`, whose functions keep their connections in
/// `table`.
async fn the_chat(addr: SocketAddr, path: &str, table: &impl Connections) {
    {
        let mut ada = connect(addr, path).await;
        let mut bob = connect(addr, path).await;
        let mut cy = connect(addr, path).await;
        table_holds(table, 3).await;

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
        table_holds(table, 2).await;
        table.put("stale-connection-id").await.unwrap();
        say(&mut bob, r#"{"action":"sendmessage","data":"still here?"}"#).await;
        for client in [&mut ada, &mut bob] {
            assert_eq!(text(client).await, "still here?");
        }
        table_holds(table, 2).await;
        let ids = table.scan().await.unwrap();
        assert!(!ids.contains(&"stale-connection-id".to_owned()), "{ids:?}");

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
    }
}
