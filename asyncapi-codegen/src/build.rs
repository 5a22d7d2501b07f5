//! For build scripts: generate into `OUT_DIR` at compile time.
//!
//! ```text
//! // build.rs
//! fn main() {
//!     asyncapi_codegen::build::generate("asyncapi.yaml").unwrap();
//! }
//! ```
//!
//! ```text
//! // src/lib.rs
//! pub mod api {
//!     include!(concat!(env!("OUT_DIR"), "/asyncapi.rs"));
//! }
//! ```
//!
//! The generated items are the same as `asyncapi-rs generate` writes (types, routes, handler
//! traits, `mount`, contract tests), with schemas inline and no handler scaffold. Cargo reruns
//! the build script when the document or any file it references changes. For a typed client
//! too (`--client`), or only a client (`--client --no-server`):
//!
//! ```text
//! asyncapi_codegen::build::generate_with("asyncapi.yaml", Sides::BOTH).unwrap();
//! ```
//!
//! The TypeScript client of the same document, for a front end the crate serves (the folder is
//! the package's, not `OUT_DIR`: a page imports the modules from there):
//!
//! ```text
//! asyncapi_codegen::build::typescript("asyncapi.yaml", "static/client").unwrap();
//! ```

use std::path::{Path, PathBuf};

pub use crate::emit::Sides;
use crate::{LoadOptions, Report, emit, plan};

/// Why a build-time generation failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The document is invalid; the text is the rendered diagnostics.
    #[error("{0}")]
    Invalid(String),
    #[error("cannot write `{path}`: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("OUT_DIR is not set: `generate` runs in a build script")]
    NoOutDir,
}

impl From<Report> for BuildError {
    fn from(report: Report) -> BuildError {
        BuildError::Invalid(report.render(false))
    }
}

/// Generates `$OUT_DIR/asyncapi.rs` from the document at `spec` (relative to the package) and
/// prints `cargo:rerun-if-changed` for every file the document is made of.
///
/// # Errors
/// An invalid document (with every diagnostic rendered), or a file that cannot be written.
pub fn generate(spec: impl AsRef<Path>) -> Result<PathBuf, BuildError> {
    generate_with(spec, Sides::SERVER)
}

/// [`generate`] for the server, the client, or both.
///
/// # Errors
/// As [`generate`].
pub fn generate_with(spec: impl AsRef<Path>, sides: Sides) -> Result<PathBuf, BuildError> {
    let out_dir = std::env::var_os("OUT_DIR").ok_or(BuildError::NoOutDir)?;
    let (path, sources) = generate_into(
        spec.as_ref(),
        Path::new(&out_dir),
        &LoadOptions::default(),
        sides,
    )?;
    for source in sources {
        println!("cargo:rerun-if-changed={}", source.display());
    }
    Ok(path)
}

/// Writes the TypeScript client of the document at `spec` into `dir` (both relative to the
/// package; see [`crate::emit::typescript`]) and prints `cargo:rerun-if-changed` for every file
/// the document is made of. Returns the files written (unchanged ones are left alone).
///
/// # Errors
/// As [`generate`]; also a folder whose files asyncapi-rs did not write.
pub fn typescript(
    spec: impl AsRef<Path>,
    dir: impl AsRef<Path>,
) -> Result<Vec<PathBuf>, BuildError> {
    let loaded = crate::load(spec.as_ref(), &LoadOptions::default())?;
    let files = crate::generate::typescript(&loaded.api);
    let report =
        crate::generate::write(dir.as_ref(), &files, false).map_err(|e| BuildError::Write {
            path: e.path,
            source: e.source,
        })?;
    for (_, file) in loaded.documents.sources().iter() {
        println!("cargo:rerun-if-changed={}", file.path.display());
    }
    Ok(report.into_iter().map(|(path, _, _)| path).collect())
}

/// [`generate`] without the environment: writes `asyncapi.rs` into `out_dir` and returns its
/// path and every file the document is made of.
///
/// # Errors
/// As [`generate`].
pub fn generate_into(
    spec: &Path,
    out_dir: &Path,
    options: &LoadOptions,
    sides: Sides,
) -> Result<(PathBuf, Vec<PathBuf>), BuildError> {
    let loaded = crate::load(spec, options)?;
    let plan = plan::plan(&loaded.api);
    let path = out_dir.join("asyncapi.rs");
    std::fs::write(&path, emit::inline_file(&plan, sides)).map_err(|source| BuildError::Write {
        path: path.clone(),
        source,
    })?;
    let sources = loaded
        .documents
        .sources()
        .iter()
        .map(|(_, f)| f.path.clone())
        .collect();
    Ok((path, sources))
}
