//! `ws_runtime::client` with hand-written routes, against a ws-runtime server over 127.0.0.1:
//! replies told apart by `correlationId` or by type, timeouts, a server that pings, and
//! permessage-deflate offered, accepted or declined by a server written by hand.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use serde::{Deserialize, Serialize};
use test_support::bounded;
use ws_runtime::client::{
    Client, ClientError, ClientOptions, Correlation, Event, Incoming, Target, decode_if,
};
use ws_runtime::{Context, DecodeError, Handler, HandlerError, Message, Reply, Router, Routes};

/// `{"action": "ask", "id": …, "n": …}`: answered `2n` under the same id, after an answer to
/// someone else.
#[derive(Debug, Serialize, Deserialize, Message)]
#[message(
    name = "ask",
    schema = r#"{"type": "object", "required": ["id", "n"], "properties": {"action": {"const": "ask"}, "id": {"type": "string"}, "n": {"type": "integer"}}}"#
)]
struct Ask {
    id: String,
    n: i64,
}

/// `{"action": "silent"}`: never answered.
#[derive(Debug, Serialize, Deserialize, Message)]
#[message(name = "silent", schema = r#"{"type": "object"}"#)]
struct Silent {}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Message)]
#[message(
    name = "answer",
    schema = r#"{"type": "object", "required": ["id", "answer"], "properties": {"id": {"type": "string"}, "answer": {"type": "integer"}}}"#
)]
struct Answer {
    id: String,
    answer: i64,
}

#[derive(Debug, Routes)]
enum Api {
    #[route("ask")]
    Ask(Ask),
    #[route("silent")]
    Silent(Silent),
}

#[derive(Debug, Clone, PartialEq)]
enum Inbound {
    Answer(Answer),
}

impl Incoming for Inbound {
    fn decode(json: &serde_json::Value) -> Option<Result<Self, DecodeError>> {
        decode_if::<Answer>(json).map(|r| r.map(Inbound::Answer))
    }
}

struct Server;

impl Handler<Api> for Server {
    async fn message(&self, cx: &Context, message: Api) -> Result<Reply, HandlerError> {
        match message {
            Api::Ask(ask) => {
                // Someone else's answer first, then this one, both through the registry.
                let other = Answer {
                    id: "someone else".into(),
                    answer: 0,
                };
                let mine = Answer {
                    id: ask.id,
                    answer: ask.n * 2,
                };
                for answer in [other, mine] {
                    cx.connections()
                        .send_json(&cx.connection_id, &answer)
                        .await
                        .map_err(HandlerError::new)?;
                }
                Ok(Reply::none())
            }
            Api::Silent(_) => Ok(Reply::none()),
        }
    }
}

async fn serve() -> ws_runtime::Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let app = Router::new().channel("/", Server).build().unwrap();
    app.serve(listener).await.unwrap()
}

async fn connect(server: &ws_runtime::Server, options: ClientOptions) -> Client<Api, Inbound> {
    let target = Target::new(&format!("ws://{}", server.local_addr()), "/");
    Client::connect(target, options).await.unwrap()
}

const BY_ID: Correlation = Correlation {
    request: "/id",
    reply: "/id",
};

