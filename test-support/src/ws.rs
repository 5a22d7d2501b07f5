//! A real WebSocket client and the reads tests make with it, each bounded in time.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// A client connection.
pub type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Connects to `ws://{addr}{path}`; panics when the handshake fails or takes over 5 s.
pub async fn connect(addr: SocketAddr, path: &str) -> Client {
    try_connect(addr, path).await.unwrap()
}

/// Connects to `ws://{addr}{path}`; the handshake's error as tungstenite reports it (a refused
/// upgrade is `Error::Http` with the response). Panics past 5 s.
pub async fn try_connect(
    addr: SocketAddr,
    path: &str,
) -> Result<Client, tokio_tungstenite::tungstenite::Error> {
    try_connect_url(&format!("ws://{addr}{path}")).await
}

/// Connects to `url`, as [`try_connect`].
pub async fn try_connect_url(url: &str) -> Result<Client, tokio_tungstenite::tungstenite::Error> {
    // tungstenite zeroes its whole read buffer (128 KiB by default) before each read: with
    // many clients in one process, as in the throughput benchmark, that was the load client's
    // largest cost, and it shares the machine with the server it measures.
    let config = WebSocketConfig::default().read_buffer_size(8 * 1024);
    tokio::time::timeout(
        Duration::from_secs(5),
        tokio_tungstenite::connect_async_with_config(url, Some(config), false),
    )
    .await
    .expect("connect timed out")
    .map(|(ws, _)| ws)
}

/// Sends `value` as one text frame.
pub async fn send(client: &mut Client, value: Value) {
    client
        .send(WsMessage::text(value.to_string()))
        .await
        .unwrap();
}

/// The next text frame, as JSON (anything else panics, as does nothing within 5 s).
pub async fn recv(client: &mut Client) -> Value {
    match next_data(client).await {
        WsMessage::Text(text) => serde_json::from_str(&text).unwrap(),
        other => panic!("expected a text frame, got {other:?}"),
    }
}

/// The next frame, which must be binary (panics past 5 s).
pub async fn binary(client: &mut Client) -> Vec<u8> {
    match next_data(client).await {
        WsMessage::Binary(data) => data.to_vec(),
        other => panic!("expected a binary frame, got {other:?}"),
    }
}

/// The next frame that is not a ping or a pong (panics past 5 s or when the connection ends).
async fn next_data(client: &mut Client) -> WsMessage {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(5), client.next())
            .await
            .expect("no frame within 5 s")
            .expect("the connection ended")
            .unwrap();
        if !matches!(frame, WsMessage::Ping(_) | WsMessage::Pong(_)) {
            return frame;
        }
    }
}

/// Reads until the server closes; returns the close code (1005 without one, 1006 when the
/// connection broke without a close frame).
pub async fn closed(client: &mut Client) -> u16 {
    loop {
        let next = tokio::time::timeout(Duration::from_secs(5), client.next())
            .await
            .expect("no close within 5 s");
        match next {
            Some(Ok(WsMessage::Close(Some(frame)))) => return frame.code.into(),
            Some(Ok(WsMessage::Close(None))) => return 1005,
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return 1006,
        }
    }
}

/// Nothing arrives for 200 ms.
pub async fn silent(client: &mut Client) {
    let next = tokio::time::timeout(Duration::from_millis(200), client.next()).await;
    assert!(next.is_err(), "expected silence, got {next:?}");
}
