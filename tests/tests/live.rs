//! The live contract runner against real ws-runtime servers on 127.0.0.1: the chat example
//! (conforms: every case passes) and three servers that break the chat's contract in different
//! ways, each caught with a precise report.

#![allow(clippy::unwrap_used)] // a test that cannot set itself up should stop right there

use std::net::SocketAddr;
use std::time::Duration;

use asyncapi_cli::junit::to_junit;
use asyncapi_cli::live::{self, LiveOptions, LiveReport, Status};
use asyncapi_codegen::contract::Contract;
use chat::api::chat::{ChatRoute, ChatService, PATH, options};
use chat::api::handlers::Chat;
use ws_runtime::{Accept, ConnectRequest, Context, HandlerError, Reject, Reply};

/// How a broken server answers `echo`.
#[derive(Clone, Copy, Debug)]
enum Breakage {
    /// `text` is a number.
    WrongFieldType,
    /// A message the document does not have.
    UnknownReply,
    /// Nothing at all.
    MissingReply,
}

/// The chat, except for `echo`.
struct Broken(Breakage, ChatService<Chat>);

impl ws_runtime::Handler<ChatRoute> for Broken {
    async fn connect(&self, request: &ConnectRequest) -> Result<Accept, Reject> {
        self.1.connect(request).await
    }

    async fn message(&self, cx: &Context, route: ChatRoute) -> Result<Reply, HandlerError> {
        match (route, self.0) {
            (ChatRoute::Echo(_), Breakage::WrongFieldType) => {
                Ok(Reply::text(r#"{"type":"echo","text":42}"#))
            }
            (ChatRoute::Echo(echo), Breakage::UnknownReply) => Ok(Reply::json(
                &serde_json::json!({"type": "pong", "text": echo.text}),
            )?),
            (ChatRoute::Echo(_), Breakage::MissingReply) => Ok(Reply::none()),
            (route, _) => self.1.message(cx, route).await,
        }
    }
}

async fn serve(app: ws_runtime::App) -> (ws_runtime::Server, SocketAddr) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = app.serve(listener).await.unwrap();
    let address = server.local_addr();
    (server, address)
}

fn contract() -> Contract {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/chat/asyncapi.yaml"
    );
    let loaded = asyncapi_codegen::load(path.as_ref(), &Default::default()).unwrap();
    Contract::new(&loaded)
}

/// Runs the (blocking) runner beside the server's runtime.
async fn run(address: SocketAddr) -> LiveReport {
    let mut options = LiveOptions::new(format!("ws://{address}"));
    options.timeout = Duration::from_secs(2);
    options.settle = Duration::from_millis(100);
    tokio::task::spawn_blocking(move || live::run(&contract(), &options).unwrap())
        .await
        .unwrap()
}

fn case<'a>(report: &'a LiveReport, message: &str) -> &'a live::Case {
    report
        .cases
        .iter()
        .find(|c| c.message == message)
        .unwrap_or_else(|| panic!("no case for {message}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chat_example_passes() {
    let (server, address) = serve(chat::server().unwrap()).await;
    let report = run(address).await;
    let titles: Vec<String> = report.cases.iter().map(live::Case::title).collect();
    assert_eq!(
        titles,
        [
            "chat sendMessage/hello",
            "chat echo/ping",
            "chat setName/rename",
            "chat unknown/dance"
        ]
    );
    for case in &report.cases {
        assert_eq!(
            case.status,
            Status::Passed,
            "{}: {:?}",
            case.title(),
            case.failures
        );
    }
    let echo = case(&report, "echo");
    assert_eq!(echo.expected_reply.as_deref(), Some("echoReply"));
    // The reply is among the frames (others, like a broadcast, may come too).
    assert!(
        echo.frames
            .iter()
            .any(|f| f.message.as_deref() == Some("echoReply")),
        "{:?}",
        echo.frames
    );
    let dance = case(&report, "unknown");
    assert_eq!(dance.route.as_deref(), Some("$default"));
    assert!(
        dance
            .frames
            .iter()
            .any(|f| f.message.as_deref() == Some("error")),
        "{:?}",
        dance.frames
    );
    let xml = to_junit(&report);
    assert!(
        xml.contains(r#"<testsuite name="chat" tests="4" failures="0" skipped="0""#),
        "{xml}"
    );
    server.shutdown().await;
}

async fn broken(breakage: Breakage) -> LiveReport {
    let handler = Broken(breakage, ChatService(Chat));
    let app = ws_runtime::Router::new()
        .channel_with(PATH, handler, options())
        .build()
        .unwrap();
    let (server, address) = serve(app).await;
    let report = run(address).await;
    server.shutdown().await;
    // Only `echo` is broken.
    for case in report.cases.iter().filter(|c| c.message != "echo") {
        assert_eq!(
            case.status,
            Status::Passed,
            "{}: {:?}",
            case.title(),
            case.failures
        );
    }
    assert_eq!((report.passed(), report.failed()), (3, 1));
    report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_with_a_wrong_field_type_is_caught() {
    let report = broken(Breakage::WrongFieldType).await;
    let echo = case(&report, "echo");
    assert_eq!(echo.status, Status::Failed);
    let failure = &echo.failures[0];
    assert!(
        failure.starts_with("a frame is not the reply `echoReply` (not a valid `echoReply`: /text: 42 is not of type \"string\" (keyword `type` at "),
        "{failure}"
    );
    assert!(
        failure.contains("examples/chat/asyncapi.yaml:"),
        "{failure}"
    );
    assert!(
        failure.ends_with(r#"{"type":"echo","text":42}"#),
        "{failure}"
    );
    // One failure: the frame that should have been the reply, said once.
    assert_eq!(echo.failures.len(), 1, "{:?}", echo.failures);
    let xml = to_junit(&report);
    assert!(xml.contains(r#"failures="1""#), "{xml}");
    assert!(
        xml.contains("<failure message=\"a frame is not the reply `echoReply`"),
        "{xml}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_reply_is_caught() {
    let report = broken(Breakage::UnknownReply).await;
    let echo = case(&report, "echo");
    let failure = &echo.failures[0];
    assert!(
        failure.starts_with("a frame is not the reply `echoReply`"),
        "{failure}"
    );
    assert!(
        failure.contains("nor any outbound message of channel `chat`"),
        "{failure}"
    );
    assert!(
        failure.contains(r#"/type: "echo" was expected"#),
        "{failure}"
    );
    assert!(
        failure.ends_with(r#"{"type":"pong","text":"ping"}"#),
        "{failure}"
    );
    assert_eq!(echo.frames[0].message, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_reply_is_caught() {
    let report = broken(Breakage::MissingReply).await;
    let echo = case(&report, "echo");
    assert!(echo.frames.is_empty());
    assert_eq!(
        echo.failures,
        ["no reply: route `echo` must answer with `echoReply`, and no such frame came within 2s"]
    );
    // Bounded: the case waited for the timeout, not longer.
    assert!(echo.seconds < 3.0, "{}", echo.seconds);
}
