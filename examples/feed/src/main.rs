//! `feed [FLAGS] [--tick MS] [--heartbeat MS] [--verbose]`: serves the market feed on `/`. The
//! first line of output is the bound address (port 0 picks a free port). The operator's flags
//! are ws-runtime's ([`ws_runtime::Flags`], each also an environment variable): the feed lets no
//! one in without a token, so `--jwt-secret SECRET` (`JWT_SECRET`) or `--jwks FILE|URL`
//! (`JWKS`) is required, with `--issuer` and `--audience` that tokens must name; then TLS,
//! limits and rates, metrics and docs as every server takes them.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

const USAGE: &str = "usage: feed (--jwt-secret SECRET | --jwks FILE|URL) [FLAGS] [--tick MS] [--heartbeat MS] [--verbose]";

/// The feed's own options, beside the operator's flags.
struct Options {
    tick: Duration,
    heartbeat: Duration,
    verbose: bool,
}

/// On ws-runtime's tokio runtime, which stays fair to many busy connections.
fn main() -> ExitCode {
    ws_runtime::main(serve())
}

async fn serve() -> ExitCode {
    let flags = match ws_runtime::Flags::from_env(std::env::args().skip(1), "127.0.0.1:8090") {
        Ok(flags) => flags,
        Err(e) => {
            eprintln!("error: {e}\n{USAGE}");
            return ExitCode::from(e.exit_code());
        }
    };
    if flags.help {
        println!(
            "{USAGE}\n  {:<38} how often prices move and are pushed (default 250)\n  {:<38} how often every connection gets a heartbeat (default 5000)\n  {:<38} log at debug level, not only warnings and errors\n{}",
            "--tick MS",
            "--heartbeat MS",
            "--verbose",
            ws_runtime::Flags::help()
        );
        return ExitCode::SUCCESS;
    }
    let options = match options(&flags.rest) {
        Ok(options) => options,
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
    let market = Arc::new(feed::market::Market::new());
    // A JWKS URL is fetched here: a feed that cannot reach its identity provider does not start.
    let router = match flags
        .apply(feed::router(Arc::clone(&market)), feed::api::ASYNCAPI)
        .await
    {
        Ok(router) => router,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(e.exit_code());
        }
    };
    let app = match router.build() {
        Ok(app) => app,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let server = match flags.serve(app).await {
        Ok(server) => server,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(e.exit_code());
        }
    };
    let publisher = tokio::spawn({
        let connections = server.connections();
        async move { feed::publish(&market, connections, options.tick, options.heartbeat).await }
    });
    let ws = if flags.is_tls() { "wss" } else { "ws" };
    let bound = server.local_addr();
    let banner = format!(
        "{bound}\nconnect to {ws}://{bound}/ with `Authorization: Bearer <a JWT>` (or ?access_token=<a JWT>)"
    );
    server.until_stopped(&banner).await;
    publisher.abort();
    ExitCode::SUCCESS
}

/// The feed's own options, from the arguments the operator's flags left.
fn options(rest: &[String]) -> Result<Options, String> {
    let mut options = Options {
        tick: Duration::from_millis(250),
        heartbeat: Duration::from_secs(5),
        verbose: false,
    };
    let mut args = rest.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--verbose" => options.verbose = true,
            "--tick" | "--heartbeat" => {
                let value = args.next().ok_or_else(|| format!("{arg} needs a value"))?;
                let every = milliseconds(arg, value)?;
                if arg == "--tick" {
                    options.tick = every;
                } else {
                    options.heartbeat = every;
                }
            }
            _ => return Err(format!("unknown argument `{arg}`")),
        }
    }
    Ok(options)
}

fn milliseconds(flag: &str, value: &str) -> Result<Duration, String> {
    match value.parse::<u64>() {
        Ok(ms) if ms > 0 => Ok(Duration::from_millis(ms)),
        _ => Err(format!(
            "{flag} takes a number of milliseconds above 0, not `{value}`"
        )),
    }
}
