//! Routes served by Lambda-style functions: each called with the JSON event API Gateway would
//! send it, its response read as API Gateway reads a proxy response (the public face, with the
//! guide, is `crate::lambda`).

use std::collections::HashMap;
use std::fmt::Display;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use axum::http::StatusCode;
use base64::Engine as _;
use futures_util::future::BoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use crate::apigw::LOCAL_ACCOUNT;
use crate::dispatch::handler::{
    Accept, Close, ConnectRequest, Context, EventType, Handler, HandlerError, Reject, Reply,
};
use crate::messages::routes::AnyMessage;
use crate::messages::selection::{Selection, SelectionError};
use crate::registry::connections::Identity;
use crate::registry::ids;

/// A channel served by Lambda-style functions, one per route key. Mount it like any handler:
/// `Router::new().channel("/", lambda)`. Clones share the functions (a channel on two paths).
#[derive(Clone)]
pub struct Lambda {
    /// `AWS_IAM` on `$connect`: who may sign handshakes.
    #[cfg(feature = "sigv4")]
    iam: Option<crate::access::sigv4::SigV4>,
    authorizer: Option<Authorizer>,
    connect: Option<Arc<dyn Invoke>>,
    disconnect: Option<Arc<dyn Invoke>>,
    routes: HashMap<String, (Arc<dyn Invoke>, bool)>,
    selection: Selection,
    api_id: String,
    region: String,
}

impl std::fmt::Debug for Lambda {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lambda")
            .field("routes", &self.routes.keys().collect::<Vec<_>>())
            .field("selection", &self.selection.as_str())
            .finish_non_exhaustive()
    }
}

impl Default for Lambda {
    fn default() -> Lambda {
        Lambda::new()
    }
}

impl Lambda {
    /// No function yet, routes selected by `$request.body.action`, the API id `local`, the
    /// region `us-east-1`.
    pub fn new() -> Lambda {
        Lambda {
            #[cfg(feature = "sigv4")]
            iam: None,
            authorizer: None,
            connect: None,
            disconnect: None,
            routes: HashMap::new(),
            selection: Selection::parse("$request.body.action")
                .unwrap_or_else(|_| unreachable!("the default expression parses")),
            api_id: "local".into(),
            region: "us-east-1".into(),
        }
    }

    /// The route selection expression, as API Gateway's `RouteSelectionExpression`.
    ///
    /// # Errors
    /// An expression of another grammar.
    pub fn selection(mut self, expression: &str) -> Result<Lambda, SelectionError> {
        self.selection = Selection::parse(expression)?;
        Ok(self)
    }

    /// The `apiId` of every event's request context.
    pub fn api_id(mut self, api_id: impl Into<String>) -> Lambda {
        self.api_id = api_id.into();
        self
    }

    /// `AWS_IAM` on `$connect` (feature `sigv4`): a handshake must be signed with SigV4 by one
    /// of `sigv4`'s keys, presigned in its URL (what browsers can send) or in its
    /// `Authorization` header, else it is refused with 403 as on API Gateway. The key is every
    /// later event's `requestContext.identity.accessKey` (with `caller`, `user`, `userArn`).
    #[cfg(feature = "sigv4")]
    pub fn iam(mut self, sigv4: crate::access::sigv4::SigV4) -> Lambda {
        self.iam = Some(sigv4);
        self
    }

    /// A `REQUEST` authorizer on `$connect`: `function` is asked first, with the handshake's
    /// identity sources (each one must be present, else 401), and answers an IAM policy.
    pub fn authorizer<F, E, R, Er>(
        mut self,
        identity_sources: impl IntoIterator<Item = IdentitySource>,
        function: F,
    ) -> Lambda
    where
        F: AsyncFn<E, R, Er>,
        E: DeserializeOwned + Send + 'static,
        R: Serialize + Send + 'static,
        Er: Display + Send + 'static,
    {
        self.authorizer = Some(Authorizer {
            identity_sources: identity_sources.into_iter().collect(),
            function: Arc::new(Typed::new(function)),
        });
        self
    }

