//! `generate --crate` for documents with 0, 1, 7 and 50 channels. All four crates are checked by
//! one cargo invocation (clippy, all targets, `-D warnings`) and built by a second; the crate of
//! the document without channels is a library of its message types, and each other crate's
//! `main` serves every channel of its document with the scaffold handlers: a real client opens
//! every channel and each inbound route answers with the scaffold's "not implemented" error; on
//! SIGTERM each server closes its client with 1001 and exits 0. Built with its `redis` feature,
//! a generated server joins a cluster on a real Redis with `--redis`; without it, `--redis` is
//! refused. Built with its `tls` feature, it serves `wss://` with `--tls-cert` and `--tls-key`
//! (a certificate made at run time); without it, they are refused.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use asyncapi_codegen::emit::Sides;
use asyncapi_codegen::generate::{CrateOptions, Runtime, crate_files, write};
use asyncapi_rs_tests::{cargo, fail_with};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message as WsMessage;

const COUNTS: [usize; 4] = [0, 1, 7, 50];

/// What channel `i` of a generated document is: the mix repeats every four channels.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Shape {
    /// The server receives `ping` here.
    Receives,
    /// The server only sends here.
    SendsOnly,
    /// Receives, at an address with a parameter.
    WithParameter,
    /// Receives `ping` and answers with `pong` (a reply operation).
    Replies,
}

fn shape(i: usize) -> Shape {
    [
        Shape::Receives,
        Shape::SendsOnly,
        Shape::WithParameter,
        Shape::Replies,
    ][i % 4]
}

fn address(i: usize) -> String {
    match shape(i) {
        Shape::WithParameter => format!("/rooms/{{roomId}}/c{i}"),
        _ => format!("/c{i}"),
    }
}

/// An AsyncAPI 3.0 document with `channels` channels. Without channels, it is a library of
/// shared message types (`components.messages` only), with an example to test.
fn document(channels: usize) -> String {
    let mut doc =
        format!("asyncapi: 3.0.0\ninfo:\n  title: {channels} channels\n  version: 1.0.0\n");
    if channels > 0 {
        doc.push_str("channels:\n");
        for i in 0..channels {
            doc.push_str(&format!("  c{i}:\n    address: '{}'\n", address(i)));
            if shape(i) == Shape::WithParameter {
                doc.push_str("    parameters:\n      roomId: {}\n");
            }
            doc.push_str("    messages:\n      ping: {$ref: '#/components/messages/ping'}\n");
            if shape(i) == Shape::Replies {
                doc.push_str("      pong: {$ref: '#/components/messages/pong'}\n");
            }
        }
        doc.push_str("operations:\n");
        for i in 0..channels {
            let action = if shape(i) == Shape::SendsOnly {
                "send"
            } else {
                "receive"
            };
            doc.push_str(&format!(
                "  op{i}:\n    action: {action}\n    channel: {{$ref: '#/channels/c{i}'}}\n    messages: [{{$ref: '#/channels/c{i}/messages/ping'}}]\n"
            ));
            if shape(i) == Shape::Replies {
                doc.push_str(&format!(
                    "    reply:\n      channel: {{$ref: '#/channels/c{i}'}}\n      messages: [{{$ref: '#/channels/c{i}/messages/pong'}}]\n"
                ));
            }
        }
    }
    doc.push_str(
        "components:
  messages:
    ping:
      payload:
        type: object
        required: [action]
        properties:
          action: {const: ping}
          note: {type: [string, 'null']}
      examples:
        - name: cleared
          payload: {action: ping, note: null}
    pong:
      payload:
        type: object
        required: [action]
        properties:
          action: {const: pong}
",
    );
    doc
}

/// The generated server, killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts a generated binary on a free port and returns it with the address it printed.
fn start(binary: &Path, args: &[&str]) -> (Server, String) {
    start_with(binary, args, &[])
}

/// [`start`] with these environment variables too.
fn start_with(binary: &Path, args: &[&str], env: &[(&str, &str)]) -> (Server, String) {
    let mut child = Command::new(binary)
        .args(["--addr", "127.0.0.1:0"])
        .args(args)
        .env_remove("REDIS_URL")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("the generated server printed no address within 20 s");
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("the generated server printed {line:?}"))
        .to_owned();
    (server, addr)
}

