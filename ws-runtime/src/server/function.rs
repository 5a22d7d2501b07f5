//! An [`App`] deployed behind Amazon API Gateway: one Lambda function serves a channel's
//! `$connect`, every route, `$disconnect` and its `REQUEST` authorizer, with the same handlers,
//! checks and error frames as on ws-runtime's own server. What the server keeps in memory goes
//! where a function can reach it between invocations: sends, `GET` and `DELETE` of connections
//! through the management API (`aws-sdk-apigatewaymanagement`), and the connection registry
//! (sessions, groups, broadcast, counts) through a [`ConnectionStore`].

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, OnceLock};

use axum::extract::ws::Utf8Bytes;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use base64::Engine as _;
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::access::security::{self, BoxError, Credentials, Principal};
use crate::apigw::aws::{Environment, MissingVariable};
use crate::apigw::store::{ConnectionRecord, ConnectionStore, DynamoDbStore, StoreError};
use crate::dispatch::handler::{Close, ConnectRequest, Context, EventType, Reject, Session};
use crate::dispatch::shared::{Channel, Shared};
use crate::registry::connections::{
    Audience, BackendError, ConnectionId, ConnectionInfo, EngineError, Identity, Outbound, Remote,
    SendError,
};
use crate::registry::ids;
use crate::server::{App, Handshake, handle};

/// The key of an authorizer's context that carries the principal (as JSON, since API Gateway
/// passes only strings, numbers and booleans there).
const PRINCIPAL: &str = "principal";

/// How many management API calls one broadcast has in flight.
const BROADCAST_CONCURRENCY: usize = 32;

/// Serves `app` as a Lambda function behind API Gateway until the Lambda runtime stops it, made
/// from the environment Lambda gives it ([`Function::from_env`]).
///
/// ```no_run
/// # async fn run(app: ws_runtime::App) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
/// // The generated router with your handlers, as `main` builds it for ws-runtime's server.
/// ws_runtime::lambda::run(app).await?;
/// # Ok(()) }
/// ```
///
/// # Errors
/// What [`Function::from_env`] refuses, or the Lambda runtime's own failure.
pub async fn run(app: App) -> Result<(), lambda_runtime::Error> {
    Function::from_env(app)?.run().await
}

/// One channel of an [`App`] as a Lambda function: [`Function::call`] answers each event API
/// Gateway sends (or an authorizer's), [`Function::run`] takes them from the Lambda runtime.
pub struct Function {
    shared: Arc<Shared>,
    channel: Arc<Channel>,
    store: Option<Arc<dyn ConnectionStore>>,
    api: Arc<ApiGateway>,
}

impl std::fmt::Debug for Function {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Function")
            .field("channel", &self.channel.address)
            .field("store", &self.store.is_some())
            .finish_non_exhaustive()
    }
}

/// Why a [`Function`] cannot be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// The app has no channel.
    #[error("the app has no channel to serve")]
    NoChannel,
    /// The app has several, and `WS_CHANNEL` names none of them.
    #[error("the app has channels {available:?}: set WS_CHANNEL to the address of the one this function serves{}", .named.as_ref().map(|n| format!(" (it is `{n}`)")).unwrap_or_default())]
    WhichChannel {
        /// What `WS_CHANNEL` says, when it is set.
        named: Option<String>,
        /// The addresses of the app's channels.
        available: Vec<String>,
    },
    /// The app is a node of a cluster: behind API Gateway, API Gateway holds the connections.
    #[error("the app joined a cluster; behind API Gateway the connections are API Gateway's")]
    Cluster,
    /// The environment lacks what Lambda sets.
    #[error(transparent)]
    Environment(#[from] MissingVariable),
}

