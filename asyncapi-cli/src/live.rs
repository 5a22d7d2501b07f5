//! The live runner: a running server checked against the document, over a real WebSocket.
//!
//! For each example of each inbound message, the runner opens a connection to the channel
//! (the handshake's query and headers come from the `ws` binding's schemas, or from the caller),
//! sends the example, and reads every frame that comes back until the server has been quiet for
//! the settle time. Each frame must be one of the channel's outbound messages, and a two-way
//! route must answer with its reply message. Each case is bounded by the timeout.

use std::io;
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Serialize;
use serde_json::Value;
use tungstenite::http::{HeaderName, HeaderValue, StatusCode, Uri};

use asyncapi_codegen::contract::{ChannelContract, Contract, LookupError, Routed, Verdict};

use crate::sample;

/// How the runner reaches the server.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    /// `ws://HOST:PORT/PATH`. With no path (or `/`), each channel is reached at its address.
    pub url: String,
    /// Only this channel (else every channel with inbound examples).
    pub channel: Option<String>,
    /// The longest a case may take, handshake included.
    pub timeout: Duration,
    /// How long the server must stay quiet before a case ends.
    pub settle: Duration,
    /// Query parameters for the handshake, over the binding's examples.
    pub query: Vec<(String, String)>,
    /// Headers for the handshake, over the binding's examples.
    pub headers: Vec<(String, String)>,
}

impl LiveOptions {
    /// Options with a 5 s timeout and a 200 ms settle time.
    pub fn new(url: impl Into<String>) -> LiveOptions {
        LiveOptions {
            url: url.into(),
            channel: None,
            timeout: Duration::from_secs(5),
            settle: Duration::from_millis(200),
            query: Vec::new(),
            headers: Vec::new(),
        }
    }
}

/// Why the runner could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error("`{url}` is not a ws:// URL with a host: {reason}")]
    BadUrl { url: String, reason: String },
    #[error(transparent)]
    Lookup(#[from] LookupError),
    #[error("the document has no inbound message with an example to send{}", .channel.as_ref().map(|c| format!(" on channel `{c}`")).unwrap_or_default())]
    NothingToSend { channel: Option<String> },
}

/// Every case the runner ran.
#[derive(Debug, Clone, Serialize)]
pub struct LiveReport {
    pub cases: Vec<Case>,
}

impl LiveReport {
    pub fn passed(&self) -> usize {
        self.count(Status::Passed)
    }

    pub fn failed(&self) -> usize {
        self.count(Status::Failed)
    }

    pub fn skipped(&self) -> usize {
        self.count(Status::Skipped)
    }

