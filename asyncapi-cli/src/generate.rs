//! `asyncapi-rs generate`: write the Rust for a document.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use asyncapi_codegen::diagnostic;
use asyncapi_codegen::emit::{self, FileKind, SchemaPlacement, Sides};
use asyncapi_codegen::generate::{self, Runtime};

use super::{DocumentArgs, color};

pub(crate) const EXAMPLES: &str = "\
Examples:
  asyncapi-rs generate spec.yaml
      in a Cargo package: the module tree in src/api/, and the two lines to add to use it;
      anywhere else: a new crate, in a folder named after the document's title
  asyncapi-rs generate spec.yaml -o src/api
      a module tree: mod.rs, types.rs, one file per channel, schemas/, and handlers.rs (yours)
  asyncapi-rs generate spec.yaml -o chat-server --crate chat-server
      a complete crate that serves the API (cargo run -- --addr 127.0.0.1:0)
  asyncapi-rs generate spec.yaml -o src/api --client
      a typed client per channel beside the server (--no-server: the client alone)
  asyncapi-rs generate spec.yaml --typescript web/api
      a TypeScript client for browsers and Node (ES modules with .d.ts, no dependencies) alone;
      with -o too, beside the Rust
  asyncapi-rs generate spec.yaml --crate chat-server --lambda --sam
      the crate, and the same handlers as an AWS Lambda function behind API Gateway
      (src/bin/lambda.rs) with the AWS SAM template that deploys it (template.yaml)
  asyncapi-rs generate spec.yaml -o src/api --check
      exit 1 if the generated files on disk differ from the document (for CI)

Generated files start with `@generated` and are rewritten every run; handlers.rs (and a crate's
Cargo.toml, lib.rs, main.rs) are written once and kept, unless --force.";

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    document: DocumentArgs,
    /// The folder to write into. Without it: `src/api` inside a Cargo package (a Cargo.toml with
    /// a `[package]` table here), else a new crate in a folder named after the document's title.
    #[arg(short = 'o', long = "out", value_name = "DIR")]
    out: Option<PathBuf>,
    /// Write a complete crate called NAME (Cargo.toml, src/lib.rs, src/main.rs, src/api/).
    #[arg(long = "crate", value_name = "NAME")]
    krate: Option<String>,
    /// Depend on the ws-runtime folder at DIR (default: the one this asyncapi-rs was built from,
    /// when its source is still there; else the published crate).
    #[arg(long, value_name = "DIR")]
    runtime_path: Option<PathBuf>,
    /// Overwrite the files that are yours (handlers.rs, and a crate's Cargo.toml, lib.rs, main.rs).
    #[arg(long)]
    force: bool,
    /// Write nothing; exit 1 if a generated file on disk differs from what would be generated.
    #[arg(long, conflicts_with = "force")]
    check: bool,
    /// Also generate a typed client per channel (connect, one method per route, the server's
    /// messages as a typed stream); it needs ws-runtime's `client` feature.
    #[arg(long)]
    client: bool,
    /// Generate no server (no handler traits, `mount`, handlers.rs or main.rs): with --client,
    /// the client alone.
    #[arg(long, requires = "client")]
    no_server: bool,
    /// Write a TypeScript client into DIR: an ES module per channel with its declarations, that
    /// a page imports as it is. Alone, it writes no Rust; with -o or --crate, both.
    #[arg(long, value_name = "DIR")]
    typescript: Option<PathBuf>,
    /// Also serve the API as an AWS Lambda function behind Amazon API Gateway: the crate's
    /// second binary, NAME-lambda (src/bin/lambda.rs, the same handlers), on ws-runtime's
    /// `aws-lambda` feature. Needs a crate (--crate, or no -o outside a Cargo package).
    #[arg(long)]
    lambda: bool,
    /// Also write template.yaml, the AWS SAM template that deploys the Lambda function: one
    /// WebSocket API per channel, its routes, authorizer, stage and connection table (implies
    /// --lambda).
    #[arg(long)]
    sam: bool,
}

/// What to write, and where.
enum Destination {
    /// The module tree, into `out`; `into_package` when it went into the package here by default.
    Module { out: PathBuf, into_package: bool },
    /// A complete crate called `name`, into `out`.
    Crate { out: PathBuf, name: String },
}

