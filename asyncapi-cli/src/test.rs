//! `asyncapi-rs test`: check a running server against the document, over a real WebSocket.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use asyncapi_cli::junit::to_junit;
use asyncapi_cli::live::{self, LiveOptions, Status};
use asyncapi_codegen::contract::Contract;

use super::{DocumentArgs, Format};

pub(crate) const EXAMPLES: &str = "\
Examples:
  asyncapi-rs test examples/chat/asyncapi.yaml --url ws://127.0.0.1:8080
      pass  chat sendMessage/hello  (route `sendMessage`, 0 frames)
      pass  chat echo/ping  (route `echo`, reply `echoReply`)
      …
      5 cases: 5 passed, 0 failed, 0 skipped
  asyncapi-rs test spec.yaml --url ws://127.0.0.1:8080/feed --query token=abc --junit report.xml

For each example of each inbound message: connect (query and headers from the `ws` binding's
examples, or --query/--header), send it, and check every frame that comes back against the
channel's outbound messages; a two-way route must answer with its reply message. With no path
in --url, each channel is reached at its own address. Exit status: 0 when every case passes,
1 otherwise.";

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    document: DocumentArgs,
    /// The server: ws://HOST:PORT[/PATH]. The runner talks to this address only.
    #[arg(long)]
    url: String,
    /// Only this channel.
    #[arg(long)]
    channel: Option<String>,
    /// The longest one case may take (handshake, example, reply): `5s`, `1500ms`, `2`.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    timeout: Duration,
    /// How long the server must stay quiet before a case ends.
    #[arg(long, default_value = "200ms", value_parser = parse_duration)]
    settle: Duration,
    /// A query parameter for the handshake (over the binding's examples). Repeatable.
    #[arg(long, value_name = "NAME=VALUE", value_parser = parse_pair::<'='>)]
    query: Vec<(String, String)>,
    /// A header for the handshake. Repeatable.
    #[arg(long, value_name = "NAME:VALUE", value_parser = parse_pair::<':'>)]
    header: Vec<(String, String)>,
    /// Also write the report as JUnit XML to FILE.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

pub(crate) fn run(args: &Args) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    let mut stderr = std::io::stderr().lock();
    let Some(loaded) = args.document.load_or_report("the document is invalid") else {
        return ExitCode::FAILURE;
    };
    let contract = Contract::new(&loaded);
    let options = LiveOptions {
        channel: args.channel.clone(),
        timeout: args.timeout,
        settle: args.settle,
        query: args.query.clone(),
        headers: args.header.clone(),
        ..LiveOptions::new(&args.url)
    };
    let report = match live::run(&contract, &options) {
        Ok(report) => report,
        Err(e) => {
            let _ = writeln!(stderr, "error: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(path) = &args.junit
        && let Err(e) = std::fs::write(path, to_junit(&report))
    {
        let _ = writeln!(stderr, "error: cannot write `{}`: {e}", path.display());
        return ExitCode::FAILURE;
    }
    match args.format {
        Format::Json => {
            let json = serde_json::json!({
                "passed": report.passed(),
                "failed": report.failed(),
                "skipped": report.skipped(),
                "cases": report.cases,
            });
            let _ = writeln!(stdout, "{json}");
        }
        Format::Human => {
            for case in &report.cases {
                let status = match case.status {
                    Status::Passed => "pass",
                    Status::Failed => "FAIL",
                    Status::Skipped => "skip",
                };
                let mut facts = Vec::new();
                if let Some(route) = &case.route {
                    facts.push(format!("route `{route}`"));
                }
                match (&case.expected_reply, case.status) {
                    (Some(reply), Status::Passed) => facts.push(format!("reply `{reply}`")),
                    _ => facts.push(super::count(case.frames.len(), "frame")),
                }
                let _ = writeln!(stdout, "{status}  {}  ({})", case.title(), facts.join(", "));
                for failure in &case.failures {
                    let _ = writeln!(stdout, "      {failure}");
                }
            }
            let _ = writeln!(
                stdout,
                "{}: {} passed, {} failed, {} skipped",
                super::count(report.cases.len(), "case"),
                report.passed(),
                report.failed(),
                report.skipped()
            );
        }
    }
    if report.failed() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `5s`, `1500ms`, or plain seconds (`2`, `0.5`).
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let (number, unit) = match text.strip_suffix("ms") {
        Some(n) => (n, 0.001),
        None => (text.strip_suffix('s').unwrap_or(text), 1.0),
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a duration (try `5s` or `500ms`)"))?;
    Duration::try_from_secs_f64(value * unit).map_err(|e| format!("`{text}`: {e}"))
}

/// `NAME=VALUE` (or `NAME:VALUE`) into its halves.
fn parse_pair<const SEP: char>(text: &str) -> Result<(String, String), String> {
    match text.split_once(SEP) {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_owned(), value.trim().to_owned()))
        }
        _ => Err(format!("expected NAME{SEP}VALUE, found `{text}`")),
    }
}
