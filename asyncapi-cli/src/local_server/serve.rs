//! A [`WebSocketApi`] on ws-runtime: each function a process of its own in its Lambda runtime
//! ([`Process`]), the routes, the authorizer and the stage as the template declares them, and
//! the management API the functions post through, signed with a key made for this run.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use asyncapi_codegen::contract::Contract;
use ws_runtime::lambda::{AsyncFn, HttpProxy, HttpProxyError, Lambda, Process};
use ws_runtime::{Router, SigV4};

use super::LocalError;
use super::app::{Function, HttpIntegration, Integration, Route, Runtime, WebSocketApi};
use super::validated::Validated;

/// How the functions are run.
#[derive(Clone)]
pub struct Options {
    /// The region of the run: every function's `AWS_REGION`, and the ARNs'.
    pub region: String,
    /// The Python that runs Python functions: one with `awslambdaric` (`pip install
    /// awslambdaric`, and `boto3` for functions that use the AWS SDK).
    pub python: OsString,
    /// The Node.js that runs Node.js functions (20 or later).
    pub node: OsString,
    /// What Lambda's Node.js runtime bundles (the AWS SDK for JavaScript v3): `node_modules`
    /// folders the functions' imports are also looked up in (`NODE_PATH`).
    pub node_modules: Vec<PathBuf>,
    /// The `bootstrap` of a `provided.*` function, by logical id, where it is none of the
    /// places it is looked for (a binary built with cargo, say).
    pub bootstraps: BTreeMap<String, PathBuf>,
    /// Who may sign handshakes where `$connect`'s authorization is `AWS_IAM` (the command takes
    /// the keys of its environment, `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`).
    pub iam: Option<SigV4>,
    /// Serve `wss://` and `https://` beside `ws://` and `http://` on the same port, with a CA of
    /// the run's own that the functions trust (on by default: functions that build their
    /// management endpoint as `https://{domainName}/{stage}` reach it).
    pub tls: bool,
    /// The AsyncAPI document frames are checked against before a function is invoked.
    pub asyncapi: Option<Arc<Contract>>,
    /// Variables every function gets beside its own (`AWS_ENDPOINT_URL_DYNAMODB`, say; the
    /// functions also inherit this process's environment).
    pub environment: BTreeMap<String, String>,
    /// A local DynamoDB (DynamoDB Local, dynalite): every function's
    /// `AWS_ENDPOINT_URL_DYNAMODB`, where the template's tables are created when missing.
    pub dynamodb: Option<String>,
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Variables may carry secrets: their names only.
        f.debug_struct("Options")
            .field("region", &self.region)
            .field("python", &self.python)
            .field("node", &self.node)
            .field("node_modules", &self.node_modules)
            .field("bootstraps", &self.bootstraps)
            .field("iam", &self.iam)
            .field("tls", &self.tls)
            .field("asyncapi", &self.asyncapi.is_some())
            .field("environment", &self.environment.keys().collect::<Vec<_>>())
            .field("dynamodb", &self.dynamodb)
            .finish()
    }
}

impl Default for Options {
    fn default() -> Options {
        Options {
            region: "us-east-1".into(),
            python: "python3".into(),
            node: "node".into(),
            node_modules: Vec::new(),
            bootstraps: BTreeMap::new(),
            environment: BTreeMap::new(),
            asyncapi: None,
            iam: None,
            tls: true,
            dynamodb: None,
        }
    }
}

/// The access key the functions sign management requests with (`AWS_ACCESS_KEY_ID`).
pub const ACCESS_KEY_ID: &str = "LOCALFUNCTIONS";

