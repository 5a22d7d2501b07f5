//! Functions in processes of their own, in any Lambda runtime, called as Lambda calls them
//! (feature `functions`): each instance of a function is a process started with the environment
//! Lambda gives one (`AWS_LAMBDA_RUNTIME_API`, `_HANDLER`, `LAMBDA_TASK_ROOT`, the function's
//! name, memory and region), and it asks this server for its events over the
//! [Lambda Runtime API](https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html)
//! (`/2018-06-01/runtime/invocation/next`, `…/response`, `…/error`, `…/init/error`), served to
//! it alone on a loopback port of its own. So a function runs here unchanged: a Python handler
//! through `awslambdaric`, a Node.js one through `aws-lambda-ric`, a Rust one built with
//! `lambda_runtime`.
//!
//! As on Lambda: an instance is kept warm after an invocation and used again; at most
//! [`Process::concurrency`] instances run at once (an invocation beyond waits for one, within its
//! timeout); an invocation that outlives [`Process::timeout`] fails and its instance is killed and
//! replaced; an instance whose process exits, or fails its initialization, is replaced at the
//! next invocation. A failure of any kind is the function's error: the [`crate::lambda::Lambda`]
//! channel answers the client with API Gateway's `Internal server error`.
//!
//! ```no_run
//! use std::time::Duration;
//! use ws_runtime::lambda::{Lambda, Process};
//!
//! let echo = Process::new("echo", "python3")
//!     .args(["-m", "awslambdaric", "app.handler"])
//!     .task_root("functions/echo")
//!     .timeout(Duration::from_secs(3));
//! let lambda = Lambda::new().two_way_route("echo", echo);
//! # let _ = lambda;
//! ```

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::future::BoxFuture;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{Semaphore, mpsc, oneshot};

use crate::apigw::LOCAL_ACCOUNT;
use crate::apigw::lambda::AsyncFn;
use crate::registry::ids;

/// How a function is started, and the limits Lambda would give it. Clones share the function's
/// instances.
#[derive(Clone)]
pub struct Process {
    spec: Arc<Spec>,
    pool: Arc<Pool>,
}

/// What starts an instance.
#[derive(Debug, Clone)]
struct Spec {
    name: String,
    command: OsString,
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    task_root: Option<PathBuf>,
    handler: Option<String>,
    memory_mb: u32,
    timeout: Duration,
    region: String,
}

impl std::fmt::Debug for Process {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The environment may carry secrets: its names only.
        f.debug_struct("Process")
            .field("name", &self.spec.name)
            .field("command", &self.spec.command)
            .field("args", &self.spec.args)
            .field(
                "env",
                &self.spec.env.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field("timeout", &self.spec.timeout)
            .finish_non_exhaustive()
    }
}

impl Process {
    /// The function `name`, each instance started as `command` (its arguments from
    /// [`Process::args`]). Lambda's defaults: 3 s timeout, 128 MB, ten instances at once.
    pub fn new(name: impl Into<String>, command: impl Into<OsString>) -> Process {
        Process {
            spec: Arc::new(Spec {
                name: name.into(),
                command: command.into(),
                args: Vec::new(),
                env: Vec::new(),
                task_root: None,
                handler: None,
                memory_mb: 128,
                timeout: Duration::from_secs(3),
                region: "us-east-1".into(),
            }),
            pool: Arc::new(Pool::new(10)),
        }
    }

    fn with(mut self, change: impl FnOnce(&mut Spec)) -> Process {
        change(Arc::make_mut(&mut self.spec));
        self
    }