/// Why an invocation failed. The Lambda runtime reports it as the function's error; API Gateway
/// answers the client 500 (or, for [`InvocationError::Unauthorized`] from an authorizer, 401).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InvocationError {
    /// The authorizer refuses: no credentials, or ones nothing accepts. The message is exactly
    /// `Unauthorized`, what API Gateway answers 401 for.
    #[error("Unauthorized")]
    Unauthorized,
    /// The event is not one API Gateway sends a WebSocket API's integration or authorizer.
    #[error("the event is not an API Gateway WebSocket event: {0}")]
    Event(#[source] serde_json::Error),
    /// The connection store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The handler's `authorize` refused with a status that is neither 401 nor 403 (API Gateway
    /// answers the handshake 500).
    #[error("authorize refused with {}: {}", .0.status, .0.message)]
    AuthorizeRefused(Reject),
    /// The handler's `authorize` panicked.
    #[error("authorize panicked: {0}")]
    Panicked(#[source] BoxError),
}

impl From<InvocationError> for lambda_runtime::Diagnostic {
    fn from(error: InvocationError) -> lambda_runtime::Diagnostic {
        let error_type = match &error {
            InvocationError::Unauthorized => "Unauthorized",
            InvocationError::Event(_) => "Event",
            InvocationError::Store(_) => "Store",
            InvocationError::AuthorizeRefused(_) => "AuthorizeRefused",
            InvocationError::Panicked(_) => "Panicked",
        };
        lambda_runtime::Diagnostic {
            error_type: error_type.to_owned(),
            error_message: error.to_string(),
        }
    }
}

impl Function {
    /// The channel of `app` this function serves: its only one, or the one whose address
    /// `WS_CHANNEL` names. Without a store, groups, broadcasts, counts and sessions fail with
    /// [`BackendError::NoStore`]; sends, `get` and `disconnect` work.
    ///
    /// # Errors
    /// [`SetupError::NoChannel`], [`SetupError::WhichChannel`], [`SetupError::Cluster`];
    /// [`SetupError::Environment`] without `AWS_REGION` and credentials.
    pub fn new(app: App) -> Result<Function, SetupError> {
        let named = std::env::var("WS_CHANNEL").ok();
        Function::with(app, named, Environment::read()?)
    }

    /// The function of `app`'s channel at `named` (or of its only one), with its SDK clients
    /// made from `environment`.
    fn with(
        app: App,
        named: Option<String>,
        environment: Environment,
    ) -> Result<Function, SetupError> {
        let channel = match (&app.channels[..], &named) {
            ([], _) => return Err(SetupError::NoChannel),
            ([only], None) => Arc::clone(only),
            (channels, named) => channels
                .iter()
                .find(|c| Some(&c.address) == named.as_ref())
                .cloned()
                .ok_or_else(|| SetupError::WhichChannel {
                    named: named.clone(),
                    available: channels.iter().map(|c| c.address.clone()).collect(),
                })?,
        };
        if app.shared.cluster.is_some() {
            return Err(SetupError::Cluster);
        }
        let api = Arc::new(ApiGateway {
            environment,
            management: OnceLock::new(),
            store: OnceLock::new(),
        });
        app.shared
            .connections
            .attach(Arc::clone(&api) as Arc<dyn Remote>);
        Ok(Function {
            shared: app.shared,
            channel,
            store: None,
            api,
        })
    }

    /// [`Function::new`], with the DynamoDB table `CONNECTIONS_TABLE` names as its store, when
    /// it names one.
    ///
    /// # Errors
    /// As [`Function::new`].
    pub fn from_env(app: App) -> Result<Function, SetupError> {
        let function = Function::new(app)?;
        Ok(match std::env::var("CONNECTIONS_TABLE") {
            Ok(table) => {
                let store = DynamoDbStore::new(function.api.environment.dynamodb(), table);
                function.store(store)
            }
            Err(_) => function,
        })
    }

    /// Keeps the connections in `store`.
    pub fn store(mut self, store: impl ConnectionStore) -> Function {
        let store: Arc<dyn ConnectionStore> = Arc::new(store);
        let _ = self.api.store.set(Arc::clone(&store));
        self.store = Some(store);
        self
    }

    /// Takes events from the Lambda runtime until it stops.
    ///
    /// # Errors
    /// The Lambda runtime's failure (its API unreachable, say).
    pub async fn run(self) -> Result<(), lambda_runtime::Error> {
        let function = Arc::new(self);
        lambda_runtime::run(lambda_runtime::service_fn(
            move |event: lambda_runtime::LambdaEvent<Value>| {
                let function = Arc::clone(&function);
                async move { function.call(event.payload).await }
            },
        ))
        .await
    }

    /// Answers one event: an authorizer's (a `REQUEST` authorizer's IAM policy), `$connect`,
    /// a message or `$disconnect` (a proxy response: `statusCode`, and `body` for the client).
    ///
    /// # Errors
    /// [`InvocationError`]: an authorizer's refusal is [`InvocationError::Unauthorized`].
    pub async fn call(&self, event: Value) -> Result<Value, InvocationError> {
        let event: Event = serde_json::from_value(event).map_err(InvocationError::Event)?;
        let context = &event.request_context;
        self.api.reach(context);
        if event.kind.as_deref() == Some("REQUEST") {
            return self.authorize(&event).await;
        }
        match context.event_type.as_deref() {
            Some("CONNECT") => self.connect(&event).await,
            Some("DISCONNECT") => self.disconnect(&event).await,
            _ => self.message(&event).await,
        }
    }

    /// The handshake as the channel's checks read it.
    fn handshake(event: &Event) -> (Handshake, HeaderMap) {
        let context = &event.request_context;
        let mut headers = HeaderMap::new();
        let mut json = serde_json::Map::new();
        for (name, text) in event.headers.iter().flatten() {
            let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes()),
                HeaderValue::from_str(text),
            ) else {
                continue;
            };
            json.insert(name.as_str().to_owned(), Value::String(text.clone()));
            headers.append(name, value);
        }
        let query = match &event.multi_value_query_string_parameters {
            Some(multi) => multi
                .iter()
                .flat_map(|(name, values)| values.iter().map(move |v| (name.clone(), v.clone())))
                .collect(),
            None => event
                .query_string_parameters
                .iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        };
        let handshake = Handshake {
            identity: context.identity(),
            path_params: BTreeMap::new(),
            query,
            headers: Value::Object(json),
        };
        (handshake, headers)
    }

    fn connect_request(
        &self,
        event: &Event,
        handshake: Handshake,
        headers: HeaderMap,
        credentials: Credentials,
    ) -> ConnectRequest {
        let context = &event.request_context;
        let mut headers = headers;
        security::mark_sensitive(&mut headers, self.channel.security.as_ref());
        ConnectRequest {
            connection_id: ConnectionId::from(context.connection_id.as_str()),
            request_id: ids::event(),
            path: format!("/{}", context.stage.as_deref().unwrap_or_default()),
            path_params: Arc::new(handshake.path_params),
            query: handshake.query,
            headers,
            identity: handshake.identity,
            stage: self.stage(context),
            domain_name: context.domain_name.as_deref().unwrap_or_default().into(),
            connected_at: context.connected_at.unwrap_or_else(ids::now_ms),
            credentials,
            principal: None,
            connections: self.shared.connections.clone(),
        }
    }

    fn stage(&self, context: &RequestContext) -> Arc<str> {
        context
            .stage
            .as_deref()
            .map_or_else(|| Arc::clone(&self.shared.stage), Arc::from)
    }

    /// A `REQUEST` authorizer: the channel's security as the server checks it (the credentials
    /// of one alternative, the router's verifiers, the handler's `authorize`), answered as an
    /// IAM policy for `methodArn` with the principal in its context.
    async fn authorize(&self, event: &Event) -> Result<Value, InvocationError> {
        let (handshake, headers) = Function::handshake(event);
        let Some(security) = &self.channel.security else {
            // No security: anyone may connect, as without an authorizer.
            return Ok(policy("anonymous", "Allow", event, None));
        };
        let Some(credentials) = security.credentials(&handshake.query, &headers) else {
            return Err(InvocationError::Unauthorized);
        };
        let verified = match security::verify(&self.shared.verifiers, &credentials).await {
            Ok(verified) => verified,
            Err(reason) => {
                tracing::debug!(%reason, "credentials refused");
                return Err(InvocationError::Unauthorized);
            }
        };
        let request = self.connect_request(event, handshake, headers, credentials);
        match self.channel.dispatch.authorize(&request, verified).await {
            Ok(Ok(principal)) => {
                let subject = principal.subject.clone();
                Ok(policy(&subject, "Allow", event, Some(&principal)))
            }
            Ok(Err(reject)) if reject.status == StatusCode::UNAUTHORIZED => {
                Err(InvocationError::Unauthorized)
            }
            Ok(Err(reject)) if reject.status == StatusCode::FORBIDDEN => {
                Ok(policy("anonymous", "Deny", event, None))
            }
            Ok(Err(reject)) => Err(InvocationError::AuthorizeRefused(reject)),
            Err(panic) => Err(InvocationError::Panicked(Box::new(panic))),
        }
    }

    /// `$connect`: the handshake's schemas, the authorizer's principal (required on a channel
    /// with security), the handler, then the connection in the store.
    async fn connect(&self, event: &Event) -> Result<Value, InvocationError> {
        let (handshake, headers) = Function::handshake(event);
        if let Err(text) = handshake.check(&self.channel) {
            return Ok(response(StatusCode::BAD_REQUEST, Some(text)));
        }
        let principal = event.request_context.principal();
        if self.channel.security.is_some() && principal.is_none() {
            // Absent means refused: a template without the authorizer lets no one in.
            return Ok(response(
                StatusCode::UNAUTHORIZED,
                Some("Unauthorized".into()),
            ));
        }
        let mut request = self.connect_request(event, handshake, headers, Credentials::default());
        request.principal = principal;
        let accepted = match self.channel.dispatch.connect(&request).await {
            Ok(Ok(accept)) => accept,
            Ok(Err(reject)) => return Ok(response(reject.status, Some(reject.message))),
            Err(panic) => {
                tracing::error!(%panic, "$connect panicked");
                return Ok(response(StatusCode::INTERNAL_SERVER_ERROR, None));
            }
        };
        if accepted.attached.is_some() {
            tracing::warn!(
                "$connect attached state, which no later event sees behind API Gateway: keep it in a session (Accept::session)"
            );
        }
        if self.store.is_none() && accepted.session.is_some() {
            tracing::warn!(
                "$connect kept a session, and there is no store to keep it in (CONNECTIONS_TABLE)"
            );
        }
        if let Some(store) = &self.store {
            let record = ConnectionRecord {
                id: request.connection_id,
                connected_at: request.connected_at,
                identity: request.identity,
                principal: request.principal,
                session: accepted.session,
                groups: Vec::new(),
            };
            store.put(&record).await?;
        }
        Ok(response(StatusCode::OK, None))
    }

    /// The context of a message or `$disconnect`, its session from the store.
    async fn context(
        &self,
        event: &Event,
        event_type: EventType,
    ) -> Result<Context, InvocationError> {
        let context = &event.request_context;
        let id = ConnectionId::from(context.connection_id.as_str());
        let record = match &self.store {
            Some(store) => store.get(&id).await?,
            None => None,
        };
        Ok(Context {
            connection_id: id,
            request_id: ids::event(),
            route_key: "",
            event_type,
            connected_at: context.connected_at.unwrap_or_default(),
            request_time_epoch: context.request_time_epoch.unwrap_or_else(ids::now_ms),
            message_id: None,
            identity: context.identity(),
            path_params: Arc::default(),
            stage: self.stage(context),
            domain_name: context.domain_name.as_deref().unwrap_or_default().into(),
            principal: context.principal().map(Arc::new),
            attached: None,
            session: Arc::new(Session::new(record.and_then(|r| r.session))),
            connections: self.shared.connections.clone(),
        })
    }

    /// Writes the session back when the event changed it.
    async fn keep_session(&self, cx: &Context) -> Result<(), InvocationError> {
        let Some(session) = cx.session.changed() else {
            return Ok(());
        };
        let Some(store) = &self.store else {
            tracing::warn!(
                "the session changed, and there is no store to keep it in (CONNECTIONS_TABLE)"
            );
            return Ok(());
        };
        match store.set_session(&cx.connection_id, session.as_ref()).await {
            // The connection went while its message ran: its session goes with it.
            Ok(()) | Err(StoreError::Gone) => Ok(()),
            Err(error) => Err(error.into()),
        }
    }

    /// A message: routed, checked and handled as the server does; the frame for the sender (a
    /// reply, or an error frame) is the response's body, which API Gateway sends on a route
    /// with a route response.
    async fn message(&self, event: &Event) -> Result<Value, InvocationError> {
        let text = match event.text() {
            Some(text) => text,
            None => {
                // Binary that is not UTF-8: the server closes with 1003; here the sender is
                // told its body was not taken (no store read: nothing runs).
                let frame = crate::messages::frames::bad_request_body(
                    &event.request_context.connection_id,
                    &ids::event(),
                    None,
                );
                return Ok(response(StatusCode::OK, Some(frame)));
            }
        };
        let mut cx = self.context(event, EventType::Message).await?;
        let arrived = cx.request_time_epoch;
        let reply = handle(&self.shared, &self.channel, &mut cx, text, arrived).await;
        self.keep_session(&cx).await?;
        Ok(response(StatusCode::OK, reply))
    }

    /// `$disconnect`: the handler with the close's code and reason, then the connection leaves
    /// the store (and its groups).
    async fn disconnect(&self, event: &Event) -> Result<Value, InvocationError> {
        let mut cx = self.context(event, EventType::Disconnect).await?;
        cx.route_key = "$disconnect";
        let context = &event.request_context;
        let close = Close {
            code: context.disconnect_status_code.unwrap_or(1005),
            reason: context.disconnect_reason.clone().unwrap_or_default(),
            by_server: None,
        };
        if let Err(panic) = self.channel.dispatch.disconnect(&cx, &close).await {
            tracing::error!(%panic, "$disconnect panicked");
        }
        if let Some(store) = &self.store {
            store.remove(&cx.connection_id).await?;
        }
        Ok(response(StatusCode::OK, None))
    }
}