    /// The region of the ARNs events carry (an authorizer's `methodArn`); `us-east-1` by default.
    pub fn region(mut self, region: impl Into<String>) -> Lambda {
        self.region = region.into();
        self
    }

    /// The `$connect` function: a 2xx `statusCode` accepts, anything else refuses with it.
    pub fn connect<F, E, R, Er>(mut self, function: F) -> Lambda
    where
        F: AsyncFn<E, R, Er>,
        E: DeserializeOwned + Send + 'static,
        R: Serialize + Send + 'static,
        Er: Display + Send + 'static,
    {
        self.connect = Some(Arc::new(Typed::new(function)));
        self
    }

    /// The `$disconnect` function (its response is not read).
    pub fn disconnect<F, E, R, Er>(mut self, function: F) -> Lambda
    where
        F: AsyncFn<E, R, Er>,
        E: DeserializeOwned + Send + 'static,
        R: Serialize + Send + 'static,
        Er: Display + Send + 'static,
    {
        self.disconnect = Some(Arc::new(Typed::new(function)));
        self
    }

    /// The function of a route (`$default` included); what it answers is not sent to the client.
    pub fn route<F, E, R, Er>(mut self, key: impl Into<String>, function: F) -> Lambda
    where
        F: AsyncFn<E, R, Er>,
        E: DeserializeOwned + Send + 'static,
        R: Serialize + Send + 'static,
        Er: Display + Send + 'static,
    {
        self.routes
            .insert(key.into(), (Arc::new(Typed::new(function)), false));
        self
    }

    /// The function of a two-way route: its response's body is sent back to the client (API
    /// Gateway's route response).
    pub fn two_way_route<F, E, R, Er>(mut self, key: impl Into<String>, function: F) -> Lambda
    where
        F: AsyncFn<E, R, Er>,
        E: DeserializeOwned + Send + 'static,
        R: Serialize + Send + 'static,
        Er: Display + Send + 'static,
    {
        self.routes
            .insert(key.into(), (Arc::new(Typed::new(function)), true));
        self
    }

    /// The request context API Gateway gives every event, with what the connection was
    /// admitted with: the authorizer's say, the IAM caller.
    fn request_context(&self, event: &Event<'_>, admitted: Option<&Admitted>) -> Value {
        let mut context = self.plain_request_context(event);
        let Some(admitted) = admitted else {
            return context;
        };
        if let Some(authorizer) = &admitted.authorizer {
            context["authorizer"] = Value::Object(authorizer.clone());
        }
        if let Some(key) = &admitted.access_key {
            let identity = &mut context["identity"];
            identity["accessKey"] = json!(key);
            identity["accountId"] = json!(LOCAL_ACCOUNT);
            identity["caller"] = json!(key);
            identity["user"] = json!(key);
            identity["userArn"] = json!(format!("arn:aws:iam::{LOCAL_ACCOUNT}:user/{key}"));
        }
        context
    }

    /// The request context of an event, without an authorizer's say.
    fn plain_request_context(&self, event: &Event<'_>) -> Value {
        let now = ids::now_ms();
        let identity = event.identity;
        let mut identity_json = json!({ "sourceIp": identity.source_ip.to_string() });
        if let Some(user_agent) = &identity.user_agent {
            identity_json["userAgent"] = json!(user_agent);
        }
        json!({
            "routeKey": event.route_key,
            "eventType": event.event_type,
            "extendedRequestId": event.request_id,
            "requestTime": request_time(now),
            "messageDirection": "IN",
            "stage": event.stage,
            "connectedAt": event.connected_at,
            "requestTimeEpoch": now,
            "identity": identity_json,
            "requestId": event.request_id,
            "domainName": event.domain_name,
            "connectionId": event.connection_id,
            "apiId": self.api_id,
        })
    }
}

