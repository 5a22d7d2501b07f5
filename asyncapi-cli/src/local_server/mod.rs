//! What `asyncapi-rs local` serves: an API Gateway WebSocket app, as a SAM or CloudFormation template
//! declares it, served on this machine. The template's WebSocket API is read ([`app`]), its
//! intrinsic functions resolved to local values ([`template`]), and the API served by ws-runtime
//! with each function a process of its own in its Lambda runtime ([`serve`]).

pub mod app;
pub mod serve;
pub mod template;

use std::path::PathBuf;

pub use app::WebSocketApi;
pub use serve::{Options, router};
pub use template::{Resolver, Template, TemplateError};

/// Why a template cannot be served.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LocalError {
    /// The template, or a part of its WebSocket API.
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// A route selection expression ws-runtime does not take.
    #[error("RouteSelectionExpression: {0}")]
    Selection(#[source] ws_runtime::SelectionError),
    /// The Node.js runtime client could not be written where `node` loads it from.
    #[error("cannot write the Node.js runtime client to {}: {source}", path.display())]
    NodeRuntime {
        /// Where.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// `node_modules` folders that cannot be one `NODE_PATH` (a name with the path separator).
    #[error("these folders cannot be one NODE_PATH: {0:?}")]
    NodePath(Vec<PathBuf>),
    /// A `provided.*` function with no bootstrap to run.
    #[error("{function}: no bootstrap at {}: build it (`sam build`, `cargo lambda build`) or name it with `--bootstrap {function}=PATH`", path.display())]
    NoBootstrap {
        /// The function's logical id.
        function: String,
        /// Where it was looked for.
        path: PathBuf,
    },
    /// A route whose integration is `HTTP_PROXY`.
    #[error("{0}: HTTP_PROXY integrations are not served locally yet")]
    HttpIntegration(String),
    /// The operating system gave no randomness for the run's management key.
    #[error("no randomness for the management API's key: {0}")]
    Randomness(#[source] getrandom::Error),
}
