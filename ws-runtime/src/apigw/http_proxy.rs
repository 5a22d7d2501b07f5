//! API Gateway's `HTTP_PROXY` integration (feature `functions`): a route served by an HTTP
//! backend rather than a function. As API Gateway does for a WebSocket API, the message's body
//! is sent as the request's body (`POST` unless said otherwise), the integration's request
//! parameters add headers and query parameters from the request context (`context.connectionId`,
//! …), the message's JSON (`route.request.body.NAME`), the handshake (`route.request.header.NAME`,
//! `route.request.querystring.NAME`, on `$connect`) or a literal (`'value'`); and the answer's
//! body is what a two-way route sends the client. A `$connect` answered with a status other than
//! 2xx refuses the handshake with it. A backend that does not answer within the timeout (29 s,
//! API Gateway's most) is the client's `Internal server error`.
//!
//! ```
//! use std::time::Duration;
//! use ws_runtime::lambda::{HttpProxy, Lambda};
//!
//! let orders = HttpProxy::new("http://127.0.0.1:9000/orders")?
//!     .request_parameter("integration.request.header.connectionId", "context.connectionId")?
//!     .request_parameter("integration.request.querystring.symbol", "route.request.body.symbol")?
//!     .timeout(Duration::from_secs(5));
//! let lambda = Lambda::new().two_way_route("order", orders);
//! # let _ = lambda;
//! # Ok::<(), ws_runtime::lambda::HttpProxyError>(())
//! ```

use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
use base64::Engine as _;
use futures_util::future::BoxFuture;
use serde_json::{Value, json};

use crate::apigw::lambda::AsyncFn;
use crate::transport::http_client::{self, FetchError, Outgoing};

/// API Gateway's longest integration timeout, and the default.
const MAX_TIMEOUT: Duration = Duration::from_secs(29);

/// The most a backend's answer may weigh: what a frame to the client may carry (API Gateway's
/// 128 KiB message), with room for what is not sent.
const ANSWER_LIMIT: usize = 1 << 20;

/// An `HTTP_PROXY` integration: where its requests go, and what they carry.
#[derive(Debug, Clone)]
pub struct HttpProxy {
    uri: Uri,
    method: Method,
    parameters: Vec<(Target, Source)>,
    timeout: Duration,
}

/// Where a request parameter goes.
#[derive(Debug, Clone)]
enum Target {
    Header(HeaderName),
    Query(String),
}

/// Where a request parameter's value comes from.
#[derive(Debug, Clone)]
enum Source {
    /// `context.NAME` (`identity.sourceIp` and the like are paths).
    Context(Vec<String>),
    /// `route.request.body.NAME`, a path into the message's JSON.
    Body(Vec<String>),
    /// `route.request.header.NAME`.
    Header(String),
    /// `route.request.querystring.NAME`.
    Query(String),
    /// `'value'`.
    Literal(String),
}

/// Why an `HTTP_PROXY` integration cannot be made, or has no answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpProxyError {
    /// Its URI is not an `http://` or `https://` URL.
    #[error("`{0}` is not an http:// or https:// URL")]
    Uri(String),
    /// A request parameter API Gateway would not take.
    #[error("request parameter `{name}: {value}`: {reason}")]
    Parameter {
        /// Its name (`integration.request.header.NAME`).
        name: String,
        /// Its value (`context.connectionId`).
        value: String,
        /// What is taken.
        reason: &'static str,
    },
    /// The backend gave no answer.
    #[error("the backend: {0}")]
    Backend(#[source] FetchError),
    /// The backend did not answer within the timeout.
    #[error("the backend did not answer within {0:?}")]
    TimedOut(Duration),
}

impl HttpProxy {
    /// Requests to `uri`, `POST`, with no request parameters, within 29 s.
    ///
    /// # Errors
    /// `uri` is not an `http://` or `https://` URL with a host.
    pub fn new(uri: &str) -> Result<HttpProxy, HttpProxyError> {
        let parsed: Uri = uri
            .parse()
            .map_err(|_| HttpProxyError::Uri(uri.to_owned()))?;
        if !matches!(parsed.scheme_str(), Some("http" | "https")) || parsed.host().is_none() {
            return Err(HttpProxyError::Uri(uri.to_owned()));
        }
        Ok(HttpProxy {
            uri: parsed,
            method: Method::POST,
            parameters: Vec::new(),
            timeout: MAX_TIMEOUT,
        })
    }

    /// The request's method (`IntegrationMethod`).
    pub fn method(mut self, method: Method) -> HttpProxy {
        self.method = method;
        self
    }