/// A GET on loopback; the body of a 200 (panics on anything else).
fn http_get(addr: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{path}: {head}");
    body.to_owned()
}

/// Opens every channel of the document; sends `ping` where the server receives it and expects
/// the scaffold handler's answer.
async fn every_channel_is_served(addr: &str, channels: usize) {
    for i in 0..channels {
        let path = address(i).replace("{roomId}", "lobby");
        let url = format!("ws://{addr}{path}");
        let (mut client, _) = tokio::time::timeout(
            Duration::from_secs(5),
            tokio_tungstenite::connect_async(&url),
        )
        .await
        .unwrap_or_else(|_| panic!("{url}: no handshake within 5 s"))
        .unwrap_or_else(|e| panic!("{url}: not served: {e}"));
        if shape(i) != Shape::SendsOnly {
            client
                .send(WsMessage::text(r#"{"action":"ping"}"#))
                .await
                .unwrap();
            let frame = tokio::time::timeout(Duration::from_secs(5), client.next())
                .await
                .unwrap_or_else(|_| panic!("{url}: no answer within 5 s"))
                .unwrap()
                .unwrap();
            let answer: serde_json::Value = serde_json::from_str(frame.to_text().unwrap()).unwrap();
            // The scaffold's handler ran: it says the route is not implemented yet.
            assert_eq!(
                answer["message"], "Internal server error",
                "{url}: {answer}"
            );
        }
        client.close(None).await.unwrap();
    }
}

/// SIGTERM (a rolling deploy): the client is closed with 1001 and the process exits 0.
async fn sigterm_drains(server: &mut Server, addr: &str) {
    let url = format!("ws://{addr}{}", address(0));
    let (mut client, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    // The shell's own `kill`: no procps needed.
    let kill = format!("kill -TERM {}", server.0.id());
    assert!(
        Command::new("sh")
            .args(["-c", &kill])
            .status()
            .unwrap()
            .success()
    );
    let close = loop {
        match tokio::time::timeout(Duration::from_secs(10), client.next()).await {
            Ok(Some(Ok(WsMessage::Close(close)))) => break close,
            Ok(Some(Ok(_))) => continue,
            other => panic!("{url}: no close frame after SIGTERM: {other:?}"),
        }
    };
    assert_eq!(close.map(|c| u16::from(c.code)), Some(1001), "{url}");
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = server.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no exit within 15 s of SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.success(), "{status}");
}

#[test]
fn generated_crates_build_cleanly_and_serve_every_channel() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap();
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("generated-crates");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();

    let mut members = Vec::new();
    for channels in COUNTS {
        let name = format!("api-{channels}");
        let spec = root.join(format!("{name}.yaml"));
        std::fs::write(&spec, document(channels)).unwrap();
        let loaded = asyncapi_codegen::load(&spec, &Default::default())
            .unwrap_or_else(|r| panic!("{}", r.render(false)));
        assert_eq!(loaded.api.channels.len(), channels);
        let files = crate_files(
            &loaded.api,
            &CrateOptions {
                name: name.clone(),
                runtime: Runtime::Path(repo.join("ws-runtime")),
                sides: Sides::SERVER,
                lambda: false,
                sam: false,
            },
        );
        let has_main = files.iter().any(|f| f.path == "src/main.rs");
        assert_eq!(
            has_main,
            channels > 0,
            "{name}: a main exactly when there is a channel to serve"
        );
        write(&root.join(&name), &files, true).unwrap();
        members.push(name);
    }
    // A document with security schemes (a bearer JWT, an API key in the query): its server is
    // secured, limited and put on TLS by flags and environment variables alone.
    let secured = asyncapi_codegen::load(
        &repo.join("asyncapi-codegen/tests/fixtures/generate/security.yaml"),
        &Default::default(),
    )
    .unwrap_or_else(|r| panic!("{}", r.render(false)));
    let files = crate_files(
        &secured.api,
        &CrateOptions {
            name: "secured".to_owned(),
            runtime: Runtime::Path(repo.join("ws-runtime")),
            sides: Sides::SERVER,
            lambda: false,
            sam: false,
        },
    );
    write(&root.join("secured"), &files, true).unwrap();
    members.push("secured".to_owned());

    // Without channels: a library of the message types, its example a contract test.
    let library = std::fs::read_to_string(root.join("api-0/src/api/types.rs")).unwrap();
    assert!(library.contains("pub struct Ping"), "{library}");
    assert!(library.contains("pub struct Pong"), "{library}");
    let tests = std::fs::read_to_string(root.join("api-0/src/api/tests.rs")).unwrap();
    assert!(tests.contains("fn ping_cleared()"), "{tests}");

    std::fs::write(
        root.join("Cargo.toml"),
        format!("[workspace]\nresolver = \"3\"\nmembers = {members:?}\n"),
    )
    .unwrap();
    // The same dependency versions as the workspace, and no network needed.
    std::fs::copy(repo.join("Cargo.lock"), root.join("Cargo.lock")).unwrap();
    // The corpus crate's target: the dependencies they share are built once.
    let target = repo.join("target/corpus-crate");
    let (ok, output) = cargo(
        &root,
        &target,
        &[
            "clippy",
            "--quiet",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    );
    if !ok {
        fail_with(
            "the generated crates do not pass clippy -D warnings",
            "generated-crates-clippy",
            &output,
        );
    }
    let (ok, output) = cargo(
        &root,
        &target,
        &["build", "--quiet", "--workspace", "--bins"],
    );
    if !ok {
        fail_with(
            "the generated crates do not build",
            "generated-crates-build",
            &output,
        );
    }

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for channels in COUNTS.into_iter().filter(|&c| c > 0) {
        let binary = target.join("debug").join(format!("api-{channels}"));
        let (mut server, addr) = start(&binary, &[]);
        runtime.block_on(every_channel_is_served(&addr, channels));
        runtime.block_on(sigterm_drains(&mut server, &addr));
    }

    // `--docs` and `--metrics`: the document it was generated from, what it routes, metrics;
    // health without asking.
    let binary = target.join("debug/api-7");
    let (_server, addr) = start(&binary, &["--docs", "--metrics"]);
    let routes = http_get(&addr, "/docs/routes.json");
    let routes: serde_json::Value = serde_json::from_str(&routes).unwrap();
    assert_eq!(routes["channels"].as_array().unwrap().len(), 7, "{routes}");
    let document: serde_json::Value =
        serde_json::from_str(&http_get(&addr, "/asyncapi.json")).unwrap();
    assert_eq!(document["info"]["title"], "7 channels", "{document}");
    assert!(http_get(&addr, "/docs").contains("<script>"));
    runtime.block_on(every_channel_is_served(&addr, 7));
    let metrics = http_get(&addr, "/metrics");
    assert!(metrics.contains("ws_messages_received_total{"), "{metrics}");
    assert_eq!(http_get(&addr, "/healthz"), "ok\n");

    // `--redis` without the `redis` feature: refused, not served as a lone node.
    let binary = target.join("debug/api-1");
    let refused = Command::new(&binary)
        .args(["--addr", "127.0.0.1:0", "--redis", "redis://127.0.0.1:1"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("needs the `redis` feature"), "{stderr}");

    // With it: two nodes on one Redis hold a lease each; SIGTERM gives one up at once.
    let (ok, output) = cargo(
        &root,
        &target,
        &["build", "--quiet", "-p", "api-1", "--features", "redis"],
    );
    if !ok {
        fail_with(
            "a generated crate does not build with its `redis` feature",
            "generated-crates-build-redis",
            &output,
        );
    }
    let redis = test_support::redis::RedisServer::start();
    let url = redis.url();
    let (mut one, addr) = start(&binary, &["--redis", &url]);
    let (_two, _) = start(&binary, &["--redis", &url]);
    let leases = |want: &str| {
        for _ in 0..200 {
            if redis.command("ZCARD ws-runtime:nodes").as_deref() == Some(want) {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("the cluster never held {want} leases");
    };
    leases(":2");
    runtime.block_on(every_channel_is_served(&addr, 1));
    runtime.block_on(sigterm_drains(&mut one, &addr));
    leases(":1");

    // `--tls-cert` without the `tls` feature: refused, not served as `ws://`.
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("generated-crates-tls");
    let [ca, chain, key] = test_support::tls::Certificates::for_names(&["localhost"]).write(&dir);
    let tls_args = [
        "--tls-cert",
        chain.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ];
    let refused = Command::new(&binary)
        .args(["--addr", "127.0.0.1:0"])
        .args(tls_args)
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("needs the `tls` feature"), "{stderr}");
    // With it: `wss://`, trusted through the test's CA.
    let (ok, output) = cargo(
        &root,
        &target,
        &[
            "build",
            "--quiet",
            "-p",
            "api-1",
            "-p",
            "secured",
            "--features",
            "tls",
        ],
    );
    if !ok {
        fail_with(
            "a generated crate does not build with its `tls` feature",
            "generated-crates-build-tls",
            &output,
        );
    }
    let (_server, addr) = start(&binary, &tls_args);
    let port = addr.rsplit(':').next().unwrap();
    let trusted = ws_runtime::ClientTls::with_ca_pem(&std::fs::read(&ca).unwrap()).unwrap();
    runtime.block_on(async {
        let url = format!("wss://localhost:{port}");
        let options = ws_runtime::client::ClientOptions::default().tls(trusted);
        let target = ws_runtime::client::Target::new(&url, &address(0));
        let client = ws_runtime::client::Client::<
            ws_runtime::AnyMessage,
            ws_runtime::client::Nothing,
        >::connect(target, options)
        .await
        .unwrap();
        assert!(client.is_open());
        client.close().await.unwrap();
    });

    // The secured crate: a scheme without its credentials' flag stops it, naming the flag.
    let binary = target.join("debug/secured");
    let refused = Command::new(&binary)
        .args(["--addr", "127.0.0.1:0"])
        .env_remove("JWT_SECRET")
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("the security scheme `jwt` takes bearer tokens: give --jwt-secret"),
        "{stderr}"
    );
    // Started with environment variables only: a JWT or an API key, `wss://`, one message a
    // second with bursts of two.
    let keys = dir.join("api-keys");
    std::fs::write(&keys, "k-reporting reporting\n").unwrap();
    let secret = "the-secret-of-the-generated-crates-test";
    let (_server, addr) = start_with(
        &binary,
        &[],
        &[
            ("JWT_SECRET", secret),
            ("API_KEYS", keys.to_str().unwrap()),
            ("TLS_CERT", chain.to_str().unwrap()),
            ("TLS_KEY", key.to_str().unwrap()),
            ("MESSAGE_RATE", "1/2"),
        ],
    );
    let port = addr.rsplit(':').next().unwrap().to_owned();
    let trusted = ws_runtime::ClientTls::with_ca_pem(&std::fs::read(&ca).unwrap()).unwrap();
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 600;
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &serde_json::json!({"sub": "ada", "exp": exp}),
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()).unwrap(),
    )
    .unwrap();
    runtime.block_on(async {
        use ws_runtime::client::{Client, ClientError, ClientOptions, Nothing, Target};
        let url = format!("wss://localhost:{port}");
        let connect = |options: ClientOptions| {
            let target = Target::new(&url, "/feed");
            Client::<ws_runtime::AnyMessage, Nothing>::connect(target, options.tls(trusted.clone()))
        };
        // No credentials: 401.
        match connect(ClientOptions::default()).await {
            Err(ClientError::Refused { status, .. }) => assert_eq!(status, 401),
            other => panic!("a handshake without a token: {other:?}"),
        }
        // A JWT: in, over TLS; a flood gets the rate's refusal after its burst.
        let mut client = connect(ClientOptions::default().bearer(&token))
            .await
            .unwrap();
        for _ in 0..4 {
            client
                .send_text(r#"{"action":"subscribe","symbol":"ACME"}"#.to_owned())
                .await
                .unwrap();
        }
        let mut answers = Vec::new();
        while answers.len() < 4 {
            let event = tokio::time::timeout(Duration::from_secs(5), client.next())
                .await
                .expect("an answer within 5 s");
            match event {
                Some(ws_runtime::client::Event::ServerError(frame)) => answers.push(frame.kind),
                other => panic!("an error frame, not {other:?}"),
            }
        }
        // The scaffold's handler answers the burst (not implemented yet); the rest are refused.
        use ws_runtime::client::ErrorKind;
        assert_eq!(
            answers,
            [
                ErrorKind::InternalServerError,
                ErrorKind::InternalServerError,
                ErrorKind::TooManyRequests,
                ErrorKind::TooManyRequests
            ]
        );
        client.close().await.unwrap();
    });
}