/// What an event's request context is made of: the route it went to, and the connection's facts.
struct Event<'a> {
    route_key: &'a str,
    event_type: EventType,
    request_id: &'a str,
    connection_id: &'a str,
    connected_at: u64,
    stage: &'a str,
    domain_name: &'a str,
    identity: &'a Identity,
}

impl<'a> Event<'a> {
    /// A message or `$disconnect` on route `route_key`.
    fn of(cx: &'a Context, route_key: &'a str) -> Event<'a> {
        Event {
            route_key,
            event_type: cx.event_type,
            request_id: cx.request_id.as_str(),
            connection_id: cx.connection_id.as_str(),
            connected_at: cx.connected_at,
            stage: &cx.stage,
            domain_name: &cx.domain_name,
            identity: &cx.identity,
        }
    }

    /// `$connect`.
    fn connect(request: &'a ConnectRequest) -> Event<'a> {
        Event {
            route_key: "$connect",
            event_type: EventType::Connect,
            request_id: request.request_id.as_str(),
            connection_id: request.connection_id.as_str(),
            connected_at: request.connected_at,
            stage: &request.stage,
            domain_name: &request.domain_name,
            identity: &request.identity,
        }
    }
}

/// `05/Dec/2026:16:49:48 +0000`, API Gateway's `requestTime`.
fn request_time(ms: u64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms);
    // `2026-12-05T16:49:48Z`, rearranged.
    let rfc3339 = humantime::format_rfc3339_seconds(time).to_string();
    let month = rfc3339[5..7].parse::<usize>().unwrap_or(1);
    format!(
        "{}/{}/{}:{} +0000",
        &rfc3339[8..10],
        MONTHS[(month.clamp(1, 12)) - 1],
        &rfc3339[0..4],
        &rfc3339[11..19]
    )
}

/// Name/value pairs (a handshake's headers or query) as API Gateway puts them in a `$connect`
/// event: one map with each name's last value, and one with all its values, in order.
fn single_and_multi(pairs: impl Iterator<Item = (String, String)>) -> (Value, Value) {
    let mut single = Map::new();
    let mut multi: Map<String, Value> = Map::new();
    for (name, value) in pairs {
        if let Value::Array(values) = multi.entry(name.clone()).or_insert_with(|| json!([])) {
            values.push(json!(value));
        }
        single.insert(name, json!(value));
    }
    (Value::Object(single), Value::Object(multi))
}

/// A `$connect` or authorizer event's handshake part: its headers and query, single- and
/// multi-valued.
fn handshake_event(request: &ConnectRequest) -> Map<String, Value> {
    let mut event = Map::new();
    let headers = request.headers.iter().map(|(name, value)| {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        (name.as_str().to_owned(), value)
    });
    let (headers, multi_value_headers) = single_and_multi(headers);
    event.insert("headers".into(), headers);
    event.insert("multiValueHeaders".into(), multi_value_headers);
    if !request.query.is_empty() {
        let (query, multi_value_query) = single_and_multi(request.query.iter().cloned());
        event.insert("queryStringParameters".into(), query);
        event.insert("multiValueQueryStringParameters".into(), multi_value_query);
    }
    event
}

/// Where a `REQUEST` authorizer's identity comes from (API Gateway's `IdentitySource`): a
/// handshake header or query parameter that must be present.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentitySource {
    /// `route.request.header.NAME` (matched case-insensitively, as HTTP header names are).
    Header(String),
    /// `route.request.querystring.NAME`.
    Query(String),
}

/// An identity source API Gateway would not take.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not an identity source: expected `route.request.header.NAME` or `route.request.querystring.NAME`"
)]
pub struct IdentitySourceError(String);

impl std::str::FromStr for IdentitySource {
    type Err = IdentitySourceError;

    /// `route.request.header.Auth` or `route.request.querystring.token`.
    fn from_str(text: &str) -> Result<IdentitySource, IdentitySourceError> {
        let named = |prefix: &str| {
            text.strip_prefix(prefix)
                .filter(|name| !name.is_empty())
                .map(str::to_owned)
        };
        if let Some(name) = named("route.request.header.") {
            Ok(IdentitySource::Header(name))
        } else if let Some(name) = named("route.request.querystring.") {
            Ok(IdentitySource::Query(name))
        } else {
            Err(IdentitySourceError(text.to_owned()))
        }
    }
}