impl Args {
    fn sides(&self) -> Sides {
        Sides {
            server: !self.no_server,
            client: self.client,
        }
    }

    /// Where the Rust goes; `None` when only TypeScript was asked for.
    fn destination(&self, title: &str) -> Option<Destination> {
        let only_typescript =
            self.typescript.is_some() && self.out.is_none() && self.krate.is_none() && !self.client;
        if only_typescript {
            return None;
        }
        Some(match (&self.out, &self.krate) {
            (Some(out), Some(name)) => Destination::Crate {
                out: out.clone(),
                name: name.clone(),
            },
            (Some(out), None) => Destination::Module {
                out: out.clone(),
                into_package: false,
            },
            (None, Some(name)) => Destination::Crate {
                out: PathBuf::from(name),
                name: name.clone(),
            },
            (None, None) if is_package(Path::new("Cargo.toml")) => Destination::Module {
                out: PathBuf::from("src/api"),
                into_package: true,
            },
            (None, None) => {
                let name = crate_name(title);
                Destination::Crate {
                    out: PathBuf::from(&name),
                    name,
                }
            }
        })
    }

    /// Where generated code finds ws-runtime: `--runtime-path`, else the checkout this binary was
    /// built from (when it is still there), else the published crate.
    fn runtime(&self) -> Runtime {
        let built_from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ws-runtime");
        match &self.runtime_path {
            Some(path) => Runtime::Path(std::path::absolute(path).unwrap_or_else(|_| path.clone())),
            None if built_from.join("Cargo.toml").is_file() => {
                Runtime::Path(built_from.canonicalize().unwrap_or(built_from))
            }
            None => Runtime::Version(env!("CARGO_PKG_VERSION").to_owned()),
        }
    }
}

/// A `Cargo.toml` with a `[package]` table.
fn is_package(manifest: &Path) -> bool {
    std::fs::read_to_string(manifest)
        .is_ok_and(|text| text.lines().any(|l| l.trim() == "[package]"))
}

