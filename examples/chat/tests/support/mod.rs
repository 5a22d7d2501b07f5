//! The chat binary, started for a test on an ephemeral port.

#![allow(clippy::unwrap_used)] // a test that cannot set itself up should stop right there

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// The running binary; killed when dropped.
pub struct Server {
    child: Child,
    pub address: String,
    /// Kept open, so the binary's later output has a reader.
    _stdout: BufReader<std::process::ChildStdout>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn start() -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_chat"))
        .args(["--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the chat binary starts");
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut stdout = BufReader::new(stdout);
    let mut first = String::new();
    stdout
        .read_line(&mut first)
        .expect("the binary prints its address");
    let address = first.trim().to_owned();
    assert!(address.starts_with("127.0.0.1:"), "first line: {first:?}");
    Server {
        child,
        address,
        _stdout: stdout,
    }
}
