//! A real `nats-server` for a test, or a cluster of three: free loopback ports (clients,
//! routes, monitoring), stopped when dropped. A missing `nats-server` fails the test and says how
//! to get it.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::{free_port, wait_until};

/// A running `nats-server` of one test.
#[derive(Debug)]
pub struct NatsServer {
    child: Option<Child>,
    /// Where clients connect.
    pub port: u16,
    /// Where its HTTP monitoring answers (`/varz`, `/connz`, `/routez`).
    pub monitor: u16,
    /// Its cluster's routes: its own port, and the others'.
    routes: Option<(u16, Vec<u16>)>,
}

impl NatsServer {
    /// One server, alone.
    pub fn start() -> NatsServer {
        let mut server = NatsServer {
            child: None,
            port: free_port(),
            monitor: free_port(),
            routes: None,
        };
        server.restart();
        server
    }

    /// `nats://127.0.0.1:{port}`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Starts it (again, after [`NatsServer::stop`]) and waits until it answers.
    pub fn restart(&mut self) {
        let binary = std::env::var("NATS_SERVER").unwrap_or_else(|_| "nats-server".into());
        let mut command = Command::new(&binary);
        command
            .args(["-a", "127.0.0.1", "-p", &self.port.to_string()])
            .args(["-m", &self.monitor.to_string()]);
        if let Some((own, others)) = &self.routes {
            let routes: Vec<String> = others
                .iter()
                .map(|port| format!("nats://127.0.0.1:{port}"))
                .collect();
            command
                .args(["--cluster", &format!("nats://127.0.0.1:{own}")])
                .args(["--routes", &routes.join(",")])
                .args(["--cluster_name", "ws-runtime-test"]);
        }
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| {
                panic!(
                    "cannot start `{binary}` ({error}): the NATS cluster tests need a real NATS \
                     server. Install Debian's package (`apt-get install nats-server`; `bash \
                     tests/run` does), or set NATS_SERVER to its path"
                )
            });
        self.child = Some(child);
        wait_until("nats-server answers", || self.monitoring("/varz").is_some());
    }

    /// Its process id while it runs (for its CPU time in `/proc`).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Stops it at once (SIGKILL): every connection to it breaks.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The body of a monitoring page (`/connz?subs=1`, `/routez`…), or `None` when it does not
    /// answer.
    pub fn monitoring(&self, path: &str) -> Option<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.monitor)).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
        write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).ok()?;
        let (head, body) = response.split_once("\r\n\r\n")?;
        (head.split_whitespace().nth(1) == Some("200")).then(|| body.to_owned())
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Three `nats-server`s routed to each other as one NATS cluster.
#[derive(Debug)]
pub struct NatsCluster {
    pub servers: Vec<NatsServer>,
}

impl NatsCluster {
    /// Starts three, and waits until each has its routes to the two others.
    pub fn start() -> NatsCluster {
        let routes: Vec<u16> = (0..3).map(|_| free_port()).collect();
        let servers: Vec<NatsServer> = (0..3)
            .map(|i| {
                let others = routes
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .map(|(_, port)| *port)
                    .collect();
                let mut server = NatsServer {
                    child: None,
                    port: free_port(),
                    monitor: free_port(),
                    routes: Some((routes[i], others)),
                };
                server.restart();
                server
            })
            .collect();
        for server in &servers {
            wait_until("each NATS server is routed to the two others", || {
                server
                    .monitoring("/routez")
                    .is_some_and(|body| body.contains("\"num_routes\": 2"))
            });
        }
        NatsCluster { servers }
    }

    /// `nats://` and the three servers.
    pub fn url(&self) -> String {
        let hosts: Vec<String> = self
            .servers
            .iter()
            .map(|s| format!("127.0.0.1:{}", s.port))
            .collect();
        format!("nats://{}", hosts.join(","))
    }

    /// The server (its index) a client subscribed to `subject` is connected to.
    pub fn holding(&self, subject: &str) -> Option<usize> {
        let quoted = format!("\"{subject}\"");
        self.servers.iter().position(|server| {
            server
                .monitoring("/connz?subs=1")
                .is_some_and(|body| body.contains(&quoted))
        })
    }
}