/// The router that serves `api` at `addr` (where its listener is bound): its channel at `/` and
/// at `/{stage}` (the path of API Gateway's URL), and the management API.
///
/// # Errors
/// A function that cannot be run here (its runtime, a missing bootstrap), or a route selection
/// expression ws-runtime does not take.
pub fn router(
    api: &WebSocketApi,
    addr: SocketAddr,
    options: &Options,
) -> Result<Router, LocalError> {
    let secret = secret()?;
    let management = format!("http://{addr}/{}", api.stage);
    let environment = [
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID.to_owned()),
        ("AWS_SECRET_ACCESS_KEY", secret.clone()),
        ("AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI", management),
    ];
    let mut processes: BTreeMap<String, Process> = BTreeMap::new();
    let mut process = |function: &Function| -> Result<Process, LocalError> {
        if let Some(process) = processes.get(&function.logical_id) {
            return Ok(process.clone());
        }
        let mut process = start(function, options)?;
        let shared = options
            .environment
            .iter()
            .map(|(n, v)| (n.as_str(), v.clone()));
        for (name, value) in shared.chain(environment.iter().cloned()) {
            process = process.env(name, value);
        }
        processes.insert(function.logical_id.clone(), process.clone());
        Ok(process)
    };
    let mut lambda = Lambda::new()
        .selection(&api.selection)
        .map_err(LocalError::Selection)?
        .api_id(&api.api_id)
        .region(&options.region);
    if api.iam {
        let Some(sigv4) = options.iam.clone() else {
            return Err(LocalError::NoIamKeys);
        };
        lambda = lambda.iam(sigv4);
    }
    if let Some(authorizer) = &api.authorizer {
        lambda = lambda.authorizer(
            authorizer.identity_sources.clone(),
            process(&authorizer.function)?,
        );
    }
    for route in &api.routes {
        lambda = match &route.integration {
            Integration::Function(function) => mount(lambda, route, process(function)?),
            Integration::Http(integration) => {
                let proxy = http_proxy(integration).map_err(|source| LocalError::Http {
                    integration: integration.logical_id.clone(),
                    source,
                })?;
                mount(lambda, route, proxy)
            }
        };
    }
    let router = Router::new()
        .stage(&api.stage)
        .management_sigv4(SigV4::new(&options.region).key(ACCESS_KEY_ID, secret));
    let stage_path = format!("/{}", api.stage);
    Ok(match &options.asyncapi {
        Some(contract) => router
            .channel("/", Validated::new(lambda.clone(), Arc::clone(contract)))
            .channel(&stage_path, Validated::new(lambda, Arc::clone(contract))),
        None => router
            .channel("/", lambda.clone())
            .channel(&stage_path, lambda),
    })
}

/// `lambda` with `route` served by `function`: `$connect`, `$disconnect`, or a route that
/// answers or not.
fn mount<F, R, Er>(lambda: Lambda, route: &Route, function: F) -> Lambda
where
    F: AsyncFn<serde_json::Value, R, Er>,
    R: serde::Serialize + Send + 'static,
    Er: std::fmt::Display + Send + 'static,
{
    match (route.key.as_str(), route.two_way) {
        ("$connect", _) => lambda.connect(function),
        ("$disconnect", _) => lambda.disconnect(function),
        (key, true) => lambda.two_way_route(key, function),
        (key, false) => lambda.route(key, function),
    }
}

/// An `HTTP_PROXY` integration as API Gateway calls it.
fn http_proxy(integration: &HttpIntegration) -> Result<HttpProxy, HttpProxyError> {
    let mut proxy = HttpProxy::new(&integration.url)?.method(integration.method.clone());
    if let Some(ms) = integration.timeout_ms {
        proxy = proxy.timeout(Duration::from_millis(ms));
    }
    for (name, value) in &integration.request_parameters {
        proxy = proxy.request_parameter(name, value)?;
    }
    Ok(proxy)
}

