//! An HTTP/1.1 client for the few requests the runtime makes to other servers: a JWKS URL's keys
//! (feature `jwt`) and an `HTTP_PROXY` integration's backend (feature `functions`). On hyper's
//! client (the HTTP stack axum serves with), over TLS for `https://` (feature `tls`).

use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};

use crate::access::security::BoxError;

/// Why a request to another server has no answer, or not the one asked for: a JWKS URL's
/// (feature `jwt`), an `HTTP_PROXY` integration's backend (feature `functions`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// No answer within the fetch's time bound.
    #[error("no answer within {0:?}")]
    TimedOut(Duration),
    /// The connection failed (TCP or TLS).
    #[error("{0}")]
    Connect(#[source] std::io::Error),
    /// The request could not be made of the URL (a host that is no header value, say).
    #[error("{0}")]
    Request(#[source] axum::http::Error),
    /// The host is not a name a TLS certificate can be checked against.
    #[error("the host is not a DNS name or an IP address")]
    ServerName,
    /// A URL that is not `http://` or `https://` with a host.
    #[error("not an http:// or https:// URL with a host")]
    Url,
    /// An `https://` URL, in a build without feature `tls`.
    #[error("https needs ws-runtime's feature `tls`")]
    NeedsTls,
    /// The system's root certificates could not be read.
    #[cfg(feature = "tls")]
    #[error("{0}")]
    Roots(#[source] crate::transport::tls::TlsError),
    /// HTTP failed.
    #[error("{0}")]
    Http(#[source] hyper::Error),
    /// An answer other than the one asked for (a JWKS URL's 200).
    #[error("HTTP {0}")]
    Status(axum::http::StatusCode),
    /// The body could not be read, or is larger than the bound.
    #[error("the body: {0}")]
    Body(#[source] BoxError),
    /// The body is not UTF-8.
    #[error("the body is not UTF-8")]
    NotUtf8,
}

/// A request to send.
pub(crate) struct Outgoing<'a> {
    pub(crate) method: Method,
    pub(crate) uri: &'a Uri,
    /// Its headers; `Host` is added.
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    /// The most the answer's body may weigh.
    pub(crate) limit: usize,
    /// Roots and client settings for `https://` (the system's roots when `None`).
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<&'a crate::transport::tls::ClientTls>,
}

/// An answer: its status and body.
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) body: Bytes,
}

/// Sends `request` on a connection of its own and reads the whole answer.
pub(crate) async fn send(request: Outgoing<'_>) -> Result<Answer, FetchError> {
    let uri = request.uri;
    let https = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        _ => return Err(FetchError::Url),
    };
    let Some(host) = uri.host() else {
        return Err(FetchError::Url);
    };
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    let bare_host = host.trim_start_matches('[').trim_end_matches(']');
    let tcp = tokio::net::TcpStream::connect((bare_host, port))
        .await
        .map_err(FetchError::Connect)?;
    let authority = uri.authority().map_or(host, |a| a.as_str());
    let mut builder = axum::http::Request::builder()
        .method(request.method)
        .uri(uri.path_and_query().map_or("/", |p| p.as_str()))
        .header(header::HOST, authority)
        .header(header::USER_AGENT, "ws-runtime");
    if let Some(headers) = builder.headers_mut() {
        headers.extend(request.headers);
    }
    let outgoing = builder
        .body(http_body_util::Full::new(request.body))
        .map_err(FetchError::Request)?;
    if !https {
        return exchange(hyper_util::rt::TokioIo::new(tcp), outgoing, request.limit).await;
    }
    #[cfg(feature = "tls")]
    {
        let config = match request.tls {
            Some(tls) => tls.config(),
            None => crate::transport::tls::ClientTls::system_roots()
                .map_err(FetchError::Roots)?
                .config(),
        };
        let name = rustls::pki_types::ServerName::try_from(bare_host.to_owned())
            .map_err(|_| FetchError::ServerName)?;
        let stream = tokio_rustls::TlsConnector::from(config)
            .connect(name, tcp)
            .await
            .map_err(FetchError::Connect)?;
        exchange(
            hyper_util::rt::TokioIo::new(stream),
            outgoing,
            request.limit,
        )
        .await
    }
    #[cfg(not(feature = "tls"))]
    Err(FetchError::NeedsTls)
}

/// `request` on `io`: the answer, its body at most `limit` bytes.
async fn exchange<IO>(
    io: IO,
    request: axum::http::Request<http_body_util::Full<Bytes>>,
    limit: usize,
) -> Result<Answer, FetchError>
where
    IO: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    use http_body_util::BodyExt as _;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(FetchError::Http)?;
    // The connection's task ends with this function (aborted below), on every path.
    let connection = AbortOnDrop(tokio::spawn(connection));
    let response = sender
        .send_request(request)
        .await
        .map_err(FetchError::Http)?;
    let status = response.status();
    let body = http_body_util::Limited::new(response.into_body(), limit)
        .collect()
        .await
        .map_err(FetchError::Body)?
        .to_bytes();
    drop(connection);
    Ok(Answer { status, body })
}

/// A task aborted when this is dropped.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}