    /// The command's arguments (`-m awslambdaric app.handler`, say).
    pub fn args<I, S>(self, args: I) -> Process
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.with(|spec| spec.args.extend(args.into_iter().map(Into::into)))
    }

    /// A variable of the function's environment (its `Environment.Variables`).
    pub fn env(self, name: impl Into<OsString>, value: impl Into<OsString>) -> Process {
        self.with(|spec| spec.env.push((name.into(), value.into())))
    }

    /// Where the function's code is (`LAMBDA_TASK_ROOT`): the processes start there.
    pub fn task_root(self, dir: impl Into<PathBuf>) -> Process {
        self.with(|spec| spec.task_root = Some(dir.into()))
    }

    /// The function's `Handler` (`_HANDLER`: `app.handler`, `index.handler`).
    pub fn handler(self, handler: impl Into<String>) -> Process {
        self.with(|spec| spec.handler = Some(handler.into()))
    }

    /// Its `MemorySize` in MB (`AWS_LAMBDA_FUNCTION_MEMORY_SIZE`; not enforced).
    pub fn memory_mb(self, memory_mb: u32) -> Process {
        self.with(|spec| spec.memory_mb = memory_mb)
    }

    /// Its `Timeout`: an invocation that outlives it fails, and its instance is replaced.
    pub fn timeout(self, timeout: Duration) -> Process {
        self.with(|spec| spec.timeout = timeout)
    }

    /// The region its environment names (`AWS_REGION`; `us-east-1` by default).
    pub fn region(self, region: impl Into<String>) -> Process {
        self.with(|spec| spec.region = region.into())
    }

    /// How many instances may run at once (its reserved concurrency; at least one, and at most
    /// what a semaphore can count).
    pub fn concurrency(mut self, instances: usize) -> Process {
        self.pool = Arc::new(Pool::new(instances.clamp(1, Semaphore::MAX_PERMITS)));
        self
    }

    /// Calls the function with `event`, as Lambda invokes it synchronously: its response, or why
    /// there is none.
    ///
    /// # Errors
    /// See [`FunctionError`].
    pub async fn invoke(&self, event: Value) -> Result<Value, FunctionError> {
        let timeout = self.spec.timeout;
        // A timeout past what the clock can name is a day (no function runs that long on Lambda).
        let now = tokio::time::Instant::now();
        let deadline = now
            .checked_add(timeout)
            .unwrap_or_else(|| now + Duration::from_secs(86_400));
        // The instance is held for the invocation: back in the pool on success or on the
        // function's own error, killed (dropped) on anything else.
        let _permit = tokio::time::timeout_at(deadline, self.pool.permits.acquire())
            .await
            .map_err(|_| FunctionError::TimedOut(timeout))?
            .map_err(|_| FunctionError::TimedOut(timeout))?;
        let mut instance = match self.pool.idle() {
            Some(instance) => instance,
            None => Instance::start(&self.spec).await?,
        };
        let outcome = instance.invoke(event, deadline, timeout).await;
        if matches!(outcome, Ok(_) | Err(FunctionError::Failed { .. })) {
            self.pool.keep(instance);
        }
        outcome
    }
}

impl AsyncFn<Value, Value, FunctionError> for Process {
    type Future = BoxFuture<'static, Result<Value, FunctionError>>;

    fn call(&self, event: Value) -> Self::Future {
        let process = self.clone();
        Box::pin(async move { process.invoke(event).await })
    }
}

/// Why an invocation has no response.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FunctionError {
    /// The process could not be started.
    #[error("cannot start `{command}`: {source}")]
    Start {
        /// The command.
        command: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The instance's Runtime API could not be served (no loopback port).
    #[error("cannot serve the Runtime API: {0}")]
    RuntimeApi(#[source] std::io::Error),
    /// The function failed (its runtime posted an error): Lambda's `FunctionError`.
    #[error("{error_type}: {message}")]
    Failed {
        /// Its `errorType`.
        error_type: String,
        /// Its `errorMessage`.
        message: String,
    },
    /// The function's initialization failed (its runtime posted an init error).
    #[error("initialization failed: {error_type}: {message}")]
    InitFailed {
        /// Its `errorType`.
        error_type: String,
        /// Its `errorMessage`.
        message: String,
    },
    /// The invocation outlived the function's timeout (Lambda's `Task timed out`).
    #[error("Task timed out after {0:?}")]
    TimedOut(Duration),
    /// The process exited before it answered (Lambda's `Runtime exited`).
    #[error("Runtime exited ({0}) before it answered")]
    Exited(ExitStatus),
}

/// The warm instances of a function, and the bound on how many run at once.
struct Pool {
    idle: Mutex<Vec<Instance>>,
    permits: Semaphore,
}

impl Pool {
    fn new(instances: usize) -> Pool {
        Pool {
            idle: Mutex::new(Vec::new()),
            permits: Semaphore::new(instances),
        }
    }

    /// The most recently used idle instance whose process still runs.
    fn idle(&self) -> Option<Instance> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(mut instance) = idle.pop() {
            if matches!(instance.child.try_wait(), Ok(None)) {
                return Some(instance);
            }
        }
        None
    }

    fn keep(&self, instance: Instance) {
        self.idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(instance);
    }
}