    /// How long the backend may take (`TimeoutInMillis`), at most 29 s as on API Gateway.
    pub fn timeout(mut self, timeout: Duration) -> HttpProxy {
        self.timeout = timeout.min(MAX_TIMEOUT);
        self
    }

    /// A request parameter (`RequestParameters`): `integration.request.header.NAME` or
    /// `integration.request.querystring.NAME`, from `context.NAME`, `route.request.body.NAME`,
    /// `route.request.header.NAME`, `route.request.querystring.NAME` or `'literal'`.
    ///
    /// # Errors
    /// A name or value of another form.
    pub fn request_parameter(
        mut self,
        name: &str,
        value: &str,
    ) -> Result<HttpProxy, HttpProxyError> {
        let refused = |reason| HttpProxyError::Parameter {
            name: name.to_owned(),
            value: value.to_owned(),
            reason,
        };
        let target = if let Some(header) = name.strip_prefix("integration.request.header.") {
            Target::Header(HeaderName::try_from(header).map_err(|_| refused("not a header name"))?)
        } else if let Some(query) = name.strip_prefix("integration.request.querystring.") {
            if query.is_empty() {
                return Err(refused("no query parameter name"));
            }
            Target::Query(query.to_owned())
        } else {
            return Err(refused(
                "the name is integration.request.header.NAME or integration.request.querystring.NAME",
            ));
        };
        let path = |rest: &str| rest.split('.').map(str::to_owned).collect::<Vec<_>>();
        let source = if let Some(literal) = value
            .strip_prefix('\'')
            .and_then(|rest| rest.strip_suffix('\''))
        {
            Source::Literal(literal.to_owned())
        } else if let Some(rest) = value.strip_prefix("context.").filter(|r| !r.is_empty()) {
            Source::Context(path(rest))
        } else if let Some(rest) = value
            .strip_prefix("route.request.body.")
            .filter(|r| !r.is_empty())
        {
            Source::Body(path(rest))
        } else if let Some(rest) = value
            .strip_prefix("route.request.header.")
            .filter(|r| !r.is_empty())
        {
            Source::Header(rest.to_owned())
        } else if let Some(rest) = value
            .strip_prefix("route.request.querystring.")
            .filter(|r| !r.is_empty())
        {
            Source::Query(rest.to_owned())
        } else {
            return Err(refused(
                "the value is context.NAME, route.request.body.NAME, route.request.header.NAME, route.request.querystring.NAME or 'literal'",
            ));
        };
        self.parameters.push((target, source));
        Ok(self)
    }

    /// Sends an API Gateway event's message to the backend and answers as a proxy response:
    /// `{"statusCode", "body"}` (`isBase64Encoded` when the body is not UTF-8).
    ///
    /// # Errors
    /// The backend did not answer, or not in time.
    pub async fn invoke(&self, event: Value) -> Result<Value, HttpProxyError> {
        let mut headers = HeaderMap::new();
        let mut query = Vec::new();
        // The message's JSON, parsed once for every `route.request.body.*` parameter.
        let message = self
            .parameters
            .iter()
            .any(|(_, source)| matches!(source, Source::Body(_)))
            .then(|| serde_json::from_str::<Value>(event["body"].as_str()?).ok())
            .flatten();
        for (target, source) in &self.parameters {
            let Some(value) = source.read(&event, message.as_ref()) else {
                continue;
            };
            match target {
                Target::Header(name) => {
                    if let Ok(value) = HeaderValue::try_from(value) {
                        headers.append(name.clone(), value);
                    }
                }
                Target::Query(name) => query.push((name.as_str(), value)),
            }
        }
        let uri = with_query(&self.uri, &query);
        let mut event = event;
        let body = match event.get_mut("body").map(Value::take) {
            Some(Value::String(body)) => body,
            _ => String::new(),
        };
        if !body.is_empty() {
            headers.insert(
                axum::http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
        }
        let request = Outgoing {
            method: self.method.clone(),
            uri: &uri,
            headers,
            body: Bytes::from(body),
            limit: ANSWER_LIMIT,
            #[cfg(feature = "tls")]
            tls: None,
        };
        let answer = tokio::time::timeout(self.timeout, http_client::send(request))
            .await
            .map_err(|_| HttpProxyError::TimedOut(self.timeout))?
            .map_err(HttpProxyError::Backend)?;
        Ok(match std::str::from_utf8(&answer.body) {
            Ok(text) => json!({ "statusCode": answer.status.as_u16(), "body": text }),
            Err(_) => json!({
                "statusCode": answer.status.as_u16(),
                "body": base64::engine::general_purpose::STANDARD.encode(&answer.body),
                "isBase64Encoded": true,
            }),
        })
    }
}

impl Source {
    /// The value in an event, as text (a number or boolean as its JSON); `message` is the
    /// event's body, parsed.
    fn read(&self, event: &Value, message: Option<&Value>) -> Option<String> {
        let walk = |mut value: &Value, path: &[String]| {
            for step in path {
                value = value.get(step)?;
            }
            match value {
                Value::String(text) => Some(text.clone()),
                Value::Null | Value::Object(_) | Value::Array(_) => None,
                other => Some(other.to_string()),
            }
        };
        match self {
            Source::Literal(text) => Some(text.clone()),
            Source::Context(path) => walk(&event["requestContext"], path),
            Source::Body(path) => walk(message?, path),
            Source::Header(name) => event["headers"].as_object().and_then(|headers| {
                headers
                    .iter()
                    .find(|(key, _)| key.eq_ignore_ascii_case(name))
                    .and_then(|(_, value)| value.as_str().map(str::to_owned))
            }),
            Source::Query(name) => event["queryStringParameters"][name]
                .as_str()
                .map(str::to_owned),
        }
    }
}

/// `uri` with `query` appended to its own query, percent-encoded.
fn with_query(uri: &Uri, query: &[(&str, String)]) -> Uri {
    if query.is_empty() {
        return uri.clone();
    }
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
    let mut path_and_query = uri.path().to_owned();
    let mut separator = '?';
    if let Some(existing) = uri.query() {
        path_and_query.push('?');
        path_and_query.push_str(existing);
        separator = '&';
    }
    for (name, value) in query {
        path_and_query.push(separator);
        path_and_query.extend(utf8_percent_encode(name, NON_ALPHANUMERIC).map(str::to_owned));
        path_and_query.push('=');
        path_and_query.extend(utf8_percent_encode(value, NON_ALPHANUMERIC).map(str::to_owned));
        separator = '&';
    }
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = path_and_query.parse().ok();
    Uri::from_parts(parts).unwrap_or_else(|_| uri.clone())
}

impl AsyncFn<Value, Value, HttpProxyError> for HttpProxy {
    type Future = BoxFuture<'static, Result<Value, HttpProxyError>>;

