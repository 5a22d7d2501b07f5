//! `chat --addr HOST:PORT [--tls-cert FILE --tls-key FILE] [--redis URL] [--management-token TOKEN]
//! [--management-credentials FILE] [--region REGION] [--stage NAME] [--metrics] [--docs]`: serves
//! the chat (WebSocket and web page) on `/`. The first line of output is the bound address (port
//! 0 picks a free port). With `--redis` (or `REDIS_URL`) the node joins a cluster: every node
//! behind the load balancer shares one room. `--metrics` and `--docs` serve `/metrics` and the
//! document with its docs page (`/docs`).

use std::process::ExitCode;

const USAGE: &str = "usage: chat [--addr HOST:PORT] [--tls-cert FILE --tls-key FILE] [--redis URL] [--management-token TOKEN] [--management-credentials FILE] [--region REGION] [--stage NAME] [--metrics] [--docs] [--verbose]
  --addr HOST:PORT          where to listen (default 127.0.0.1:8080; port 0 picks a free port)
  --tls-cert FILE           serve wss:// and https:// with this certificate chain (PEM)...
  --tls-key FILE            ...and its private key (PEM); both or neither
  --redis URL               join the cluster of the chat nodes on this Redis (default: $REDIS_URL)
  --management-token TOKEN  serve API Gateway's @connections API, for this bearer token
  --management-credentials FILE
                            serve API Gateway's @connections API to the AWS SDKs: requests signed
                            with SigV4 by a key of FILE (one `ACCESS_KEY_ID SECRET_ACCESS_KEY` a line)
  --region REGION           the region SigV4 signatures are scoped to (default: $AWS_REGION, else us-east-1)
  --stage NAME              the stage: in handlers' context and in /NAME/@connections/{id} (default: $default)
  --metrics                 serve Prometheus metrics at /metrics
  --docs                    serve the AsyncAPI document (/asyncapi.json, /asyncapi.yaml) and a docs page (/docs)
  --verbose                 log at debug level (each join, each close), not only warnings and errors
/healthz and /readyz always answer.";

/// On ws-runtime's tokio runtime, which stays fair to many busy connections.
fn main() -> ExitCode {
    ws_runtime::main(serve())
}

async fn serve() -> ExitCode {
    let mut addr = "127.0.0.1:8080".to_owned();
    let mut redis = std::env::var("REDIS_URL")
        .ok()
        .filter(|url| !url.is_empty());
    let mut token = None;
    let (mut credentials, mut stage) = (None, None);
    let (mut tls_cert, mut tls_key) = (None, None);
    let mut region = std::env::var("AWS_REGION")
        .ok()
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| "us-east-1".to_owned());
    let (mut metrics, mut docs, mut verbose) = (false, false, false);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next();
        match arg.as_str() {
            "--metrics" => metrics = true,
            "--docs" => docs = true,
            "--verbose" => verbose = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            "--addr"
            | "--redis"
            | "--management-token"
            | "--management-credentials"
            | "--region"
            | "--stage"
            | "--tls-cert"
            | "--tls-key" => {
                let Some(value) = value() else {
                    eprintln!("{USAGE}");
                    return ExitCode::from(2);
                };
                match arg.as_str() {
                    "--addr" => addr = value,
                    "--redis" => redis = Some(value),
                    "--management-credentials" => credentials = Some(value),
                    "--region" => region = value,
                    "--stage" => stage = Some(value),
                    "--tls-cert" => tls_cert = Some(value),
                    "--tls-key" => tls_key = Some(value),
                    _ => token = Some(value),
                }
            }
            _ => {
                eprintln!("{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    // The runtime's warnings and errors (a cluster lost and found again, a handler that
    // panicked). `--verbose` adds the rest: a node joining its cluster, each join and close, and
    // the runtime's spans, whose cost a busy server feels (the 1,000-clients test does).
    let level = if verbose {
        tracing::Level::DEBUG
    } else {
        tracing::Level::WARN
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(level)
        .with_ansi(false)
        .init();
    let mut router = chat::router();
    if let Some(url) = &redis {
        match ws_runtime::Cluster::redis(url) {
            Ok(cluster) => router = router.cluster(cluster),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        }
    }
    if let Some(token) = token {
        router = router.management_api(token);
    }
    if let Some(file) = credentials {
        match sigv4(&file, region) {
            Ok(sigv4) => router = router.management_sigv4(sigv4),
            Err(e) => {
                eprintln!("error: {file}: {e}");
                return ExitCode::from(2);
            }
        }
    }
    if let Some(stage) = stage {
        router = router.stage(stage);
    }
    if metrics {
        router = router.metrics();
    }
    if docs {
        router = router.docs(chat::api::ASYNCAPI);
    }
    let app = match router.build() {
        Ok(app) => chat::with_page(app),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(node) = app.cluster() {
        // Serving before Redis answers would put this node's clients in a room of their own.
        let wait = std::time::Duration::from_secs(10);
        if tokio::time::timeout(wait, node.ready()).await.is_err() {
            eprintln!(
                "warning: Redis did not answer within {wait:?}; serving this node's clients, \
                 and joining the cluster when it does"
            );
        }
    }
    let tls = match (tls_cert, tls_key) {
        (Some(cert), Some(key)) => match ws_runtime::Tls::from_pem_files(&cert, &key) {
            Ok(tls) => Some(tls),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        },
        (None, None) => None,
        _ => {
            eprintln!("error: --tls-cert and --tls-key go together\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let (http, ws) = if tls.is_some() {
        ("https", "wss")
    } else {
        ("http", "ws")
    };
    let listening = match tls {
        Some(tls) => app.listen_tls(&addr, tls).await,
        None => app.listen(&addr).await,
    };
    let server = match listening {
        Ok(server) => server,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let bound = server.local_addr();
    let banner = format!(
        "{bound}\nopen {http}://{bound}/ in a browser, or connect to {ws}://{bound}/?name=YOU"
    );
    server.until_stopped(&banner).await;
    ExitCode::SUCCESS
}

/// The keys of a credentials file: one `ACCESS_KEY_ID SECRET_ACCESS_KEY` a line; blank lines
/// and `#` comments are skipped.
fn sigv4(file: &str, region: String) -> Result<ws_runtime::SigV4, String> {
    let text = std::fs::read_to_string(file).map_err(|e| e.to_string())?;
    let mut sigv4 = ws_runtime::SigV4::new(region);
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        match (words.next(), words.next(), words.next()) {
            (Some(id), Some(secret), None) => sigv4 = sigv4.key(id, secret),
            _ => {
                return Err(format!(
                    "line {}: expected `ACCESS_KEY_ID SECRET_ACCESS_KEY`",
                    number + 1
                ));
            }
        }
    }
    Ok(sigv4)
}