impl IdentitySource {
    fn present_in(&self, request: &ConnectRequest) -> bool {
        match self {
            IdentitySource::Header(name) => request
                .headers
                .get(name.as_str())
                .is_some_and(|value| !value.is_empty()),
            IdentitySource::Query(name) => request
                .query
                .iter()
                .any(|(key, value)| key == name && !value.is_empty()),
        }
    }
}

/// A `REQUEST` authorizer: its identity sources and its function.
#[derive(Clone)]
struct Authorizer {
    identity_sources: Vec<IdentitySource>,
    function: Arc<dyn Invoke>,
}

/// What a connection was admitted with, in every later event's request context: what an
/// authorizer allowed it with (`principalId` and its `context`'s entries, the
/// `requestContext.authorizer`), and the access key that signed its handshake (`AWS_IAM`,
/// `requestContext.identity`).
#[derive(Debug, Clone, Default)]
struct Admitted {
    authorizer: Option<Map<String, Value>>,
    access_key: Option<String>,
}

impl Lambda {
    /// Runs the authorizer on a handshake: what it allowed, or API Gateway's refusal.
    async fn authorize(
        &self,
        authorizer: &Authorizer,
        request: &ConnectRequest,
    ) -> Result<Map<String, Value>, Reject> {
        if !authorizer
            .identity_sources
            .iter()
            .all(|source| source.present_in(request))
        {
            return Err(Reject::unauthorized());
        }
        let method_arn = format!(
            "arn:aws:execute-api:{}:{LOCAL_ACCOUNT}:{}/{}/$connect",
            self.region, self.api_id, request.stage
        );
        let mut event = handshake_event(request);
        event.insert("type".into(), json!("REQUEST"));
        event.insert("methodArn".into(), json!(method_arn));
        event.insert("stageVariables".into(), json!({}));
        event.insert(
            "requestContext".into(),
            self.plain_request_context(&Event::connect(request)),
        );
        let answer = match authorizer.function.call(Value::Object(event)).await {
            Ok(answer) => answer,
            Err(error) if error.is_unauthorized() => {
                return Err(Reject::unauthorized());
            }
            Err(error) => {
                tracing::error!(%error, connection_id = %request.connection_id, "the authorizer failed");
                return Err(Reject::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Internal server error",
                ));
            }
        };
        if !policy_allows(&answer["policyDocument"], &method_arn) {
            return Err(Reject::forbidden());
        }
        let mut authorized = Map::new();
        if let Some(Value::Object(context)) = answer.get("context") {
            authorized.extend(context.clone());
        }
        if let Some(principal) = answer.get("principalId") {
            authorized.insert("principalId".into(), principal.clone());
        }
        Ok(authorized)
    }
}

/// Whether an IAM policy allows `execute-api:Invoke` on `arn`: some statement allows it and none
/// denies it (statements, actions and resources each one or a list; `*` and `?` as IAM matches).
fn policy_allows(policy: &Value, arn: &str) -> bool {
    fn list(value: &Value) -> Vec<&Value> {
        match value {
            Value::Array(items) => items.iter().collect(),
            Value::Null => Vec::new(),
            one => vec![one],
        }
    }
    let matches = |statement: &Value| {
        let action = list(&statement["Action"]).into_iter().any(|action| {
            action
                .as_str()
                .is_some_and(|a| wildcard_matches(&a.to_ascii_lowercase(), "execute-api:invoke"))
        });
        let resource = list(&statement["Resource"])
            .into_iter()
            .any(|resource| resource.as_str().is_some_and(|r| wildcard_matches(r, arn)));
        action && resource
    };
    let statements = list(&policy["Statement"]);
    let effect = |effect: &str| {
        statements
            .iter()
            .filter(|s| s["Effect"].as_str() == Some(effect))
            .any(|s| matches(s))
    };
    effect("Allow") && !effect("Deny")
}