/// A proxy response.
fn response(status: StatusCode, body: Option<String>) -> Value {
    let mut response = json!({ "statusCode": status.as_u16() });
    if let Some(body) = body {
        response["body"] = Value::String(body);
    }
    response
}

/// An authorizer's answer: `effect` on `execute-api:Invoke` for the event's `methodArn`, the
/// principal in the context.
fn policy(subject: &str, effect: &str, event: &Event, principal: Option<&Principal>) -> Value {
    let mut answer = json!({
        "principalId": subject,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{
                "Action": "execute-api:Invoke",
                "Effect": effect,
                "Resource": event.method_arn.as_deref().unwrap_or("*"),
            }],
        },
    });
    if let Some(principal) = principal
        && let Ok(text) = serde_json::to_string(principal)
    {
        answer["context"] = json!({ PRINCIPAL: text });
    }
    answer
}

/// The fields of API Gateway's WebSocket events (and a `REQUEST` authorizer's) this module reads.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Event {
    /// `REQUEST` for an authorizer's event.
    #[serde(rename = "type")]
    kind: Option<String>,
    method_arn: Option<String>,
    request_context: RequestContext,
    headers: Option<HashMap<String, String>>,
    query_string_parameters: Option<HashMap<String, String>>,
    multi_value_query_string_parameters: Option<HashMap<String, Vec<String>>>,
    body: Option<String>,
    #[serde(default)]
    is_base64_encoded: bool,
}

