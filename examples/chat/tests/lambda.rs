//! The chat as API Gateway runs it: the SAM template `asyncapi-rs generate --sam` wrote
//! (`template.yaml`) served by `asyncapi-rs local`'s library, the binary `--lambda` wrote
//! (`src/bin/lambda.rs`, `chat-lambda`) a process of its own on the Lambda Runtime API, called
//! for `$connect`, each route and `$disconnect`; the connections, their sessions (each one's
//! name) and the room's broadcasts through DynamoDB (dynalite, a local DynamoDB from npm) and
//! the management API. The same conversation as `tests/chat.rs`'s `three_clients_chat`, with the
//! same frames.

#![allow(clippy::unwrap_used)] // a test that cannot set itself up should stop right there

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use asyncapi_cli::local_server::{self, Options, Serve, Template};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use test_support::bounded;
use test_support::functions::DynamoDb;
use test_support::ws::{Client, recv};
use tokio_tungstenite::tungstenite::Message as Frame;

async fn join(addr: SocketAddr, name: &str) -> Client {
    let url = format!("ws://{addr}/prod?name={name}");
    let connect = tokio_tungstenite::connect_async(url);
    let (client, _) = tokio::time::timeout(Duration::from_secs(10), connect)
        .await
        .expect("connect in time")
        .expect("the handshake succeeds");
    client
}

async fn send(client: &mut Client, json: Value) {
    client.send(Frame::text(json.to_string())).await.unwrap();
}

/// Nothing arrives for a while.
async fn quiet(client: &mut Client) {
    let next = tokio::time::timeout(Duration::from_millis(300), client.next()).await;
    assert!(next.is_err(), "unexpected frame: {next:?}");
}

#[test]
fn the_template_is_what_generate_sam_writes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let loaded = asyncapi_codegen::load(&root.join("asyncapi.yaml"), &Default::default())
        .unwrap_or_else(|report| panic!("{}", report.render(false)));
    let template = asyncapi_codegen::generate::sam_template(&loaded.api, "chat");
    let drifted = asyncapi_codegen::generate::drift(root, &[template]);
    assert!(
        drifted.is_empty(),
        "template.yaml differs from examples/chat/asyncapi.yaml: rerun `asyncapi-rs generate asyncapi.yaml -o . --crate chat --client --sam` in examples/chat"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chat_runs_from_its_generated_sam_template_as_a_lambda_function() {
    bounded(120, async {
        // No table yet: `local` creates the template's (`Connections`, keyed by `pk` and `sk`).
        let dynamodb = DynamoDb::start(&[]);
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let template = Template::read(&root.join("template.yaml")).unwrap();
        let options = Options {
            bootstraps: BTreeMap::from([(
                "ChatFunction".to_owned(),
                PathBuf::from(env!("CARGO_BIN_EXE_chat-lambda")),
            )]),
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
        assert_eq!(served.created_tables, ["Connections"]);
        assert_eq!(served.api.stage, "prod");
        let addr = served.server.local_addr();

        // A name the document's query schema refuses: the function's `$connect` checks the
        // handshake as the server does, and API Gateway answers its 400.
        let refused = tokio_tungstenite::connect_async(format!("ws://{addr}/prod?name=%20"))
            .await
            .expect_err("refused");
        match refused {
            tokio_tungstenite::tungstenite::Error::Http(response) => {
                assert_eq!(response.status(), 400);
            }
            other => panic!("{other}"),
        }

        let mut ada = join(addr, "Ada").await;
        let mut bob = join(addr, "Bob").await;
        assert_eq!(
            recv(&mut ada).await,
            json!({"type": "joined", "name": "Bob"})
        );
        let mut cy = join(addr, "Cy").await;
        assert_eq!(
            recv(&mut ada).await,
            json!({"type": "joined", "name": "Cy"})
        );
        assert_eq!(
            recv(&mut bob).await,
            json!({"type": "joined", "name": "Cy"})
        );

        // A broadcast reaches the other two and not the sender, with the name its session
        // kept from `$connect` (another invocation).
        send(&mut ada, json!({"action": "sendMessage", "text": "hello"})).await;
        let expected = json!({"type": "message", "from": "Ada", "text": "hello"});
        assert_eq!(recv(&mut bob).await, expected);
        assert_eq!(recv(&mut cy).await, expected);
        quiet(&mut ada).await;

        // `echo` answers the sender only: the function's answer, as the route response.
        send(&mut bob, json!({"action": "echo", "text": "ping"})).await;
        assert_eq!(
            recv(&mut bob).await,
            json!({"type": "echo", "text": "ping"})
        );
        quiet(&mut ada).await;

        // `setName` changes the session: the next message carries the new name.
        send(&mut bob, json!({"action": "setName", "name": "Bo"})).await;
        assert_eq!(recv(&mut ada).await, json!({"type": "left", "name": "Bob"}));
        assert_eq!(recv(&mut ada).await, json!({"type": "joined", "name": "Bo"}));
        send(&mut bob, json!({"action": "sendMessage", "text": "renamed"})).await;
        assert_eq!(
            recv(&mut ada).await,
            json!({"type": "message", "from": "Bo", "text": "renamed"})
        );
        assert_eq!(recv(&mut cy).await, json!({"type": "left", "name": "Bob"}));
        assert_eq!(recv(&mut cy).await, json!({"type": "joined", "name": "Bo"}));
        assert_eq!(
            recv(&mut cy).await,
            json!({"type": "message", "from": "Bo", "text": "renamed"})
        );

        // An unknown action gets the `$default` reply.
        send(&mut cy, json!({"action": "dance"})).await;
        assert_eq!(
            recv(&mut cy).await,
            json!({"type": "error", "message": "unknown action `dance`; actions: sendMessage, echo, setName"})
        );

        // A malformed message gets API Gateway's `Bad request body`, checked in the function
        // by the same compiled checks as on ws-runtime.
        send(&mut cy, json!({"action": "sendMessage", "text": 42})).await;
        let reply = recv(&mut cy).await;
        assert_eq!(reply["message"], "Bad request body");
        assert!(reply["connectionId"].is_string() && reply["messageId"].is_string());
        quiet(&mut ada).await;

        // Closing a client runs `$disconnect`: `left` to the rest, with its session's name.
        cy.close(None).await.unwrap();
        assert_eq!(recv(&mut ada).await, json!({"type": "left", "name": "Cy"}));
        assert_eq!(recv(&mut bob).await, json!({"type": "left", "name": "Cy"}));
        served.shutdown().await;
    })
    .await;
}