/// How Lambda would start `function`: its runtime's interface client, or its bootstrap.
fn start(function: &Function, options: &Options) -> Result<Process, LocalError> {
    let process = match &function.runtime {
        Runtime::Python(_) => Process::new(&function.name, &options.python).args([
            "-m",
            "awslambdaric",
            &function.handler,
        ]),
        Runtime::Provided(_) => {
            let bootstrap = match options.bootstraps.get(&function.logical_id) {
                Some(path) => Some(path.clone()),
                None => function
                    .bootstraps
                    .iter()
                    .find(|path| path.is_file())
                    .cloned(),
            };
            let Some(bootstrap) = bootstrap.filter(|path| path.is_file()) else {
                return Err(LocalError::NoBootstrap {
                    function: function.logical_id.clone(),
                    looked_at: match options.bootstraps.get(&function.logical_id) {
                        Some(path) => vec![path.clone()],
                        None => function.bootstraps.clone(),
                    },
                });
            };
            Process::new(&function.name, bootstrap)
        }
        Runtime::Node(_) => {
            // As Lambda's Node.js runtime puts `/opt/nodejs/node_modules` (a layer's) before
            // what it bundles.
            let folders: Vec<PathBuf> = function
                .layers
                .iter()
                .map(|layer| layer.join("nodejs/node_modules"))
                .chain(options.node_modules.iter().cloned())
                .collect();
            let node_path = std::env::join_paths(&folders)
                .map_err(|_| LocalError::SearchPath(folders.clone()))?;
            Process::new(&function.name, &options.node)
                .args([node_runtime()?])
                .env("NODE_PATH", node_path)
        }
    };
    // As Lambda's Python runtime puts `/opt/python` (a layer's) on `sys.path`.
    let process = match (&function.runtime, function.layers.is_empty()) {
        (Runtime::Python(_), false) => {
            let folders: Vec<PathBuf> = function
                .layers
                .iter()
                .map(|layer| layer.join("python"))
                .collect();
            let python_path = std::env::join_paths(&folders)
                .map_err(|_| LocalError::SearchPath(folders.clone()))?;
            process.env("PYTHONPATH", python_path)
        }
        _ => process,
    };
    let mut process = process
        .handler(&function.handler)
        .task_root(&function.code_dir)
        .memory_mb(function.memory_mb)
        .timeout(Duration::from_secs(function.timeout_s))
        .region(&options.region);
    for (name, value) in &function.environment {
        process = process.env(name, value);
    }
    if let Some(instances) = function.concurrency {
        process = process.concurrency(instances);
    }
    Ok(process)
}

/// The Runtime API client Node.js functions are run with (`node_runtime.mjs`), written where
/// `node` can load it: a file named for its content, so runs share it and a new version never
/// meets an old file.
fn node_runtime() -> Result<PathBuf, LocalError> {
    const SOURCE: &str = include_str!("node_runtime.mjs");
    // FNV-1a: a name for the content, not a defence.
    let hash = SOURCE
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        });
    let path = std::env::temp_dir().join(format!("asyncapi-rs-node-runtime-{hash:016x}.mjs"));
    if std::fs::read_to_string(&path).is_ok_and(|text| text == SOURCE) {
        return Ok(path);
    }
    // Written beside it and renamed into place, so a run starting at the same time never reads
    // half a file.
    let partial = path.with_extension(format!("{}.partial", std::process::id()));
    std::fs::write(&partial, SOURCE)
        .and_then(|()| std::fs::rename(&partial, &path))
        .map_err(|source| LocalError::NodeRuntime {
            path: path.clone(),
            source,
        })?;
    Ok(path)
}

/// A secret key for this run: 20 random bytes, in hex.
fn secret() -> Result<String, LocalError> {
    let mut bytes = [0u8; 20];
    getrandom::fill(&mut bytes).map_err(LocalError::Randomness)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_value_of_a_variable_reaches_debug() {
        let mut options = Options::default();
        options
            .environment
            .insert("API_TOKEN".into(), "hunter2-secret".into());
        let printed = format!("{options:?}");
        assert!(printed.contains("API_TOKEN"), "{printed}");
        assert!(!printed.contains("hunter2"), "{printed}");
        let function = Function {
            logical_id: "Fn".into(),
            name: "fn".into(),
            runtime: Runtime::Python("python3.12".into()),
            handler: "app.handler".into(),
            code_dir: PathBuf::new(),
            bootstraps: Vec::new(),
            environment: BTreeMap::from([("API_TOKEN".into(), "hunter2-secret".into())]),
            timeout_s: 3,
            memory_mb: 128,
            concurrency: None,
            layers: Vec::new(),
        };
        let printed = format!("{function:?}");
        assert!(
            printed.contains("API_TOKEN") && !printed.contains("hunter2"),
            "{printed}"
        );
    }
}
