//! RFC 6455 at the frame level, as a client that writes its own frames sees the server: the cases
//! that matter (fragmentation with control frames between fragments, invalid UTF-8, reserved bits,
//! protocol errors), each checked by the close code or the frames that come back. The client is a
//! raw TCP stream on loopback; the server is the runtime on its real socket.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::*;
use test_support::bounded;

const TEXT: u8 = 0x1;
const BINARY: u8 = 0x2;
const CONTINUATION: u8 = 0x0;
const CLOSE: u8 = 0x8;
const PING: u8 = 0x9;
const PONG: u8 = 0xA;

/// A frame a client writes: `fin`, `rsv` (the three reserved bits, high to low), the opcode, and
/// the payload, masked unless `masked` is false.
fn frame(fin: bool, rsv: u8, opcode: u8, payload: &[u8], masked: bool) -> Vec<u8> {
    let mut bytes = vec![(u8::from(fin) << 7) | (rsv << 4) | opcode];
    let mask_bit = if masked { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => bytes.push(mask_bit | u8::try_from(n).unwrap()),
        n if n <= 0xFFFF => {
            bytes.push(mask_bit | 126);
            bytes.extend_from_slice(&u16::try_from(n).unwrap().to_be_bytes());
        }
        n => {
            bytes.push(mask_bit | 127);
            bytes.extend_from_slice(&u64::try_from(n).unwrap().to_be_bytes());
        }
    }
    if masked {
        let key = [0x12, 0x34, 0x56, 0x78];
        bytes.extend_from_slice(&key);
        bytes.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    } else {
        bytes.extend_from_slice(payload);
    }
    bytes
}

/// A frame the server sent: its opcode and payload.
async fn read_frame(stream: &mut TcpStream) -> Option<(u8, Vec<u8>)> {
    let read = async {
        let mut head = [0u8; 2];
        stream.read_exact(&mut head).await.ok()?;
        let opcode = head[0] & 0x0F;
        let len = match head[1] & 0x7F {
            126 => {
                let mut n = [0u8; 2];
                stream.read_exact(&mut n).await.ok()?;
                u64::from(u16::from_be_bytes(n))
            }
            127 => {
                let mut n = [0u8; 8];
                stream.read_exact(&mut n).await.ok()?;
                u64::from_be_bytes(n)
            }
            n => u64::from(n),
        };
        let mut payload = vec![0u8; usize::try_from(len).ok()?];
        stream.read_exact(&mut payload).await.ok()?;
        Some((opcode, payload))
    };
    tokio::time::timeout(Duration::from_secs(5), read)
        .await
        .ok()
        .flatten()
}

/// The close code the server closes with, reading past any other frame; `None` if the stream
/// ends without a close frame.
async fn close_code(stream: &mut TcpStream) -> Option<u16> {
    while let Some((opcode, payload)) = read_frame(stream).await {
        if opcode == CLOSE {
            return Some(
                payload
                    .get(..2)
                    .map_or(1005, |c| u16::from_be_bytes([c[0], c[1]])),
            );
        }
    }
    None
}

/// A raw WebSocket connection to the chat, after the handshake.
async fn open(addr: std::net::SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = "GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                   Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        stream.read_exact(&mut byte).await.unwrap();
        head.push(byte[0]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    stream
}

#[tokio::test]
async fn a_fragmented_message_with_control_frames_between_its_fragments_is_one_message() {
    bounded(30, async {
        let (server, _) = start(|r| r).await;
        let mut stream = open(server.local_addr()).await;
        let mut bytes = frame(false, 0, TEXT, br#"{"action":"ec"#, true);
        bytes.extend(frame(true, 0, PING, b"between", true));
        bytes.extend(frame(false, 0, CONTINUATION, br#"ho","text":"#, true));
        bytes.extend(frame(true, 0, PONG, b"unasked", true));
        bytes.extend(frame(
            true,
            0,
            CONTINUATION,
            "\"h\u{e9}\"}".as_bytes(),
            true,
        ));
        stream.write_all(&bytes).await.unwrap();
        assert_eq!(
            read_frame(&mut stream).await,
            Some((PONG, b"between".to_vec()))
        );
        let (opcode, reply) = read_frame(&mut stream).await.unwrap();
        assert_eq!(opcode, TEXT);
        let reply: serde_json::Value = serde_json::from_slice(&reply).unwrap();
        assert_eq!(reply["text"], "h\u{e9}");
    })
    .await;
}

#[tokio::test]
async fn text_that_is_not_utf8_is_closed_with_1007() {
    bounded(30, async {
        let (server, _) = start(|r| r).await;
        // Whole, with a code point split across fragments and left unfinished, and as a close
        // frame's reason.
        for frames in [
            frame(true, 0, TEXT, b"{\"a\":\"\xff\"}", true),
            frame(true, 0, CLOSE, &[0x03, 0xE8, 0xff], true),
            [
                frame(false, 0, TEXT, b"\"\xe2\x82", true),
                frame(true, 0, CONTINUATION, b"\"", true),
            ]
            .concat(),
        ] {
            let mut stream = open(server.local_addr()).await;
            stream.write_all(&frames).await.unwrap();
            assert_eq!(close_code(&mut stream).await, Some(1007));
        }
    })
    .await;
}

#[tokio::test]
async fn protocol_errors_are_closed_with_1002() {
    bounded(60, async {
        let (server, _) = start(|r| r).await;
        let cases: [(&str, Vec<u8>); 8] = [
            (
                "a reserved bit without an extension",
                frame(true, 0b100, TEXT, b"{}", true),
            ),
            (
                "the other reserved bits",
                frame(true, 0b011, BINARY, b"x", true),
            ),
            (
                "a frame the client did not mask",
                frame(true, 0, TEXT, b"{}", false),
            ),
            (
                "a continuation with nothing to continue",
                frame(true, 0, CONTINUATION, b"x", true),
            ),
            ("a fragmented ping", frame(false, 0, PING, b"x", true)),
            (
                "a ping over 125 bytes",
                frame(true, 0, PING, &[b'x'; 126], true),
            ),
            ("a reserved opcode", frame(true, 0, 0x3, b"x", true)),
            (
                "a new message before the last one's final fragment",
                [
                    frame(false, 0, TEXT, b"{", true),
                    frame(true, 0, TEXT, b"}", true),
                ]
                .concat(),
            ),
        ];
        for (case, bytes) in cases {
            let mut stream = open(server.local_addr()).await;
            stream.write_all(&bytes).await.unwrap();
            assert_eq!(close_code(&mut stream).await, Some(1002), "{case}");
        }
    })
    .await;
}

#[tokio::test]
async fn a_close_is_answered_with_its_code_and_a_malformed_close_with_1002() {
    bounded(30, async {
        let (server, _) = start(|r| r).await;
        let mut stream = open(server.local_addr()).await;
        stream
            .write_all(&frame(
                true,
                0,
                CLOSE,
                &[0x03, 0xE8, b'b', b'y', b'e'],
                true,
            ))
            .await
            .unwrap();
        assert_eq!(close_code(&mut stream).await, Some(1000));
        let cases: [(&str, &[u8]); 3] = [
            ("a one-byte close payload", &[0x03]),
            ("a code no endpoint may send (1005)", &[0x03, 0xED]),
            ("a code below 1000", &[0x03, 0xE7]),
        ];
        for (case, payload) in cases {
            let mut stream = open(server.local_addr()).await;
            stream
                .write_all(&frame(true, 0, CLOSE, payload, true))
                .await
                .unwrap();
            assert_eq!(close_code(&mut stream).await, Some(1002), "{case}");
        }
    })
    .await;
}