    fn count(&self, status: Status) -> usize {
        self.cases.iter().filter(|c| c.status == status).count()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Passed,
    Failed,
    /// Not run; `failures` says why (an example that breaks its own schema, say).
    Skipped,
}

/// One example sent, and what came back.
#[derive(Debug, Clone, Serialize)]
pub struct Case {
    pub channel: String,
    /// The inbound message the example belongs to.
    pub message: String,
    pub example: String,
    pub url: String,
    /// The route the example selects, on a channel that routes.
    pub route: Option<String>,
    /// The reply the route must answer with.
    pub expected_reply: Option<String>,
    pub frames: Vec<Frame>,
    pub status: Status,
    /// What is wrong (or why the case was skipped), one line each.
    pub failures: Vec<String>,
    pub seconds: f64,
}

impl Case {
    /// `channel message/example`.
    pub fn title(&self) -> String {
        format!("{} {}/{}", self.channel, self.message, self.example)
    }
}

/// A frame the server sent, and what it was.
#[derive(Debug, Clone, Serialize)]
pub struct Frame {
    pub text: String,
    /// The outbound message it is, when it is one.
    pub message: Option<String>,
}

/// Runs every inbound example of the document against the server at `options.url`.
///
/// # Errors
/// A URL that is not `ws://`, an unknown channel, or nothing to send. Failures of the server
/// are not errors: they are failed cases in the report.
pub fn run(contract: &Contract, options: &LiveOptions) -> Result<LiveReport, LiveError> {
    let base = ServerUrl::parse(&options.url)?;
    let channels: Vec<&ChannelContract> = match &options.channel {
        Some(id) => vec![contract.channel(id)?],
        None => contract.channels().iter().collect(),
    };
    let mut cases = Vec::new();
    for channel in channels {
        for &index in &channel.inbound {
            let message = contract.message(index);
            for (example, payload) in &message.examples {
                cases.push(run_case(
                    contract, channel, index, example, payload, &base, options,
                ));
            }
        }
    }
    if cases.is_empty() {
        return Err(LiveError::NothingToSend {
            channel: options.channel.clone(),
        });
    }
    Ok(LiveReport { cases })
}

/// Where to connect: host, port and path of the URL the user gave.
#[derive(Debug)]
struct ServerUrl {
    authority: String,
    path: Option<String>,
    query: Option<String>,
}

impl ServerUrl {
    fn parse(url: &str) -> Result<ServerUrl, LiveError> {
        let bad = |reason: &str| LiveError::BadUrl {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let uri: Uri = url
            .parse()
            .map_err(|e: tungstenite::http::uri::InvalidUri| bad(&e.to_string()))?;
        match uri.scheme_str() {
            Some("ws") => {}
            Some("wss") => return Err(bad("wss:// needs TLS, which the runner does not speak")),
            _ => return Err(bad("the scheme must be ws://")),
        }
        let authority = uri.authority().ok_or_else(|| bad("no host"))?;
        let authority = match authority.port_u16() {
            Some(_) => authority.to_string(),
            None => format!("{}:80", authority.host()),
        };
        let path = Some(uri.path())
            .filter(|p| !p.is_empty() && *p != "/")
            .map(str::to_owned);
        Ok(ServerUrl {
            authority,
            path,
            query: uri.query().map(str::to_owned),
        })
    }

    /// The URL for a channel: the user's path, else the channel's address.
    fn url(&self, channel: &ChannelContract, query: &[(String, String)]) -> Result<String, String> {
        let path = match (&self.path, &channel.address) {
            (Some(path), _) => path.clone(),
            (None, Some(address)) if address.contains('{') => {
                return Err(format!(
                    "the address `{address}` has parameters; give the full path in --url"
                ));
            }
            (None, Some(address)) if address.starts_with('/') => address.clone(),
            (None, Some(address)) => format!("/{address}"),
            (None, None) => "/".to_owned(),
        };
        let mut pairs: Vec<String> = self.query.iter().cloned().collect();
        pairs.extend(
            query
                .iter()
                .map(|(k, v)| format!("{}={}", encode(k), encode(v))),
        );
        let query = if pairs.is_empty() {
            String::new()
        } else {
            format!("?{}", pairs.join("&"))
        };
        Ok(format!("ws://{}{path}{query}", self.authority))
    }
}

fn run_case(
    contract: &Contract,
    channel: &ChannelContract,
    index: usize,
    example: &str,
    payload: &Value,
    base: &ServerUrl,
    options: &LiveOptions,
) -> Case {
    let started = Instant::now();
    let message = contract.message(index);
    // The route the server picks for the example (`$default` when no route has its key), the
    // message it handles it as, and the reply that route must send.
    let (route, routed) = match channel.route(payload) {
        Routed::Unrouted => (None, Some(index)),
        Routed::Route(route, i) => (Some(route.to_owned()), Some(i)),
        Routed::NoRoute(key) => (Some(key), None),
    };
    let reply = routed.and_then(|request| channel.reply_to(request));
    let query = handshake_values(channel.query.as_ref(), &options.query);
    let headers = handshake_values(channel.headers.as_ref(), &options.headers);
    let mut case = Case {
        channel: channel.id.clone(),
        message: message.key.clone(),
        example: example.to_owned(),
        url: String::new(),
        route,
        expected_reply: reply.map(|r| contract.message(r).key.clone()),
        frames: Vec::new(),
        status: Status::Passed,
        failures: Vec::new(),
        seconds: 0.0,
    };
    let skip = |mut case: Case, why: String| {
        case.status = Status::Skipped;
        case.failures.push(why);
        case.seconds = started.elapsed().as_secs_f64();
        case
    };
    // An example that breaks its own message is the document's problem, not the server's.
    if let Verdict::Rejected(rejection) = contract.verdict(None, &[index], payload) {
        return skip(
            case,
            format!("the example breaks its own message: {rejection}"),
        );
    }
    case.url = match base.url(channel, &query) {
        Ok(url) => url,
        Err(why) => return skip(case, why),
    };
    let expected = Expected {
        contract,
        channel,
        reply,
    };
    let exchanged = exchange(&expected, &mut case, (payload, &headers), options, started);
    if let Err(failure) = exchanged {
        case.failures.push(failure);
    }
    if !case.failures.is_empty() {
        case.status = Status::Failed;
    }
    case.seconds = started.elapsed().as_secs_f64();
    case
}

/// What a case's frames are judged against: the channel's messages, and the reply its route
/// must send, if any.
struct Expected<'a> {
    contract: &'a Contract,
    channel: &'a ChannelContract,
    reply: Option<usize>,
}

/// Connects with the handshake's `headers`, sends the example's `payload`, and reads frames until
/// the server is quiet (or the case's time is up). Each frame's problems, and a reply that never
/// came, are pushed into `case.failures`; `Err` is a failure that ends the exchange.
fn exchange(
    expected: &Expected<'_>,
    case: &mut Case,
    (payload, headers): (&Value, &[(String, String)]),
    options: &LiveOptions,
    started: Instant,
) -> Result<(), String> {
    let reply = expected.reply;
    let deadline = started + options.timeout;
    let left = || deadline.saturating_duration_since(Instant::now());
    let mut socket = connect(&case.url, headers, options.timeout)?;
    socket
        .send(tungstenite::Message::text(payload.to_string()))
        .map_err(|e| format!("cannot send the example: {e}"))?;
    let mut replied = false;
    loop {
        // Until the reply (if one is due), wait as long as the case may; then only the settle time.
        let waiting_for_reply = reply.is_some() && !replied;
        let wait = if waiting_for_reply {
            left()
        } else {
            options.settle.min(left())
        };
        if wait.is_zero() {
            break;
        }
        socket
            .get_ref()
            .set_read_timeout(Some(wait))
            .map_err(|e| e.to_string())?;
        match socket.read() {
            Ok(tungstenite::Message::Text(text)) => {
                let (frame, is_reply) = judge(expected, case, text.as_str());
                replied |= is_reply;
                case.frames.push(frame);
            }
            Ok(tungstenite::Message::Binary(bytes)) => {
                case.failures.push(format!(
                    "the server sent a binary frame ({} bytes); the document's messages are JSON text",
                    bytes.len()
                ));
            }
            Ok(tungstenite::Message::Close(frame)) => {
                let why =
                    frame.map_or("no code".to_owned(), |f| format!("{} {}", f.code, f.reason));
                if waiting_for_reply {
                    return Err(format!(
                        "the server closed the connection ({why}) before replying"
                    ));
                }
                return Ok(());
            }
            Ok(_) => {}
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                if !waiting_for_reply || left().is_zero() {
                    break;
                }
            }
            Err(e) => return Err(format!("the connection failed: {e}")),
        }
    }
    let _ = socket.close(None);
    let _ = socket.flush();
    if let (Some(reply), false, true) = (&case.expected_reply, replied, case.failures.is_empty()) {
        case.failures.push(format!(
            "no reply: route `{}` must answer with `{reply}`, and no such frame came within {:?}",
            case.route.as_deref().unwrap_or(&case.message),
            options.timeout
        ));
    }
    Ok(())
}

