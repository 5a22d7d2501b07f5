//! The chat binary, started for a test on an ephemeral port.

#![allow(clippy::unwrap_used)] // a test that cannot set itself up should stop right there

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

/// The running binary; killed when dropped.
pub struct Server {
    child: Child,
    pub address: String,
    /// Kept open, so the binary's later output has a reader.
    _stdout: BufReader<std::process::ChildStdout>,
    /// Its standard error so far, when kept ([`Server::keep_log`]).
    log: Arc<Mutex<String>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[allow(dead_code)] // the cluster test starts its nodes with arguments
pub fn start() -> Server {
    start_with(Stdio::inherit())
}

/// The binary with its standard error piped, for [`Server::terminate`] to read.
#[allow(dead_code)] // each test binary compiles this module; only chat.rs stops the server
pub fn start_with(stderr: Stdio) -> Server {
    start_args(&[], stderr)
}

/// The binary with more arguments (`--redis URL`, `--management-token TOKEN`).
pub fn start_args(args: &[&str], stderr: Stdio) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_chat"))
        .args(["--addr", "127.0.0.1:0"])
        .args(args)
        .env_remove("REDIS_URL")
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
        log: Arc::default(),
    }
}

#[allow(dead_code)] // each test binary compiles this module; only chat.rs stops the server
impl Server {
    /// Reads its (piped) standard error from now on, for [`Server::log`].
    pub fn keep_log(&mut self) {
        let pipe = self.child.stderr.take().expect("stderr is piped");
        let log = Arc::clone(&self.log);
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let mut log = log.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
    }

    /// What it wrote to standard error so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Sends a signal (`STOP`, `CONT`…) with the shell's own `kill`.
    pub fn signal(&self, signal: &str) {
        let kill = format!("kill -{signal} {}", self.child.id());
        let sent = Command::new("sh").args(["-c", &kill]).status().unwrap();
        assert!(sent.success(), "{kill}");
    }

    /// SIGKILL: the process ends at once, saying goodbye to no one.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

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

#[allow(unused_imports)]
// each test binary compiles this module; the browser test reads in Chromium
pub use test_support::ws::{Client, recv};

/// Joins the chat as `name` (bounded in time).
#[allow(dead_code)] // each test binary compiles this module; the browser test joins in Chromium
pub async fn join(server: &Server, name: &str) -> Client {
    let url = format!("ws://{}/?name={name}", server.address);
    let connect = tokio_tungstenite::connect_async(url);
    let (client, _) = tokio::time::timeout(std::time::Duration::from_secs(5), connect)
        .await
        .expect("connect in time")
        .expect("the handshake succeeds");
    client
}

/// Runs a `node --test` file of `tests/node` (where `bash tests/run` installs its packages with
/// `npm ci`), its tests one after the other, with `env`; fails unless all `passes` tests pass.
/// Returns its TAP report.
#[allow(dead_code)] // each test binary compiles this module; two run Node
pub async fn node_test(script: &str, env: &[(&str, &str)], passes: usize) -> String {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node");
    assert!(
        dir.join("node_modules/.package-lock.json").is_file(),
        "the Node packages of {} are not installed: `npm ci --prefix {}` (bash tests/run does)",
        script,
        dir.display()
    );
    let mut command = Command::new("node");
    command
        .args(["--test", "--test-concurrency=1"])
        .arg(dir.join(script))
        .envs(env.iter().copied());
    let node = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("node runs");
    let report = String::from_utf8_lossy(&node.stdout).into_owned();
    assert!(
        node.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&node.stderr)
    );
    assert!(
        report.contains(&format!("# pass {passes}\n")) && report.contains("# fail 0"),
        "{report}"
    );
    report
}
