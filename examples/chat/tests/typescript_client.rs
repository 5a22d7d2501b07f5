//! The TypeScript client generated from the chat's document (`static/client`, what the page
//! imports) against the chat binary, under Node's test runner (`tests/node/client.test.mjs`):
//! every route, the reply, a broadcast, error frames, permessage-deflate negotiated (the `ws`
//! package offers it), a refused handshake, the close code, and reconnection after the server
//! restarts. The Node tests start and restart the binary
//! themselves.

#![allow(clippy::unwrap_used)]

mod support;

use support::node_test;
use test_support::bounded;

#[tokio::test]
async fn the_generated_typescript_client_against_the_chat_server() {
    bounded(90, async {
        let env = [("CHAT_BIN", env!("CARGO_BIN_EXE_chat"))];
        let report = node_test("client.test.mjs", &env, 5).await;
        for name in [
            "every route",
            "error frames",
            "a refused handshake",
            "reconnects after the server restarts",
        ] {
            assert!(report.contains(name), "{name}: {report}");
        }
    })
    .await;
}
