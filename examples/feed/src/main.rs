//! `feed (--jwt-secret SECRET | --jwks FILE|URL) [--addr HOST:PORT] [--issuer ISS] [--audience AUD]
//! [--tick MS] [--heartbeat MS] [--verbose]`: serves the market feed on `/`. The first line of
//! output is the bound address (port 0 picks a free port).

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

const USAGE: &str = "usage: feed (--jwt-secret SECRET | --jwks FILE|URL) [--addr HOST:PORT] [--issuer ISS] [--audience AUD] [--tick MS] [--heartbeat MS] [--verbose]
  --jwt-secret SECRET  accept tokens signed HS256 with SECRET (default: $FEED_JWT_SECRET)
  --jwks FILE|URL      accept tokens signed with a key of this JWKS (RS, PS, ES, EdDSA), by `kid`: a file,
                       or an identity provider's http(s):// jwks_uri; read again when a token names a key
                       it lacks, and every 5 minutes
  --addr HOST:PORT     where to listen (default 127.0.0.1:8090; port 0 picks a free port)
  --issuer ISS         tokens must name this issuer (`iss`)
  --audience AUD       tokens must name this audience (`aud`)
  --tick MS            how often prices move and are pushed (default 250)
  --heartbeat MS       how often every connection gets a heartbeat (default 5000)
  --verbose            log at debug level, not only warnings and errors
/healthz and /readyz always answer.";

/// The command line, read.
struct Options {
    addr: String,
    jwt: ws_runtime::Jwt,
    tick: Duration,
    heartbeat: Duration,
    verbose: bool,
}

/// On ws-runtime's tokio runtime, which stays fair to many busy connections.
fn main() -> ExitCode {
    ws_runtime::main(serve())
}

async fn serve() -> ExitCode {
    let options = match options(std::env::args().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("error: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let level = if options.verbose {
        tracing::Level::DEBUG
    } else {
        tracing::Level::WARN
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(level)
        .with_ansi(false)
        .init();
    // A JWKS URL is fetched now: a feed that cannot reach its identity provider does not start.
    let jwt = match options.jwt.load().await {
        Ok(jwt) => jwt,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let market = Arc::new(feed::market::Market::new());
    let app = match feed::router(Arc::clone(&market)).verify("jwt", jwt).build() {
        Ok(app) => app,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let server = match app.listen(&options.addr).await {
        Ok(server) => server,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let publisher = tokio::spawn({
        let connections = server.connections();
        async move { feed::publish(&market, connections, options.tick, options.heartbeat).await }
    });
    let bound = server.local_addr();
    let banner = format!(
        "{bound}\nconnect to ws://{bound}/ with `Authorization: Bearer <a JWT>` (or ?access_token=<a JWT>)"
    );
    server.until_stopped(&banner).await;
    publisher.abort();
    ExitCode::SUCCESS
}

/// Reads the command line; `Ok(None)` for `--help`.
fn options(mut args: impl Iterator<Item = String>) -> Result<Option<Options>, String> {
    let mut addr = "127.0.0.1:8090".to_owned();
    let mut secret = None;
    let (mut jwks, mut issuer, mut audience) = (None, None, None);
    let (mut tick, mut heartbeat) = (Duration::from_millis(250), Duration::from_secs(5));
    let mut verbose = false;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--verbose" => verbose = true,
            "--addr" | "--jwt-secret" | "--jwks" | "--issuer" | "--audience" | "--tick"
            | "--heartbeat" => {
                let value = args.next().ok_or_else(|| format!("{arg} needs a value"))?;
                match arg.as_str() {
                    "--addr" => addr = value,
                    "--jwt-secret" => secret = Some(value),
                    "--jwks" => jwks = Some(value),
                    "--issuer" => issuer = Some(value),
                    "--audience" => audience = Some(value),
                    "--tick" => tick = milliseconds(&arg, &value)?,
                    _ => heartbeat = milliseconds(&arg, &value)?,
                }
            }
            _ => return Err(format!("unknown argument `{arg}`")),
        }
    }
    if secret.is_none() && jwks.is_none() {
        secret = std::env::var("FEED_JWT_SECRET")
            .ok()
            .filter(|s| !s.is_empty());
    }
    let mut jwt = match (secret, jwks) {
        (Some(secret), None) => ws_runtime::Jwt::hs256(secret.as_bytes())?,
        (None, Some(url)) if url.starts_with("http://") || url.starts_with("https://") => {
            ws_runtime::Jwt::jwks_url(&url)?
        }
        (None, Some(file)) => ws_runtime::Jwt::jwks_file(file)?,
        (None, None) => {
            return Err(
                "give --jwt-secret or --jwks: the feed lets no one in without a token".into(),
            );
        }
        (Some(_), Some(_)) => return Err("give --jwt-secret or --jwks, not both".into()),
    };
    if let Some(issuer) = issuer {
        jwt = jwt.issuer(&issuer);
    }
    if let Some(audience) = audience {
        jwt = jwt.audience(&audience);
    }
    Ok(Some(Options {
        addr,
        jwt,
        tick,
        heartbeat,
        verbose,
    }))
}

fn milliseconds(flag: &str, value: &str) -> Result<Duration, String> {
    match value.parse::<u64>() {
        Ok(ms) if ms > 0 => Ok(Duration::from_millis(ms)),
        _ => Err(format!(
            "{flag} takes a number of milliseconds above 0, not `{value}`"
        )),
    }
}
