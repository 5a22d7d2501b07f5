//! `asyncapi-rs mock`: serve a document with no code (see `asyncapi_cli::mock_server`).

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use asyncapi_cli::mock_server::{self, Mock};
use asyncapi_codegen::contract::Contract;

use super::DocumentArgs;
use super::test::parse_duration;

pub(crate) const EXAMPLES: &str = "\
Examples:
  asyncapi-rs mock examples/chat/asyncapi.yaml
      mocking Chat API 1.0.0 on 127.0.0.1:8080
      /  chat (4 routes)
      the document and its docs page: http://127.0.0.1:8080/docs
  asyncapi-rs mock spec.yaml --addr 127.0.0.1:0 --every 2s
  asyncapi-rs mock examples/chat/asyncapi.yaml --static examples/chat/static   # the page too

Each inbound message is routed and checked as a generated server would (`Bad request body`,
`Forbidden`); a two-way route answers with its reply's example (or a payload made up from its
schema); with --every, outbound messages that answer nothing are pushed to every client of
their channel. Every frame is logged to standard error with its verdict. Ctrl-C stops it.";

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    document: DocumentArgs,
    /// Where to listen (port 0 picks a free port; the first line of output names it).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Push an outbound message to every client this often: `5s`, `500ms`.
    #[arg(long, value_parser = parse_duration)]
    every: Option<Duration>,
    /// Also serve the files of DIR to plain GETs (a front end developed against the mock):
    /// `/` is `DIR/index.html`.
    #[arg(long = "static", value_name = "DIR")]
    static_dir: Option<PathBuf>,
}

pub(crate) fn run(args: &Args) -> ExitCode {
    let Some(loaded) = args.document.load_or_report("not mocked") else {
        return ExitCode::FAILURE;
    };
    let title = format!("{} {}", loaded.api.info.title, loaded.api.info.version);
    let Some(document) = super::bundle_or_report(&loaded) else {
        return ExitCode::FAILURE;
    };
    let document = document.to_string();
    let log: mock_server::Log = Arc::new(|line: &str| eprintln!("{line}"));
    let mock = Mock::new(Contract::new(&loaded), log);
    let options = Options {
        addr: args.addr,
        every: args.every,
        static_dir: args.static_dir.clone(),
    };
    ws_runtime::main(serve(mock, title, document, options))
}

/// Where and how to serve.
struct Options {
    addr: SocketAddr,
    every: Option<Duration>,
    static_dir: Option<PathBuf>,
}

async fn serve(mock: Mock, title: String, document: String, options: Options) -> ExitCode {
    let Options {
        addr,
        every,
        static_dir,
    } = options;
    let (router, served) = mock.router();
    let app = match router.docs(document).build() {
        Ok(app) => match static_dir {
            Some(dir) => mock_server::with_static(app, dir),
            None => app,
        },
        Err(error) => {
            eprintln!("error: the document cannot be served: {error}");
            return ExitCode::FAILURE;
        }
    };
    let server = match app.listen(&addr.to_string()).await {
        Ok(server) => server,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let local = server.local_addr();
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "mocking {title} on {local}");
    for line in mock.describe(&served) {
        let _ = writeln!(stdout, "{line}");
    }
    let _ = writeln!(
        stdout,
        "the document and its docs page: http://{local}/docs"
    );
    let _ = stdout.flush();
    drop(stdout);
    let connections = server.connections();
    let push = async {
        match every {
            Some(every) => mock.push(connections, every).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = ws_runtime::stop_signal() => {}
        () = push => {}
    }
    server.shutdown().await;
    ExitCode::SUCCESS
}
