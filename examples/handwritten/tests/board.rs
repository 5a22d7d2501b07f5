//! The notice board over a real socket.

#![allow(clippy::unwrap_used)]

use futures_util::SinkExt;
use serde_json::json;
use test_support::ws::recv;
use tokio_tungstenite::tungstenite::Message as WsMessage;

#[tokio::test]
async fn the_board_over_a_real_socket() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = handwritten_example::router()
        .unwrap()
        .serve(listener)
        .await
        .unwrap();
    let url = format!("ws://{}/board", server.local_addr());
    let (mut ada, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    let (mut bob, _) = tokio_tungstenite::connect_async(&url).await.unwrap();

    ada.send(WsMessage::text(
        json!({"action": "echo", "text": "hi"}).to_string(),
    ))
    .await
    .unwrap();
    assert_eq!(recv(&mut ada).await, json!({"text": "hi"}));

    ada.send(WsMessage::text(
        json!({"action": "post", "text": "lunch at noon"}).to_string(),
    ))
    .await
    .unwrap();
    let note = recv(&mut bob).await;
    assert_eq!(note["text"], "lunch at noon");
    assert!(note["from"].as_str().unwrap().len() >= 16);

    // The schema derived from `#[schemars(length(min = 1))]` is enforced before the handler.
    ada.send(WsMessage::text(
        json!({"action": "post", "text": ""}).to_string(),
    ))
    .await
    .unwrap();
    assert_eq!(recv(&mut ada).await["message"], "Bad request body");

    bob.send(WsMessage::text(json!({"action": "dance"}).to_string()))
        .await
        .unwrap();
    assert_eq!(recv(&mut bob).await["error"], "unknown action");

    let report = server.shutdown().await;
    assert_eq!(report.unfinished, 0);
}

#[test]
fn the_exported_document_lists_every_route_and_outbound_message() {
    let document = handwritten_example::asyncapi().to_json();
    let messages = document["channels"]["board"]["messages"]
        .as_object()
        .unwrap();
    let names: Vec<&str> = messages.keys().map(String::as_str).collect();
    assert_eq!(names, ["post", "echo", "note", "echoed"]);
    assert_eq!(
        document["components"]["messages"]["post"]["x-route-key"],
        "post"
    );
    assert_eq!(
        document["components"]["schemas"]["post"]["properties"]["text"]["minLength"],
        1
    );
}
