//! The client side of the socket (feature `client`): TCP, TLS for `wss://` (feature `tls`), and
//! the HTTP/1.1 upgrade with permessage-deflate's offer, handed to the same WebSocket library
//! the server runs on. The handshake is hyper's, so a refusal keeps its status and its body.

use axum::body::Bytes;
use axum::http::header::{
    CONNECTION, HOST, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_EXTENSIONS, SEC_WEBSOCKET_KEY,
    SEC_WEBSOCKET_VERSION, UPGRADE,
};
use axum::http::{HeaderName, HeaderValue, Request, StatusCode, Uri};
use base64::Engine;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use yawc::{HttpStream, Role, WebSocket};

/// A client's connection, once upgraded.
pub(crate) type ClientSocket = WebSocket<HttpStream>;

/// What a client asks of its socket. (No `Debug`: its headers may carry credentials.)
pub(crate) struct Dial<'a> {
    /// `ws://` or `wss://`, with its path and query.
    pub url: &'a str,
    /// Headers added to the handshake.
    pub headers: &'a [(String, String)],
    /// The largest message (and frame) the client reads, inflated.
    pub max_message_size: usize,
    /// Whether permessage-deflate is offered.
    pub compression: bool,
    /// The TLS configuration for `wss://` (feature `tls`).
    #[cfg(feature = "tls")]
    pub tls: Option<std::sync::Arc<rustls::ClientConfig>>,
}

/// Why a dial failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DialError {
    /// The URL or a header cannot make a request.
    #[error("{0}")]
    Request(String),
    /// `wss://` without TLS, or TLS without a configuration.
    #[error("{0}")]
    Tls(String),
    /// The server answered with a status instead of switching protocols.
    #[error("HTTP {status}")]
    Refused { status: u16, body: String },
    /// The network, TLS, HTTP or the WebSocket handshake failed.
    #[error(transparent)]
    Transport(Box<dyn std::error::Error + Send + Sync>),
}

impl DialError {
    fn transport(error: impl std::error::Error + Send + Sync + 'static) -> DialError {
        DialError::Transport(Box::new(error))
    }
}

/// The handshake answered 101 without the `Sec-WebSocket-Accept` its key asks for.
#[derive(Debug, thiserror::Error)]
#[error("the server's Sec-WebSocket-Accept does not answer the key")]
struct WrongAccept;

/// The most of a refusal's body kept.
const REFUSAL_BODY: usize = 64 * 1024;

/// RFC 6455 §1.3's GUID, hashed with the key into `Sec-WebSocket-Accept`.
const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// What a client offers: permessage-deflate, letting the server choose the client's window.
const OFFER: &str = "permessage-deflate; client_max_window_bits";

/// Connects, upgrades and returns the socket.
pub(crate) async fn dial(dial: Dial<'_>) -> Result<ClientSocket, DialError> {
    let uri: Uri = dial
        .url
        .parse()
        .map_err(|e| DialError::Request(format!("`{}`: {e}", dial.url)))?;
    let secure = match uri.scheme_str() {
        Some("ws") => false,
        Some("wss") => true,
        _ => {
            return Err(DialError::Request(format!(
                "`{}`: not a ws:// or wss:// URL",
                dial.url
            )));
        }
    };
    let Some(host) = uri.host() else {
        return Err(DialError::Request(format!("`{}`: no host", dial.url)));
    };
    let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
    // An IPv6 address is bracketed in the URL and in `Host`, not in the socket address.
    let bare_host = host.trim_start_matches('[').trim_end_matches(']');
    let tcp = TcpStream::connect((bare_host, port))
        .await
        .map_err(DialError::transport)?;
    let _ = tcp.set_nodelay(true);
    let authority = uri
        .authority()
        .map_or_else(|| host.to_owned(), |a| a.as_str().to_owned());
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let request = request(path, &authority, &dial)?;
    if secure {
        #[cfg(feature = "tls")]
        {
            let config = dial
                .tls
                .clone()
                .ok_or_else(|| DialError::Tls("no TLS configuration for wss://".into()))?;
            let name = rustls::pki_types::ServerName::try_from(bare_host.to_owned())
                .map_err(|e| DialError::Tls(format!("`{bare_host}`: {e}")))?;
            let stream = tokio_rustls::TlsConnector::from(config)
                .connect(name, tcp)
                .await
                .map_err(DialError::transport)?;
            return upgrade(stream, request, &dial).await;
        }
        #[cfg(not(feature = "tls"))]
        return Err(DialError::Tls(
            "wss:// needs ws-runtime's `tls` feature".into(),
        ));
    }
    upgrade(tcp, request, &dial).await
}

