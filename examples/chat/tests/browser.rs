//! The chat page in a real browser: headless Chromium (Debian's `chromium`; `CHROMIUM` overrides
//! the path) opens the page twice, one tab sends a message, and the other shows it; and the docs
//! page (`chat --docs`, `/docs`) lists every route and its console gets the `echo` reply; and the
//! page works against `asyncapi-rs mock` of the chat's document, before any server. Driven
//! over Chromium's DevTools protocol with the WebSocket client the other tests use: no driver
//! and no browser download. The screenshots are saved under the test's output folder
//! (`target/tmp/chat-browser/chat.png`, `target/tmp/chat-docs/docs.png`).

#![allow(clippy::unwrap_used)] // a test that cannot set itself up should stop right there

mod support;

use std::path::Path;
use std::time::Duration;

use serde_json::json;
use test_support::browser::browse;

/// Sets an input's value and submits its form, as a person typing and pressing Enter would.
fn type_and_submit(input: &str, value: &str, button: &str) -> String {
    format!(
        "(() => {{ const i = document.getElementById({input:?}); i.value = {value:?}; document.getElementById({button:?}).click(); return true; }})()"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tabs_chat_in_headless_chromium() {
    let server = support::start();
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("chat-browser");
    let (_browser, mut devtools) = browse(&out).await;

    let page = format!("http://{}/", server.address);
    let joinable = "!!document.getElementById('join')";
    let ada = devtools.open(&page, joinable).await;
    let bob = devtools.open(&page, joinable).await;
    for (tab, name) in [(&ada, "Ada"), (&bob, "Bob")] {
        devtools
            .eval(tab, &type_and_submit("name", name, "join"))
            .await;
        devtools
            .wait_for(
                tab,
                &format!(
                    "document.getElementById('status').textContent === 'Connected as {name}.'"
                ),
            )
            .await;
    }
    // Ada sees Bob join; then Ada speaks and Bob's tab shows it.
    devtools
        .wait_for(
            &ada,
            "document.getElementById('log').innerText.includes('Bob joined')",
        )
        .await;
    devtools
        .eval(
            &ada,
            &type_and_submit("text", "hello from the browser", "send"),
        )
        .await;
    devtools
        .wait_for(
            &bob,
            "document.getElementById('log').innerText.includes('Ada: hello from the browser')",
        )
        .await;
    // The sender sees its own line once (written locally; the server does not echo broadcasts).
    let own = devtools
        .eval(
            &ada,
            "document.getElementById('log').innerText.split('hello from the browser').length - 1",
        )
        .await;
    assert_eq!(own, json!(1));
    // `/echo` is the two-way route: the page awaits the generated client's `echo` and shows its
    // reply once (a request's reply is not also an event).
    devtools
        .eval(&ada, &type_and_submit("text", "/echo round trip", "send"))
        .await;
    devtools
        .wait_for(
            &ada,
            "document.getElementById('log').innerText.includes('echo: round trip')",
        )
        .await;
    let replies = devtools
        .eval(
            &ada,
            "document.getElementById('log').innerText.split('echo: round trip').length - 1",
        )
        .await;
    assert_eq!(replies, json!(1));

    devtools.screenshot(&bob, &out.join("chat.png")).await;
    let _ = devtools.call(None, "Browser.close", json!({})).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_docs_page_lists_every_route_and_its_console_gets_the_echo_reply() {
    let server = support::start_args(&["--docs"], std::process::Stdio::inherit());
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("chat-docs");
    let (_browser, mut devtools) = browse(&out).await;

    let page = format!("http://{}/docs", server.address);
    let docs = devtools
        .open(
            &page,
            "document.querySelectorAll('[data-route]').length > 0",
        )
        .await;
    // A desktop's viewport, for the screenshot (the README shows it).
    devtools
        .call(
            Some(&docs),
            "Emulation.setDeviceMetricsOverride",
            json!({"width": 1280, "height": 860, "deviceScaleFactor": 1, "mobile": false}),
        )
        .await;
    let listed = devtools
        .eval(
            &docs,
            "[...document.querySelectorAll('[data-route]')].map((r) => r.dataset.route)",
        )
        .await;
    assert_eq!(listed, json!(["sendMessage", "echo", "setName"]));
    // And every message of the document, what the server sends included.
    let messages = devtools
        .eval(
            &docs,
            "[...document.querySelectorAll('[data-message]')].map((r) => r.dataset.message).sort()",
        )
        .await;
    assert_eq!(
        messages,
        json!([
            "echo",
            "echoReply",
            "error",
            "joined",
            "left",
            "message",
            "sendMessage",
            "setName",
            "unknown"
        ])
    );
    let title = devtools
        .eval(&docs, "document.getElementById('title').textContent")
        .await;
    assert_eq!(title, json!("Chat 1.0.0"));
    let selection = devtools
        .eval(
            &docs,
            "document.querySelector('.selection code').textContent",
        )
        .await;
    assert_eq!(selection, json!("$request.body.action"));

    // The console: `Try` fills in the route's example; the chat wants a name to connect.
    devtools
        .eval(
            &docs,
            "document.querySelector('[data-try=echo]').click(); \
             document.getElementById('url').value += '?name=Docs'; \
             document.getElementById('connect').click(); true",
        )
        .await;
    devtools
        .wait_for(
            &docs,
            "document.getElementById('status').textContent === 'connected'",
        )
        .await;
    let message = devtools
        .eval(&docs, "document.getElementById('message').value")
        .await;
    assert_eq!(message, json!(r#"{"action":"echo","text":"ping"}"#));
    devtools
        .eval(&docs, "document.getElementById('send').click(); true")
        .await;
    devtools
        .wait_for(
            &docs,
            r#"document.getElementById('log').innerText.includes('{"type":"echo","text":"ping"}')"#,
        )
        .await;
    devtools.screenshot(&docs, &out.join("docs.png")).await;
    let _ = devtools.call(None, "Browser.close", json!({})).await;
}

/// The page, served by `asyncapi-rs mock --static static` before any server exists: it joins,
/// its `/echo` gets the reply the document's example gives, and the mock's pushes show.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_works_against_the_documents_mock() {
    use asyncapi_cli::mock_server::{Mock, with_static};
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let loaded = asyncapi_codegen::load(&root.join("asyncapi.yaml"), &Default::default()).unwrap();
    let contract = asyncapi_codegen::contract::Contract::new(&loaded);
    let mock = std::sync::Arc::new(Mock::new(contract, std::sync::Arc::new(|_: &str| {})));
    let app = with_static(mock.router().0.build().unwrap(), root.join("static"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = app.serve(listener).await.unwrap();
    let pusher = std::sync::Arc::clone(&mock);
    let connections = server.connections();
    let push =
        tokio::spawn(async move { pusher.push(connections, Duration::from_millis(300)).await });

    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("chat-mock-browser");
    let (_browser, mut devtools) = browse(&out).await;
    let page = format!("http://{}/", server.local_addr());
    let tab = devtools
        .open(&page, "!!document.getElementById('join')")
        .await;
    devtools
        .eval(&tab, &type_and_submit("name", "Ada", "join"))
        .await;
    devtools
        .wait_for(
            &tab,
            "document.getElementById('status').textContent === 'Connected as Ada.'",
        )
        .await;
    devtools
        .eval(&tab, &type_and_submit("text", "/echo anything", "send"))
        .await;
    // The mock answers `echo` with the example of `echoReply`.
    devtools
        .wait_for(
            &tab,
            "document.getElementById('log').innerText.includes('echo: ping')",
        )
        .await;
    // And pushes the outbound messages that answer nothing, from their examples.
    devtools
        .wait_for(
            &tab,
            "document.getElementById('log').innerText.includes('joined')",
        )
        .await;
    devtools.screenshot(&tab, &out.join("chat-mock.png")).await;
    push.abort();
    let _ = devtools.call(None, "Browser.close", json!({})).await;
    server.shutdown().await;
}
