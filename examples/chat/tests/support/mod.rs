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
    start_with(Stdio::inherit())
}

/// The binary with its standard error piped, for [`Server::terminate`] to read.
#[allow(dead_code)] // each test binary compiles this module; only chat.rs stops the server
pub fn start_with(stderr: Stdio) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_chat"))
        .args(["--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(stderr)
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

#[allow(dead_code)] // each test binary compiles this module; only chat.rs stops the server
impl Server {
    /// Sends SIGTERM (what a rolling deploy sends) and waits, at most 15 s, for the process to
    /// end: its exit status and what it wrote to standard error (when that is piped).
    pub fn terminate(&mut self) -> (std::process::ExitStatus, String) {
        // The shell's own `kill`: no procps needed.
        let kill = format!("kill -TERM {}", self.child.id());
        let sent = Command::new("sh").args(["-c", &kill]).status().unwrap();
        assert!(sent.success(), "{kill}");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the chat did not exit within 15 s of SIGTERM"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        let mut stderr = String::new();
        if let Some(mut pipe) = self.child.stderr.take() {
            use std::io::Read;
            let _ = pipe.read_to_string(&mut stderr);
        }
        (status, stderr)
    }
}
