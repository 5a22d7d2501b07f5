//! A real `redis-server` for a test: its own free loopback port, a temporary directory, no
//! persistence; stopped (and its directory removed) when dropped. Also the deployments that
//! fail over: a primary with a replica watched by three sentinels ([`Sentinels`]), and a Redis
//! Cluster of three shards, each a primary and a replica ([`RedisCluster`]).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{free_port, wait_until};

/// A running `redis-server` of one test.
#[derive(Debug)]
pub struct RedisServer {
    child: Option<Child>,
    pub port: u16,
    dir: PathBuf,
    /// Lines of its configuration file beyond the port, address and directory.
    config: Vec<String>,
    /// Started as a sentinel.
    sentinel: bool,
}

impl RedisServer {
    /// Starts one on a free port. A missing `redis-server` fails the test and says how to get it.
    pub fn start() -> RedisServer {
        RedisServer::start_with(&[], false)
    }

    /// Starts one with more lines of configuration (`replicaof …`, `cluster-enabled yes`…), as
    /// a sentinel if `sentinel`.
    pub fn start_with(config: &[&str], sentinel: bool) -> RedisServer {
        let port = free_port();
        let dir =
            std::env::temp_dir().join(format!("ws-runtime-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut server = RedisServer {
            child: None,
            port,
            dir,
            config: config.iter().map(|line| (*line).to_owned()).collect(),
            sentinel,
        };
        server.restart();
        server
    }

    /// `redis://127.0.0.1:{port}`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts it again on the same port, empty (after [`RedisServer::stop`]).
    pub fn restart(&mut self) {
        let binary = std::env::var("REDIS_SERVER").unwrap_or_else(|_| "redis-server".into());
        // A sentinel rewrites its configuration file: each server has one of its own.
        let file = self.dir.join("redis.conf");
        let mut config = format!(
            "port {}\nbind 127.0.0.1\nsave \"\"\nappendonly no\ndaemonize no\ndir {}\n",
            self.port,
            self.dir.display()
        );
        for line in &self.config {
            config.push_str(line);
            config.push('\n');
        }
        std::fs::write(&file, config).unwrap();
        let mut command = Command::new(&binary);
        command.arg(&file);
        if self.sentinel {
            command.arg("--sentinel");
        }
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| {
                panic!(
                    "cannot start `{binary}` ({error}): the cluster tests need a real Redis. \
                     Install Debian's package (`apt-get install redis-server`; `bash tests/run` \
                     does), or set REDIS_SERVER to its path"
                )
            });
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.command("PING").as_deref() != Some("+PONG") {
            assert!(
                Instant::now() < deadline,
                "redis-server did not answer PING within 10 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
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

    /// `redis-cli -p {port} {args…}`: every line of the reply.
    pub fn cli(&self, args: &[&str]) -> String {
        let output = Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(args)
            .output()
            .unwrap_or_else(|error| {
                panic!("cannot run `redis-cli` ({error}): it comes with Debian's redis-server")
            });
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// One inline command; the first line of the reply (`+PONG`, `:1`, `$-1`…), or `None` when
    /// it cannot connect.
    pub fn command(&self, command: &str) -> Option<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
        stream.write_all(format!("{command}\r\n").as_bytes()).ok()?;
        let mut reply = Vec::new();
        let mut byte = [0u8; 1];
        while !reply.ends_with(b"\r\n") {
            if stream.read(&mut byte).ok()? == 0 {
                return None;
            }
            reply.push(byte[0]);
        }
        reply.truncate(reply.len() - 2);
        Some(String::from_utf8_lossy(&reply).into_owned())
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A primary and its replica, watched by three sentinels (quorum two) that fail over a primary
/// down for a second.
#[derive(Debug)]
pub struct Sentinels {
    pub primary: RedisServer,
    pub replica: RedisServer,
    pub sentinels: Vec<RedisServer>,
}

impl Sentinels {
    /// The primary's service name.
    pub const SERVICE: &str = "primary";

    /// Starts them, and waits until the replica is in sync and the sentinels know it and each
    /// other: a failover can happen from then on.
    pub fn start() -> Sentinels {
        let primary = RedisServer::start();
        let replica =
            RedisServer::start_with(&[&format!("replicaof 127.0.0.1 {}", primary.port)], false);
        let monitor = [
            format!(
                "sentinel monitor {} 127.0.0.1 {} 2",
                Sentinels::SERVICE,
                primary.port
            ),
            format!(
                "sentinel down-after-milliseconds {} 1000",
                Sentinels::SERVICE
            ),
            format!("sentinel failover-timeout {} 5000", Sentinels::SERVICE),
        ];
        let monitor: Vec<&str> = monitor.iter().map(String::as_str).collect();
        let sentinels: Vec<RedisServer> = (0..3)
            .map(|_| RedisServer::start_with(&monitor, true))
            .collect();
        wait_until("the replica is in sync", || {
            replica
                .cli(&["info", "replication"])
                .contains("master_link_status:up")
        });
        for sentinel in &sentinels {
            wait_until(
                "each sentinel knows the replica and the two other sentinels",
                || {
                    let replicas = sentinel.cli(&["sentinel", "replicas", Sentinels::SERVICE]);
                    let others = sentinel.cli(&["sentinel", "sentinels", Sentinels::SERVICE]);
                    replicas.contains(&replica.port.to_string())
                        && others.matches("runid").count() == 2
                },
            );
        }
        Sentinels {
            primary,
            replica,
            sentinels,
        }
    }

    /// `redis+sentinel://…/primary`.
    pub fn url(&self) -> String {
        let hosts: Vec<String> = self
            .sentinels
            .iter()
            .map(|s| format!("127.0.0.1:{}", s.port))
            .collect();
        format!(
            "redis+sentinel://{}/{}",
            hosts.join(","),
            Sentinels::SERVICE
        )
    }

    /// The port the sentinels name for the primary now.
    pub fn primary_port(&self) -> Option<u16> {
        let answer =
            self.sentinels[0].cli(&["sentinel", "get-master-addr-by-name", Sentinels::SERVICE]);
        answer.lines().nth(1)?.trim().parse().ok()
    }
}

/// A Redis Cluster of three shards, each a primary and a replica; a primary unreachable for a
/// second is failed over to its replica.
#[derive(Debug)]
pub struct RedisCluster {
    pub servers: Vec<RedisServer>,
}

impl RedisCluster {
    /// Starts six servers, makes them one cluster (`redis-cli --cluster create`), and waits
    /// until every node says the cluster is ok and every replica is in sync.
    pub fn start() -> RedisCluster {
        let servers: Vec<RedisServer> = (0..6)
            .map(|_| {
                // The cluster bus port is its own: by default it is the port + 10,000, which
                // may be taken, or past 65,535.
                let bus = format!("cluster-port {}", free_port());
                RedisServer::start_with(
                    &[
                        "cluster-enabled yes",
                        "cluster-config-file nodes.conf",
                        "cluster-node-timeout 1000",
                        &bus,
                    ],
                    false,
                )
            })
            .collect();
        let mut create = vec!["--cluster".to_owned(), "create".to_owned()];
        create.extend(servers.iter().map(|s| format!("127.0.0.1:{}", s.port)));
        create.extend(["--cluster-replicas", "1", "--cluster-yes"].map(str::to_owned));
        let create: Vec<&str> = create.iter().map(String::as_str).collect();
        let said = servers[0].cli(&create);
        assert!(
            said.contains("All 16384 slots covered"),
            "redis-cli --cluster create: {said}"
        );
        for server in &servers {
            wait_until("every node says the cluster is ok", || {
                server
                    .cli(&["cluster", "info"])
                    .contains("cluster_state:ok")
            });
            // A replica that never synced does not fail over (its data is too old to serve).
            wait_until("every replica is in sync with its primary", || {
                let replication = server.cli(&["info", "replication"]);
                replication.contains("role:master") || replication.contains("master_link_status:up")
            });
        }
        RedisCluster { servers }
    }

    /// `redis+cluster://` and the three first servers.
    pub fn url(&self) -> String {
        let hosts: Vec<String> = self.servers[..3]
            .iter()
            .map(|s| format!("127.0.0.1:{}", s.port))
            .collect();
        format!("redis+cluster://{}", hosts.join(","))
    }

    /// The server (its index) that is the primary for `key` now, as a live node sees it.
    pub fn primary_for(&self, key: &str) -> usize {
        let asker = self
            .servers
            .iter()
            .find(|s| s.command("PING").is_some())
            .unwrap();
        let slot: u16 = asker
            .cli(&["cluster", "keyslot", key])
            .trim()
            .parse()
            .unwrap();
        let nodes = asker.cli(&["cluster", "nodes"]);
        for line in nodes.lines() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() < 9 || !fields[2].contains("master") || fields[2].contains("fail") {
                continue;
            }
            let owns = fields[8..].iter().any(|range| {
                let (low, high) = range.split_once('-').unwrap_or((range, range));
                matches!((low.parse::<u16>(), high.parse::<u16>()), (Ok(l), Ok(h)) if l <= slot && slot <= h)
            });
            if owns {
                let port: u16 = fields[1].split(['@', ':']).nth(1).unwrap().parse().unwrap();
                return self.servers.iter().position(|s| s.port == port).unwrap();
            }
        }
        panic!("no primary owns slot {slot}:\n{nodes}")
    }

    /// Waits until every live node says the cluster is ok again.
    pub fn wait_ok(&self) {
        for server in self.servers.iter().filter(|s| s.child.is_some()) {
            wait_until("every live node says the cluster is ok", || {
                server
                    .cli(&["cluster", "info"])
                    .contains("cluster_state:ok")
            });
        }
    }
}