/// What a frame is: the route's reply (then `true`), or one of the channel's outbound
/// messages. A frame that is neither is a failure, said as precisely as the checker can.
fn judge(expected: &Expected<'_>, case: &mut Case, text: &str) -> (Frame, bool) {
    let Expected {
        contract,
        channel,
        reply,
    } = *expected;
    let mut frame = Frame {
        text: text.to_owned(),
        message: None,
    };
    let json: Value = match serde_json::from_str(text) {
        Ok(json) => json,
        Err(e) => {
            case.failures
                .push(format!("a frame is not JSON ({e}): {}", clip(text)));
            return (frame, false);
        }
    };
    if let Some(gateway) = ws_runtime::ErrorFrame::from_json(&json) {
        case.failures.push(format!(
            "the server answered with API Gateway's error frame `{}`: {}",
            gateway.kind.as_str(),
            clip(text)
        ));
        return (frame, false);
    }
    // The reply first: its violations are the precise ones when the route must reply.
    let reply = reply.map(|reply| contract.verdict(None, &[reply], &json));
    if let Some(Verdict::Valid { message, .. }) = reply {
        frame.message = Some(message);
        return (frame, true);
    }
    match contract.verdict(None, &channel.outbound, &json) {
        Verdict::Valid { message, .. } => frame.message = Some(message),
        Verdict::Rejected(outbound) => {
            let failure = match (&reply, &case.expected_reply) {
                (Some(Verdict::Rejected(as_reply)), Some(expected)) => format!(
                    "a frame is not the reply `{expected}` ({as_reply}), nor any outbound message of channel `{}`: {}",
                    channel.id,
                    clip(text)
                ),
                _ => format!(
                    "a frame is no outbound message of channel `{}` ({outbound}): {}",
                    channel.id,
                    clip(text)
                ),
            };
            case.failures.push(failure);
        }
    }
    (frame, false)
}