/// One process of a function, and the Runtime API served to it. Dropped, it is killed and its
/// Runtime API stops.
struct Instance {
    child: Child,
    invocations: mpsc::Sender<Invocation>,
    api: RuntimeApi,
}

/// The instance's Runtime API: its server task (stopped on drop) and what its runtime said.
struct RuntimeApi {
    server: tokio::task::JoinHandle<()>,
    state: Arc<ApiState>,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// One event for an instance, and where its outcome goes.
struct Invocation {
    request_id: String,
    event: Value,
    deadline_ms: u64,
    done: oneshot::Sender<Result<Value, FunctionError>>,
}

impl Instance {
    async fn start(spec: &Spec) -> Result<Instance, FunctionError> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(FunctionError::RuntimeApi)?;
        let address = listener.local_addr().map_err(FunctionError::RuntimeApi)?;
        let (invocations, waiting) = mpsc::channel(1);
        let state = Arc::new(ApiState {
            function_arn: format!(
                "arn:aws:lambda:{}:{LOCAL_ACCOUNT}:function:{}",
                spec.region, spec.name
            ),
            waiting: tokio::sync::Mutex::new(waiting),
            pending: Mutex::new(HashMap::new()),
            init_error: Mutex::new(None),
        });
        let app = axum::Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(Arc::clone(&state));
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let api = RuntimeApi { server, state };

        let mut command = Command::new(&spec.command);
        command
            .args(&spec.args)
            .env("AWS_LAMBDA_RUNTIME_API", address.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", &spec.name)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env(
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                spec.memory_mb.to_string(),
            )
            .env(
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{}", spec.name),
            )
            .env("AWS_LAMBDA_LOG_STREAM_NAME", ids::random())
            .env("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
            .env("AWS_REGION", &spec.region)
            .env("AWS_DEFAULT_REGION", &spec.region)
            .env("TZ", ":UTC")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(handler) = &spec.handler {
            command.env("_HANDLER", handler);
        }
        if let Some(root) = &spec.task_root {
            command.env("LAMBDA_TASK_ROOT", root).current_dir(root);
        }
        command.envs(spec.env.iter().map(|(k, v)| (k, v)));
        let mut child = command.spawn().map_err(|source| FunctionError::Start {
            command: spec.command.to_string_lossy().into_owned(),
            source,
        })?;
        // What the function prints goes to the log, as Lambda sends it to CloudWatch.
        if let Some(stdout) = child.stdout.take() {
            tokio::spawn(log_lines(spec.name.clone(), stdout));
        }
        if let Some(stderr) = child.stderr.take() {
            tokio::spawn(log_lines(spec.name.clone(), stderr));
        }
        Ok(Instance {
            child,
            invocations,
            api,
        })
    }

    /// One invocation: the event goes to the runtime's next `next`; its outcome, the process's
    /// exit or the deadline ends it.
    async fn invoke(
        &mut self,
        event: Value,
        deadline: tokio::time::Instant,
        timeout: Duration,
    ) -> Result<Value, FunctionError> {
        let (done, outcome) = oneshot::channel();
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let deadline_ms =
            ids::now_ms().saturating_add(u64::try_from(left.as_millis()).unwrap_or(u64::MAX));
        let invocation = Invocation {
            request_id: uuid_like(),
            event,
            deadline_ms,
            done,
        };
        if self.invocations.try_send(invocation).is_err() {
            // The Runtime API is gone: the instance is of no use.
            return Err(self.exited().await);
        }
        /// How the wait ended.
        enum Ended {
            Answered(Result<Value, FunctionError>),
            Exited(Option<ExitStatus>),
            TimedOut,
        }
        let ended = tokio::select! {
            outcome = outcome => outcome.map_or(Ended::TimedOut, Ended::Answered),
            status = self.child.wait() => Ended::Exited(status.ok()),
            () = tokio::time::sleep_until(deadline) => Ended::TimedOut,
        };
        match ended {
            Ended::Answered(outcome) => outcome,
            Ended::Exited(status) => Err(self.ended(status)),
            Ended::TimedOut => Err(FunctionError::TimedOut(timeout)),
        }
    }

    /// Why the process ended, waiting for it.
    async fn exited(&mut self) -> FunctionError {
        let status = self.child.wait().await.ok();
        self.ended(status)
    }

    fn ended(&self, status: Option<ExitStatus>) -> FunctionError {
        if let Some((error_type, message)) = self
            .api
            .state
            .init_error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            return FunctionError::InitFailed {
                error_type,
                message,
            };
        }
        FunctionError::Exited(status.unwrap_or_default())
    }
}

