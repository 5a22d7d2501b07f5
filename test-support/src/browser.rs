//! Headless Chromium driven over its DevTools protocol, with the WebSocket client the tests
//! already use: no driver, no browser download. Debian's `chromium` (`CHROMIUM` overrides the
//! path), as `tests/run` installs it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Chromium, killed when dropped.
#[derive(Debug)]
pub struct Browser {
    child: Child,
    /// The DevTools endpoint (`ws://…`).
    pub devtools: String,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn chromium() -> PathBuf {
    let path =
        std::env::var_os("CHROMIUM").map_or_else(|| "/usr/bin/chromium".into(), PathBuf::from);
    assert!(
        path.exists(),
        "{} not found: the browser test needs Chromium (`apt-get install chromium`, as .ci/run does) or CHROMIUM=/path/to/chrome",
        path.display()
    );
    path
}

/// Starts headless Chromium with the flags a closed network needs, its profile in `profile`.
pub fn launch(profile: &Path) -> Browser {
    let mut child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            "--window-size=800,600",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("about:blank")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("Chromium starts");
    let stderr = child.stderr.take().expect("stderr is piped");
    // Chromium says where its DevTools endpoint is on stderr; the rest of stderr is drained on
    // a thread so it never blocks on a full pipe.
    let (found, address) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut found = Some(found);
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("DevTools listening on ")
                && let Some(found) = found.take()
            {
                let _ = found.send(url.trim().to_owned());
            }
        }
    });
    let devtools = address
        .recv_timeout(Duration::from_secs(30))
        .expect("Chromium prints its DevTools address within 30 s");
    Browser { child, devtools }
}

/// A DevTools protocol connection: commands with ids, events skipped.
#[derive(Debug)]
pub struct DevTools {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_id: u64,
}

impl DevTools {
    /// Sends a command (to a tab's `session`, or the browser) and returns its result.
    pub async fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut command = json!({"id": id, "method": method, "params": params});
        if let Some(session) = session {
            command["sessionId"] = json!(session);
        }
        self.socket
            .send(Frame::text(command.to_string()))
            .await
            .unwrap();
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(30), self.socket.next())
                .await
                .unwrap_or_else(|_| panic!("{method}: no answer within 30 s"))
                .expect("DevTools is connected")
                .expect("a valid frame");
            let Frame::Text(text) = frame else { continue };
            let answer: Value = serde_json::from_str(&text).unwrap();
            if answer["id"] == id {
                assert!(answer.get("error").is_none(), "{method}: {answer}");
                return answer["result"].clone();
            }
        }
    }

    /// Evaluates JavaScript in a tab and returns its value.
    pub async fn eval(&mut self, session: &str, expression: &str) -> Value {
        let result = self
            .call(
                Some(session),
                "Runtime.evaluate",
                json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
            )
            .await;
        assert!(
            result.get("exceptionDetails").is_none(),
            "{expression}: {result}"
        );
        result["result"]["value"].clone()
    }

    /// Polls `condition` in a tab until it is true (10 s at most).
    pub async fn wait_for(&mut self, session: &str, condition: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.eval(session, condition).await != json!(true) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for `{condition}`"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Opens `url` in a new tab, waits until `ready` is true in it, and returns the tab's
    /// session.
    pub async fn open(&mut self, url: &str, ready: &str) -> String {
        let target = self
            .call(None, "Target.createTarget", json!({"url": url}))
            .await;
        let attached = self
            .call(
                None,
                "Target.attachToTarget",
                json!({"targetId": target["targetId"], "flatten": true}),
            )
            .await;
        let session = attached["sessionId"].as_str().unwrap().to_owned();
        self.wait_for(
            &session,
            &format!("document.readyState === 'complete' && ({ready})"),
        )
        .await;
        session
    }

    /// A PNG of the tab, saved to `path`.
    pub async fn screenshot(&mut self, session: &str, path: &Path) {
        let shot = self
            .call(
                Some(session),
                "Page.captureScreenshot",
                json!({"format": "png"}),
            )
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
        std::fs::write(path, &png).unwrap();
        println!("screenshot: {} ({} bytes)", path.display(), png.len());
    }
}

/// Chromium with a DevTools connection, its profile under `out` (emptied first).
pub async fn browse(out: &Path) -> (Browser, DevTools) {
    let _ = std::fs::remove_dir_all(out);
    std::fs::create_dir_all(out).unwrap();
    let browser = launch(&out.join("profile"));
    let (socket, _) = tokio_tungstenite::connect_async(browser.devtools.as_str())
        .await
        .expect("DevTools accepts the connection");
    (browser, DevTools { socket, next_id: 0 })
}