fn clip(text: &str) -> String {
    const MAX: usize = 200;
    match text.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

type Socket = tungstenite::WebSocket<TcpStream>;

fn connect(url: &str, headers: &[(String, String)], timeout: Duration) -> Result<Socket, String> {
    use tungstenite::client::IntoClientRequest;
    let mut request = url
        .into_client_request()
        .map_err(|e| format!("bad URL `{url}`: {e}"))?;
    for (name, value) in headers {
        let name =
            HeaderName::try_from(name.as_str()).map_err(|e| format!("header `{name}`: {e}"))?;
        let value =
            HeaderValue::try_from(value.as_str()).map_err(|e| format!("header `{name}`: {e}"))?;
        request.headers_mut().insert(name, value);
    }
    let authority = request
        .uri()
        .authority()
        .map(|a| a.as_str().to_owned())
        .unwrap_or_default();
    let address = authority
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve `{authority}`: {e}"))?
        .next()
        .ok_or_else(|| format!("`{authority}` resolves to no address"))?;
    let stream = TcpStream::connect_timeout(&address, timeout)
        .map_err(|e| format!("cannot connect to {address}: {e}"))?;
    stream
        .set_read_timeout(Some(timeout))
        .and_then(|()| stream.set_write_timeout(Some(timeout)))
        .and_then(|()| stream.set_nodelay(true))
        .map_err(|e| e.to_string())?;
    match tungstenite::client::client(request, stream) {
        Ok((socket, _)) => Ok(socket),
        Err(tungstenite::HandshakeError::Failure(tungstenite::Error::Http(response))) => {
            let status: StatusCode = response.status();
            let body = response
                .body()
                .as_deref()
                .map(|b| String::from_utf8_lossy(b).trim().to_owned())
                .filter(|b| !b.is_empty())
                .map(|b| format!(": {}", clip(&b)))
                .unwrap_or_default();
            Err(format!(
                "the server refused the handshake with HTTP {status}{body}"
            ))
        }
        Err(tungstenite::HandshakeError::Failure(e)) => Err(format!("handshake failed: {e}")),
        Err(tungstenite::HandshakeError::Interrupted(_)) => {
            Err(format!("no handshake response within {timeout:?}"))
        }
    }
}

/// The handshake's query parameters (or headers): the caller's, then for each property of the
/// binding's schema that is required or has a sample, its first example, default, const or
/// enum value.
pub fn handshake_values(
    schema: Option<&Value>,
    given: &[(String, String)],
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = given.to_vec();
    let Some(schema) = schema else {
        return out;
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return out;
    };
    for (name, property) in properties {
        if out.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
            continue;
        }
        // Its first example, default, const or enum value that fits it (a default outside the
        // `enum` would be refused).
        let fits = |value: &&Value| property.as_object().is_some_and(|p| sample::fits(p, value));
        let sample = [
            property.get("examples").and_then(|e| e.get(0)),
            property.get("default"),
            property.get("const"),
            property.get("enum").and_then(|e| e.get(0)),
        ]
        .into_iter()
        .flatten()
        .find(fits);
        let value = match sample {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None if required.contains(&name.as_str()) => {
                match property.get("type").and_then(Value::as_str) {
                    Some("integer" | "number") => "1".to_owned(),
                    Some("boolean") => "true".to_owned(),
                    _ => "asyncapi-rs".to_owned(),
                }
            }
            None => continue,
        };
        out.push((name.clone(), value));
    }
    out
}

/// Percent-encodes a query component (RFC 3986 unreserved characters pass).
pub fn encode(text: &str) -> String {
    const RESERVED: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    utf8_percent_encode(text, RESERVED).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_values_come_from_flags_then_samples() {
        let schema = serde_json::json!({
            "type": "object",
            "required": ["name", "room"],
            "properties": {
                "name": {"type": "string", "examples": ["Ada"]},
                "room": {"type": "string"},
                "limit": {"type": "integer", "default": 10},
                "debug": {"type": "boolean"},
                "format": {"enum": ["mp3_22050", "pcm"], "default": "mp3_44100"}
            }
        });
        let given = [("room".to_owned(), "lobby".to_owned())];
        let values = handshake_values(Some(&schema), &given);
        let pairs: Vec<(&str, &str)> = values
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        // A default outside the `enum` is passed over for the first value it allows.
        assert_eq!(
            pairs,
            [
                ("room", "lobby"),
                ("name", "Ada"),
                ("limit", "10"),
                ("format", "mp3_22050")
            ]
        );
    }

    #[test]
    fn urls() {
        assert!(ServerUrl::parse("http://localhost:1/").is_err());
        assert!(ServerUrl::parse("wss://localhost:1/").is_err());
        let target = ServerUrl::parse("ws://127.0.0.1:9000").unwrap();
        assert_eq!(target.authority, "127.0.0.1:9000");
        assert_eq!(target.path, None);
        assert_eq!(encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
    }
}
