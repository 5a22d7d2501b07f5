//! The chat binary, started on an ephemeral port, driven by three real clients over 127.0.0.1.

#![allow(clippy::unwrap_used)] // a test that cannot set itself up should stop right there

mod support;

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as Frame;

use support::{Client, join, recv, start, start_with};

async fn send(client: &mut Client, json: Value) {
    client.send(Frame::text(json.to_string())).await.unwrap();
}

/// Nothing arrives for a while.
async fn quiet(client: &mut Client) {
    let next = tokio::time::timeout(Duration::from_millis(300), client.next()).await;
    assert!(next.is_err(), "unexpected frame: {next:?}");
}

#[tokio::test]
async fn three_clients_chat() {
    let server = start();
    let mut ada = join(&server, "Ada").await;
    let mut bob = join(&server, "Bob").await;
    assert_eq!(
        recv(&mut ada).await,
        json!({"type": "joined", "name": "Bob"})
    );
    let mut cy = join(&server, "Cy").await;
    assert_eq!(
        recv(&mut ada).await,
        json!({"type": "joined", "name": "Cy"})
    );
    assert_eq!(
        recv(&mut bob).await,
        json!({"type": "joined", "name": "Cy"})
    );

    // A broadcast reaches the other two and not the sender.
    send(&mut ada, json!({"action": "sendMessage", "text": "hello"})).await;
    let expected = json!({"type": "message", "from": "Ada", "text": "hello"});
    assert_eq!(recv(&mut bob).await, expected);
    assert_eq!(recv(&mut cy).await, expected);
    quiet(&mut ada).await;

    // `echo` answers the sender only.
    send(&mut bob, json!({"action": "echo", "text": "ping"})).await;
    assert_eq!(
        recv(&mut bob).await,
        json!({"type": "echo", "text": "ping"})
    );
    quiet(&mut ada).await;
    quiet(&mut cy).await;

    // An unknown action gets the `$default` reply.
    send(&mut cy, json!({"action": "dance"})).await;
    assert_eq!(
        recv(&mut cy).await,
        json!({"type": "error", "message": "unknown action `dance`; actions: sendMessage, echo, setName"})
    );

    // A malformed message gets API Gateway's `Bad request body`.
    send(&mut cy, json!({"action": "sendMessage", "text": 42})).await;
    let reply = recv(&mut cy).await;
    assert_eq!(reply["message"], "Bad request body");
    assert!(reply["connectionId"].is_string() && reply["messageId"].is_string());
    quiet(&mut ada).await;

    // Closing a client sends `left` to the rest.
    cy.close(None).await.unwrap();
    assert_eq!(recv(&mut ada).await, json!({"type": "left", "name": "Cy"}));
    assert_eq!(recv(&mut bob).await, json!({"type": "left", "name": "Cy"}));
}

#[tokio::test]
async fn a_missing_or_empty_name_is_refused_with_400_and_the_page_is_served() {
    let server = start();
    for url in [
        format!("ws://{}/", server.address),
        format!("ws://{}/?name=", server.address),
    ] {
        let error = tokio_tungstenite::connect_async(url.as_str())
            .await
            .expect_err("refused");
        match error {
            tokio_tungstenite::tungstenite::Error::Http(response) => {
                assert_eq!(response.status(), 400, "{url}");
            }
            other => panic!("{url}: {other}"),
        }
    }
    // A plain GET on `/` is the page.
    let mut stream = TcpStream::connect(&server.address).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: chat\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut response = String::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_string(&mut response))
        .await
        .unwrap()
        .unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("<title>asyncapi-rs chat</title>"));
}

#[tokio::test]
async fn names_that_are_only_white_space_are_refused_as_the_document_says() {
    let server = start();
    // A space, a tab, a no-break space and an ideographic space: the query schema's `\S`.
    for name in ["%20", "%09", "%C2%A0", "%E3%80%80", "%20%09"] {
        let url = format!("ws://{}/?name={name}", server.address);
        match tokio_tungstenite::connect_async(url.as_str()).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                assert_eq!(response.status(), 400, "{url}");
            }
            other => panic!("{url}: {other:?}"),
        }
    }
    // `setName` follows the same rule: the runtime answers before the handler runs.
    let mut ada = join(&server, "Ada").await;
    let mut bob = join(&server, "Bob").await;
    recv(&mut ada).await; // Bob joined
    send(&mut bob, json!({"action": "setName", "name": "\u{3000}"})).await;
    assert_eq!(recv(&mut bob).await["message"], "Bad request body");
    quiet(&mut ada).await;
    send(&mut bob, json!({"action": "setName", "name": " Bo "})).await;
    assert_eq!(recv(&mut ada).await, json!({"type": "left", "name": "Bob"}));
    assert_eq!(
        recv(&mut ada).await,
        json!({"type": "joined", "name": " Bo "})
    );
}

/// 1,000 clients connect at once, each reading as it goes: the `joined` broadcasts of the ones
/// after it must not get any of them closed. Each reads until a last client's `joined`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_clients_joining_at_once_are_all_kept() {
    const CLIENTS: usize = 1_000;
    let server = std::sync::Arc::new(start());
    let connected = std::sync::Arc::new(tokio::sync::Barrier::new(CLIENTS + 1));
    let mut tasks = Vec::with_capacity(CLIENTS);
    for i in 0..CLIENTS {
        let (server, connected) = (server.clone(), connected.clone());
        tasks.push(tokio::spawn(async move {
            let mut client = join(&server, &format!("c{i}")).await;
            let reading = async {
                let mut frames = 0usize;
                loop {
                    let frame = recv(&mut client).await;
                    if frame == json!({"type": "joined", "name": "last"}) {
                        return frames;
                    }
                    assert_eq!(frame["type"], "joined", "{frame}");
                    frames += 1;
                }
            };
            let (frames, _) = tokio::join!(reading, connected.wait());
            assert!(frames < CLIENTS);
        }));
    }
    tokio::time::timeout(Duration::from_secs(120), async {
        connected.wait().await;
        let _last = join(&server, "last").await;
        for task in tasks {
            // Each read up to the last `joined` (how many before it depends on which `$connect`s
            // ran at the same time: a connection is in the room once its `$connect` is done).
            task.await
                .expect("every client read to the end, none was closed");
        }
    })
    .await
    .expect("the thousand clients were served within 120 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_closes_every_client_with_1001_runs_disconnect_and_exits() {
    let mut server = start_with(std::process::Stdio::piped());
    let mut ada = join(&server, "Ada").await;
    let mut bob = join(&server, "Bob").await;
    assert_eq!(
        recv(&mut ada).await,
        json!({"type": "joined", "name": "Bob"})
    );
    let (status, stderr) = tokio::task::block_in_place(|| server.terminate());
    assert!(status.success(), "{status}: {stderr}");
    assert!(
        stderr.contains("terminated: closing every connection")
            && stderr.contains("every connection closed and its `$disconnect` run"),
        "{stderr}"
    );
    // Each client was told to go elsewhere: close code 1001.
    for client in [&mut ada, &mut bob] {
        let close = loop {
            match tokio::time::timeout(Duration::from_secs(5), client.next()).await {
                Ok(Some(Ok(Frame::Close(close)))) => break close,
                Ok(Some(Ok(_))) => continue,
                other => panic!("no close frame: {other:?}"),
            }
        };
        assert_eq!(close.map(|c| u16::from(c.code)), Some(1001));
    }
}
