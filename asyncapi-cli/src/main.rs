//! `asyncapi-rs`: the command line. Argument parsing and what the commands share; each command
//! is a file. The engine (`asyncapi-codegen`) does the work.

mod bundle;
mod diff;
mod generate;
mod local;
mod mock;
mod test;
mod validate;
mod validate_message;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use asyncapi_codegen::{LoadOptions, Loaded, ModelOptions, ResolveOptions, Side};

const ABOUT: &str =
    "AsyncAPI-driven code generation and contract checks for Rust WebSocket servers";

const EXAMPLES: &str = "\
Examples:
  asyncapi-rs generate examples/chat/asyncapi.yaml -o src/api
  asyncapi-rs generate examples/chat/asyncapi.yaml -o chat-server --crate chat-server
  asyncapi-rs validate examples/chat/asyncapi.yaml
  asyncapi-rs validate spec.yaml --format json
  asyncapi-rs validate spec.yaml --ref-map https://schemas.example.com/=vendor/schemas
  asyncapi-rs validate-message examples/chat/asyncapi.yaml --channel chat messages.ndjson
  asyncapi-rs test examples/chat/asyncapi.yaml --url ws://127.0.0.1:8080 --junit report.xml
  asyncapi-rs mock examples/chat/asyncapi.yaml --addr 127.0.0.1:8080
  asyncapi-rs bundle spec.yaml -o bundled.yaml
  asyncapi-rs diff v1/asyncapi.yaml v2/asyncapi.yaml --format markdown
  asyncapi-rs local template.yaml --python .venv/bin/python";

#[derive(Debug, Parser)]
#[command(name = "asyncapi-rs", version, about = ABOUT, after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Generate Rust from a document: payload types, routes, handler traits and handler stubs.
    #[command(after_help = generate::EXAMPLES)]
    Generate(generate::Args),
    /// Check a document: parse it, resolve every `$ref`, and map it into the API model.
    #[command(after_help = validate::EXAMPLES)]
    Validate(validate::Args),
    /// Check JSON messages against the document (one JSON value or newline-delimited JSON).
    #[command(after_help = validate_message::EXAMPLES)]
    ValidateMessage(validate_message::Args),
    /// Check a running server against the document: send every inbound example, check every
    /// frame that comes back.
    #[command(after_help = test::EXAMPLES)]
    Test(test::Args),
    /// Serve the document with no code: routed, checked, answered from its examples.
    #[command(after_help = mock::EXAMPLES)]
    Mock(mock::Args),
    /// Compare two documents as APIs: every change, and whom it breaks.
    #[command(after_help = diff::EXAMPLES)]
    Diff(diff::Args),
    /// Serve a SAM or CloudFormation template's WebSocket API here: its routes, authorizer and
    /// stage, each function a process in its Lambda runtime.
    #[command(after_help = local::EXAMPLES)]
    Local(local::Args),
    /// Write the document as one file, every other file it references inlined.
    #[command(after_help = bundle::EXAMPLES)]
    Bundle(bundle::Args),
}

/// Options every command that reads a document takes.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct DocumentArgs {
    /// The AsyncAPI document (YAML or JSON; 2.0–2.6, 3.0, 3.1).
    pub spec: PathBuf,
    /// Which application the document describes: `server` (what it receives is inbound) or
    /// `client` (every direction flips).
    #[arg(long, value_enum, default_value_t = SideArg::Server)]
    pub side: SideArg,
    /// Read `$ref`s that start with PREFIX from the folder DIR instead (remote references are
    /// never fetched). Repeatable.
    #[arg(long = "ref-map", value_name = "PREFIX=DIR", value_parser = parse_ref_map)]
    pub ref_map: Vec<(String, PathBuf)>,
    /// The largest file read, in MiB (the document and every file its `$ref`s name).
    #[arg(long = "max-file-size", value_name = "MIB", default_value_t = asyncapi_codegen::resolve::MAX_FILE_SIZE >> 20)]
    pub max_file_mib: u64,
}

impl DocumentArgs {
    /// Loads the document. When it is invalid, every error goes to stderr with a snippet, then
    /// `SPEC: {outcome}`, and the result is `None`.
    pub fn load_or_report(&self, outcome: &str) -> Option<Loaded> {
        match asyncapi_codegen::load(&self.spec, &self.load_options()) {
            Ok(loaded) => Some(loaded),
            Err(report) => {
                let mut stderr = std::io::stderr().lock();
                let _ = write!(stderr, "{}", report.render(color()));
                let _ = writeln!(stderr, "{}: {outcome}", self.spec.display());
                None
            }
        }
    }

    pub fn load_options(&self) -> LoadOptions {
        LoadOptions {
            resolve: ResolveOptions {
                ref_map: self.ref_map.clone(),
                max_file_size: self.max_file_mib.saturating_mul(1024 * 1024),
            },
            model: ModelOptions {
                side: match self.side {
                    SideArg::Server => Side::Server,
                    SideArg::Client => Side::Client,
                },
            },
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum SideArg {
    Server,
    Client,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// For people: a summary, or diagnostics with source snippets.
    Human,
    /// For machines: one JSON object.
    Json,
}

fn parse_ref_map(text: &str) -> Result<(String, PathBuf), String> {
    match text.split_once('=') {
        Some((prefix, dir)) if !prefix.is_empty() && !dir.is_empty() => {
            Ok((prefix.to_owned(), PathBuf::from(dir)))
        }
        _ => Err(format!("expected PREFIX=DIR, found `{text}`")),
    }
}

/// The loaded document as one JSON value, other files inlined; `None` after rendering why not.
pub(crate) fn bundle_or_report(loaded: &Loaded) -> Option<serde_json::Value> {
    match loaded.documents.bundle() {
        Ok(json) => Some(json),
        Err(diagnostic) => {
            let sources = loaded.documents.sources();
            eprint!(
                "{}",
                asyncapi_codegen::diagnostic::render(sources, &[diagnostic], color())
            );
            None
        }
    }
}

/// `1 channel`, `2 channels`: a count and its noun (which takes an `s`).
pub(crate) fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

/// Colors on a terminal, unless `NO_COLOR` is set.
pub(crate) fn color() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Generate(args) => generate::run(&args),
        Command::Mock(args) => mock::run(&args),
        Command::Local(args) => local::run(&args),
        Command::Bundle(args) => bundle::run(&args),
        Command::Diff(args) => diff::run(&args),
        Command::Validate(args) => validate::run(&args),
        Command::ValidateMessage(args) => validate_message::run(&args),
        Command::Test(args) => test::run(&args),
    }
}