/// Forwards a stream of the function's output to the log, line by line.
async fn log_lines(function: String, stream: impl tokio::io::AsyncRead + Unpin) {
    let mut lines = BufReader::new(stream).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        tracing::info!(function = %function, "{line}");
    }
}

/// A request id as Lambda writes them (8-4-4-4-12 hexadecimal digits), random.
fn uuid_like() -> String {
    let hex: String = ids::random().bytes().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// What the Runtime API of one instance knows.
struct ApiState {
    function_arn: String,
    /// The invocations waiting for the runtime's `next` (one at a time).
    waiting: tokio::sync::Mutex<mpsc::Receiver<Invocation>>,
    /// The invocations handed out and not answered, by request id.
    pending: Mutex<HashMap<String, oneshot::Sender<Result<Value, FunctionError>>>>,
    /// The runtime's init error, if it posted one.
    init_error: Mutex<Option<(String, String)>>,
}

/// `GET /runtime/invocation/next`: waits for an event.
async fn next(State(state): State<Arc<ApiState>>) -> Response {
    let Some(invocation) = state.waiting.lock().await.recv().await else {
        return StatusCode::GONE.into_response();
    };
    let Invocation {
        request_id,
        event,
        deadline_ms,
        done,
    } = invocation;
    state
        .pending
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(request_id.clone(), done);
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    set("lambda-runtime-aws-request-id", &request_id);
    set("lambda-runtime-deadline-ms", &deadline_ms.to_string());
    set("lambda-runtime-invoked-function-arn", &state.function_arn);
    set(
        "lambda-runtime-trace-id",
        &format!(
            "Root=1-{:08x}-{}",
            unix_seconds(),
            &uuid_like().replace('-', "")[..24]
        ),
    );
    set("content-type", "application/json");
    (headers, event.to_string()).into_response()
}

fn unix_seconds() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `POST /runtime/invocation/{id}/response`.
async fn response(
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    // A response that is not JSON is a string, as Lambda passes it on.
    let value = serde_json::from_slice(&body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
    answer(&state, &id, Ok(value))
}

/// What a runtime posts for a failed invocation or initialization.
#[derive(Deserialize, Default)]
struct ErrorRequest {
    #[serde(rename = "errorType", default)]
    error_type: Option<String>,
    #[serde(rename = "errorMessage", default)]
    error_message: Option<String>,
}

fn read_error(headers: &HeaderMap, body: &[u8]) -> (String, String) {
    let posted: ErrorRequest = serde_json::from_slice(body).unwrap_or_default();
    let error_type = posted
        .error_type
        .or_else(|| {
            headers
                .get("lambda-runtime-function-error-type")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "Unhandled".to_owned());
    (error_type, posted.error_message.unwrap_or_default())
}

/// `POST /runtime/invocation/{id}/error`.
async fn error(
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (error_type, message) = read_error(&headers, &body);
    answer(
        &state,
        &id,
        Err(FunctionError::Failed {
            error_type,
            message,
        }),
    )
}

/// `POST /runtime/init/error`.
async fn init_error(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    *state.init_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(read_error(&headers, &body));
    accepted()
}

fn answer(state: &ApiState, id: &str, outcome: Result<Value, FunctionError>) -> Response {
    let done = state
        .pending
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(id);
    match done {
        Some(done) => {
            let _ = done.send(outcome);
            accepted()
        }
        None => (
            StatusCode::BAD_REQUEST,
            [("content-type", "application/json")],
            json!({"errorMessage": format!("no invocation {id} is waiting"), "errorType": "InvalidRequestID"})
                .to_string(),
        )
            .into_response(),
    }
}

fn accepted() -> Response {
    (
        StatusCode::ACCEPTED,
        [("content-type", "application/json")],
        r#"{"status":"OK"}"#,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_concurrency_is_one_a_semaphore_can_count() {
        // Before the clamp, a template's `ReservedConcurrentExecutions` past tokio's bound
        // panicked in `Semaphore::new`.
        for instances in [0, 1, usize::MAX] {
            let process = Process::new("f", "true").concurrency(instances);
            let permits = process.pool.permits.available_permits();
            assert!(
                (1..=Semaphore::MAX_PERMITS).contains(&permits),
                "{instances}: {permits}"
            );
        }
    }
}
