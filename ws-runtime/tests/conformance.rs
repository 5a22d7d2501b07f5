//! RFC 6455 and RFC 7692 at the frame level, as a client that writes its own frames sees the
//! server: the cases that matter (fragmentation with control frames between fragments, invalid
//! UTF-8, reserved bits, protocol errors; compressed fragments, bad compressed data, a compression
//! bomb), each checked by the close code or the frames that come back. The client is a
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
    open_with(addr, "").await.0
}

/// A raw WebSocket connection to the chat with `headers` (each ending in CRLF) in its handshake,
/// and the head of the server's 101.
async fn open_with(addr: std::net::SocketAddr, headers: &str) -> (TcpStream, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{headers}\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let head = test_support::http::read_head(&mut stream).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    (stream, head)
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
        // RFC 6455 §5.2 has a connection with a reserved opcode failed, and names no code: the
        // socket library says 1003 (data it cannot accept), the rest are 1002.
        let cases: [(&str, Vec<u8>, u16); 9] = [
            (
                "a reserved bit without an extension",
                frame(true, 0b100, TEXT, b"{}", true),
                1002,
            ),
            (
                "the other reserved bits",
                frame(true, 0b011, BINARY, b"x", true),
                1002,
            ),
            (
                "a frame the client did not mask",
                frame(true, 0, TEXT, b"{}", false),
                1002,
            ),
            (
                "a continuation with nothing to continue",
                frame(true, 0, CONTINUATION, b"x", true),
                1002,
            ),
            ("a fragmented ping", frame(false, 0, PING, b"x", true), 1002),
            (
                "a ping over 125 bytes",
                frame(true, 0, PING, &[b'x'; 126], true),
                1002,
            ),
            (
                "a pong over 125 bytes",
                frame(true, 0, PONG, &[b'x'; 126], true),
                1002,
            ),
            ("a reserved opcode", frame(true, 0, 0x3, b"x", true), 1003),
            (
                "a new message before the last one's final fragment",
                [
                    frame(false, 0, TEXT, b"{", true),
                    frame(true, 0, TEXT, b"}", true),
                ]
                .concat(),
                1002,
            ),
        ];
        for (case, bytes, code) in cases {
            let mut stream = open(server.local_addr()).await;
            stream.write_all(&bytes).await.unwrap();
            assert_eq!(close_code(&mut stream).await, Some(code), "{case}");
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

/// What a browser offers.
const OFFER: &str = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n";

/// `message` compressed as one permessage-deflate message (RFC 7692 §7.2.1: raw deflate, sync
/// flushed, without its last four bytes), by a compressor that keeps its context.
fn deflate(compressor: &mut flate2::Compress, message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 64);
    let start = compressor.total_in();
    loop {
        let consumed = usize::try_from(compressor.total_in() - start).unwrap();
        compressor
            .compress_vec(&message[consumed..], &mut out, flate2::FlushCompress::Sync)
            .unwrap();
        if out.len() < out.capacity() {
            break;
        }
        out.reserve(out.capacity());
    }
    assert!(out.ends_with(&[0, 0, 0xFF, 0xFF]));
    out.truncate(out.len() - 4);
    out
}

/// A compressor for what the client sends, on the window the server's answer (`head`) allows
/// the client (`client_max_window_bits=N`), 15 when it names none.
fn client_compressor(head: &str, level: flate2::Compression) -> flate2::Compress {
    let bits = head
        .split("client_max_window_bits=")
        .nth(1)
        .map_or(15, |rest| {
            rest.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse()
                .unwrap()
        });
    flate2::Compress::new_with_window_bits(level, false, bits)
}

/// A server's compressed message inflated (§7.2.2: the four bytes put back).
fn inflate(decompressor: &mut flate2::Decompress, payload: &[u8]) -> Vec<u8> {
    let input = [payload, &[0, 0, 0xFF, 0xFF]].concat();
    let mut out = Vec::with_capacity(1 << 20);
    decompressor
        .decompress_vec(&input, &mut out, flate2::FlushDecompress::Sync)
        .unwrap();
    out
}

/// A frame the server sent, with its RSV1 bit: whether its message is compressed.
async fn read_compressed(stream: &mut TcpStream) -> (u8, bool, Vec<u8>) {
    let mut head = [0u8; 2];
    stream.read_exact(&mut head).await.unwrap();
    let len = match head[1] & 0x7F {
        126 => {
            let mut n = [0u8; 2];
            stream.read_exact(&mut n).await.unwrap();
            usize::from(u16::from_be_bytes(n))
        }
        127 => panic!("a reply of more than 64 KiB"),
        n => usize::from(n),
    };
    let mut payload = vec![0u8; len];
    stream.read_exact(&mut payload).await.unwrap();
    (head[0] & 0x0F, head[0] & 0x40 != 0, payload)
}

/// The connection's id, asked of the server (`whoami`) on a connection that negotiated
/// compression: the first reply, inflated if it came compressed.
async fn connection_id(stream: &mut TcpStream) -> String {
    stream
        .write_all(&frame(true, 0, TEXT, br#"{"action":"whoami"}"#, true))
        .await
        .unwrap();
    let (_, compressed, payload) = read_compressed(stream).await;
    let reply = if compressed {
        inflate(&mut flate2::Decompress::new(false), &payload)
    } else {
        payload
    };
    let reply: serde_json::Value = serde_json::from_slice(&reply).unwrap();
    reply["connectionId"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_compressed_message_in_fragments_with_a_ping_between_is_inflated_and_answered_compressed()
{
    bounded(30, async {
        let (server, _) = start(|r| r).await;
        let (mut stream, head) = open_with(server.local_addr(), OFFER).await;
        let accepted = head
            .lines()
            .find(|l| {
                l.to_ascii_lowercase()
                    .starts_with("sec-websocket-extensions:")
            })
            .unwrap_or_default()
            .to_owned();
        assert!(accepted.contains("permessage-deflate"), "{head}");
        let mut compressor = client_compressor(&head, flate2::Compression::fast());
        let text = "compressed ".repeat(20);
        let message = format!(r#"{{"action":"echo","text":"{text}"}}"#);
        let compressed = deflate(&mut compressor, message.as_bytes());
        let (first, rest) = compressed.split_at(compressed.len() / 2);
        // RSV1 on the first fragment alone (§6.1), a ping between the fragments.
        let mut bytes = frame(false, 0b100, TEXT, first, true);
        bytes.extend(frame(true, 0, PING, b"between", true));
        bytes.extend(frame(true, 0, CONTINUATION, rest, true));
        stream.write_all(&bytes).await.unwrap();
        assert_eq!(
            read_compressed(&mut stream).await,
            (PONG, false, b"between".to_vec())
        );
        let (opcode, compressed, payload) = read_compressed(&mut stream).await;
        assert_eq!(
            (opcode, compressed),
            (TEXT, true),
            "the reply is compressed"
        );
        let mut decompressor = flate2::Decompress::new(false);
        let reply: serde_json::Value =
            serde_json::from_slice(&inflate(&mut decompressor, &payload)).unwrap();
        assert_eq!(reply["text"], text.as_str());
        assert!(payload.len() * 3 < text.len(), "{} bytes", payload.len());
        // A second message on the same contexts (both kept): still read, still answered.
        let again = deflate(&mut compressor, message.as_bytes());
        stream
            .write_all(&frame(true, 0b100, TEXT, &again, true))
            .await
            .unwrap();
        let (_, _, payload) = read_compressed(&mut stream).await;
        let reply: serde_json::Value =
            serde_json::from_slice(&inflate(&mut decompressor, &payload)).unwrap();
        assert_eq!(reply["text"], text.as_str());
    })
    .await;
}

#[tokio::test]
async fn compression_off_declines_the_offer_and_a_compressed_frame_is_closed_with_1002() {
    bounded(30, async {
        let (server, _) = start(|r| r.compression(ws_runtime::Compression::Off)).await;
        let (mut stream, head) = open_with(server.local_addr(), OFFER).await;
        assert!(
            !head
                .to_ascii_lowercase()
                .contains("sec-websocket-extensions"),
            "{head}"
        );
        let mut compressor = flate2::Compress::new(flate2::Compression::fast(), false);
        let compressed = deflate(&mut compressor, br#"{"action":"echo","text":"x"}"#);
        stream
            .write_all(&frame(true, 0b100, TEXT, &compressed, true))
            .await
            .unwrap();
        assert_eq!(close_code(&mut stream).await, Some(1002));
    })
    .await;
}

#[tokio::test]
async fn compressed_data_that_does_not_inflate_fails_the_connection() {
    bounded(30, async {
        let (server, _) = start(|r| r).await;
        let (mut stream, _) = open_with(server.local_addr(), OFFER).await;
        // A deflate block of the reserved type (BTYPE = 11).
        stream
            .write_all(&frame(true, 0b100, TEXT, &[0xFF, 0xFF, 0xFF, 0xFF], true))
            .await
            .unwrap();
        assert_eq!(close_code(&mut stream).await, Some(1011));
    })
    .await;
}

#[tokio::test]
async fn a_compression_bomb_is_refused_with_1009_before_it_is_inflated() {
    bounded(60, async {
        let (server, chat) = start(|r| r).await;
        // 16 MiB of one letter is about 16 KiB compressed: one frame within the 32 KiB limit,
        // whose message is 128 times the message limit.
        let (mut stream, head) = open_with(server.local_addr(), OFFER).await;
        let mut compressor = client_compressor(&head, flate2::Compression::best());
        let bomb = deflate(&mut compressor, &vec![b'a'; 16 << 20]);
        assert!(bomb.len() < 32 * 1024, "{} bytes", bomb.len());
        let id = connection_id(&mut stream).await;
        stream
            .write_all(&frame(true, 0b100, TEXT, &bomb, true))
            .await
            .unwrap();
        assert_eq!(close_code(&mut stream).await, Some(1009));
        assert_eq!(chat.wait_disconnect(&id).await, [1009]);
        // The same limits on fragments: each inflates within the frame limit, the message
        // (fragments of 24 KiB inflated) over 128 KiB.
        let (mut stream, head) = open_with(server.local_addr(), OFFER).await;
        let mut compressor = client_compressor(&head, flate2::Compression::best());
        // One deflate stream across the fragments: each sync flushed, its empty block kept
        // (only the message's end drops it, §7.2.1).
        let mut chunk = || {
            let mut chunk = deflate(&mut compressor, &vec![b'a'; 24 * 1024]);
            chunk.extend_from_slice(&[0, 0, 0xFF, 0xFF]);
            chunk
        };
        let mut bytes = frame(false, 0b100, TEXT, &chunk(), true);
        for _ in 0..6 {
            bytes.extend(frame(false, 0, CONTINUATION, &chunk(), true));
        }
        stream.write_all(&bytes).await.unwrap();
        assert_eq!(close_code(&mut stream).await, Some(1009));
    })
    .await;
}

#[tokio::test]
async fn offers_over_max_connections_are_declined_until_a_compressing_connection_ends() {
    bounded(30, async {
        let (server, chat) = start(|r| {
            r.compression(ws_runtime::Compression::Deflate {
                threshold: 0,
                context_takeover: true,
                window_bits: 12,
                max_connections: 1,
            })
        })
        .await;
        let accepted = |head: &str| head.contains("permessage-deflate");
        let (mut first, head) = open_with(server.local_addr(), OFFER).await;
        assert!(accepted(&head), "{head}");
        let id = connection_id(&mut first).await;
        let (_second, head) = open_with(server.local_addr(), OFFER).await;
        assert!(!accepted(&head), "over the bound: {head}");
        // A connection that offers nothing takes no context.
        let _plain = open(server.local_addr()).await;
        first
            .write_all(&frame(true, 0, CLOSE, &[0x03, 0xE8], true))
            .await
            .unwrap();
        assert_eq!(close_code(&mut first).await, Some(1000));
        assert_eq!(chat.wait_disconnect(&id).await, [1000]);
        let (_third, head) = open_with(server.local_addr(), OFFER).await;
        assert!(
            accepted(&head),
            "the first one's context is free again: {head}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_client_that_asks_for_no_context_takeover_gets_it_both_ways() {
    bounded(30, async {
        let (server, _) = start(|r| r).await;
        let offer = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits; \
                     server_no_context_takeover; client_no_context_takeover\r\n";
        let (mut stream, head) = open_with(server.local_addr(), offer).await;
        let answer = head.to_ascii_lowercase();
        assert!(answer.contains("server_no_context_takeover"), "{head}");
        assert!(answer.contains("client_no_context_takeover"), "{head}");
        let message = format!(r#"{{"action":"echo","text":"{}"}}"#, "reset ".repeat(30));
        let mut replies = Vec::new();
        for _ in 0..2 {
            // Each message on a fresh compressor: what the client promised.
            let mut compressor = client_compressor(&head, flate2::Compression::fast());
            let compressed = deflate(&mut compressor, message.as_bytes());
            stream
                .write_all(&frame(true, 0b100, TEXT, &compressed, true))
                .await
                .unwrap();
            let (opcode, compressed, payload) = read_compressed(&mut stream).await;
            assert_eq!((opcode, compressed), (TEXT, true));
            // Each reply inflates alone: the server kept no dictionary between them.
            let reply: serde_json::Value =
                serde_json::from_slice(&inflate(&mut flate2::Decompress::new(false), &payload))
                    .unwrap();
            assert_eq!(reply["type"], "echo");
            replies.push(payload);
        }
        assert_eq!(
            replies[0], replies[1],
            "the same reply, compressed the same way twice"
        );
    })
    .await;
}
