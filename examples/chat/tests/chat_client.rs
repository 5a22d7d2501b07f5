//! `chat-client`, the terminal client on the generated client, as a process: two of them and the
//! chat server, lines in on standard input, lines out on standard output.

#![allow(clippy::unwrap_used)] // a test that cannot set itself up should stop right there

mod support;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A running `chat-client`; killed when dropped.
struct Terminal {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Terminal {
    fn start(server: &support::Server, name: &str) -> Terminal {
        Terminal::at(&server.address, name)
    }

    /// A terminal of the server at `address`.
    fn at(address: &str, name: &str) -> Terminal {
        let url = format!("ws://{address}/");
        let mut child = Command::new(env!("CARGO_BIN_EXE_chat-client"))
            .args(["--url", &url, "--name", name])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("chat-client starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Terminal {
            stdin: child.stdin.take(),
            child,
            lines,
        }
    }

    fn type_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }

    /// The next line it prints (bounded in time).
    fn line(&self) -> String {
        self.lines
            .recv_timeout(Duration::from_secs(10))
            .expect("a line in time")
    }

    /// Types `/echo TEXT` and waits for its reply: the client is connected and everything before
    /// it was read.
    fn sync(&mut self, text: &str) {
        self.type_line(&format!("/echo {text}"));
        assert_eq!(self.line(), format!("echo: {text}"));
    }

    /// Closes standard input and waits for the exit (bounded in time).
    fn end_of_input(mut self) -> std::process::ExitStatus {
        drop(self.stdin.take());
        for _ in 0..100 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("chat-client did not exit at the end of its input");
    }
}

#[test]
fn two_terminals_talk_through_the_server() {
    let server = support::start();
    let mut ada = Terminal::start(&server, "Ada");
    ada.sync("ready");
    let mut bob = Terminal::start(&server, "Bob");
    bob.sync("ready");
    assert_eq!(ada.line(), "* Bob joined");

    bob.type_line("Hello, Ada!");
    assert_eq!(ada.line(), "Bob: Hello, Ada!");
    ada.type_line("/name Adele");
    assert_eq!(bob.line(), "* Ada left");
    assert_eq!(bob.line(), "* Adele joined");

    // What the document refuses is refused before it is sent, and said.
    bob.type_line("");
    let error = bob.line();
    assert!(error.starts_with("error: not sent"), "{error}");
    bob.type_line("/name ");
    assert!(bob.line().starts_with("error: not sent"));

    // The end of input leaves with 1000: the others see it, and the process exits 0.
    assert!(ada.end_of_input().success());
    assert_eq!(bob.line(), "* Adele left");
    bob.sync("still here");
    assert!(bob.end_of_input().success());
}

#[test]
fn a_refused_handshake_prints_its_status_and_exits_1() {
    let server = support::start();
    let terminal = Terminal::start(&server, "");
    let line = terminal.line();
    assert!(
        line.starts_with("error:") && line.contains("HTTP 400"),
        "{line}"
    );
    assert_eq!(terminal.end_of_input().code(), Some(1));
}

/// The terminal against `asyncapi-rs mock` of the chat's document, before any server exists:
/// its two-way `echo` answers from the document's example, and the mock's pushes print.
#[test]
fn the_terminal_works_against_the_documents_mock() {
    use asyncapi_cli::mock_server::Mock;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("asyncapi.yaml");
    let loaded = asyncapi_codegen::load(&path, &Default::default()).unwrap();
    let contract = asyncapi_codegen::contract::Contract::new(&loaded);
    let mock = std::sync::Arc::new(Mock::new(contract, std::sync::Arc::new(|_: &str| {})));
    let (tx, rx) = mpsc::channel();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let serving = std::sync::Arc::clone(&mock);
    runtime.spawn(async move {
        let app = serving.router().0.build().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = app.serve(listener).await.unwrap();
        tx.send(server.local_addr()).unwrap();
        serving
            .push(server.connections(), Duration::from_millis(200))
            .await;
    });
    let address = rx
        .recv_timeout(Duration::from_secs(10))
        .unwrap()
        .to_string();
    let mut ada = Terminal::at(&address, "Ada");
    ada.type_line("/echo anything");
    // The mock answers with the example of `echoReply`, whatever was asked.
    let mut lines = Vec::new();
    while !lines.iter().any(|l: &String| l.starts_with("echo: ")) {
        lines.push(ada.line());
    }
    assert!(lines.contains(&"echo: ping".to_owned()), "{lines:?}");
    // The pushes: `message`, `joined` and `left` from their examples, in turn.
    let mut seen = Vec::new();
    while seen.len() < 3 {
        let line = ada.line();
        if !line.starts_with("echo: ") {
            seen.push(line);
        }
    }
    assert!(
        seen.iter()
            .any(|l| l.starts_with("* ") && l.ends_with(" joined")),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .any(|l| l.contains(": ") && !l.starts_with("* ")),
        "{seen:?}"
    );
    assert!(ada.end_of_input().success());
}
