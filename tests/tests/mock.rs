//! `asyncapi-rs mock` (`asyncapi_cli::mock_server`) over real sockets: the chat's mock passes the
//! live contract runner, refuses what a generated server refuses, pushes outbound messages, and
//! the mock of every WebSocket document of the corpus answers every inbound message (its example,
//! or a payload made up from its schema) as its document says.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use asyncapi_cli::live::{self, LiveOptions};
use asyncapi_cli::mock_server::{Log, Mock};
use asyncapi_codegen::LoadOptions;
use asyncapi_codegen::contract::{ChannelContract, Contract, Verdict};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use test_support::bounded;
use test_support::ws::{connect, recv};
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http;

/// A log that keeps its lines.
fn log() -> (Log, Arc<Mutex<Vec<String>>>) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&lines);
    (
        Arc::new(move |line: &str| kept.lock().unwrap().push(line.to_owned())),
        lines,
    )
}

fn contract(path: &Path, options: &LoadOptions) -> Contract {
    let loaded = asyncapi_codegen::load(path, options)
        .unwrap_or_else(|report| panic!("{}", report.render(false)));
    Contract::new(&loaded)
}

fn chat() -> Contract {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/chat/asyncapi.yaml");
    contract(&path, &LoadOptions::default())
}

/// Serves `mock`; the server and its address.
async fn serve(mock: &Mock) -> ws_runtime::Server {
    let (router, _) = mock.router();
    let app = router.build().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    app.serve(listener).await.unwrap()
}

/// The live runner against `address`, on the blocking pool.
async fn run(contract: Contract, address: std::net::SocketAddr) -> live::LiveReport {
    let mut options = LiveOptions::new(format!("ws://{address}"));
    options.timeout = Duration::from_secs(2);
    options.settle = Duration::from_millis(100);
    tokio::task::spawn_blocking(move || live::run(&contract, &options).unwrap())
        .await
        .unwrap()
}

