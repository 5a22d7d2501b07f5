//! The `feed` and `feed-client` binaries as a user runs them: tokens signed HS256 with
//! `--jwt-secret` (minted by `feed-client --mint`) or ES256 with a key of a `--jwks` file, an
//! order refused without its scope, and a server that will not start without a way to verify
//! tokens.

#![allow(clippy::unwrap_used)] // a test that cannot set itself up should stop right there

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime};

use test_support::tls::P256;

/// The feed binary on a free port; killed when dropped.
struct Feed {
    child: Child,
    address: String,
}

impl Drop for Feed {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn feed(args: &[&str]) -> Feed {
    let mut child = Command::new(env!("CARGO_BIN_EXE_feed"))
        .args(["--addr", "127.0.0.1:0", "--tick", "20"])
        .args(args)
        .env_remove("JWT_SECRET")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let address = first.trim().to_owned();
    assert!(address.starts_with("127.0.0.1:"), "first line: {first:?}");
    Feed { child, address }
}

/// `feed-client` run to its end (at most 20 s).
fn client(args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_feed-client"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("feed-client {args:?} took longer than 20 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_minted_token_subscribes_and_orders_with_its_scope() {
    let server = feed(&["--jwt-secret", "s3cret"]);
    let url = format!("ws://{}", server.address);
    let ordered = client(&[
        &url,
        "--mint",
        "s3cret",
        "--trader",
        "ada",
        "--scope",
        "orders:write",
        "--order",
        "ACME:buy:100",
        "--count",
        "4",
        "ACME",
        "BOLT",
    ]);
    let stdout = text(&ordered.stdout);
    assert!(
        ordered.status.success(),
        "{stdout}{}",
        text(&ordered.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[..2],
        [
            "subscribed ACME BOLT",
            "order o-1 accepted: buy 100 ACME for ada"
        ]
    );
    let prices = &lines[2..];
    assert_eq!(prices.len(), 4, "{stdout}");
    for line in prices {
        let (symbol, price) = line.split_once(' ').unwrap();
        assert!(["ACME", "BOLT"].contains(&symbol), "{line}");
        assert!(price.parse::<f64>().unwrap() > 0.0, "{line}");
    }

    // Without the scope: subscribed, then the order is refused.
    let refused = client(&[&url, "--mint", "s3cret", "--order", "ACME:sell:1", "ACME"]);
    assert!(!refused.status.success());
    assert_eq!(text(&refused.stdout), "subscribed ACME\n");
    assert_eq!(
        text(&refused.stderr),
        "error: placeOrder: the server answered `Forbidden`\n"
    );

    // Another secret: the handshake is refused.
    let forged = client(&[&url, "--mint", "not-the-secret", "ACME"]);
    assert!(!forged.status.success());
    assert!(
        text(&forged.stderr).contains("refused the handshake with HTTP 401"),
        "{}",
        text(&forged.stderr)
    );
}

#[test]
fn tokens_signed_by_a_key_of_the_jwks_file() {
    let dir = std::env::temp_dir().join(format!("feed-jwks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("jwks.json");
    let key = P256::generate();
    std::fs::write(&file, key.jwks("feed-1")).unwrap();
    followed_with_keys_of(file.to_str().unwrap(), &key);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn tokens_signed_by_a_key_of_the_jwks_url() {
    let key = P256::generate();
    let jwks = key.jwks("feed-1");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let address = listener.local_addr().unwrap();
    let app = axum::Router::new().route(
        "/.well-known/jwks.json",
        axum::routing::get(move || std::future::ready(jwks.clone())),
    );
    runtime.spawn(async move { axum::serve(listener, app).await });
    followed_with_keys_of(&format!("http://{address}/.well-known/jwks.json"), &key);

    // A URL that answers 404: the feed does not start.
    let output = Command::new(env!("CARGO_BIN_EXE_feed"))
        .args(["--addr", "127.0.0.1:0", "--jwks"])
        .arg(format!("http://{address}/nothing-here"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).ends_with("HTTP 404 Not Found\n"),
        "{}",
        text(&output.stderr)
    );
}

/// The feed with `--jwks JWKS --issuer …` lets in an ES256 token of `key` (named `feed-1`), and
/// refuses another issuer and a key the JWKS lacks.
fn followed_with_keys_of(jwks: &str, key: &P256) {
    let server = feed(&["--jwks", jwks, "--issuer", "https://auth.test/"]);
    let url = format!("ws://{}", server.address);
    let exp = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 600;
    let claims = serde_json::json!({"sub": "ada", "iss": "https://auth.test/", "exp": exp});
    let token = key.es256("feed-1", &claims);
    let followed = client(&[&url, "--token", &token, "--count", "2", "BOLT"]);
    let stdout = text(&followed.stdout);
    assert!(
        followed.status.success(),
        "{stdout}{}",
        text(&followed.stderr)
    );
    assert_eq!(stdout.lines().count(), 3, "{stdout}");
    assert!(stdout.starts_with("subscribed BOLT\nBOLT "), "{stdout}");

    // Another issuer, and a key the file does not have.
    let elsewhere = serde_json::json!({"sub": "ada", "iss": "https://other.test/", "exp": exp});
    let unknown = P256::generate().es256("feed-2", &claims);
    for token in [key.es256("feed-1", &elsewhere), unknown] {
        let refused = client(&[&url, "--token", &token, "BOLT"]);
        assert!(!refused.status.success());
        assert!(
            text(&refused.stderr).contains("HTTP 401"),
            "{}",
            text(&refused.stderr)
        );
    }
}

#[test]
fn the_feed_will_not_start_without_a_way_to_verify_tokens() {
    let output = Command::new(env!("CARGO_BIN_EXE_feed"))
        .args(["--addr", "127.0.0.1:0"])
        .env_remove("JWT_SECRET")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).starts_with(
            "error: the security scheme `jwt` takes bearer tokens: give --jwt-secret or --jwks (JWT_SECRET, JWKS)\n"
        ),
        "{}",
        text(&output.stderr)
    );
    let missing = Command::new(env!("CARGO_BIN_EXE_feed"))
        .args(["--jwks", "/nonexistent/jwks.json"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        text(&missing.stderr).starts_with("error: --jwks: /nonexistent/jwks.json: "),
        "{}",
        text(&missing.stderr)
    );
}
