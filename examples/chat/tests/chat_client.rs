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
        let url = format!("ws://{}/", server.address);
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