#[tokio::test]
async fn a_correlation_id_picks_the_reply_out_of_other_frames() {
    bounded(30, async {
        let server = serve().await;
        let mut client = connect(&server, ClientOptions::default()).await;
        let ask = Api::Ask(Ask {
            id: "q1".into(),
            n: 21,
        });
        let answer: Answer = client.request(&ask, Some(BY_ID)).await.unwrap();
        assert_eq!(answer.answer, 42);
        assert_eq!(answer.id, "q1");
        // The other answer is not lost: it waits for `next`.
        let Some(Event::Message(Inbound::Answer(other))) = client.next().await else {
            panic!("the other answer");
        };
        assert_eq!(other.id, "someone else");

        // By type alone, the first answer is taken: why the document's `correlationId`
        // matters. (Its own answer then waits for `next`.)
        let answer: Answer = client.request(&ask, None).await.unwrap();
        assert_eq!(answer.id, "someone else");
        let Some(Event::Message(Inbound::Answer(mine))) = client.next().await else {
            panic!("its own answer");
        };
        assert_eq!(mine.id, "q1");
        client.close().await.unwrap();
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_request_without_a_reply_times_out_and_the_client_goes_on() {
    bounded(30, async {
        let server = serve().await;
        let options = ClientOptions::default().request_timeout(Duration::from_millis(200));
        let mut client = connect(&server, options).await;
        let error = client
            .request::<Answer>(&Api::Silent(Silent {}), None)
            .await
            .unwrap_err();
        assert!(
            matches!(error, ClientError::Timeout(t) if t == Duration::from_millis(200)),
            "{error:?}"
        );
        let ask = Api::Ask(Ask {
            id: "q2".into(),
            n: 1,
        });
        let answer: Answer = client.request(&ask, Some(BY_ID)).await.unwrap();
        assert_eq!(answer.answer, 2);
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn pings_are_answered_while_the_client_reads() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message as Frame;
    bounded(30, async {
        // A bare server that pings, then says something, then closes with a reason.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let peer = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
            ws.send(Frame::Ping(b"are you there".to_vec().into()))
                .await
                .unwrap();
            let pong = loop {
                match ws.next().await.unwrap().unwrap() {
                    Frame::Pong(data) => break data,
                    _ => continue,
                }
            };
            ws.send(Frame::text(r#"{"id": "x", "answer": 7}"#))
                .await
                .unwrap();
            ws.close(Some(tokio_tungstenite::tungstenite::protocol::CloseFrame {
                code: 4000.into(),
                reason: "bye".into(),
            }))
            .await
            .unwrap();
            pong
        });
        let target = Target::new(&format!("ws://{addr}"), "/");
        let mut client: Client<Api, Inbound> = Client::connect(target, ClientOptions::default())
            .await
            .unwrap();
        assert_eq!(
            client.next().await,
            Some(Event::Message(Inbound::Answer(Answer {
                id: "x".into(),
                answer: 7
            })))
        );
        assert_eq!(
            client.next().await,
            Some(Event::Closed {
                code: 4000,
                reason: "bye".into()
            })
        );
        assert_eq!(client.next().await, None);
        assert_eq!(&peer.await.unwrap()[..], b"are you there");
    })
    .await;
}

#[tokio::test]
async fn credentials_from_the_options_reach_every_handshake() {
    use ws_runtime::{ApiKeys, ChannelOptions, Location, Principal, Scheme, Security};
    bounded(30, async {
        // Any one of: a key in the query, in a header, in a cookie; or a bearer token.
        let security = Security::all_of([Scheme::new("query", Location::Query("api_key".into()))])
            .or([Scheme::new("header", Location::Header("x-api-key".into()))])
            .or([Scheme::new("cookie", Location::Cookie("session".into()))])
            .or([Scheme::new("bearer", Location::Bearer)]);
        let options = ChannelOptions {
            security: Some(security),
            ..ChannelOptions::default()
        };
        let keys = ApiKeys::new().key("k-1", Principal::new("ada"));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut router = Router::new().channel_with("/", Server, options);
        for scheme in ["query", "header", "cookie", "bearer"] {
            router = router.verify(scheme, keys.clone());
        }
        let server = router.build().unwrap().serve(listener).await.unwrap();
        let target = || Target::new(&format!("ws://{}", server.local_addr()), "/");

        let given = [
            ClientOptions::default().query("api_key", "k-1"),
            ClientOptions::default().header("x-api-key", "k-1"),
            ClientOptions::default().header("cookie", "theme=dark; session=k-1"),
            ClientOptions::default().bearer("k-1"),
        ];
        for options in given {
            let shown = format!("{options:?}");
            assert!(!shown.contains("k-1"), "Debug shows no credential: {shown}");
            let mut client = Client::<Api, Inbound>::connect(target(), options)
                .await
                .unwrap();
            let ask = Api::Ask(Ask {
                id: "q".into(),
                n: 1,
            });
            let answer: Answer = client.request(&ask, Some(BY_ID)).await.unwrap();
            assert_eq!(answer.answer, 2);
        }
        for options in [
            ClientOptions::default(),
            ClientOptions::default().query("api_key", "k-2"),
            ClientOptions::default().bearer("k-2"),
        ] {
            let refused = Client::<Api, Inbound>::connect(target(), options).await;
            let Err(ClientError::Refused { status, .. }) = refused else {
                panic!("refused, not {refused:?}");
            };
            assert_eq!(status, 401);
        }
        server.shutdown().await;
    })
    .await;
}

/// A server written by hand: reads one handshake, answers 101 (accepting permessage-deflate
/// when `accept` and offered), then sends `answer` as one compressed text frame when accepted,
/// as it is otherwise. Returns the handshake it read.
async fn hand_written_server(
    listener: tokio::net::TcpListener,
    accept: bool,
    answer: &'static str,
) -> String {
    use base64::Engine;
    use sha1::Digest;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (mut stream, _) = listener.accept().await.unwrap();
    let head = test_support::http::read_head(&mut stream).await;
    let key = head
        .lines()
        .find_map(|l| {
            l.strip_prefix("Sec-WebSocket-Key: ")
                .or_else(|| l.strip_prefix("sec-websocket-key: "))
        })
        .unwrap();
    let accept_key = base64::engine::general_purpose::STANDARD.encode(
        sha1::Sha1::new()
            .chain_update(key.trim())
            .chain_update("258EAFA5-E914-47DA-95CA-C5AB0DC85B11")
            .finalize(),
    );
    let compress = accept && head.to_ascii_lowercase().contains("permessage-deflate");
    let extension = if compress {
        "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=9\r\n"
    } else {
        ""
    };
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {accept_key}\r\n{extension}\r\n"
    );
    stream.write_all(response.as_bytes()).await.unwrap();
    let (first, payload) = if compress {
        let mut deflate = flate2::Compress::new(flate2::Compression::fast(), false);
        let mut out = Vec::with_capacity(answer.len() + 64);
        deflate
            .compress_vec(answer.as_bytes(), &mut out, flate2::FlushCompress::Sync)
            .unwrap();
        out.truncate(out.len() - 4);
        (0xC1u8, out) // FIN, RSV1, text
    } else {
        (0x81u8, answer.as_bytes().to_vec())
    };
    let mut frame = vec![first, u8::try_from(payload.len()).unwrap()];
    frame.extend(payload);
    stream.write_all(&frame).await.unwrap();
    // Held open until the client has read the frame and goes.
    let mut rest = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest)).await;
    head
}

#[tokio::test]
async fn the_client_offers_permessage_deflate_and_reads_compressed_messages() {
    bounded(30, async {
        let answer = r#"{"id":"compressed","answer":42}"#;
        for (offer, accept) in [(true, true), (false, true), (true, false)] {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let target = Target::new(&format!("ws://{}", listener.local_addr().unwrap()), "/");
            let server = tokio::spawn(hand_written_server(listener, accept, answer));
            let options = ClientOptions::default().compression(offer);
            let mut client = Client::<Api, Inbound>::connect(target, options)
                .await
                .unwrap();
            let Some(Event::Message(Inbound::Answer(got))) = client.next().await else {
                panic!("the answer, offer {offer} accept {accept}");
            };
            assert_eq!(got.answer, 42);
            drop(client);
            let head = server.await.unwrap();
            assert_eq!(
                head.to_ascii_lowercase()
                    .contains("sec-websocket-extensions: permessage-deflate"),
                offer,
                "{head}"
            );
        }
    })
    .await;
}
