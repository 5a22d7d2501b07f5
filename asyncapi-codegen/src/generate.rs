//! `generate`: plan and emit, then write the files (or compare them, for `--check`).

use std::fmt;
use std::path::{Path, PathBuf};

use askama::Template;

use crate::emit::{self, File, FileKind, SchemaPlacement};
use crate::model::Api;
use crate::plan;

/// The module tree for a document: `mod.rs`, `types.rs`, a file per channel, `schemas/`, and
/// the `handlers.rs` scaffold.
pub fn module(api: &Api) -> Vec<File> {
    emit::module_files(&plan::plan(api), SchemaPlacement::Files)
}

/// Where a generated crate finds ws-runtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Runtime {
    /// The published crate, by version.
    Version(String),
    /// A local checkout (`--runtime-path`).
    Path(PathBuf),
}

#[derive(Template)]
#[template(path = "Cargo.toml.txt", escape = "none")]
struct CargoToml<'a> {
    name: &'a str,
    runtime: String,
    title: &'a str,
    /// Whether the crate has a `main` that serves the API (it needs tokio).
    serves: bool,
}

#[derive(Template)]
#[template(path = "README.md.txt", escape = "none")]
struct Readme<'a> {
    name: &'a str,
    title: &'a str,
    version: &'a str,
    asyncapi: &'a str,
    channels: Vec<(String, String, Vec<String>)>,
}

/// A complete crate: `Cargo.toml` (no `[workspace]`, so it can join the user's), `README.md`,
/// `src/lib.rs`, `src/main.rs` (when the document has channels to serve), and the module tree
/// under `src/api/`.
pub fn crate_files(api: &Api, name: &str, runtime: &Runtime) -> Vec<File> {
    let plan = plan::plan(api);
    // Generated code gives every schema, so the runtime's schemars (code-first) stays out.
    let runtime_dep = match runtime {
        Runtime::Version(version) => {
            format!("{{ version = \"{version}\", default-features = false }}")
        }
        Runtime::Path(path) => format!(
            "{{ path = {:?}, default-features = false }}",
            path.display().to_string()
        ),
    };
    let cargo = CargoToml {
        name,
        runtime: runtime_dep,
        title: &plan.title,
        serves: !plan.channels.is_empty(),
    }
    .render()
    .unwrap_or_default();
    let readme = Readme {
        name,
        title: &plan.title,
        version: &plan.version,
        asyncapi: &plan.asyncapi,
        channels: plan
            .channels
            .iter()
            .map(|c| {
                (
                    c.id.clone(),
                    c.path.clone(),
                    c.routes.iter().map(|r| r.key.clone()).collect(),
                )
            })
            .collect(),
    }
    .render()
    .unwrap_or_default();
    let mut files = vec![
        File {
            path: "Cargo.toml".into(),
            contents: cargo,
            kind: FileKind::Scaffold,
        },
        File {
            path: "README.md".into(),
            contents: readme,
            kind: FileKind::Scaffold,
        },
        File {
            path: "src/lib.rs".into(),
            contents: emit::crate_lib(),
            kind: FileKind::Scaffold,
        },
    ];
    // A document without channels (shared message types) is a library: nothing to serve.
    if !plan.channels.is_empty() {
        files.push(File {
            path: "src/main.rs".into(),
            contents: emit::crate_main(&plan, &name.replace('-', "_")),
            kind: FileKind::Scaffold,
        });
    }
    files.extend(
        emit::module_files(&plan, SchemaPlacement::Files)
            .into_iter()
            .map(|f| File {
                path: format!("src/api/{}", f.path),
                ..f
            }),
    );
    files
}

/// What happened to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Updated,
    Unchanged,
    /// A scaffold that exists already: left as it is.
    Kept,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Outcome::Created => "created",
            Outcome::Updated => "updated",
            Outcome::Unchanged => "unchanged",
            Outcome::Kept => "kept (yours; --force to overwrite)",
        })
    }
}

/// Writes `files` under `dir`: generated files always, scaffolds only when missing (or `force`).
///
/// # Errors
/// The first file that cannot be written, with its path.
pub fn write(
    dir: &Path,
    files: &[File],
    force: bool,
) -> Result<Vec<(PathBuf, FileKind, Outcome)>, WriteError> {
    let mut report = Vec::new();
    for file in files {
        let path = dir.join(&file.path);
        let existing = std::fs::read_to_string(&path).ok();
        let outcome = match (&existing, file.kind) {
            (Some(_), FileKind::Scaffold) if !force => Outcome::Kept,
            (Some(old), _) if *old == file.contents => Outcome::Unchanged,
            (Some(_), _) => Outcome::Updated,
            (None, _) => Outcome::Created,
        };
        if matches!(outcome, Outcome::Created | Outcome::Updated) {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| WriteError::new(parent, e))?;
            }
            std::fs::write(&path, &file.contents).map_err(|e| WriteError::new(&path, e))?;
        }
        report.push((path, file.kind, outcome));
    }
    Ok(report)
}

/// Generated files that differ from what is on disk (`--check`); scaffolds are the user's.
pub fn drift(dir: &Path, files: &[File]) -> Vec<PathBuf> {
    files
        .iter()
        .filter(|f| f.kind == FileKind::Generated)
        .filter(|f| {
            std::fs::read_to_string(dir.join(&f.path)).ok().as_deref() != Some(f.contents.as_str())
        })
        .map(|f| dir.join(&f.path))
        .collect()
}

/// A file could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write `{path}`: {source}")]
pub struct WriteError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

impl WriteError {
    fn new(path: &Path, source: std::io::Error) -> WriteError {
        WriteError {
            path: path.to_path_buf(),
            source,
        }
    }
}
