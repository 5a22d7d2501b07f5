//! `chat --addr HOST:PORT`: serves the chat (WebSocket and web page) on `/`. The first line of
//! output is the bound address (port 0 picks a free port).

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;

const USAGE: &str =
    "usage: chat [--addr HOST:PORT]   (default 127.0.0.1:8080; port 0 picks a free port)";

#[tokio::main]
async fn main() -> ExitCode {
    let mut addr = "127.0.0.1:8080".to_owned();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--addr", Some(value)) => addr = value,
            ("-h" | "--help", _) => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            _ => {
                eprintln!("{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let app = match chat::app() {
        Ok(app) => app,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind(&addr).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("error: cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let Ok(bound) = listener.local_addr() else {
        eprintln!("error: the listener has no address");
        return ExitCode::FAILURE;
    };
    // Whoever reads the address may stop reading after it: a closed stdout is not an error.
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{bound}");
    let _ = writeln!(
        stdout,
        "open http://{bound}/ in a browser, or connect to ws://{bound}/?name=YOU"
    );
    let _ = stdout.flush();
    drop(stdout);
    let service = app.into_make_service_with_connect_info::<SocketAddr>();
    let served = axum::serve(listener, service)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await;
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
