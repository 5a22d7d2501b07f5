//! The generated client (`api::chat::ChatClient`) against the chat server, over real sockets on
//! loopback: every route, the typed reply, broadcasts as the typed enum, a message refused before
//! it is sent, error frames and stray frames as their own events, a refused handshake, the close
//! code, and reconnection.

#![allow(clippy::unwrap_used)] // a test that cannot set itself up should stop right there

use std::net::SocketAddr;
use std::time::Duration;

use chat::api::chat::{ChatClient, ChatOutbound, ChatQuery, ChatRoute};
use chat::api::types::{Echo, EchoReply, Joined, Left, Message, SendMessage, SetName};
use test_support::bounded;
use ws_runtime::client::{Backoff, ClientError, ClientOptions, ErrorKind, Event};

async fn serve_on(addr: &str) -> ws_runtime::Server {
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    chat::app().unwrap().serve(listener).await.unwrap()
}

fn base(addr: SocketAddr) -> String {
    format!("ws://{addr}")
}

async fn join(addr: SocketAddr, name: &str) -> ChatClient {
    let query = ChatQuery { name: name.into() };
    ChatClient::connect(&base(addr), &query).await.unwrap()
}

/// The next event (bounded in time).
async fn next(client: &mut ChatClient) -> Event<ChatOutbound> {
    tokio::time::timeout(Duration::from_secs(5), client.next())
        .await
        .expect("an event in time")
        .expect("the client is not closed for good")
}

/// The close code, after the `left` of others closed first.
async fn closed(client: &mut ChatClient) -> u16 {
    loop {
        match next(client).await {
            Event::Closed { code, .. } => return code,
            Event::Message(ChatOutbound::Left(_)) => {}
            other => panic!("closed, not {other:?}"),
        }
    }
}

