//! The chat over TLS: the binary with `--tls-cert` and `--tls-key` (a certificate made at run
//! time with rcgen, signed by the test's own CA) serves `wss://`; the generated Rust client joins
//! trusting that CA and is refused without it; the page's TypeScript client does the same under
//! Node (`tests/node/tls.test.mjs`); `chat-client --ca` joins from the terminal; a missing key
//! file stops the binary with an error that names it.

#![allow(clippy::unwrap_used)]

mod support;

use std::process::{Command, Stdio};

use chat::api::chat::{ChatClient, ChatQuery};
use chat::api::types::Echo;
use support::{node_test, start_args};
use test_support::bounded;
use test_support::tls::Certificates;
use ws_runtime::ClientTls;
use ws_runtime::client::{ClientError, ClientOptions};

#[tokio::test]
async fn the_chat_serves_wss_to_the_rust_and_the_typescript_clients() {
    bounded(90, async {
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("chat-tls");
        let [ca, chain, key] = Certificates::for_names(&["localhost"]).write(&dir);
        let args = [
            "--tls-cert",
            chain.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ];
        let server = start_args(&args, Stdio::inherit());
        let port = server.address.rsplit(':').next().unwrap().to_owned();
        let url = format!("wss://localhost:{port}");
        let query = ChatQuery { name: "Ada".into() };

        let trusted = ClientTls::with_ca_pem(&std::fs::read(&ca).unwrap()).unwrap();
        let options = ClientOptions::default().tls(trusted);
        let mut ada = ChatClient::connect_with(&url, &query, options)
            .await
            .unwrap();
        let reply = ada.echo(Echo::new("over TLS")).await.unwrap();
        assert_eq!(reply.text, "over TLS");
        ada.close().await.unwrap();

        // The system's roots do not know the test's CA.
        let refused = ChatClient::connect(&url, &query).await.unwrap_err();
        assert!(
            matches!(&refused, ClientError::Transport(_) | ClientError::Tls(_)),
            "{refused}"
        );

        // The terminal client, with --ca.
        let mut child = Command::new(env!("CARGO_BIN_EXE_chat-client"))
            .args([
                "--url",
                &url,
                "--name",
                "Term",
                "--ca",
                ca.to_str().unwrap(),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().unwrap();
            writeln!(stdin, "/echo from the terminal").unwrap();
        }
        let output = tokio::task::spawn_blocking(move || child.wait_with_output())
            .await
            .unwrap()
            .unwrap();
        let printed = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{printed}");
        assert!(printed.contains("echo: from the terminal"), "{printed}");

        let env = [
            ("CHAT_URL", url.as_str()),
            ("CA_FILE", ca.to_str().unwrap()),
        ];
        node_test("tls.test.mjs", &env, 2).await;
    })
    .await;
}

#[test]
fn a_key_file_that_is_not_there_stops_the_binary_with_its_name() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("chat-tls-missing");
    let [_, chain, _] = Certificates::for_names(&["localhost"]).write(&dir);
    let output = Command::new(env!("CARGO_BIN_EXE_chat"))
        .args([
            "--addr",
            "127.0.0.1:0",
            "--tls-cert",
            chain.to_str().unwrap(),
        ])
        .args(["--tls-key", dir.join("missing.pem").to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("missing.pem"), "{stderr}");
}
