//! `asyncapi-rs generate`: write the Rust for a document.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use asyncapi_codegen::diagnostic;
use asyncapi_codegen::emit::FileKind;
use asyncapi_codegen::generate::{self, Runtime};

use super::{DocumentArgs, color};

pub(crate) const EXAMPLES: &str = "\\
Examples:
  asyncapi-rs generate spec.yaml -o src/api
      a module tree: mod.rs, types.rs, one file per channel, schemas/, and handlers.rs (yours)
  asyncapi-rs generate spec.yaml -o chat-server --crate chat-server
      a complete crate that serves the API (cargo run -- --addr 127.0.0.1:0)
  asyncapi-rs generate spec.yaml -o src/api --check
      exit 1 if the generated files on disk differ from the document (for CI)

Generated files start with `@generated` and are rewritten every run; handlers.rs (and a crate's
Cargo.toml, lib.rs, main.rs) are written once and kept, unless --force.";

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    document: DocumentArgs,
    /// The folder to write into.
    #[arg(short = 'o', long = "out", value_name = "DIR")]
    out: PathBuf,
    /// Write a complete crate called NAME (Cargo.toml, src/lib.rs, src/main.rs, src/api/).
    #[arg(long = "crate", value_name = "NAME")]
    krate: Option<String>,
    /// With --crate: depend on the ws-runtime checkout at DIR instead of the published crate.
    #[arg(long, value_name = "DIR", requires = "krate")]
    runtime_path: Option<PathBuf>,
    /// Overwrite the files that are yours (handlers.rs, and a crate's Cargo.toml, lib.rs, main.rs).
    #[arg(long)]
    force: bool,
    /// Write nothing; exit 1 if a generated file on disk differs from what would be generated.
    #[arg(long, conflicts_with = "force")]
    check: bool,
}

pub(crate) fn run(args: &Args) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    let mut stderr = std::io::stderr().lock();
    let Some(mut loaded) = args
        .document
        .load_or_report("not generated: the document is invalid")
    else {
        return ExitCode::FAILURE;
    };
    let examples = asyncapi_codegen::contract::example_warnings(&loaded.api);
    loaded.warnings.extend(examples);
    let _ = write!(
        stderr,
        "{}",
        diagnostic::render(loaded.documents.sources(), &loaded.warnings, color())
    );
    let files = match &args.krate {
        Some(name) => {
            let runtime = match &args.runtime_path {
                Some(path) => {
                    Runtime::Path(std::path::absolute(path).unwrap_or_else(|_| path.clone()))
                }
                None => Runtime::Version(env!("CARGO_PKG_VERSION").to_owned()),
            };
            generate::crate_files(&loaded.api, name, &runtime)
        }
        None => generate::module(&loaded.api),
    };
    if args.check {
        let drifted = generate::drift(&args.out, &files);
        if drifted.is_empty() {
            let _ = writeln!(stdout, "{}: up to date", args.out.display());
            return ExitCode::SUCCESS;
        }
        for path in &drifted {
            let _ = writeln!(stderr, "out of date: {}", path.display());
        }
        let _ = writeln!(
            stderr,
            "{} differ from the document; rerun `asyncapi-rs generate`",
            super::count(drifted.len(), "generated file")
        );
        return ExitCode::FAILURE;
    }
    match generate::write(&args.out, &files, args.force) {
        Ok(report) => {
            for (path, kind, outcome) in report {
                let kind = match kind {
                    FileKind::Generated => "generated",
                    FileKind::Scaffold => "scaffold ",
                };
                let _ = writeln!(stdout, "{kind}  {outcome:<9}  {}", path.display());
            }
            let _ = writeln!(
                stdout,
                "wrote the {} API ({}) to {}",
                loaded.api.info.title,
                super::count(loaded.api.channels.len(), "channel"),
                args.out.display()
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            let _ = writeln!(stderr, "error: {error}");
            ExitCode::FAILURE
        }
    }
}