    fn call(&self, event: Value) -> Self::Future {
        let proxy = self.clone();
        Box::pin(async move { proxy.invoke(event).await })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn request_parameters_read_as_api_gateway_reads_them() {
        let event = json!({
            "requestContext": {"connectionId": "abc=", "identity": {"sourceIp": "127.0.0.1"}, "connectedAt": 5},
            "body": "{\"order\": {\"symbol\": \"ACME\"}}",
            "headers": {"x-token": "t"},
            "queryStringParameters": {"room": "1"},
        });
        let read = |value: &str| {
            let proxy = HttpProxy::new("http://127.0.0.1/")
                .unwrap()
                .request_parameter("integration.request.header.x", value)
                .unwrap();
            let message = serde_json::from_str::<Value>(event["body"].as_str().unwrap()).ok();
            proxy.parameters[0].1.read(&event, message.as_ref())
        };
        assert_eq!(read("context.connectionId").as_deref(), Some("abc="));
        assert_eq!(
            read("context.identity.sourceIp").as_deref(),
            Some("127.0.0.1")
        );
        assert_eq!(read("context.connectedAt").as_deref(), Some("5"));
        assert_eq!(
            read("route.request.body.order.symbol").as_deref(),
            Some("ACME")
        );
        assert_eq!(read("route.request.header.X-Token").as_deref(), Some("t"));
        assert_eq!(read("route.request.querystring.room").as_deref(), Some("1"));
        assert_eq!(read("'static'").as_deref(), Some("static"));
        assert_eq!(read("route.request.body.missing"), None);
        assert_eq!(read("route.request.body.order"), None);
    }

    #[test]
    fn what_api_gateway_would_not_take_is_refused() {
        assert!(HttpProxy::new("ftp://host/").is_err());
        assert!(HttpProxy::new("/relative").is_err());
        let proxy = HttpProxy::new("https://example.com/x?a=1").unwrap();
        for (name, value) in [
            ("integration.request.path.x", "context.connectionId"),
            (
                "integration.request.header.bad name",
                "context.connectionId",
            ),
            ("integration.request.header.x", "stageVariables.x"),
            ("integration.request.header.x", "context."),
        ] {
            assert!(
                proxy.clone().request_parameter(name, value).is_err(),
                "{name}: {value}"
            );
        }
        assert_eq!(
            with_query(&proxy.uri, &[("b", "c d&".into())]).to_string(),
            "https://example.com/x?a=1&b=c%20d%26"
        );
    }
}
