//! `generate`: plan and emit a document's files, then write them (or compare them, for
//! `--check`).

use std::fmt;
use std::path::{Path, PathBuf};

use crate::emit::{self, File, FileKind, SchemaPlacement, Sides};
use crate::model::Api;
use crate::plan;

/// The module tree for a document: `mod.rs`, `types.rs`, a file per channel, `schemas/`, and
/// (for a server) the `handlers.rs` scaffold.
pub fn module(api: &Api, sides: Sides) -> Vec<File> {
    emit::module_files(&plan::plan(api), SchemaPlacement::Files, sides)
}

/// The TypeScript client for a document (see [`crate::emit::typescript`]).
pub fn typescript(api: &Api) -> Vec<File> {
    emit::typescript::files(&plan::plan(api))
}

pub use crate::emit::package::{CrateOptions, Runtime};

/// A complete crate for a document (see [`crate::emit::package`]).
pub fn crate_files(api: &Api, options: &CrateOptions) -> Vec<File> {
    emit::package::files(&plan::plan(api), options)
}

/// `template.yaml` for the crate `name` generated from a document (see [`crate::emit::sam`]).
pub fn sam_template(api: &Api, name: &str) -> File {
    File {
        path: "template.yaml".into(),
        contents: emit::sam::template(&plan::plan(api), name),
        kind: crate::emit::FileKind::Generated,
    }
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
/// A generated file would only replace one that asyncapi-rs wrote: otherwise nothing is written
/// (unless `force`).
///
/// # Errors
/// The first file that cannot be written, with its path.
pub fn write(
    dir: &Path,
    files: &[File],
    force: bool,
) -> Result<Vec<(PathBuf, FileKind, Outcome)>, WriteError> {
    // A file the generator would rewrite but did not write (a user's own `src/api/mod.rs`, say)
    // is refused before anything is written, unless `force`.
    if !force {
        for file in files.iter().filter(|f| emit::is_generated(&f.contents)) {
            let path = dir.join(&file.path);
            if let Ok(old) = std::fs::read_to_string(&path)
                && !emit::is_generated(&old)
            {
                let reason = "it exists and asyncapi-rs did not write it; --force overwrites it";
                return Err(WriteError::new(
                    &path,
                    std::io::Error::new(std::io::ErrorKind::AlreadyExists, reason),
                ));
            }
        }
    }
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