/// A crate name from a title: `Chat API` → `chat-api`.
fn crate_name(title: &str) -> String {
    let mut name = String::new();
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            name.push(c.to_ascii_lowercase());
        } else if !name.is_empty() && !name.ends_with('-') {
            name.push('-');
        }
    }
    let name = name.trim_end_matches('-');
    match name.chars().next() {
        None => "api".to_owned(),
        Some(c) if c.is_ascii_digit() => format!("api-{name}"),
        Some(_) => name.to_owned(),
    }
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
    let destination = args.destination(&loaded.api.info.title);
    let runtime = args.runtime();
    let sides = args.sides();
    // Planned once, for the Rust and the TypeScript alike.
    let plan = asyncapi_codegen::plan::plan(&loaded.api);
    for note in &plan.notes {
        let _ = writeln!(stderr, "warning: {note}");
    }
    // Each folder with its files: the Rust, the TypeScript, or both.
    let mut outputs = Vec::new();
    match &destination {
        Some(Destination::Crate { out, name }) => {
            let options = emit::package::CrateOptions {
                name: name.clone(),
                runtime: runtime.clone(),
                sides,
                lambda: args.lambda || args.sam,
                sam: args.sam,
            };
            if args.sam {
                for note in emit::sam::notes(&plan) {
                    let _ = writeln!(stderr, "warning: {note}");
                }
            }
            outputs.push((out.clone(), emit::package::files(&plan, &options)));
        }
        Some(Destination::Module { out, .. }) if args.lambda || args.sam => {
            let _ = writeln!(
                stderr,
                "error: --lambda and --sam write a crate's binary and template: give --crate NAME (with -o {0}, the crate goes there)",
                out.display()
            );
            return ExitCode::from(2);
        }
        Some(Destination::Module { out, .. }) => {
            let files = emit::module_files(&plan, SchemaPlacement::Files, sides);
            outputs.push((out.clone(), files));
        }
        None => {}
    }
    if let Some(dir) = &args.typescript {
        outputs.push((dir.clone(), emit::typescript::files(&plan)));
    }
    if args.check {
        let drifted: Vec<PathBuf> = outputs
            .iter()
            .flat_map(|(out, files)| generate::drift(out, files))
            .collect();
        if drifted.is_empty() {
            for (out, _) in &outputs {
                let _ = writeln!(stdout, "{}: up to date", out.display());
            }
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
    for (out, files) in &outputs {
        match generate::write(out, files, args.force) {
            Ok(report) => {
                for (path, kind, outcome) in report {
                    let kind = match kind {
                        FileKind::Generated => "generated",
                        FileKind::Scaffold => "scaffold ",
                    };
                    let _ = writeln!(stdout, "{kind}  {outcome:<9}  {}", path.display());
                }
            }
            Err(error) => {
                let _ = writeln!(stderr, "error: {error}");
                return ExitCode::FAILURE;
            }
        }
    }
    let written: Vec<String> = outputs
        .iter()
        .map(|(out, _)| out.display().to_string())
        .collect();
    let _ = writeln!(
        stdout,
        "wrote the {} API ({}) to {}",
        loaded.api.info.title,
        super::count(loaded.api.channels.len(), "channel"),
        written.join(" and ")
    );
    if let Some(destination) = &destination {
        next_steps(&mut stdout, destination, &runtime, sides);
        if let (Destination::Crate { out, .. }, true) = (destination, args.sam) {
            let _ = writeln!(
                stdout,
                "deploy: cd {} && sam build && sam deploy --guided (on a desk: cargo lambda build, then asyncapi-rs local template.yaml)",
                out.display()
            );
        }
    }
    if let Some(dir) = &args.typescript {
        let dir = dir.display().to_string();
        let dir = if dir.starts_with(['.', '/']) {
            dir
        } else {
            format!("./{dir}")
        };
        let _ = writeln!(
            stdout,
            "next: in a page or in Node, import {{ connect }} from \"{dir}/<channel>.js\" (types in its .d.ts; on Node 20 pass the `ws` package's class as `WebSocket`)"
        );
    }
    if destination.is_some()
        && let Runtime::Version(version) = &runtime
    {
        let _ = writeln!(
            stderr,
            "note: the code depends on ws-runtime {version} from crates.io; if cargo cannot find it there, rerun with --runtime-path DIR (the ws-runtime folder of an asyncapi-rs checkout)"
        );
    }
    ExitCode::SUCCESS
}

/// What to do with what was written.
fn next_steps(out: &mut impl Write, destination: &Destination, runtime: &Runtime, sides: Sides) {
    match destination {
        Destination::Crate { out: dir, .. } if !sides.server => {
            let _ = writeln!(
                out,
                "next: depend on it (path = {:?}) and connect: api::<channel>::<Channel>Client::connect(\"ws://host:port\", …)",
                dir.display().to_string()
            );
        }
        Destination::Crate { out: dir, .. } => {
            let _ = writeln!(
                out,
                "next: cd {} && cargo run -- --addr 127.0.0.1:8080",
                dir.display()
            );
        }
        Destination::Module {
            into_package: true, ..
        } => {
            let manifest = std::fs::read_to_string("Cargo.toml").unwrap_or_default();
            let _ = writeln!(out, "next: to use it in this package,");
            let _ = writeln!(
                out,
                "  add `mod api;` to src/main.rs (or `pub mod api;` to src/lib.rs)"
            );
            let runtime_line = manifest
                .lines()
                .find(|l| l.trim_start().starts_with("ws-runtime"));
            if runtime_line.is_none_or(|l| sides.client && !l.contains("\"client\"")) {
                let _ = writeln!(
                    out,
                    "  add to [dependencies] in Cargo.toml:\n    {}",
                    runtime.dependency(sides)
                );
            }
            if sides.server {
                let _ = writeln!(
                    out,
                    "  then serve each channel: api::<channel>::mount(ws_runtime::Router::new(), api::handlers::<Channel>)"
                );
            }
            if sides.client {
                let _ = writeln!(
                    out,
                    "  connect to a channel: api::<channel>::<Channel>Client::connect(\"ws://host:port\", …).await"
                );
            }
        }
        Destination::Module { .. } => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crate_names_from_titles() {
        assert_eq!(crate_name("Chat API"), "chat-api");
        assert_eq!(
            crate_name("  Streetlights (MQTT) v2! "),
            "streetlights-mqtt-v2"
        );
        assert_eq!(crate_name("3D printers"), "api-3d-printers");
        assert_eq!(crate_name("日本"), "api");
    }
}
