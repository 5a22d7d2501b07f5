//! The feed's prices in a real browser, compressed: headless Chromium (Debian's `chromium`)
//! subscribes with the WebSocket every page has, once to the feed as it is (permessage-deflate
//! accepted) and once to the same feed with compression off. A proxy in front of each counts the
//! bytes the server sent, at the socket; the same number of prices, from one market, must take at
//! least three times fewer bytes compressed.

#![allow(clippy::unwrap_used)] // a test that cannot set itself up should stop right there

mod support;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use feed::market::Market;
use serde_json::json;
use support::{SECRET, token};
use test_support::browser::browse;
use tokio::net::TcpListener;

/// Prices each page waits for.
const PRICES: usize = 300;

/// A feed on a free port with `compression`, publishing `market`'s prices every 2 ms, behind a
/// proxy whose task returns the bytes the feed sent through it once the browser closes.
async fn feed_behind_a_proxy(
    market: &Arc<Market>,
    compression: ws_runtime::Compression,
) -> (
    ws_runtime::Server,
    std::net::SocketAddr,
    tokio::task::JoinHandle<u64>,
    tokio::task::JoinHandle<()>,
) {
    let jwt = ws_runtime::Jwt::hs256(SECRET.as_bytes())
        .unwrap()
        .audience("feed");
    let app = feed::router(Arc::clone(market))
        .verify("jwt", jwt)
        .compression(compression)
        .build()
        .unwrap();
    let server = app
        .serve(TcpListener::bind("127.0.0.1:0").await.unwrap())
        .await
        .unwrap();
    let publisher = tokio::spawn({
        let (market, connections) = (Arc::clone(market), server.connections());
        async move {
            feed::publish(
                &market,
                connections,
                Duration::from_millis(2),
                Duration::from_secs(600),
            )
            .await;
        }
    });
    let proxy = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = proxy.local_addr().unwrap();
    let upstream = server.local_addr();
    let counted = tokio::spawn(async move {
        let (mut browser, _) = proxy.accept().await.unwrap();
        let mut feed = tokio::net::TcpStream::connect(upstream).await.unwrap();
        // (browser → feed, feed → browser), when either side closes.
        let (_, sent) = tokio::io::copy_bidirectional(&mut browser, &mut feed)
            .await
            .unwrap_or_default();
        sent
    });
    (server, address, counted, publisher)
}

/// What the page does: subscribe, wait for `PRICES` prices, close; then the extension the
/// browser negotiated and the prices' total length as text.
fn subscribe_and_count(address: std::net::SocketAddr, token: &str) -> String {
    format!(
        r#"(async () => {{
            const ws = new WebSocket("ws://{address}/?access_token={token}");
            await new Promise((open, fail) => {{ ws.onopen = open; ws.onerror = fail; }});
            ws.send(JSON.stringify({{action: "subscribe", symbols: ["ACME", "BOLT", "CRUX", "DYNE"]}}));
            let prices = 0, text = 0;
            await new Promise(done => {{
                ws.onmessage = event => {{
                    if (JSON.parse(event.data).type !== "price") return;
                    prices += 1;
                    text += event.data.length;
                    if (prices === {PRICES}) done();
                }};
            }});
            const extensions = ws.extensions;
            const closed = new Promise(done => {{ ws.onclose = done; }});
            ws.close(1000);
            await closed;
            return {{extensions, prices, text}};
        }})()"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feeds_prices_reach_chromium_compressed_in_a_third_of_the_bytes() {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("feed-browser");
    let (_browser, mut devtools) = browse(&out).await;
    let page = devtools.open("about:blank", "true").await;
    let market = Arc::new(Market::new());
    let token = token("ada", "");
    let mut bytes = Vec::new();
    for compression in [
        ws_runtime::Compression::default(),
        ws_runtime::Compression::Off,
    ] {
        let (_server, address, counted, publisher) =
            feed_behind_a_proxy(&market, compression).await;
        let seen = tokio::time::timeout(
            Duration::from_secs(30),
            devtools.eval(&page, &subscribe_and_count(address, &token)),
        )
        .await
        .expect("the page counts its prices within 30 s");
        let sent = tokio::time::timeout(Duration::from_secs(10), counted)
            .await
            .expect("the proxy ends when the browser closes")
            .unwrap();
        publisher.abort();
        println!("{compression:?}: {seen} — {sent} bytes from the feed");
        assert_eq!(seen["prices"], json!(PRICES));
        let negotiated = seen["extensions"].as_str().unwrap().to_owned();
        match compression {
            ws_runtime::Compression::Off => assert_eq!(negotiated, ""),
            _ => assert!(negotiated.starts_with("permessage-deflate"), "{negotiated}"),
        }
        bytes.push(sent);
    }
    let ratio = bytes[1] as f64 / bytes[0] as f64;
    println!(
        "{PRICES} prices: {} bytes compressed, {} bytes uncompressed: {ratio:.2}× fewer",
        bytes[0], bytes[1]
    );
    assert!(ratio >= 3.0, "only {ratio:.2}× fewer bytes compressed");
}