impl Event {
    /// The message's text; `None` for binary that is not UTF-8.
    fn text(&self) -> Option<Utf8Bytes> {
        let body = self.body.as_deref().unwrap_or_default();
        if !self.is_base64_encoded {
            return Some(Utf8Bytes::from(body));
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(body)
            .ok()?;
        String::from_utf8(bytes).ok().map(Utf8Bytes::from)
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RequestContext {
    event_type: Option<String>,
    connection_id: String,
    domain_name: Option<String>,
    stage: Option<String>,
    api_id: Option<String>,
    connected_at: Option<u64>,
    request_time_epoch: Option<u64>,
    identity: Option<EventIdentity>,
    authorizer: Option<serde_json::Map<String, Value>>,
    disconnect_status_code: Option<u16>,
    disconnect_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EventIdentity {
    source_ip: Option<String>,
    user_agent: Option<String>,
}

impl RequestContext {
    fn identity(&self) -> Identity {
        let identity = self.identity.as_ref();
        Identity {
            source_ip: identity
                .and_then(|i| i.source_ip.as_deref()?.parse().ok())
                .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
            user_agent: identity.and_then(|i| i.user_agent.clone()),
        }
    }

    /// The principal the authorizer put in its context.
    fn principal(&self) -> Option<Principal> {
        let text = self.authorizer.as_ref()?.get(PRINCIPAL)?.as_str()?;
        serde_json::from_str(text)
            .inspect_err(|error| tracing::warn!(%error, "the authorizer's principal is not one"))
            .ok()
    }
}

/// The registry behind API Gateway: no connection is this process's; sends, `get` and
/// `disconnect` go to the management API, the rest to the store.
struct ApiGateway {
    environment: Environment,
    /// Made on the first event, from its API and stage.
    management: OnceLock<aws_sdk_apigatewaymanagement::Client>,
    store: OnceLock<Arc<dyn ConnectionStore>>,
}

fn engine(error: impl std::error::Error + Send + Sync + 'static) -> SendError {
    SendError::Backend(BackendError::Engine(EngineError::Client(Arc::new(error))))
}

fn store_error(error: StoreError) -> SendError {
    match error {
        StoreError::Gone => SendError::Gone,
        other => engine(other),
    }
}

/// Whether a management API error is API Gateway's `GoneException` (410).
fn is_gone<E, R>(error: &aws_sdk_apigatewaymanagement::error::SdkError<E, R>) -> bool
where
    E: aws_sdk_apigatewaymanagement::error::ProvideErrorMetadata,
{
    error
        .as_service_error()
        .is_some_and(|e| e.code() == Some("GoneException"))
}

impl ApiGateway {
    /// The management API of the event's API and stage, made once.
    fn reach(&self, context: &RequestContext) {
        if self.management.get().is_none() {
            let api_id = context.api_id.as_deref().unwrap_or("local");
            let stage = context.stage.as_deref().unwrap_or("$default");
            let _ = self
                .management
                .set(self.environment.management(api_id, stage));
        }
    }

    fn management(&self) -> Result<&aws_sdk_apigatewaymanagement::Client, SendError> {
        self.management
            .get()
            .ok_or(SendError::Backend(BackendError::NotConnected))
    }

    fn store(&self) -> Result<&dyn ConnectionStore, SendError> {
        self.store
            .get()
            .map(|s| &**s)
            .ok_or(SendError::Backend(BackendError::NoStore))
    }

    async fn post(&self, id: &ConnectionId, data: Vec<u8>) -> Result<(), SendError> {
        let posted = self
            .management()?
            .post_to_connection()
            .connection_id(id.as_str())
            .data(aws_sdk_apigatewaymanagement::primitives::Blob::new(data))
            .send()
            .await;
        match posted {
            Ok(_) => Ok(()),
            Err(error) if is_gone(&error) => Err(SendError::Gone),
            Err(error) => Err(engine(error)),
        }
    }
}

fn millis(time: Option<&aws_sdk_apigatewaymanagement::primitives::DateTime>) -> u64 {
    time.and_then(|t| u64::try_from(t.to_millis().ok()?).ok())
        .unwrap_or_default()
}

impl Remote for ApiGateway {
    fn node(&self) -> &str {
        ""
    }

    fn is_local(&self, _: &ConnectionId) -> bool {
        false
    }

    fn send(&self, id: &ConnectionId, frame: Outbound) -> BoxFuture<'_, Result<(), SendError>> {
        let id = id.clone();
        Box::pin(async move {
            let data = match frame {
                Outbound::Text(text) => text.as_bytes().to_vec(),
                Outbound::Binary(data) => data.to_vec(),
            };
            self.post(&id, data).await
        })
    }

    fn get(&self, id: &ConnectionId) -> BoxFuture<'_, Result<ConnectionInfo, SendError>> {
        let id = id.clone();
        Box::pin(async move {
            let got = self
                .management()?
                .get_connection()
                .connection_id(id.as_str())
                .send()
                .await;
            let output = match got {
                Ok(output) => output,
                Err(error) if is_gone(&error) => return Err(SendError::Gone),
                Err(error) => return Err(engine(error)),
            };
            let identity = output.identity();
            let principal = match self.store() {
                Ok(store) => store
                    .get(&id)
                    .await
                    .map_err(store_error)?
                    .and_then(|r| r.principal),
                Err(_) => None,
            };
            Ok(ConnectionInfo {
                connected_at: millis(output.connected_at()),
                last_active_at: millis(output.last_active_at()),
                identity: Identity {
                    source_ip: identity
                        .and_then(|i| i.source_ip()?.parse().ok())
                        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
                    user_agent: identity.and_then(|i| i.user_agent().map(str::to_owned)),
                },
                principal,
            })
        })
    }

    fn disconnect(&self, id: &ConnectionId) -> BoxFuture<'_, Result<(), SendError>> {
        let id = id.clone();
        Box::pin(async move {
            let deleted = self
                .management()?
                .delete_connection()
                .connection_id(id.as_str())
                .send()
                .await;
            match deleted {
                Ok(_) => Ok(()),
                Err(error) if is_gone(&error) => Err(SendError::Gone),
                Err(error) => Err(engine(error)),
            }
        })
    }

    fn join(&self, id: &ConnectionId, group: &str) -> BoxFuture<'_, Result<(), SendError>> {
        let (id, group) = (id.clone(), group.to_owned());
        Box::pin(async move { self.store()?.join(&id, &group).await.map_err(store_error) })
    }