/// IAM's wildcards: `*` any run of characters, `?` any one.
fn wildcard_matches(pattern: &str, text: &str) -> bool {
    let (pattern, text): (Vec<char>, Vec<char>) =
        (pattern.chars().collect(), text.chars().collect());
    // The classic two-pointer match with backtracking to the last `*`: linear in practice,
    // O(pattern × text) at worst, no recursion.
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == '?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((star_p, star_t)) => {
                    p = star_p + 1;
                    t = star_t + 1;
                    star = Some((star_p, star_t + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// A proxy response as API Gateway reads it.
struct Response {
    status: u16,
    body: Option<String>,
}

impl Response {
    fn read(value: &Value) -> Response {
        let status = value
            .get("statusCode")
            .and_then(Value::as_u64)
            .and_then(|s| u16::try_from(s).ok())
            .unwrap_or(200);
        let base64 = value
            .get("isBase64Encoded")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let body = value.get("body").and_then(Value::as_str).map(|body| {
            if base64 {
                base64::engine::general_purpose::STANDARD
                    .decode(body)
                    .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
                    .unwrap_or_else(|_| body.to_owned())
            } else {
                body.to_owned()
            }
        });
        Response { status, body }
    }
}

impl Handler<AnyMessage> for Lambda {
    async fn connect(&self, request: &ConnectRequest) -> Result<Accept, Reject> {
        let mut admitted = Admitted::default();
        #[cfg(feature = "sigv4")]
        if let Some(sigv4) = &self.iam {
            let now = std::time::SystemTime::now();
            match sigv4.verify_handshake(&request.path, &request.query, &request.headers, now) {
                Ok(key) => admitted.access_key = Some(key),
                Err(refusal) => {
                    tracing::info!(kind = refusal.kind, message = %refusal.message, connection_id = %request.connection_id, "AWS_IAM refused the handshake");
                    return Err(Reject::forbidden());
                }
            }
        }
        if let Some(authorizer) = &self.authorizer {
            admitted.authorizer = Some(self.authorize(authorizer, request).await?);
        }
        let admitted =
            (admitted.authorizer.is_some() || admitted.access_key.is_some()).then_some(admitted);
        let accept = |admitted: Option<Admitted>| match admitted {
            Some(admitted) => Accept::new().attach(admitted),
            None => Accept::new(),
        };
        let Some(function) = &self.connect else {
            return Ok(accept(admitted));
        };
        let mut event = handshake_event(request);
        let context = self.request_context(&Event::connect(request), admitted.as_ref());
        event.insert("requestContext".into(), context);
        event.insert("isBase64Encoded".into(), json!(false));
        match function.call(Value::Object(event)).await {
            Ok(value) => {
                let response = Response::read(&value);
                if (200..300).contains(&response.status) {
                    Ok(accept(admitted))
                } else {
                    let status = StatusCode::from_u16(response.status)
                        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                    Err(Reject::new(status, response.body.unwrap_or_default()))
                }
            }
            Err(error) => {
                tracing::error!(%error, connection_id = %request.connection_id, "the $connect function failed");
                Err(Reject::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Internal server error",
                ))
            }
        }
    }

    async fn message(&self, cx: &Context, message: AnyMessage) -> Result<Reply, HandlerError> {
        let AnyMessage(raw) = message;
        let key = raw
            .json
            .as_ref()
            .map(|json| self.selection.evaluate(json))
            .unwrap_or_default();
        let (route_key, (function, two_way)) = match self.routes.get_key_value(&key) {
            Some((key, route)) if !key.starts_with('$') => (key.as_str(), route),
            _ => match self.routes.get_key_value("$default") {
                Some((key, route)) => (key.as_str(), route),
                None => return Ok(Reply::forbidden(cx)),
            },
        };
        let mut context = self.request_context(&Event::of(cx, route_key), cx.attached());
        context["messageId"] = json!(cx.message_id);
        let event = json!({
            "requestContext": context,
            "body": raw.text,
            "isBase64Encoded": false,
        });
        let value = function.call(event).await.map_err(HandlerError::new)?;
        let response = Response::read(&value);
        Ok(match response.body {
            Some(body) if *two_way => Reply::Text(body),
            _ => Reply::None,
        })
    }

    async fn disconnect(&self, cx: &Context, close: &Close) {
        let Some(function) = &self.disconnect else {
            return;
        };
        let mut context = self.request_context(&Event::of(cx, "$disconnect"), cx.attached());
        context["disconnectStatusCode"] = json!(close.code);
        context["disconnectReason"] = json!(close.reason);
        let event = json!({ "requestContext": context, "isBase64Encoded": false });
        if let Err(error) = function.call(event).await {
            tracing::error!(%error, connection_id = %cx.connection_id, "the $disconnect function failed");
        }
    }
}

/// An async function from an event type to a response type, as Lambda handlers are written:
/// `async fn handler(event: E) -> Result<R, Error>`, or a closure returning such a future.
pub trait AsyncFn<E, R, Er>: Send + Sync + 'static {
    /// The future it returns.
    type Future: Future<Output = Result<R, Er>> + Send;
    /// Calls it.
    fn call(&self, event: E) -> Self::Future;
}

impl<F, Fut, E, R, Er> AsyncFn<E, R, Er> for F
where
    F: Fn(E) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<R, Er>> + Send,
{
    type Future = Fut;

    fn call(&self, event: E) -> Fut {
        self(event)
    }
}

/// A function behind JSON: the event in, the response out.
trait Invoke: Send + Sync {
    fn call(&self, event: Value) -> BoxFuture<'_, Result<Value, CallError>>;
}

/// Why a function behind JSON gave no response.
#[derive(Debug, thiserror::Error)]
enum CallError {
    /// The event does not deserialize into the function's event type.
    #[error("the event does not fit the function's type: {0}")]
    Event(#[source] serde_json::Error),
    /// The function failed: `text` as its error displays, `message` its own message (Lambda's
    /// `errorMessage`, for a function in its runtime), which an authorizer's `Unauthorized` is.
    #[error("{text}")]
    Failed { text: String, message: String },
    /// The response does not serialize.
    #[error("the response is not JSON: {0}")]
    Response(#[source] serde_json::Error),
}

impl CallError {
    /// A function's error, with its own message where the function ran in its runtime.
    fn failed<Er: Display + 'static>(error: Er) -> CallError {
        let text = error.to_string();
        #[cfg(feature = "functions")]
        if let Some(crate::apigw::functions::FunctionError::Failed { message, .. }) =
            (&error as &dyn std::any::Any).downcast_ref()
        {
            return CallError::Failed {
                message: message.clone(),
                text,
            };
        }
        CallError::Failed {
            message: text.clone(),
            text,
        }
    }

    /// The function failed with the message `Unauthorized`: API Gateway's 401 for an authorizer.
    fn is_unauthorized(&self) -> bool {
        matches!(self, CallError::Failed { message, .. } if message == "Unauthorized")
    }
}

struct Typed<F, E, R, Er> {
    function: F,
    types: PhantomData<fn(E) -> (R, Er)>,
}

impl<F, E, R, Er> Typed<F, E, R, Er> {
    fn new(function: F) -> Self {
        Typed {
            function,
            types: PhantomData,
        }
    }
}

impl<F, E, R, Er> Invoke for Typed<F, E, R, Er>
where
    F: AsyncFn<E, R, Er>,
    E: DeserializeOwned + Send + 'static,
    R: Serialize + Send + 'static,
    Er: Display + Send + 'static,
{
    fn call(&self, event: Value) -> BoxFuture<'_, Result<Value, CallError>> {
        Box::pin(async move {
            let event: E = serde_json::from_value(event).map_err(CallError::Event)?;
            let response = self.function.call(event).await.map_err(CallError::failed)?;
            serde_json::to_value(response).map_err(CallError::Response)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_time_is_api_gateways_format() {
        assert_eq!(
            request_time(1_764_953_388_000),
            "05/Dec/2025:16:49:48 +0000"
        );
        assert_eq!(request_time(0), "01/Jan/1970:00:00:00 +0000");
    }

    #[test]
    fn unauthorized_is_the_functions_own_message() {
        assert!(CallError::failed("Unauthorized").is_unauthorized());
        assert!(!CallError::failed("Exception: Unauthorized").is_unauthorized());
        assert!(!CallError::failed("unauthorized").is_unauthorized());
        #[cfg(feature = "functions")]
        {
            let failed = crate::apigw::functions::FunctionError::Failed {
                error_type: "Exception".into(),
                message: "Unauthorized".into(),
            };
            let error = CallError::failed(failed);
            assert!(error.is_unauthorized());
            assert_eq!(error.to_string(), "Exception: Unauthorized");
        }
    }

    #[test]
    fn policies_allow_as_iam_does() {
        let arn = "arn:aws:execute-api:us-east-1:000000000000:local/Prod/$connect";
        let policy = |effect: &str, resource: Value| {
            json!({"Version": "2012-10-17", "Statement": [
                {"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}
            ]})
        };
        assert!(policy_allows(&policy("Allow", json!(arn)), arn));
        assert!(policy_allows(
            &policy("Allow", json!("arn:aws:execute-api:*")),
            arn
        ));
        assert!(policy_allows(
            &policy("Allow", json!(["x", "*/Prod/$connect"])),
            arn
        ));
        assert!(!policy_allows(&policy("Allow", json!("*/Dev/*")), arn));
        assert!(!policy_allows(&policy("Deny", json!(arn)), arn));
        assert!(!policy_allows(&json!({}), arn));
        assert!(!policy_allows(&json!("Allow"), arn));
        let both = json!({"Statement": [
            {"Action": "*", "Effect": "Allow", "Resource": "*"},
            {"Action": "execute-api:*", "Effect": "Deny", "Resource": arn},
        ]});
        assert!(!policy_allows(&both, arn));
        let other_action =
            json!({"Statement": {"Action": "s3:GetObject", "Effect": "Allow", "Resource": "*"}});
        assert!(!policy_allows(&other_action, arn));
    }

    #[test]
    fn wildcards_match_as_iam_does() {
        assert!(wildcard_matches("a*c", "abbbc"));
        assert!(wildcard_matches("a?c", "abc"));
        assert!(!wildcard_matches("a?c", "abbc"));
        assert!(wildcard_matches("*", ""));
        assert!(!wildcard_matches("", "a"));
        assert!(wildcard_matches(
            "*a*a*a*b",
            &"a".repeat(40).replace("aa", "ab")
        ));
        assert!(!wildcard_matches("*a*a*a*c", &"a".repeat(10_000)));
    }

    #[test]
    fn identity_sources_are_api_gateways() {
        assert_eq!(
            "route.request.header.Auth".parse(),
            Ok(IdentitySource::Header("Auth".into()))
        );
        assert_eq!(
            "route.request.querystring.token".parse(),
            Ok(IdentitySource::Query("token".into()))
        );
        assert!("route.request.header.".parse::<IdentitySource>().is_err());
        assert!(
            "method.request.header.Auth"
                .parse::<IdentitySource>()
                .is_err()
        );
    }

    #[test]
    fn responses_read_as_api_gateway_reads_them() {
        let read = |v: Value| {
            let r = Response::read(&v);
            (r.status, r.body)
        };
        assert_eq!(
            read(json!({"statusCode": 403, "body": "no"})),
            (403, Some("no".into()))
        );
        assert_eq!(read(json!({})), (200, None));
        assert_eq!(
            read(json!({"statusCode": 200, "body": "aGk=", "isBase64Encoded": true})),
            (200, Some("hi".into()))
        );
    }
}
