//! `cargo run -p handwritten-example -- [--addr HOST:PORT] [--asyncapi yaml|json]`
//!
//! Serves the notice board (the first line of output is the address it listens on), or prints
//! the AsyncAPI document exported from its types.

use std::process::ExitCode;

/// On ws-runtime's tokio runtime, which stays fair to many busy connections.
fn main() -> ExitCode {
    ws_runtime::main(serve())
}

async fn serve() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    if let Some(format) = value("--asyncapi") {
        let document = handwritten_example::asyncapi();
        match format.as_str() {
            "json" => println!("{:#}", document.to_json()),
            "yaml" => print!("{}", document.to_yaml()),
            other => {
                eprintln!("--asyncapi takes `yaml` or `json`, not `{other}`");
                return ExitCode::from(2);
            }
        }
        return ExitCode::SUCCESS;
    }
    let addr = value("--addr").unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    let app = match handwritten_example::router() {
        Ok(app) => app,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let server = match app.listen(&addr).await {
        Ok(server) => server,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("listening on ws://{}/board", server.local_addr());
    let _ = tokio::signal::ctrl_c().await;
    server.shutdown().await;
    ExitCode::SUCCESS
}