/// The handshake request: RFC 6455 §4.1's headers, the offer, and the caller's.
fn request(
    path: &str,
    authority: &str,
    dial: &Dial<'_>,
) -> Result<(Request<Empty<Bytes>>, String), DialError> {
    let mut nonce = [0u8; 16];
    getrandom::fill(&mut nonce).map_err(|e| DialError::Request(format!("no randomness: {e}")))?;
    let key = base64::engine::general_purpose::STANDARD.encode(nonce);
    let mut builder = Request::get(path)
        .header(HOST, authority)
        .header(UPGRADE, "websocket")
        .header(CONNECTION, "Upgrade")
        .header(SEC_WEBSOCKET_KEY, key.as_str())
        .header(SEC_WEBSOCKET_VERSION, "13");
    if dial.compression {
        builder = builder.header(SEC_WEBSOCKET_EXTENSIONS, OFFER);
    }
    let mut request = builder
        .body(Empty::new())
        .map_err(|e| DialError::Request(e.to_string()))?;
    for (name, value) in dial.headers {
        let header = HeaderName::try_from(name.as_str())
            .map_err(|e| DialError::Request(format!("header `{name}`: {e}")))?;
        let value = HeaderValue::try_from(value.as_str())
            .map_err(|e| DialError::Request(format!("header `{name}`: {e}")))?;
        request.headers_mut().append(header, value);
    }
    Ok((request, key))
}

/// Sends the handshake on `io` and, on 101 with the right accept, wraps the upgraded stream.
async fn upgrade<S>(
    io: S,
    (request, key): (Request<Empty<Bytes>>, String),
    dial: &Dial<'_>,
) -> Result<ClientSocket, DialError>
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(DialError::transport)?;
    // Drives the HTTP connection until the upgrade hands it over (or it fails).
    tokio::spawn(async move {
        let _ = connection.with_upgrades().await;
    });
    let mut response = sender
        .send_request(request)
        .await
        .map_err(DialError::transport)?;
    if response.status() != StatusCode::SWITCHING_PROTOCOLS {
        let status = response.status().as_u16();
        let body = Limited::new(response.into_body(), REFUSAL_BODY)
            .collect()
            .await
            .map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned())
            .unwrap_or_default();
        return Err(DialError::Refused { status, body });
    }
    let expected = {
        use sha1::Digest;
        let digest = sha1::Sha1::new()
            .chain_update(key.as_bytes())
            .chain_update(GUID.as_bytes())
            .finalize();
        base64::engine::general_purpose::STANDARD.encode(digest)
    };
    if response
        .headers()
        .get(SEC_WEBSOCKET_ACCEPT)
        .map(HeaderValue::as_bytes)
        != Some(expected.as_bytes())
    {
        return Err(DialError::transport(WrongAccept));
    }
    let extensions = response
        .headers()
        .get(SEC_WEBSOCKET_EXTENSIONS)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let upgraded = hyper::upgrade::on(&mut response)
        .await
        .map_err(DialError::transport)?;
    let options = options(dial.max_message_size, dial.compression);
    WebSocket::from_stream_with_extensions(
        HttpStream::from(TokioIo::new(upgraded)),
        Role::Client,
        extensions.as_deref(),
        options,
    )
    .map_err(DialError::transport)
}

/// The client's codec: one bound for frames and messages, inflated or not; compression as
/// offered.
fn options(max_message_size: usize, compression: bool) -> yawc::Options {
    let options = yawc::Options::default()
        .with_max_payload_read(max_message_size.saturating_add(1))
        .with_max_read_buffer(max_message_size.saturating_add(1))
        .with_read_buffer_capacity(8 * 1024)
        .with_no_delay();
    let options = if compression {
        // Short messages go as they are, as the server sends them.
        options
            .with_low_latency_compression()
            .with_compression_threshold(64)
    } else {
        options.without_compression()
    };
    yawc::Options {
        check_utf8: false,
        ..options
    }
}