#[tokio::test]
async fn the_chats_mock_passes_the_live_contract_runner() {
    bounded(30, async {
        let (log, lines) = log();
        let mock = Mock::new(chat(), log);
        let server = serve(&mock).await;
        let report = run(chat(), server.local_addr()).await;
        assert_eq!(report.failed(), 0, "{report:#?}");
        assert_eq!(report.passed(), 4, "{report:#?}");
        let lines = lines.lock().unwrap().join("\n");
        assert!(
            lines.contains("valid `echo` (route `echo`) → reply `echoReply`"),
            "{lines}"
        );
        assert!(
            lines.contains("valid `unknown` (route `$default`) → reply `error`"),
            "{lines}"
        );
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn the_mock_answers_bad_bodies_and_replies_and_pushes_outbound_messages() {
    bounded(30, async {
        let (log, lines) = log();
        let mock = Arc::new(Mock::new(chat(), log));
        let server = serve(&mock).await;
        let mut client = connect(server.local_addr(), "/?name=Ada").await;

        client
            .send(Frame::text(
                json!({"action": "sendMessage", "text": 42}).to_string(),
            ))
            .await
            .unwrap();
        let bad = recv(&mut client).await;
        assert_eq!(bad["message"], "Bad request body");
        assert_eq!(bad["errors"][0]["instancePath"], "/text", "{bad}");

        // A two-way route answers with its reply's example.
        client
            .send(Frame::text(
                json!({"action": "echo", "text": "ping"}).to_string(),
            ))
            .await
            .unwrap();
        assert_eq!(
            recv(&mut client).await,
            json!({"type": "echo", "text": "ping"})
        );

        // Pushed: the outbound messages that answer nothing, in turn (`message`, `joined`, `left`).
        let pusher = Arc::clone(&mock);
        let connections = server.connections();
        let push = tokio::spawn(async move {
            pusher.push(connections, Duration::from_millis(50)).await;
        });
        let mut kinds = Vec::new();
        for _ in 0..3 {
            kinds.push(recv(&mut client).await["type"].as_str().unwrap().to_owned());
        }
        push.abort();
        kinds.sort();
        assert_eq!(kinds, ["joined", "left", "message"]);
        let lines = lines.lock().unwrap().join("\n");
        assert!(lines.contains("Bad request body"), "{lines}");
        assert!(lines.contains("→ 1 client(s): `joined`"), "{lines}");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_route_with_no_default_is_forbidden() {
    bounded(30, async {
        let document = r#"
asyncapi: 3.0.0
info: {title: Strict, version: '1'}
channels:
  strict:
    address: /strict
    messages:
      ping:
        payload: {type: object, required: [action], properties: {action: {const: ping}}}
      pong:
        payload: {type: object, required: [n], properties: {n: {type: integer, minimum: 3}}}
operations:
  ping:
    action: receive
    channel: {$ref: '#/channels/strict'}
    messages: [{$ref: '#/channels/strict/messages/ping'}]
    reply:
      channel: {$ref: '#/channels/strict'}
      messages: [{$ref: '#/channels/strict/messages/pong'}]
"#;
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("strict.yaml");
        let loaded = asyncapi_codegen::load_text(&path, document, &LoadOptions::default()).unwrap();
        let (log, _) = log();
        let mock = Mock::new(Contract::new(&loaded), log);
        let server = serve(&mock).await;
        let mut client = connect(server.local_addr(), "/strict").await;
        client
            .send(Frame::text(r#"{"action":"dance"}"#))
            .await
            .unwrap();
        assert_eq!(recv(&mut client).await["message"], "Forbidden");
        // No example for `pong`: one is made up from its schema, at its bounds.
        client
            .send(Frame::text(r#"{"action":"ping"}"#))
            .await
            .unwrap();
        assert_eq!(recv(&mut client).await, json!({"n": 3}));
        server.shutdown().await;
    })
    .await;
}

/// What the mock of one document did with one inbound message's payload.
enum Answer {
    /// A reply its contract accepts, or (one-way) no error frame.
    Fine,
    /// The message has no example and the mock could make up none.
    NoPayload,
    Wrong(String),
}

/// Connects to `channel` of the mock at `addr` (parameters filled with `x`, the binding's query
/// and headers from their samples), sends message `index`'s payload, and judges the answer.
async fn exchange(
    mock: &Mock,
    contract: &Contract,
    channel: &ChannelContract,
    path: &str,
    index: usize,
    addr: std::net::SocketAddr,
) -> Answer {
    let Some(payload) = mock.payload(index) else {
        return Answer::NoPayload;
    };
    let path: Vec<&str> = path
        .split('/')
        .map(|s| if s.starts_with('{') { "x" } else { s })
        .collect();
    let query = live::handshake_values(channel.query.as_ref(), &[]);
    let query: Vec<String> = query
        .iter()
        .map(|(k, v)| format!("{}={}", live::encode(k), live::encode(v)))
        .collect();
    let url = format!("ws://{addr}{}?{}", path.join("/"), query.join("&"));
    let mut request = url.as_str().into_client_request().unwrap();
    for (name, value) in live::handshake_values(channel.headers.as_ref(), &[]) {
        request.headers_mut().insert(
            http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            http::HeaderValue::from_str(&value).unwrap(),
        );
    }
    let mut client = match tokio_tungstenite::connect_async(request).await {
        Ok((client, _)) => client,
        Err(error) => return Answer::Wrong(format!("{url}: the handshake failed: {error}")),
    };
    client.send(Frame::text(payload.to_string())).await.unwrap();
    let message = contract.message(index);
    let reply = channel.reply_to(index);
    let wait = Duration::from_millis(if reply.is_some() { 2000 } else { 150 });
    let answer = loop {
        let frame = match tokio::time::timeout(wait, client.next()).await {
            Err(_) if reply.is_some() => {
                break Answer::Wrong(format!("`{}`: no reply within {wait:?}", message.label()));
            }
            Err(_) => break Answer::Fine,
            Ok(Some(Ok(Frame::Text(text)))) => text,
            Ok(Some(Ok(_))) => continue,
            Ok(other) => break Answer::Wrong(format!("`{}`: {other:?}", message.label())),
        };
        let json: serde_json::Value = serde_json::from_str(&frame).unwrap_or_default();
        if let Some(error) = json
            .get("message")
            .filter(|_| json.get("connectionId").is_some())
        {
            break Answer::Wrong(format!("`{}` {payload}: {error}: {json}", message.label()));
        }
        if reply.is_some() {
            let verdict = contract
                .check_reply(&channel.id, &message.key, &json)
                .unwrap()
                .unwrap();
            break match verdict {
                Verdict::Valid { .. } => Answer::Fine,
                Verdict::Rejected(why) => {
                    Answer::Wrong(format!("`{}`: its reply {why}", message.label()))
                }
            };
        }
    };
    let _ = client.close(None).await;
    answer
}

#[tokio::test]
async fn the_mock_of_every_websocket_document_of_the_corpus_answers_every_inbound_message() {
    let corpus = asyncapi_rs_tests::corpus();
    let documents: Vec<_> = asyncapi_rs_tests::rows(&corpus)
        .into_iter()
        .filter(|row| row.valid == "y" && row.protocols.contains("ws"))
        .collect();
    assert!(
        documents.len() >= 20,
        "only {} WebSocket documents",
        documents.len()
    );
    let mut lines = Vec::new();
    let mut failures = Vec::new();
    let (mut answered, mut replies, mut no_payload, mut channels, mut not_served) = (0, 0, 0, 0, 0);
    for row in &documents {
        let path = corpus.join(&row.path);
        let options = LoadOptions {
            resolve: asyncapi_rs_tests::ref_map(&corpus, &row.path),
            ..LoadOptions::default()
        };
        let (log, logged) = log();
        let mock = Mock::new(contract(&path, &options), log);
        let (router, served) = mock.router();
        let app = match router.build() {
            Ok(app) => app,
            Err(error) => {
                failures.push(format!("{}: the mock does not start: {error}", row.path));
                continue;
            }
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = app.serve(listener).await.unwrap();
        let contract = contract(&path, &options);
        not_served += contract.channels().len() - served.len();
        for served in &served {
            channels += 1;
            let channel = contract.channel(&served.channel).unwrap();
            for &index in &channel.inbound {
                let answer = bounded(
                    10,
                    exchange(
                        &mock,
                        &contract,
                        channel,
                        &served.path,
                        index,
                        server.local_addr(),
                    ),
                )
                .await;
                match answer {
                    Answer::Fine => {
                        answered += 1;
                        replies += usize::from(channel.reply_to(index).is_some());
                    }
                    Answer::NoPayload => {
                        no_payload += 1;
                        lines.push(format!(
                            "no payload: {} `{}` (no example, none could be made up)",
                            row.path,
                            contract.message(index).label()
                        ));
                    }
                    Answer::Wrong(why) => {
                        failures.push(format!("{} {}: {why}", row.path, served.channel))
                    }
                }
            }
        }
        lines.extend(
            logged
                .lock()
                .unwrap()
                .iter()
                .filter(|l| l.starts_with("not served"))
                .map(|l| format!("{}: {l}", row.path)),
        );
        server.shutdown().await;
    }
    lines.push(format!(
        "mock: {} WebSocket corpus documents, {channels} channels served ({not_served} not: addresses no server can route); {answered} inbound messages answered ({replies} with their reply), {} wrong, {no_payload} with no payload",
        documents.len(),
        failures.len()
    ));
    asyncapi_rs_tests::report("mock", &lines.join("\n"));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        answered >= 20,
        "only {answered} inbound messages were answered"
    );
}
