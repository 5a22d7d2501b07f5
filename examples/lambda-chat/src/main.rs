//! `lambda-chat [--addr HOST:PORT]`: serves the sample chat's Lambda functions on ws-runtime.
//! The first line of output is the bound address (port 0 picks a free port).

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

fn main() -> ExitCode {
    ws_runtime::main(serve())
}

async fn serve() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let addr = match (args.next().as_deref(), args.next()) {
        (None, _) => "127.0.0.1:8080".to_owned(),
        (Some("--addr"), Some(addr)) => addr,
        _ => {
            eprintln!("usage: lambda-chat [--addr HOST:PORT]");
            return ExitCode::from(2);
        }
    };
    let listener = match tokio::net::TcpListener::bind(&addr).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("error: cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let Ok(local) = listener.local_addr() else {
        return ExitCode::FAILURE;
    };
    let app = match lambda_chat::router(local, Arc::default()).build() {
        Ok(app) => app,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let server = match app.serve(listener).await {
        Ok(server) => server,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("{local}");
    println!("connect to ws://{local}/ and send {{\"action\":\"sendmessage\",\"data\":\"hello\"}}");
    let _ = std::io::stdout().flush();
    ws_runtime::stop_signal().await;
    server.shutdown().await;
    ExitCode::SUCCESS
}
