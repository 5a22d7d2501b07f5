//! `chat [FLAGS] [--verbose]`: serves the chat (WebSocket and web page) on `/`. The first line of
//! output is the bound address (port 0 picks a free port). The operator's flags are
//! ws-runtime's ([`ws_runtime::Flags`], each also an environment variable): `--addr`, TLS
//! (`--tls-cert`, `--tls-key`), limits and rates, `--redis URL` (or `REDIS_URL`: every node
//! behind the load balancer shares one room), the management API (`--management-token`,
//! `--management-credentials`, `--region`, `--stage`), `--metrics` and `--docs`.

use std::process::ExitCode;

/// On ws-runtime's tokio runtime, which stays fair to many busy connections.
fn main() -> ExitCode {
    ws_runtime::main(serve())
}

async fn serve() -> ExitCode {
    let flags = match ws_runtime::Flags::from_env(std::env::args().skip(1), "127.0.0.1:8080") {
        Ok(flags) => flags,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(e.exit_code());
        }
    };
    if flags.help {
        println!(
            "usage: chat [FLAGS] [--verbose]\n  {:<38} log at debug level (each join, each close), not only warnings and errors\n{}",
            "--verbose",
            ws_runtime::Flags::help()
        );
        return ExitCode::SUCCESS;
    }
    let mut verbose = false;
    for arg in &flags.rest {
        if arg == "--verbose" {
            verbose = true;
        } else {
            eprintln!("error: unknown argument `{arg}` (`--help` lists the flags)");
            return ExitCode::from(2);
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
    let router = match flags.apply(chat::router(), chat::api::ASYNCAPI).await {
        Ok(router) => router,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(e.exit_code());
        }
    };
    let app = match router.build() {
        Ok(app) => chat::with_page(app),
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
    let (http, ws) = if flags.is_tls() {
        ("https", "wss")
    } else {
        ("http", "ws")
    };
    let bound = server.local_addr();
    let banner = format!(
        "{bound}\nopen {http}://{bound}/ in a browser, or connect to {ws}://{bound}/?name=YOU"
    );
    server.until_stopped(&banner).await;
    ExitCode::SUCCESS
}