    fn leave(&self, id: &ConnectionId, group: &str) -> BoxFuture<'_, Result<(), SendError>> {
        let (id, group) = (id.clone(), group.to_owned());
        Box::pin(async move { self.store()?.leave(&id, &group).await.map_err(store_error) })
    }

    /// Posts to each connection of the audience, [`BROADCAST_CONCURRENCY`] at a time; a
    /// connection API Gateway answers `GoneException` for leaves the store (its `$disconnect`
    /// was missed).
    fn broadcast(
        &self,
        audience: Audience<'_>,
        text: Utf8Bytes,
    ) -> BoxFuture<'_, Result<usize, SendError>> {
        // Owned, for the future.
        let (group, except) = match audience {
            Audience::All => (None, None),
            Audience::AllExcept(except) => (None, Some(except.clone())),
            Audience::Group(group) => (Some(group.to_owned()), None),
        };
        Box::pin(async move {
            let store = self.store()?;
            let ids = match &group {
                Some(group) => store.members(group).await,
                None => store.ids().await,
            }
            .map_err(store_error)?;
            let posts = ids
                .into_iter()
                .filter(|id| Some(id) != except.as_ref())
                .map(|id| {
                    let data = text.as_bytes().to_vec();
                    async move {
                        match self.post(&id, data).await {
                            Ok(()) => Ok(true),
                            Err(SendError::Gone) => {
                                store.remove(&id).await.map_err(store_error)?;
                                Ok(false)
                            }
                            Err(error) => Err(error),
                        }
                    }
                });
            let outcomes: Vec<Result<bool, SendError>> = futures_util::stream::iter(posts)
                .buffer_unordered(BROADCAST_CONCURRENCY)
                .collect()
                .await;
            let mut delivered = 0;
            for outcome in outcomes {
                if outcome? {
                    delivered += 1;
                }
            }
            Ok(delivered)
        })
    }

    fn members(&self, group: &str) -> BoxFuture<'_, Result<Vec<ConnectionId>, SendError>> {
        let group = group.to_owned();
        Box::pin(async move { self.store()?.members(&group).await.map_err(store_error) })
    }

    fn count(&self) -> BoxFuture<'_, Result<usize, SendError>> {
        Box::pin(async move { Ok(self.store()?.ids().await.map_err(store_error)?.len()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::security::{Credential, Location, Scheme, Security, Verify};
    use crate::dispatch::handler::{Handler, HandlerError, Reply};
    use crate::messages::routes::AnyMessage;
    use crate::server::router::{ChannelOptions, Router};

    /// Echoes what it is sent, with the session's count of messages so far.
    struct Echo;

    impl Handler<AnyMessage> for Echo {
        async fn message(&self, cx: &Context, message: AnyMessage) -> Result<Reply, HandlerError> {
            let seen: u64 = cx.session()?.unwrap_or_default();
            cx.set_session(&(seen + 1))?;
            Ok(Reply::text(format!("{seen}:{}", message.0.text)))
        }
    }

    struct Sesame;

    impl Verify for Sesame {
        type Error = &'static str;

        async fn verify(&self, credential: &Credential) -> Result<Principal, &'static str> {
            match credential {
                Credential::Bearer(token) if token == "open-sesame" => {
                    Ok(Principal::new("ali").with_scopes(["doors:open"]))
                }
                _ => Err("not the word"),
            }
        }
    }

    fn environment() -> Environment {
        Environment::new("eu-west-1".into(), "AKID".into(), "secret".into(), None)
    }

    fn function(secured: bool) -> Function {
        let options = ChannelOptions {
            security: secured.then(|| Security::all_of([Scheme::new("bearer", Location::Bearer)])),
            ..ChannelOptions::default()
        };
        let mut router = Router::new().channel_with::<AnyMessage, _>("/", Echo, options);
        if secured {
            router = router.verify("bearer", Sesame);
        }
        Function::with(router.build().unwrap(), None, environment()).unwrap()
    }

    fn event(event_type: &str, extra: Value) -> Value {
        let mut event = json!({
            "requestContext": {
                "eventType": event_type,
                "connectionId": "abc=",
                "routeKey": "$default",
                "apiId": "api1",
                "stage": "prod",
                "domainName": "api1.execute-api.eu-west-1.amazonaws.com",
                "connectedAt": 1_700_000_000_000_u64,
                "identity": {"sourceIp": "192.0.2.7", "userAgent": "test"},
            },
        });
        if let (Some(event), Some(extra)) = (event.as_object_mut(), extra.as_object()) {
            event.extend(extra.clone());
        }
        event
    }

    fn authorizer_event(headers: Value) -> Value {
        let mut event = event("CONNECT", json!({"headers": headers}));
        event["type"] = json!("REQUEST");
        event["methodArn"] = json!("arn:aws:execute-api:eu-west-1:123:api1/prod/$connect");
        event
    }

    #[tokio::test]
    async fn the_authorizer_answers_an_iam_policy_with_the_principal_or_unauthorized() {
        let function = function(true);
        let allowed = function
            .call(authorizer_event(
                json!({"Authorization": "Bearer open-sesame"}),
            ))
            .await
            .unwrap();
        assert_eq!(allowed["principalId"], "ali");
        let statement = &allowed["policyDocument"]["Statement"][0];
        assert_eq!(statement["Effect"], "Allow");
        assert_eq!(
            statement["Resource"],
            "arn:aws:execute-api:eu-west-1:123:api1/prod/$connect"
        );
        let principal: Principal =
            serde_json::from_str(allowed["context"]["principal"].as_str().unwrap()).unwrap();
        assert_eq!(principal.subject, "ali");
        assert!(principal.scopes.contains("doors:open"));

        // A wrong word, and no credentials: `Unauthorized`, API Gateway's 401.
        for headers in [json!({"Authorization": "Bearer close-sesame"}), json!({})] {
            let refused = function.call(authorizer_event(headers)).await;
            assert!(
                matches!(refused, Err(InvocationError::Unauthorized)),
                "{refused:?}"
            );
        }
        let diagnostic = lambda_runtime::Diagnostic::from(InvocationError::Unauthorized);
        assert_eq!(diagnostic.error_message, "Unauthorized");
    }

    #[tokio::test]
    async fn connect_without_the_authorizers_principal_is_refused_on_a_secured_channel() {
        let refused = function(true)
            .call(event("CONNECT", json!({})))
            .await
            .unwrap();
        assert_eq!(refused["statusCode"], 401);
        // With the principal the authorizer put in its context, it is accepted.
        let principal = serde_json::to_string(&Principal::new("ali")).unwrap();
        let mut admitted = event("CONNECT", json!({}));
        admitted["requestContext"]["authorizer"] =
            json!({"principalId": "ali", "principal": principal});
        let accepted = function(true).call(admitted).await.unwrap();
        assert_eq!(accepted["statusCode"], 200);
        // Without security, anyone.
        let open = function(false)
            .call(event("CONNECT", json!({})))
            .await
            .unwrap();
        assert_eq!(open["statusCode"], 200);
    }

    #[tokio::test]
    async fn a_message_is_answered_in_the_body_and_its_session_needs_a_store() {
        let function = function(false);
        let answer = function
            .call(event("MESSAGE", json!({"body": "{\"hi\":1}"})))
            .await
            .unwrap();
        // Without a store the session starts empty every time (and a warning says so).
        assert_eq!(answer, json!({"statusCode": 200, "body": "0:{\"hi\":1}"}));
        let binary = base64::engine::general_purpose::STANDARD.encode([0xff, 0xfe]);
        let refused = function
            .call(event(
                "MESSAGE",
                json!({"body": binary, "isBase64Encoded": true}),
            ))
            .await
            .unwrap();
        let frame: Value = serde_json::from_str(refused["body"].as_str().unwrap()).unwrap();
        assert_eq!(frame["message"], "Bad request body");
        assert_eq!(frame["connectionId"], "abc=");
        // Groups have nowhere to be kept: a typed error, not a silent success.
        let joined = function
            .shared
            .connections
            .join(&ConnectionId::from("abc="), "g")
            .await;
        assert!(
            matches!(joined, Err(SendError::Backend(BackendError::NoStore))),
            "{joined:?}"
        );
    }

    #[tokio::test]
    async fn what_is_not_an_event_is_an_error_and_a_function_needs_its_channel() {
        let failed = function(false).call(json!({"hello": "world"})).await;
        assert!(
            matches!(failed, Err(InvocationError::Event(_))),
            "{failed:?}"
        );
        let two = Router::new()
            .channel::<AnyMessage, _>("/a", Echo)
            .channel::<AnyMessage, _>("/b", Echo);
        let which = Function::with(two.build().unwrap(), None, environment());
        assert!(
            matches!(&which, Err(SetupError::WhichChannel { available, .. }) if available.len() == 2),
            "{which:?}"
        );
        let two = Router::new()
            .channel::<AnyMessage, _>("/a", Echo)
            .channel::<AnyMessage, _>("/b", Echo);
        assert!(Function::with(two.build().unwrap(), Some("/b".into()), environment()).is_ok());
    }
}