#[tokio::test]
async fn every_route_and_what_the_server_sends_are_typed() {
    bounded(30, async {
        let server = serve_on("127.0.0.1:0").await;
        let addr = server.local_addr();
        let mut ada = join(addr, "Ada").await;
        let mut bob = join(addr, "Bob").await;
        // A broadcast, as the typed enum.
        assert_eq!(
            next(&mut ada).await,
            Event::Message(ChatOutbound::Joined(Joined::new("Bob")))
        );

        // `sendMessage`: the others get it typed.
        ada.send_message(SendMessage::new("hello")).await.unwrap();
        let Event::Message(ChatOutbound::Message(message)) = next(&mut bob).await else {
            panic!("a message");
        };
        assert_eq!(
            (message.from.as_str(), message.text.as_str()),
            ("Ada", "hello")
        );

        // `echo`: a request; its reply comes back typed, to the sender only.
        let reply: EchoReply = ada.echo(Echo::new("ping")).await.unwrap();
        assert_eq!(reply.text, "ping");

        // `setName`: the others see the old name leave and the new one join.
        ada.set_name(SetName::new("Grace")).await.unwrap();
        assert_eq!(
            next(&mut bob).await,
            Event::Message(ChatOutbound::Left(Left::new("Ada")))
        );
        assert_eq!(
            next(&mut bob).await,
            Event::Message(ChatOutbound::Joined(Joined::new("Grace")))
        );

        // `$default`: text no route takes is answered with the document's `error` message.
        ada.inner_mut().send_text("dance".into()).await.unwrap();
        let Event::Message(ChatOutbound::Error(error)) = next(&mut ada).await else {
            panic!("an error message");
        };
        assert!(error.message.contains("sendMessage"), "{}", error.message);

        // Frames that arrive while a request waits are kept for `next`, in order.
        bob.send_message(SendMessage::new("while you wait"))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(ada.echo(Echo::new("again")).await.unwrap().text, "again");
        let Event::Message(ChatOutbound::Message(message)) = next(&mut ada).await else {
            panic!("the message that arrived during the request");
        };
        assert_eq!(message.text, "while you wait");

        // Leaving: the others see it.
        ada.close().await.unwrap();
        assert_eq!(
            next(&mut bob).await,
            Event::Message(ChatOutbound::Left(Left::new("Grace")))
        );
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn an_invalid_message_is_refused_before_it_is_sent() {
    bounded(30, async {
        let server = serve_on("127.0.0.1:0").await;
        let addr = server.local_addr();
        // Outgoing checks on, as in debug builds (a release build turns them off by default).
        let options = ClientOptions::default().validate_outgoing(true);
        let query = ChatQuery { name: "Ada".into() };
        let mut ada = ChatClient::connect_with(&base(addr), &query, options)
            .await
            .unwrap();
        let mut bob = join(addr, "Bob").await;
        let _ = next(&mut ada).await; // Bob joined

        // `text` has `minLength: 1`.
        let error = ada.send_message(SendMessage::new("")).await.unwrap_err();
        let ClientError::Invalid(errors) = error else {
            panic!("refused locally, not {error:?}");
        };
        assert_eq!(errors.0[0].instance_path, "/text");
        // Nothing went out: the next thing Bob sees is the next valid message.
        ada.send_message(SendMessage::new("after")).await.unwrap();
        let Event::Message(ChatOutbound::Message(Message { text, .. })) = next(&mut bob).await
        else {
            panic!("a message");
        };
        assert_eq!(text, "after");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn error_frames_and_stray_frames_are_their_own_events() {
    bounded(30, async {
        let server = serve_on("127.0.0.1:0").await;
        let addr = server.local_addr();
        // Outgoing checks off: the server's check answers instead, with an error frame.
        let options = ClientOptions::default().validate_outgoing(false);
        let query = ChatQuery { name: "Ada".into() };
        let mut ada = ChatClient::connect_with(&base(addr), &query, options)
            .await
            .unwrap();
        ada.send_message(SendMessage::new("")).await.unwrap();
        let Event::ServerError(frame) = next(&mut ada).await else {
            panic!("an error frame");
        };
        assert_eq!(frame.kind, ErrorKind::BadRequestBody);
        assert!(frame.message_id.is_some() && !frame.connection_id.is_empty());

        // A request the server answers with an error frame fails with it.
        let route = ChatRoute::SendMessage(SendMessage::new(""));
        let error = ada
            .inner_mut()
            .request::<EchoReply>(&route, None)
            .await
            .unwrap_err();
        assert!(
            matches!(&error, ClientError::Server(f) if f.kind == ErrorKind::BadRequestBody),
            "{error:?}"
        );

        // A frame that is no message of the channel keeps its text.
        let id = server.connections().ids().pop().unwrap();
        let connections = server.connections();
        connections.send(&id, "not json").await.unwrap();
        connections
            .send(&id, r#"{"type":"weather","sky":"blue"}"#)
            .await
            .unwrap();
        let Event::Unmatched { text, reason } = next(&mut ada).await else {
            panic!("unmatched");
        };
        assert_eq!(text, "not json");
        assert!(reason.starts_with("not JSON"), "{reason}");
        let Event::Unmatched { text, .. } = next(&mut ada).await else {
            panic!("unmatched");
        };
        assert_eq!(text, r#"{"type":"weather","sky":"blue"}"#);
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_refused_handshake_is_a_typed_error_with_its_status() {
    bounded(30, async {
        let server = serve_on("127.0.0.1:0").await;
        // The `ws` binding's query schema needs a name of at least one character.
        let query = ChatQuery { name: "".into() };
        let error = ChatClient::connect(&base(server.local_addr()), &query)
            .await
            .unwrap_err();
        let ClientError::Refused { status, body } = &error else {
            panic!("refused, not {error:?}");
        };
        assert_eq!(*status, 400);
        assert!(body.contains("query"), "{body}");
        // Nobody listening: a transport error.
        let addr = server.local_addr();
        server.shutdown().await;
        let query = ChatQuery { name: "Ada".into() };
        let error = ChatClient::connect(&base(addr), &query).await.unwrap_err();
        assert!(matches!(error, ClientError::Transport(_)), "{error:?}");
    })
    .await;
}

#[tokio::test]
async fn the_close_code_is_an_event_and_the_client_reconnects() {
    bounded(30, async {
        let server = serve_on("127.0.0.1:0").await;
        let addr = server.local_addr();
        let backoff = Backoff {
            initial: Duration::from_millis(50),
            max: Duration::from_millis(200),
            attempts: None,
        };
        let query = ChatQuery { name: "Ada".into() };
        let options = ClientOptions::default().reconnect(backoff);
        let mut ada = ChatClient::connect_with(&base(addr), &query, options)
            .await
            .unwrap();
        let mut bob = join(addr, "Bob").await;
        let _ = next(&mut ada).await; // Bob joined

        // A shutdown closes every client with 1001 (after what was sent before: Bob leaving, if
        // his `$disconnect` ran first).
        server.shutdown().await;
        assert_eq!(closed(&mut ada).await, 1001);
        assert_eq!(
            next(&mut ada).await,
            Event::Reconnecting {
                attempt: 1,
                delay: Duration::from_millis(50)
            }
        );
        assert!(!ada.is_open());
        // Without reconnection, the close is the last event.
        assert_eq!(closed(&mut bob).await, 1001);
        assert_eq!(bob.next().await, None);
        // Sending while the connection is down is an error, not a lost message.
        let error = ada.send_message(SendMessage::new("hi")).await.unwrap_err();
        assert!(matches!(error, ClientError::Closed { .. }), "{error:?}");

        // The server comes back on the same address: the client reconnects by itself.
        let server = serve_on(&addr.to_string()).await;
        loop {
            match next(&mut ada).await {
                Event::Connected => break,
                Event::Reconnecting { attempt, delay } => {
                    assert!(attempt >= 2 && delay <= Duration::from_millis(200));
                }
                other => panic!("reconnecting, not {other:?}"),
            }
        }
        assert!(ada.is_open());
        assert_eq!(ada.echo(Echo::new("back")).await.unwrap().text, "back");
        server.shutdown().await;
    })
    .await;
}
