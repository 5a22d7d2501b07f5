//! The asyncapi-rs engine: load an AsyncAPI document, resolve its references, and map it into one
//! version-independent API model.
//!
//! ```text
//! bytes ──load──▶ spanned tree ──resolve──▶ document graph ──model──▶ API model
//! ```
//!
//! Every stage reports errors as [`Diagnostic`]s located at `file:line:column`, and nothing
//! panics on any input.

pub mod build;
pub mod contract;
pub mod diagnostic;
pub mod diff;
pub mod emit;
pub mod generate;
pub mod load;
pub mod model;
pub mod plan;
pub mod pointer;
pub mod resolve;
pub mod routing;
mod scope;
pub mod source;
pub mod tree;

pub use diagnostic::{Diagnostic, ErrorKind, Report, Severity};
pub use resolve::{Documents, ResolveOptions};

pub use model::{Api, ModelOptions, Side};

/// How a document is loaded.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    pub resolve: ResolveOptions,
    pub model: ModelOptions,
}

/// A document that loaded: its API model, its files, and any warnings.
#[derive(Debug)]
pub struct Loaded {
    pub api: Api,
    pub documents: Documents,
    pub warnings: Vec<Diagnostic>,
}

/// Loads, resolves and models the document at `path`.
///
/// # Errors
/// A [`Report`] holding every error found (and the warnings), each located in its file.
///
/// # Example
/// ```
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/chat/asyncapi.yaml");
/// let loaded = asyncapi_codegen::load(path.as_ref(), &Default::default()).unwrap();
/// let chat = &loaded.api.channels[0];
/// assert!(chat.inbound().any(|m| m.key == "sendMessage"));
/// ```
pub fn load(path: &std::path::Path, options: &LoadOptions) -> Result<Loaded, Report> {
    model_documents(Documents::load(path, options.resolve.clone())?, options)
}

/// Like [`load()`], with the root file's text given; relative references still read from the
/// folder of `path`.
///
/// # Errors
/// As [`load()`].
pub fn load_text(
    path: &std::path::Path,
    text: &str,
    options: &LoadOptions,
) -> Result<Loaded, Report> {
    model_documents(
        Documents::from_text(path, text.to_owned(), options.resolve.clone())?,
        options,
    )
}

fn model_documents(documents: Documents, options: &LoadOptions) -> Result<Loaded, Report> {
    let (api, diagnostics) = model::build(&documents, &options.model);
    match api {
        Some(api) => Ok(Loaded {
            api,
            documents,
            warnings: diagnostics,
        }),
        None => {
            let diagnostics = diagnostics
                .into_iter()
                .map(|d| documents.explain(d))
                .collect();
            Err(Report {
                sources: documents.into_sources(),
                diagnostics,
            })
        }
    }
}
