//! What `asyncapi-rs local` serves: an API Gateway WebSocket app, as a SAM or CloudFormation template
//! declares it, served on this machine. The template's WebSocket API is read ([`app`]), its
//! intrinsic functions resolved to local values ([`template`]), and the API served by ws-runtime
//! with each function a process of its own in its Lambda runtime ([`mod@serve`]), its frames checked
//! against an AsyncAPI document when one is given ([`validated`]); or a starting document written
//! from the template's routes ([`document`]).

pub mod app;
pub mod ca;
pub mod document;
pub mod serve;
pub mod tables;
pub mod template;
pub mod validated;

use std::path::PathBuf;

use tokio::net::TcpListener;

pub use app::WebSocketApi;
pub use serve::{Options, router};
pub use template::{Resolver, Template, TemplateError};

/// What to serve: a template, the values of its parameters that are not their defaults, and
/// which of its WebSocket APIs (when it has several).
#[derive(Debug, Clone, Copy)]
pub struct Serve<'a> {
    /// The template.
    pub template: &'a Template,
    /// `NAME=VALUE` overrides of its parameters.
    pub parameters: &'a [(String, String)],
    /// The logical id of the WebSocket API to serve.
    pub api: Option<&'a str>,
    /// How the functions run.
    pub options: &'a Options,
}

/// A template's WebSocket API, read with these parameter overrides in `region` (for a server
/// not yet listening: `ApiEndpoint` is `ws://127.0.0.1:3001`).
///
/// # Errors
/// The template cannot be served, with the resource and why.
pub fn read_api(
    template: &Template,
    parameters: &[(String, String)],
    api: Option<&str>,
    region: &str,
) -> Result<WebSocketApi, LocalError> {
    let values = template.parameter_values(parameters)?;
    let resolver = Resolver::new(template, values, region, "ws://127.0.0.1:3001");
    Ok(WebSocketApi::read(template, &resolver, api)?)
}

/// A template's WebSocket API being served.
#[derive(Debug)]
pub struct Served {
    /// The API, as read from the template.
    pub api: WebSocketApi,
    /// Its server.
    pub server: ws_runtime::Server,
    /// The run's CA, while it serves TLS beside plain connections ([`Options::tls`]).
    pub ca: Option<ca::LocalCa>,
    /// The tables created in the local DynamoDB ([`Options::dynamodb`]).
    pub created_tables: Vec<String>,
}

impl Served {
    /// Stops the server (each connection's `$disconnect` runs); the CA's files go with it.
    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
}

/// Serves a template's WebSocket API on `listener`: `ws://` for clients, and, with
/// [`Options::tls`], `wss://` and `https://` on the same port, with a CA of the run's own that
/// the functions are told to trust.
///
/// # Errors
/// The template cannot be served (with the resource and why), the CA cannot be made, or the
/// listener fails.
pub async fn serve(listener: TcpListener, what: Serve<'_>) -> Result<Served, LocalError> {
    let addr = listener.local_addr().map_err(LocalError::Listen)?;
    let parameters = what.template.parameter_values(what.parameters)?;
    let resolver = Resolver::new(
        what.template,
        parameters,
        &what.options.region,
        format!("ws://{addr}"),
    );
    let api = WebSocketApi::read(what.template, &resolver, what.api)?;
    let mut options = what.options.clone();
    let mut created_tables = Vec::new();
    if let Some(endpoint) = &options.dynamodb {
        created_tables = tables::create(what.template, &resolver, endpoint).await?;
        options
            .environment
            .entry("AWS_ENDPOINT_URL_DYNAMODB".to_owned())
            .or_insert_with(|| endpoint.clone());
    }
    let local_ca = if what.options.tls {
        Some(ca::LocalCa::new()?)
    } else {
        None
    };
    for (name, value) in local_ca.iter().flat_map(ca::LocalCa::environment) {
        options.environment.entry(name.to_owned()).or_insert(value);
    }
    let app = router(&api, addr, &options)?
        .build()
        .map_err(LocalError::Router)?;
    let server = match &local_ca {
        Some(local_ca) => {
            let tls = ws_runtime::Tls::from_pem(local_ca.chain.as_bytes(), local_ca.key.as_bytes())
                .map_err(LocalError::Tls)?
                .and_plain();
            app.serve_tls(listener, tls).await
        }
        None => app.serve(listener).await,
    }
    .map_err(LocalError::Listen)?;
    Ok(Served {
        api,
        server,
        ca: local_ca,
        created_tables,
    })
}

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
    /// Folders that cannot be one search path (`NODE_PATH`, `PYTHONPATH`): a name with the
    /// path separator.
    #[error("these folders cannot be one search path: {0:?}")]
    SearchPath(Vec<PathBuf>),
    /// A `provided.*` function with no bootstrap to run.
    #[error(
        "{function}: no bootstrap at {}: build it (`sam build`, `cargo lambda build`) or name it with `--bootstrap {function}=PATH`",
        looked_at.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    )]
    NoBootstrap {
        /// The function's logical id.
        function: String,
        /// Where it was looked for, in order.
        looked_at: Vec<PathBuf>,
    },
    /// An `HTTP_PROXY` integration that cannot be made.
    #[error("{integration}: {source}")]
    Http {
        /// The integration's logical id.
        integration: String,
        /// Why.
        #[source]
        source: ws_runtime::lambda::HttpProxyError,
    },
    /// `$connect`'s authorization is `AWS_IAM`, and no key may sign handshakes.
    #[error(
        "$connect's authorization is AWS_IAM: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, the key clients presign their handshakes with"
    )]
    NoIamKeys,
    /// The run's CA could not be made.
    #[error(transparent)]
    Ca(#[from] ca::CaError),
    /// The run's certificate was not taken.
    #[error("the local certificate: {0}")]
    Tls(#[source] ws_runtime::TlsError),
    /// The API's routes could not be built into a server.
    #[error("{0}")]
    Router(#[source] ws_runtime::RouterError),
    /// The listener failed.
    #[error("{0}")]
    Listen(#[source] std::io::Error),
    /// A table of the template could not be created in the local DynamoDB.
    #[error(transparent)]
    Table(#[from] tables::TableError),
    /// The operating system gave no randomness for the run's management key.
    #[error("no randomness for the management API's key: {0}")]
    Randomness(#[source] getrandom::Error),
}
