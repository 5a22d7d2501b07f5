//! The `asyncapi-rs` binary, run as a user runs it.

#![allow(clippy::unwrap_used)] // a test that cannot read its fixtures should stop right there

use std::path::Path;
use std::process::{Command, Output};

fn asyncapi_rs(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_asyncapi-rs"))
        .args(args)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// Runs the binary with `input` on its standard input.
fn asyncapi_rs_with_input(args: &[&str], input: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_asyncapi-rs"))
        .args(args)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const CORPUS: &str = "tests/corpus";

#[test]
fn validate_prints_a_one_line_summary() {
    let out = asyncapi_rs(&["validate", "examples/chat/asyncapi.yaml"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "examples/chat/asyncapi.yaml: valid AsyncAPI 3.0.0 document, 1 channel, 4 inbound and 5 outbound messages\n"
    );
}

#[test]
fn validate_reports_errors_with_snippets_and_exit_1() {
    let file =
        format!("{CORPUS}/parser-js/v1/test/wrong/invalid-operation-with-duplicate-tags.yaml");
    let out = asyncapi_rs(&["validate", &file]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("error: duplicate tag name `user` in the subscribe operation of channel `/user/signedup`"), "{stderr}");
    assert!(stderr.contains(&format!("--> {file}:23:17")), "{stderr}");
    assert!(stderr.contains("first used here"), "{stderr}");
    assert!(stderr.trim_end().ends_with("invalid: 1 error"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn validate_json_for_machines() {
    let out = asyncapi_rs(&[
        "validate",
        "--format",
        "json",
        "examples/chat/asyncapi.yaml",
    ]);
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["valid"], true);
    assert_eq!(json["asyncapi"], "3.0.0");
    assert_eq!(
        (
            json["channels"].as_u64(),
            json["inbound"].as_u64(),
            json["outbound"].as_u64()
        ),
        (Some(1), Some(4), Some(5))
    );

    let file = format!("{CORPUS}/parser-js/v1/test/wrong/inexisting-local-ref.yaml");
    let out = asyncapi_rs(&["validate", "--format", "json", &file]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["valid"], false);
    let first = &json["diagnostics"][0];
    assert_eq!(
        (first["line"].as_u64(), first["column"].as_u64()),
        (Some(9), Some(15))
    );
    assert_eq!(first["severity"], "error");
    assert!(
        first["message"]
            .as_str()
            .unwrap()
            .contains("points to nothing")
    );
}

#[test]
fn validate_ref_map_and_side() {
    let file = format!("{CORPUS}/generator/apps/generator/test/docs/apiwithref.json");
    let out = asyncapi_rs(&["validate", &file]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("--ref-map https://schema.example.com/crm/=DIR"));
    let dir =
        format!("https://schema.example.com/crm/={CORPUS}/generator/apps/generator/test/docs");
    let out = asyncapi_rs(&["validate", &file, "--ref-map", &dir]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    let out = asyncapi_rs(&[
        "validate",
        "examples/chat/asyncapi.yaml",
        "--side",
        "client",
    ]);
    assert!(
        text(&out.stdout).contains("5 inbound and 4 outbound"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn validate_a_missing_file() {
    let out = asyncapi_rs(&["validate", "no/such/file.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("cannot read `no/such/file.yaml`"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn generate_writes_a_module_tree_keeps_scaffolds_and_checks_drift() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-generate");
    let _ = std::fs::remove_dir_all(&dir);
    let out = dir.to_str().unwrap();
    let spec = "examples/chat/asyncapi.yaml";
    let first = asyncapi_rs(&["generate", spec, "-o", out]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    let stdout = text(&first.stdout);
    assert!(
        stdout.contains(&format!("generated  created    {out}/mod.rs")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("scaffold   created    {out}/handlers.rs")),
        "{stdout}"
    );
    assert!(
        stdout
            .trim_end()
            .ends_with(&format!("wrote the Chat API (1 channel) to {out}")),
        "{stdout}"
    );

    // The scaffold is the user's now; a second run keeps it and leaves the rest unchanged.
    std::fs::write(dir.join("handlers.rs"), "// mine\n").unwrap();
    let second = asyncapi_rs(&["generate", spec, "-o", out]);
    let stdout = text(&second.stdout);
    assert!(
        stdout.contains("kept (yours; --force to overwrite)"),
        "{stdout}"
    );
    assert!(!stdout.contains("updated"), "{stdout}");
    assert_eq!(
        std::fs::read_to_string(dir.join("handlers.rs")).unwrap(),
        "// mine\n"
    );

    // --check: up to date, then drift after a hand edit of a generated file.
    assert!(
        asyncapi_rs(&["generate", spec, "-o", out, "--check"])
            .status
            .success()
    );
    std::fs::write(dir.join("types.rs"), "// edited\n").unwrap();
    let check = asyncapi_rs(&["generate", spec, "-o", out, "--check"]);
    assert_eq!(check.status.code(), Some(1));
    assert!(
        text(&check.stderr).contains("out of date: ") && text(&check.stderr).contains("types.rs")
    );
    assert!(
        std::fs::read_to_string(dir.join("types.rs")).unwrap() == "// edited\n",
        "--check writes nothing"
    );

    // --force rewrites the scaffold too.
    let forced = asyncapi_rs(&["generate", spec, "-o", out, "--force"]);
    assert!(text(&forced.stdout).contains("updated"));
    assert!(
        std::fs::read_to_string(dir.join("handlers.rs"))
            .unwrap()
            .contains("is not implemented yet")
    );
}

#[test]
fn generate_client_adds_a_typed_client_and_no_server_leaves_the_server_out() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-generate-client");
    let _ = std::fs::remove_dir_all(&dir);
    let spec = "examples/chat/asyncapi.yaml";
    let both = dir.join("both");
    let run = asyncapi_rs(&["generate", spec, "-o", both.to_str().unwrap(), "--client"]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    let chat = std::fs::read_to_string(both.join("chat.rs")).unwrap();
    assert!(chat.contains("pub struct ChatClient") && chat.contains("pub trait ChatHandler"));
    assert!(both.join("handlers.rs").is_file());

    let client = dir.join("client");
    let run = asyncapi_rs(&[
        "generate",
        spec,
        "-o",
        client.to_str().unwrap(),
        "--client",
        "--no-server",
    ]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    let chat = std::fs::read_to_string(client.join("chat.rs")).unwrap();
    assert!(chat.contains("pub struct ChatClient") && !chat.contains("ChatHandler"));
    assert!(!client.join("handlers.rs").exists());
    let module = std::fs::read_to_string(client.join("mod.rs")).unwrap();
    assert!(!module.contains("handlers") && !module.contains("pub fn router"));

    // A crate of the client alone: a library with the `client` feature, no `main`.
    let krate = dir.join("chat-client");
    let run = asyncapi_rs(&[
        "generate",
        spec,
        "-o",
        krate.to_str().unwrap(),
        "--crate",
        "chat-client",
        "--client",
        "--no-server",
    ]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    let manifest = std::fs::read_to_string(krate.join("Cargo.toml")).unwrap();
    assert!(manifest.contains(r#"features = ["client"]"#), "{manifest}");
    assert!(!krate.join("src/main.rs").exists());

    // `--no-server` alone would generate nothing.
    let run = asyncapi_rs(&[
        "generate",
        spec,
        "-o",
        client.to_str().unwrap(),
        "--no-server",
    ]);
    assert_eq!(run.status.code(), Some(2));
    assert!(
        text(&run.stderr).contains("--client"),
        "{}",
        text(&run.stderr)
    );
}

#[test]
fn generate_typescript_alone_beside_the_rust_and_checked_for_drift() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-generate-typescript");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let spec = "examples/chat/asyncapi.yaml";
    let web = dir.join("web");
    // Alone: the TypeScript client, no Rust anywhere.
    let run = asyncapi_rs(&["generate", spec, "--typescript", web.to_str().unwrap()]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    let out = text(&run.stdout);
    assert!(
        out.contains("chat.d.ts") && out.contains("import { connect }"),
        "{out}"
    );
    let mut written: Vec<String> = std::fs::read_dir(&web)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert_eq!(
        written,
        [
            "chat.d.ts",
            "chat.js",
            "index.d.ts",
            "index.js",
            "package.json",
            "runtime.d.ts",
            "runtime.js",
            "schemas.d.ts",
            "schemas.js",
            "types.d.ts"
        ]
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    assert!(!root.join("src/api").exists() && !root.join("chat").exists());
    // The page's client in the chat is exactly this.
    assert_eq!(
        std::fs::read_to_string(web.join("chat.js")).unwrap(),
        std::fs::read_to_string(root.join("examples/chat/static/client/chat.js")).unwrap()
    );
    // Beside the Rust, and checked for drift together.
    let rust = dir.join("rust");
    let both = [
        "generate",
        spec,
        "-o",
        rust.to_str().unwrap(),
        "--typescript",
        web.to_str().unwrap(),
    ];
    let run = asyncapi_rs(&both);
    assert!(run.status.success(), "{}", text(&run.stderr));
    assert!(rust.join("chat.rs").is_file());
    let check = [&both[..], &["--check"]].concat();
    assert!(asyncapi_rs(&check).status.success());
    std::fs::write(
        web.join("types.d.ts"),
        "// @generated by asyncapi-rs, then edited\n",
    )
    .unwrap();
    let run = asyncapi_rs(&check);
    assert_eq!(run.status.code(), Some(1));
    assert!(
        text(&run.stderr).contains("types.d.ts"),
        "{}",
        text(&run.stderr)
    );
}

#[test]
fn generate_sam_writes_the_lambda_binary_and_the_template_and_checks_drift() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-generate-sam");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let spec = "examples/feed/asyncapi.yaml";
    let out = dir.join("feed-api");
    let args = [
        "generate",
        spec,
        "-o",
        out.to_str().unwrap(),
        "--crate",
        "feed-api",
        "--sam",
    ];
    let run = asyncapi_rs(&args);
    assert!(run.status.success(), "{}", text(&run.stderr));
    assert!(
        text(&run.stdout).contains("sam deploy --guided"),
        "{}",
        text(&run.stdout)
    );
    let manifest = std::fs::read_to_string(out.join("Cargo.toml")).unwrap();
    assert!(
        manifest.contains("\"aws-lambda\"")
            && manifest.contains("name = \"feed-api-lambda\"")
            && manifest.contains("default-run = \"feed-api\""),
        "{manifest}"
    );
    let lambda = std::fs::read_to_string(out.join("src/bin/lambda.rs")).unwrap();
    assert!(lambda.contains("ws_runtime::lambda::run(app)"), "{lambda}");
    let template = std::fs::read_to_string(out.join("template.yaml")).unwrap();
    assert!(
        template.starts_with("# @generated by asyncapi-rs")
            && template.contains("Binary: feed-api-lambda")
            && template.contains("AuthorizerType: REQUEST"),
        "{template}"
    );
    // `--check` covers the template: up to date, then drift after a hand edit.
    let check = [&args[..], &["--check"]].concat();
    assert!(asyncapi_rs(&check).status.success());
    std::fs::write(out.join("template.yaml"), template.replace("prod", "dev")).unwrap();
    let run = asyncapi_rs(&check);
    assert_eq!(run.status.code(), Some(1));
    assert!(
        text(&run.stderr).contains("template.yaml"),
        "{}",
        text(&run.stderr)
    );
    // A module tree has no crate to put a binary in: refused, with what to do.
    let module = dir.join("module");
    let run = asyncapi_rs(&["generate", spec, "-o", module.to_str().unwrap(), "--lambda"]);
    assert_eq!(run.status.code(), Some(2));
    assert!(
        text(&run.stderr).contains("--crate NAME"),
        "{}",
        text(&run.stderr)
    );
    assert!(!module.exists());
}

#[test]
fn generate_refuses_an_invalid_document() {
    let file = format!("{CORPUS}/parser-js/v1/test/wrong/inexisting-local-ref.yaml");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-generate-invalid");
    let out = asyncapi_rs(&["generate", &file, "-o", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("not generated: the document is invalid"));
    assert!(!dir.exists());
}

#[test]
fn generate_says_when_the_documents_servers_are_not_websocket_servers() {
    let file = format!("{CORPUS}/spec-examples/2.0.0/application-headers.yml");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-generate-mqtt");
    let _ = std::fs::remove_dir_all(&dir);
    let out = asyncapi_rs(&[
        "generate",
        &file,
        "-o",
        dir.to_str().unwrap(),
        "--crate",
        "lights",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("warning: the document's servers speak mqtt (not WebSocket)"),
        "{stderr}"
    );
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    assert!(readme.contains("**Not a mqtt server.**"), "{readme}");
    // A WebSocket document says nothing of the kind.
    let chat = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-generate-ws");
    let _ = std::fs::remove_dir_all(&chat);
    let out = asyncapi_rs(&[
        "generate",
        "examples/chat/asyncapi.yaml",
        "-o",
        chat.to_str().unwrap(),
        "--crate",
        "chat",
    ]);
    assert!(
        !text(&out.stderr).contains("not WebSocket"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn help_shows_examples() {
    let out = asyncapi_rs(&["--help"]);
    assert!(out.status.success());
    assert!(
        text(&out.stdout)
            .contains("Examples:\n  asyncapi-rs generate examples/chat/asyncapi.yaml -o src/api")
    );
    let out = asyncapi_rs(&["validate", "--help"]);
    assert!(text(&out.stdout).contains("--ref-map <PREFIX=DIR>"));
    assert!(text(&out.stdout).contains("Exit status: 0 when the document is valid"));
    let out = asyncapi_rs(&["validate", "x.yaml", "--ref-map", "nonsense"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("expected PREFIX=DIR"));
}

const CHAT: &str = "examples/chat/asyncapi.yaml";

#[test]
fn validate_message_routes_checks_and_locates() {
    let input = concat!(
        "{\"action\":\"sendMessage\",\"text\":\"hi\"}\n",
        "{\"action\":\"sendMessage\",\"text\":42}\n",
        "{\"action\":\"dance\"}\n",
        "not json\n",
    );
    let out = asyncapi_rs_with_input(&["validate-message", CHAT, "--channel", "chat", "-"], input);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[0],
        "#1 (line 1): valid `sendMessage` (route `sendMessage`)"
    );
    assert!(
        lines[1].starts_with("#2 (line 2): invalid: route `sendMessage`: not a valid `sendMessage`: /text: 42 is not of type \"string\" (keyword `type` at examples/chat/asyncapi.yaml:"),
        "{stdout}"
    );
    assert_eq!(lines[2], "#3 (line 3): valid `unknown` (route `$default`)");
    assert!(
        lines[3].starts_with("#4 (line 4): not JSON: expected ident at line 4"),
        "{stdout}"
    );
    assert_eq!(lines[4], "4 messages: 2 valid, 2 invalid");
    // The schema keyword, shown in the document.
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("error: message #2 (line 2) is not a valid `sendMessage`"),
        "{stderr}"
    );
    assert!(stderr.contains("type: string"), "{stderr}");
}

#[test]
fn validate_message_json_and_exit_0_when_all_pass() {
    let out = asyncapi_rs_with_input(
        &[
            "validate-message",
            CHAT,
            "--direction",
            "outbound",
            "--format",
            "json",
            "-",
        ],
        "{\"type\": \"joined\", \"name\": \"Ada\"}\n{\"type\": \"echo\", \"text\": \"x\"}\n",
    );
    assert!(out.status.success(), "{}", text(&out.stdout));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["valid"], true);
    assert_eq!(json["total"], 2);
    assert_eq!(json["messages"][0]["message"], "joined");
    assert_eq!(json["messages"][1]["message"], "echoReply");
    assert_eq!(json["messages"][1]["line"], 2);
}

#[test]
fn validate_message_on_a_corpus_document_by_message_name() {
    let spec = format!("{CORPUS}/converter-js/test/input/2.0.0/streetlights.yml");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("validate-message");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("measured.json");
    std::fs::write(
        &file,
        "{\n  \"lumens\": -1,\n  \"sentAt\": \"2026-11-23T10:00:00Z\"\n}\n",
    )
    .unwrap();
    let out = asyncapi_rs(&[
        "validate-message",
        &spec,
        "--message",
        "lightMeasured",
        "--format",
        "json",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let violation = &json["messages"][0]["candidates"][0]["violations"][0];
    assert_eq!(violation["instance_path"], "/lumens");
    assert_eq!(violation["keyword"], "minimum");
    assert_eq!(violation["location"]["line"], 45);
    assert!(
        violation["location"]["path"]
            .as_str()
            .unwrap()
            .ends_with("streetlights.yml")
    );
    // Many channels and no --channel: the command says which exist.
    let out = asyncapi_rs_with_input(&["validate-message", &spec, "-"], "{}");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("the document has 4 channels; say which with --channel"));
    let out = asyncapi_rs_with_input(&["validate-message", CHAT, "--message", "nope", "-"], "{}");
    assert!(
        text(&out.stderr).contains("the document has no message `nope`"),
        "{}",
        text(&out.stderr)
    );
}

/// A chat server on a thread, speaking the document (or breaking it), for `asyncapi-rs test`.
fn chat_server(break_echo: bool) -> (String, std::thread::JoinHandle<()>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let handle = std::thread::spawn(move || {
        // One connection per example; the document has four.
        for stream in listener.incoming().take(4) {
            let mut socket = tungstenite::accept(stream.unwrap()).unwrap();
            let Ok(tungstenite::Message::Text(text)) = socket.read() else {
                continue;
            };
            let json: serde_json::Value = serde_json::from_str(&text).unwrap();
            let reply = match json["action"].as_str() {
                Some("echo") if break_echo => Some(serde_json::json!({"type": "echo", "text": 42})),
                Some("echo") => Some(serde_json::json!({"type": "echo", "text": json["text"]})),
                Some("sendMessage" | "setName") => None,
                _ => Some(serde_json::json!({"type": "error", "message": "unknown action"})),
            };
            if let Some(reply) = reply {
                socket
                    .send(tungstenite::Message::text(reply.to_string()))
                    .unwrap();
            }
            // Wait for the runner to close.
            while socket.read().is_ok() {}
        }
    });
    (address, handle)
}

#[test]
fn test_runs_the_examples_against_a_live_server() {
    let (address, server) = chat_server(false);
    let junit = Path::new(env!("CARGO_TARGET_TMPDIR")).join("live-pass.xml");
    let out = asyncapi_rs(&[
        "test",
        CHAT,
        "--url",
        &format!("ws://{address}"),
        "--settle",
        "100ms",
        "--junit",
        junit.to_str().unwrap(),
    ]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("pass  chat echo/ping  (route `echo`, reply `echoReply`)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("pass  chat unknown/dance  (route `$default`, reply `error`)"),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("4 cases: 4 passed, 0 failed, 0 skipped\n"),
        "{stdout}"
    );
    server.join().unwrap();
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("<testsuite name=\"chat\" tests=\"4\" failures=\"0\" skipped=\"0\""),
        "{xml}"
    );
}

#[test]
fn test_reports_a_broken_reply_and_exits_1() {
    let (address, server) = chat_server(true);
    let junit = Path::new(env!("CARGO_TARGET_TMPDIR")).join("live-fail.xml");
    let out = asyncapi_rs(&[
        "test",
        CHAT,
        "--url",
        &format!("ws://{address}/"),
        "--settle",
        "100ms",
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("FAIL  chat echo/ping"), "{stdout}");
    assert!(
        stdout.contains("a frame is not the reply `echoReply` (not a valid `echoReply`: /text: 42 is not of type \"string\""),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("4 cases: 3 passed, 1 failed, 0 skipped\n"),
        "{stdout}"
    );
    server.join().unwrap();
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("failures=\"1\""), "{xml}");
    assert!(
        xml.contains("<failure message=\"a frame is not the reply `echoReply`"),
        "{xml}"
    );
    // Nothing listening: every case fails, bounded by the timeout.
    let out = asyncapi_rs(&["test", CHAT, "--url", "ws://127.0.0.1:9", "--timeout", "1s"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("cannot connect to 127.0.0.1:9"),
        "{}",
        text(&out.stdout)
    );
    let out = asyncapi_rs(&["test", CHAT, "--url", "https://example.com"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("the scheme must be ws://"));
}

/// The API a document models, as comparable JSON: each channel's address and messages with
/// their payload schemas.
fn modelled(
    path: &Path,
    text: Option<&str>,
    options: &asyncapi_codegen::LoadOptions,
) -> serde_json::Value {
    let loaded = match text {
        Some(text) => asyncapi_codegen::load_text(path, text, options),
        None => asyncapi_codegen::load(path, options),
    }
    .unwrap_or_else(|report| panic!("{}", report.render(false)));
    let channels: Vec<serde_json::Value> = loaded
        .api
        .channels
        .iter()
        .map(|c| {
            let messages: Vec<serde_json::Value> = c
                .messages
                .iter()
                .map(|m| {
                    let schema = m
                        .payload
                        .as_ref()
                        .and_then(|p| p.schema())
                        .map(|s| s.to_json());
                    serde_json::json!([m.key, schema])
                })
                .collect();
            serde_json::json!({
                "id": c.id, "address": c.address, "messages": messages,
                "inbound": c.inbound, "outbound": c.outbound,
            })
        })
        .collect();
    serde_json::Value::Array(channels)
}

#[test]
fn bundle_writes_one_file_that_models_the_same_api_in_yaml_and_json() {
    let fixtures =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../asyncapi-codegen/tests/fixtures/refs");
    let main = fixtures.join("main.yaml");
    let vendor = format!(
        "https://schemas.example.com/common/={}",
        fixtures.join("vendor").display()
    );
    let out = std::env::temp_dir().join(format!("asyncapi-rs-bundle-{}", std::process::id()));
    std::fs::create_dir_all(&out).unwrap();
    let options = asyncapi_codegen::LoadOptions {
        resolve: asyncapi_codegen::ResolveOptions::default().map_prefix(
            "https://schemas.example.com/common/",
            fixtures.join("vendor"),
        ),
        ..Default::default()
    };
    let original = modelled(&main, None, &options);
    for (file, starts) in [("bundled.yaml", "asyncapi:"), ("bundled.json", "{")] {
        let target = out.join(file);
        let output = asyncapi_rs(&[
            "bundle",
            main.to_str().unwrap(),
            "--ref-map",
            &vendor,
            "-o",
            target.to_str().unwrap(),
        ]);
        assert!(output.status.success(), "{}", text(&output.stderr));
        let bundled = std::fs::read_to_string(&target).unwrap();
        assert!(bundled.starts_with(starts), "{file}: {bundled}");
        // Nothing refers to another file any more.
        for line in bundled.lines().filter(|l| l.contains("$ref")) {
            assert!(
                line.contains("\"#"),
                "{file}: a reference outside the bundle: {line}"
            );
        }
        // Read from a folder of its own, with no ref map: it stands alone.
        let alone = out.join("alone").join(file);
        std::fs::create_dir_all(alone.parent().unwrap()).unwrap();
        std::fs::write(&alone, &bundled).unwrap();
        let reread = modelled(&alone, None, &Default::default());
        assert_eq!(reread, original, "{file} models another API");
    }
    // Standard output, YAML unless asked.
    let output = asyncapi_rs(&[
        "bundle",
        main.to_str().unwrap(),
        "--ref-map",
        &vendor,
        "--format",
        "json",
    ]);
    assert!(output.status.success());
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["asyncapi"], "3.0.0");
    // A document that does not load is not bundled, and says why.
    let output = asyncapi_rs(&["bundle", fixtures.join("broken.yaml").to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("not bundled"),
        "{}",
        text(&output.stderr)
    );
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn diff_classifies_and_exits_by_what_breaks_in_every_format() {
    let dir = std::env::temp_dir().join(format!("asyncapi-rs-diff-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let old = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/chat/asyncapi.yaml");
    let document = std::fs::read_to_string(&old).unwrap();
    // `text` of `sendMessage` gets shorter: clients that send a long one are refused.
    let narrowed = dir.join("narrowed.yaml");
    let (from, to) = ("maxLength: 1000", "maxLength: 10");
    assert!(
        document.contains(from),
        "the chat's sendMessage text has a maxLength of 1000"
    );
    std::fs::write(&narrowed, document.replacen(from, to, 1)).unwrap();
    let (old, narrowed) = (old.to_str().unwrap(), narrowed.to_str().unwrap());

    let output = asyncapi_rs(&["diff", old, old]);
    assert_eq!(output.status.code(), Some(0), "{}", text_of(&output));
    assert!(text(&output.stdout).contains("0 changes"));

    let output = asyncapi_rs(&["diff", old, narrowed]);
    assert_eq!(output.status.code(), Some(1), "{}", text_of(&output));
    let human = text(&output.stdout);
    assert!(
        human.starts_with("BREAKS CLIENTS  channel chat / route sendMessage / payload /text"),
        "{human}"
    );
    assert!(human.contains("maxLength 1000 → 10"), "{human}");
    assert!(human.contains("narrowed.yaml:"), "{human}");

    // The other way round it breaks servers, which --fail-on clients lets pass.
    let output = asyncapi_rs(&["diff", narrowed, old, "--fail-on", "clients"]);
    assert_eq!(output.status.code(), Some(0), "{}", text_of(&output));
    assert!(text(&output.stdout).starts_with("BREAKS SERVERS"));

    let output = asyncapi_rs(&[
        "diff",
        old,
        narrowed,
        "--format",
        "json",
        "--fail-on",
        "none",
    ]);
    assert_eq!(output.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["breaks_clients"], 1, "{json}");
    assert_eq!(json["changes"][0]["rule"], "schema-narrowed");
    assert!(
        json["changes"][0]["new"]["line"].as_u64().unwrap() > 0,
        "{json}"
    );

    let output = asyncapi_rs(&["diff", old, narrowed, "--format", "markdown"]);
    let markdown = text(&output.stdout);
    assert!(
        markdown.starts_with("| | where | change | why | old | new |"),
        "{markdown}"
    );
    assert!(
        markdown.contains("| BREAKS CLIENTS | channel chat / route sendMessage / payload /text |"),
        "{markdown}"
    );

    let output = asyncapi_rs(&["diff", old, "no-such-file.yaml"]);
    assert_eq!(output.status.code(), Some(2), "{}", text_of(&output));
    let _ = std::fs::remove_dir_all(&dir);
}

fn text_of(output: &Output) -> String {
    format!("{}{}", text(&output.stdout), text(&output.stderr))
}

#[test]
fn mock_prints_where_it_serves_and_answers_over_a_real_socket() {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(env!("CARGO_BIN_EXE_asyncapi-rs"))
        .args([
            "mock",
            "examples/chat/asyncapi.yaml",
            "--addr",
            "127.0.0.1:0",
        ])
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let address = first
        .trim()
        .strip_prefix("mocking Chat 1.0.0 on ")
        .unwrap_or_else(|| panic!("{first}"))
        .to_owned();
    let mut second = String::new();
    stdout.read_line(&mut second).unwrap();
    assert_eq!(second.trim(), "/  chat (4 routes)");
    let (mut socket, _) = tungstenite::connect(format!("ws://{address}/?name=Ada")).unwrap();
    socket
        .send(tungstenite::Message::text(
            r#"{"action":"echo","text":"hi"}"#,
        ))
        .unwrap();
    let reply = socket.read().unwrap();
    assert_eq!(
        reply.into_text().unwrap().as_str(),
        r#"{"type":"echo","text":"ping"}"#
    );
    let _ = child.kill();
    let _ = child.wait();
}
