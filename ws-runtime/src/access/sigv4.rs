//! SigV4 authentication (feature `sigv4`), as API Gateway checks the requests the AWS SDKs sign
//! for `execute-api`: management requests, and handshakes of a `$connect` route whose
//! authorization is `AWS_IAM` (a presigned URL, or a signed `Authorization` header).
//!
//! The signature a request should carry is computed by AWS's own signer (`aws-sigv4`) from the
//! request as received: its method, target, the headers its `SignedHeaders` lists, its body's
//! SHA-256, the credential scope's region and service, and the time of its `X-Amz-Date`. Only
//! the comparison is ours (in constant time).

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use axum::http::HeaderMap;

/// Who may sign management requests: access key ids and their secrets, the region and service
/// the signatures are scoped to, and how far a request's clock may be from ours.
///
/// ```
/// use std::time::Duration;
/// use ws_runtime::SigV4;
///
/// let sigv4 = SigV4::new("eu-west-1")
///     .key("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
///     .max_skew(Duration::from_secs(300)); // the default
/// # let _ = ws_runtime::Router::new().management_sigv4(sigv4);
/// ```
#[derive(Clone)]
pub struct SigV4 {
    keys: HashMap<String, String>,
    region: String,
    service: String,
    max_skew: Duration,
}

impl std::fmt::Debug for SigV4 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets stay out of logs: only the key ids.
        f.debug_struct("SigV4")
            .field("keys", &self.keys.keys().collect::<Vec<_>>())
            .field("region", &self.region)
            .field("service", &self.service)
            .field("max_skew", &self.max_skew)
            .finish()
    }
}

/// Why a request's signature is refused: API Gateway's error type and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub kind: &'static str,
    pub message: String,
}

impl Refusal {
    fn invalid(message: impl Into<String>) -> Refusal {
        Refusal {
            kind: "InvalidSignatureException",
            message: message.into(),
        }
    }

    /// A signature other than the one the request should carry.
    fn mismatch() -> Refusal {
        Refusal::invalid(
            "The request signature we calculated does not match the signature you provided. \
             Check your AWS Secret Access Key and signing method. Consult the service \
             documentation for details.",
        )
    }

    /// A key id no key of ours has.
    fn unknown_key() -> Refusal {
        Refusal {
            kind: "UnrecognizedClientException",
            message: "The security token included in the request is invalid.".into(),
        }
    }
}

/// Whether two signatures are the same, compared in constant time.
fn same(expected: &str, given: &str) -> bool {
    bool::from(subtle::ConstantTimeEq::ct_eq(
        expected.as_bytes(),
        given.as_bytes(),
    ))
}

/// The parts of an `Authorization: AWS4-HMAC-SHA256 …` header.
struct Authorization<'a> {
    key_id: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    signed_headers: &'a str,
    signature: &'a str,
}

impl<'a> Authorization<'a> {
    fn parse(value: &'a str) -> Option<Authorization<'a>> {
        let rest = value.strip_prefix("AWS4-HMAC-SHA256 ")?;
        let (mut credential, mut signed_headers, mut signature) = (None, None, None);
        for part in rest.split(',') {
            let (name, value) = part.trim().split_once('=')?;
            match name {
                "Credential" => credential = Some(value),
                "SignedHeaders" => signed_headers = Some(value),
                "Signature" => signature = Some(value),
                _ => return None,
            }
        }
        let mut scope = credential?.split('/');
        let authorization = Authorization {
            key_id: scope.next()?,
            date: scope.next()?,
            region: scope.next()?,
            service: scope.next()?,
            signed_headers: signed_headers?,
            signature: signature?,
        };
        (scope.next() == Some("aws4_request") && scope.next().is_none()).then_some(authorization)
    }
}

/// A presigned request's authentication, from its query (`X-Amz-Credential`, …).
struct Presigned<'a> {
    key_id: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    amz_date: &'a str,
    expires: &'a str,
    signed_headers: &'a str,
    signature: &'a str,
    security_token: Option<&'a str>,
}

/// The query parameters of a presigned request's authentication, left out of what is signed.
const PRESIGN_PARAMETERS: [&str; 7] = [
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
    "X-Amz-Security-Token",
];

/// The longest a presigned request may be valid (`X-Amz-Expires`), as AWS allows: 7 days.
const MAX_EXPIRES: u64 = 604_800;

impl<'a> Presigned<'a> {
    fn parse(query: &'a [(String, String)]) -> Option<Presigned<'a>> {
        let parameter = |name: &str| {
            query
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.as_str())
        };
        if parameter("X-Amz-Algorithm")? != "AWS4-HMAC-SHA256" {
            return None;
        }
        let mut scope = parameter("X-Amz-Credential")?.split('/');
        let presigned = Presigned {
            key_id: scope.next()?,
            date: scope.next()?,
            region: scope.next()?,
            service: scope.next()?,
            amz_date: parameter("X-Amz-Date")?,
            expires: parameter("X-Amz-Expires")?,
            signed_headers: parameter("X-Amz-SignedHeaders")?,
            signature: parameter("X-Amz-Signature")?,
            security_token: parameter("X-Amz-Security-Token"),
        };
        (scope.next() == Some("aws4_request") && scope.next().is_none()).then_some(presigned)
    }
}

/// Percent-encodes as SigV4's canonical form does: all but `A-Z a-z 0-9 - _ . ~`.
fn sigv4_encode(text: &str) -> String {
    const SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(text, SET).to_string()
}

impl SigV4 {
    /// Signatures scoped to `region` and the service `execute-api`, no key yet, a clock skew of
    /// at most 5 minutes.
    pub fn new(region: impl Into<String>) -> SigV4 {
        SigV4 {
            keys: HashMap::new(),
            region: region.into(),
            service: "execute-api".into(),
            max_skew: Duration::from_secs(300),
        }
    }

    /// Accepts signatures made with this access key id and secret.
    pub fn key(mut self, access_key_id: impl Into<String>, secret: impl Into<String>) -> SigV4 {
        self.keys.insert(access_key_id.into(), secret.into());
        self
    }

    /// The service the credential scope names (default `execute-api`, as API Gateway's).
    pub fn service(mut self, service: impl Into<String>) -> SigV4 {
        self.service = service.into();
        self
    }

    /// How far a request's `X-Amz-Date` may be from this server's clock, either way.
    pub fn max_skew(mut self, max_skew: Duration) -> SigV4 {
        self.max_skew = max_skew;
        self
    }

    /// No key was given.
    pub(crate) fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Checks a request signed in its `Authorization` header. `target` is the request line's
    /// path and query as sent (still percent-encoded), `now` this server's clock.
    pub(crate) fn verify(
        &self,
        method: &str,
        target: &str,
        headers: &HeaderMap,
        body: &[u8],
        now: SystemTime,
    ) -> Result<(), Refusal> {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let authorization = header("authorization")
            .and_then(Authorization::parse)
            .ok_or_else(|| Refusal {
                kind: "IncompleteSignatureException",
                message: "Authorization header requires 'Credential', 'Signature' and \
                          'SignedHeaders' parameters of the AWS4-HMAC-SHA256 algorithm."
                    .into(),
            })?;
        let Some(secret) = self.keys.get(authorization.key_id) else {
            return Err(Refusal::unknown_key());
        };
        if authorization.region != self.region {
            return Err(Refusal::invalid(format!(
                "Credential should be scoped to a valid region, not '{}'.",
                authorization.region
            )));
        }
        if authorization.service != self.service {
            return Err(Refusal::invalid(format!(
                "Credential should be scoped to correct service: '{}'.",
                self.service
            )));
        }
        let amz_date = header("x-amz-date").ok_or_else(|| Refusal {
            kind: "IncompleteSignatureException",
            message: "Authorization header requires existence of either a 'X-Amz-Date' or a \
                      'Date' header."
                .into(),
        })?;
        let time = parse_amz_date(amz_date)
            .ok_or_else(|| Refusal::invalid(format!("X-Amz-Date `{amz_date}` is not a date")))?;
        if !amz_date.starts_with(authorization.date) || authorization.date.len() != 8 {
            return Err(Refusal::invalid(format!(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date \
                 from HTTP: '{}' != '{}'.",
                authorization.date,
                &amz_date[..8.min(amz_date.len())]
            )));
        }
        // Either way: a request from the future is as suspect as an old one.
        let skew = now
            .duration_since(time)
            .unwrap_or_else(|early| early.duration());
        if skew > self.max_skew {
            return Err(Refusal::invalid(format!(
                "Signature expired: {amz_date} is more than {} s from the server's time {}.",
                self.max_skew.as_secs(),
                humantime::format_rfc3339_seconds(now)
            )));
        }
        let mut signed = Vec::new();
        for name in authorization.signed_headers.split(';') {
            let value = header(name).ok_or_else(|| {
                Refusal::invalid(format!("the signed header `{name}` is not in the request"))
            })?;
            signed.push((name, value));
        }
        let host = header("host").unwrap_or_default();
        let url = format!("http://{host}{target}");
        let expected = expected_signature(
            &(authorization.key_id, secret.as_str()),
            (&self.region, &self.service, time),
            SignableRequest::new(method, url, signed.into_iter(), SignableBody::Bytes(body)),
        )?;
        if same(&expected, authorization.signature) {
            Ok(())
        } else {
            Err(Refusal::mismatch())
        }
    }
}

impl SigV4 {
    /// Checks a WebSocket handshake signed with SigV4, as API Gateway checks one for a
    /// `$connect` route whose authorization is `AWS_IAM`: presigned in its query (what a
    /// browser can send) or signed in its `Authorization` header. `path` is the request's path
    /// as sent, `query` its parameters decoded. The access key id that signed it.
    pub(crate) fn verify_handshake(
        &self,
        path: &str,
        query: &[(String, String)],
        headers: &HeaderMap,
        now: SystemTime,
    ) -> Result<String, Refusal> {
        let encoded = |pairs: &mut dyn Iterator<Item = &(String, String)>| {
            pairs
                .map(|(k, v)| format!("{}={}", sigv4_encode(k), sigv4_encode(v)))
                .collect::<Vec<_>>()
                .join("&")
        };
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let Some(presigned) = Presigned::parse(query) else {
            if query.iter().any(|(k, _)| k.starts_with("X-Amz-")) {
                return Err(Refusal {
                    kind: "IncompleteSignatureException",
                    message: "A presigned request needs X-Amz-Algorithm AWS4-HMAC-SHA256,                               X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders                               and X-Amz-Signature."
                        .into(),
                });
            }
            let query = encoded(&mut query.iter());
            let target = if query.is_empty() {
                path.to_owned()
            } else {
                format!("{path}?{query}")
            };
            self.verify("GET", &target, headers, b"", now)?;
            let key_id = header("authorization")
                .and_then(Authorization::parse)
                .map(|a| a.key_id.to_owned())
                .unwrap_or_default();
            return Ok(key_id);
        };
        let Some(secret) = self.keys.get(presigned.key_id) else {
            return Err(Refusal::unknown_key());
        };
        if presigned.region != self.region || presigned.service != self.service {
            return Err(Refusal::invalid(format!(
                "Credential should be scoped to region '{}' and service '{}'.",
                self.region, self.service
            )));
        }
        let time = parse_amz_date(presigned.amz_date)
            .filter(|_| presigned.amz_date.starts_with(presigned.date))
            .ok_or_else(|| {
                Refusal::invalid(format!(
                    "X-Amz-Date `{}` is not a date of the credential's day",
                    presigned.amz_date
                ))
            })?;
        let expires = presigned
            .expires
            .parse::<u64>()
            .ok()
            .filter(|s| (1..=MAX_EXPIRES).contains(s))
            .ok_or_else(|| {
                Refusal::invalid(format!(
                    "X-Amz-Expires must be a number of seconds from 1 to {MAX_EXPIRES}"
                ))
            })?;
        let early = time
            .duration_since(now)
            .is_ok_and(|ahead| ahead > self.max_skew);
        let ends = time.checked_add(Duration::from_secs(expires));
        if early || ends.is_none_or(|ends| now > ends) {
            return Err(Refusal::invalid(format!(
                "Signature expired: signed at {} for {expires} s; the server's time is {}.",
                presigned.amz_date,
                humantime::format_rfc3339_seconds(now)
            )));
        }
        let mut signed = Vec::new();
        for name in presigned.signed_headers.split(';') {
            let value = header(name).ok_or_else(|| {
                Refusal::invalid(format!("the signed header `{name}` is not in the request"))
            })?;
            signed.push((name, value));
        }
        let rest = encoded(
            &mut query
                .iter()
                .filter(|(k, _)| !PRESIGN_PARAMETERS.contains(&k.as_str())),
        );
        let host = header("host").unwrap_or_default();
        let url = if rest.is_empty() {
            format!("http://{host}{path}")
        } else {
            format!("http://{host}{path}?{rest}")
        };
        // The SDKs presign a GET's empty body either as its hash or as `UNSIGNED-PAYLOAD`.
        for body in [SignableBody::Bytes(b""), SignableBody::UnsignedPayload] {
            let mut settings = SigningSettings::default();
            settings.signature_location = aws_sigv4::http_request::SignatureLocation::QueryParams;
            settings.expires_in = Some(Duration::from_secs(expires));
            let expected = expected_signature_with(
                (presigned.key_id, secret, presigned.security_token),
                (&self.region, &self.service, time),
                SignableRequest::new("GET", url.as_str(), signed.iter().copied(), body),
                settings,
            )?;
            if same(&expected, presigned.signature) {
                return Ok(presigned.key_id.to_owned());
            }
        }
        Err(Refusal::mismatch())
    }
}

/// The signature AWS's signer computes for `request` with this key, scope and time. Every
/// header given is signed (the request's `SignedHeaders`, nothing left out by default).
fn expected_signature(
    (key_id, secret): &(&str, &str),
    (region, service, time): (&str, &str, SystemTime),
    request: Result<SignableRequest<'_>, aws_sigv4::http_request::SigningError>,
) -> Result<String, Refusal> {
    expected_signature_with(
        (key_id, secret, None),
        (region, service, time),
        request,
        SigningSettings::default(),
    )
}

/// [`expected_signature`] with a session token and settings of its own (a presigned request's).
fn expected_signature_with(
    (key_id, secret, session_token): (&str, &str, Option<&str>),
    (region, service, time): (&str, &str, SystemTime),
    request: Result<SignableRequest<'_>, aws_sigv4::http_request::SigningError>,
    mut settings: SigningSettings,
) -> Result<String, Refusal> {
    let request = request.map_err(|e| Refusal::invalid(format!("cannot read the request: {e}")))?;
    let identity = Credentials::new(
        key_id,
        secret,
        session_token.map(str::to_owned),
        None,
        "ws-runtime",
    )
    .into();
    settings.excluded_headers = Some(Vec::new());
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(time)
        .settings(settings)
        .build()
        .map_err(|e| Refusal::invalid(e.to_string()))?
        .into();
    let output = sign(request, &params).map_err(|e| Refusal::invalid(e.to_string()))?;
    Ok(output.signature().to_owned())
}

/// `20240101T120000Z` → that instant.
fn parse_amz_date(text: &str) -> Option<SystemTime> {
    let b = text.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' || !digits(0..8) || !digits(9..15) {
        return None;
    }
    let rfc3339 = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &text[0..4],
        &text[4..6],
        &text[6..8],
        &text[9..11],
        &text[11..13],
        &text[13..15]
    );
    humantime::parse_rfc3339(&rfc3339).ok()
}

/// AWS credentials a client presigns its handshakes with (SigV4 in the URL's query, what a
/// browser can send too), for an API Gateway `$connect` whose authorization is `AWS_IAM`: the
/// client side of [`SigV4`].
///
/// ```
/// use std::time::Duration;
/// use ws_runtime::Presign;
///
/// let presign = Presign::new("eu-west-1", "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
///     .expires_in(Duration::from_secs(60)); // the default
/// ```
#[derive(Clone)]
pub struct Presign {
    region: String,
    access_key_id: String,
    secret: String,
    session_token: Option<String>,
    expires_in: Duration,
}

impl std::fmt::Debug for Presign {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secret and the session token stay out of logs.
        f.debug_struct("Presign")
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("session_token", &self.session_token.is_some())
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// Why a URL cannot be presigned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PresignError {
    /// The URL is not `ws://` or `wss://` with a host.
    #[error("`{0}` is not a ws:// or wss:// URL with a host")]
    Url(String),
    /// AWS's signer refused the request.
    #[error("the signer refused: {0}")]
    Signer(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl Presign {
    /// The long-term key `access_key_id` and its secret, for `region` and the service
    /// `execute-api`; URLs valid for 60 seconds.
    pub fn new(
        region: impl Into<String>,
        access_key_id: impl Into<String>,
        secret: impl Into<String>,
    ) -> Presign {
        Presign {
            region: region.into(),
            access_key_id: access_key_id.into(),
            secret: secret.into(),
            session_token: None,
            expires_in: Duration::from_secs(60),
        }
    }

    /// Temporary credentials' session token (`X-Amz-Security-Token`).
    pub fn session_token(mut self, token: impl Into<String>) -> Presign {
        self.session_token = Some(token.into());
        self
    }

    /// How long a presigned URL stays valid (API Gateway takes up to 7 days).
    pub fn expires_in(mut self, expires_in: Duration) -> Presign {
        self.expires_in = expires_in;
        self
    }

    /// `url` (`ws://` or `wss://`, its query kept) with the SigV4 query parameters of a `GET`
    /// signed at `now` over its `host`.
    ///
    /// # Errors
    /// [`PresignError`].
    pub fn url(&self, url: &str, now: SystemTime) -> Result<String, PresignError> {
        let (scheme, rest) = url
            .split_once("://")
            .filter(|(scheme, _)| matches!(*scheme, "ws" | "wss"))
            .ok_or_else(|| PresignError::Url(url.to_owned()))?;
        let host = rest.split(['/', '?']).next().unwrap_or_default();
        if host.is_empty() {
            return Err(PresignError::Url(url.to_owned()));
        }
        // The signature is over the HTTP request the handshake is.
        let http = format!(
            "{}://{rest}",
            if scheme == "wss" { "https" } else { "http" }
        );
        let identity = Credentials::new(
            &self.access_key_id,
            &self.secret,
            self.session_token.clone(),
            None,
            "presign",
        )
        .into();
        let mut settings = SigningSettings::default();
        settings.signature_location = aws_sigv4::http_request::SignatureLocation::QueryParams;
        settings.expires_in = Some(self.expires_in);
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name("execute-api")
            .time(now)
            .settings(settings)
            .build()
            .map_err(|e| PresignError::Signer(Box::new(e)))?
            .into();
        let request = SignableRequest::new(
            "GET",
            &http,
            [("host", host)].into_iter(),
            SignableBody::Bytes(b""),
        )
        .map_err(|e| PresignError::Signer(Box::new(e)))?;
        let (instructions, _) = sign(request, &params)
            .map_err(|e| PresignError::Signer(Box::new(e)))?
            .into_parts();
        let mut request = axum::http::Request::get(&http)
            .body(())
            .map_err(|e| PresignError::Signer(Box::new(e)))?;
        instructions.apply_to_request_http1x(&mut request);
        let target = request.uri().path_and_query().map_or("/", |p| p.as_str());
        Ok(format!("{scheme}://{host}{target}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A request signed by AWS's signer as a client would sign it.
    fn signed(secret: &str, region: &str, time: SystemTime, body: &[u8]) -> HeaderMap {
        let identity = Credentials::new("AKID", secret, None, None, "test").into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(region)
            .name("execute-api")
            .time(time)
            .settings(SigningSettings::default())
            .build()
            .unwrap()
            .into();
        let request = SignableRequest::new(
            "POST",
            "http://127.0.0.1:9/prod/%40connections/abc%3D",
            [
                ("host", "127.0.0.1:9"),
                ("content-type", "application/json"),
            ]
            .into_iter(),
            SignableBody::Bytes(body),
        )
        .unwrap();
        let (instructions, _) = sign(request, &params).unwrap().into_parts();
        let mut headers = HeaderMap::new();
        headers.insert("host", "127.0.0.1:9".parse().unwrap());
        headers.insert("content-type", "application/json".parse().unwrap());
        for (name, value) in instructions.headers() {
            headers.insert(
                axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        headers
    }

    /// A handshake URL presigned by AWS's signer as a client would presign it: its query,
    /// decoded, the signer's parameters included.
    fn presigned(secret: &str, time: SystemTime, expires: u64) -> Vec<(String, String)> {
        let identity = Credentials::new("AKID", secret, None, None, "test").into();
        let mut settings = SigningSettings::default();
        settings.signature_location = aws_sigv4::http_request::SignatureLocation::QueryParams;
        settings.expires_in = Some(Duration::from_secs(expires));
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region("us-east-1")
            .name("execute-api")
            .time(time)
            .settings(settings)
            .build()
            .unwrap()
            .into();
        let request = SignableRequest::new(
            "GET",
            "http://127.0.0.1:9/Prod?room=a%20b",
            [("host", "127.0.0.1:9")].into_iter(),
            SignableBody::Bytes(b""),
        )
        .unwrap();
        let (instructions, _) = sign(request, &params).unwrap().into_parts();
        let mut query = vec![("room".to_owned(), "a b".to_owned())];
        for (name, value) in instructions.params() {
            query.push(((*name).to_owned(), value.to_string()));
        }
        query
    }

    #[test]
    fn a_handshake_presigned_by_aws_passes_and_any_change_fails() {
        let sigv4 = SigV4::new("us-east-1").key("AKID", "secret");
        let now = SystemTime::now();
        let mut headers = HeaderMap::new();
        headers.insert("host", "127.0.0.1:9".parse().unwrap());
        let query = presigned("secret", now, 300);
        assert_eq!(
            sigv4.verify_handshake("/Prod", &query, &headers, now),
            Ok("AKID".to_owned())
        );
        let kind = |r: Result<String, Refusal>| r.unwrap_err().kind;
        // Another secret, path, parameter or host.
        let other = presigned("not the secret", now, 300);
        assert_eq!(
            kind(sigv4.verify_handshake("/Prod", &other, &headers, now)),
            "InvalidSignatureException"
        );
        assert_eq!(
            kind(sigv4.verify_handshake("/Dev", &query, &headers, now)),
            "InvalidSignatureException"
        );
        let mut changed = query.clone();
        changed[0].1 = "a c".into();
        assert_eq!(
            kind(sigv4.verify_handshake("/Prod", &changed, &headers, now)),
            "InvalidSignatureException"
        );
        let mut elsewhere = HeaderMap::new();
        elsewhere.insert("host", "127.0.0.1:10".parse().unwrap());
        assert_eq!(
            kind(sigv4.verify_handshake("/Prod", &query, &elsewhere, now)),
            "InvalidSignatureException"
        );
        // Expired, or from too far ahead; an unknown key; a presign missing a part.
        let later = now + Duration::from_secs(301);
        assert_eq!(
            kind(sigv4.verify_handshake("/Prod", &query, &headers, later)),
            "InvalidSignatureException"
        );
        let ahead = presigned("secret", now + Duration::from_secs(3600), 300);
        assert_eq!(
            kind(sigv4.verify_handshake("/Prod", &ahead, &headers, now)),
            "InvalidSignatureException"
        );
        let unknown = SigV4::new("us-east-1").key("OTHER", "secret");
        assert_eq!(
            kind(unknown.verify_handshake("/Prod", &query, &headers, now)),
            "UnrecognizedClientException"
        );
        let partial: Vec<_> = query
            .iter()
            .filter(|(k, _)| k != "X-Amz-Date")
            .cloned()
            .collect();
        assert_eq!(
            kind(sigv4.verify_handshake("/Prod", &partial, &headers, now)),
            "IncompleteSignatureException"
        );
        // Nothing signed at all.
        assert_eq!(
            kind(sigv4.verify_handshake("/Prod", &[], &headers, now)),
            "IncompleteSignatureException"
        );
        // An expiry past what the clock can name is refused, not a panic.
        let mut huge = query.clone();
        for (k, v) in &mut huge {
            if k == "X-Amz-Expires" {
                *v = u64::MAX.to_string();
            }
        }
        assert_eq!(
            kind(sigv4.verify_handshake("/Prod", &huge, &headers, now)),
            "InvalidSignatureException"
        );
    }

    #[test]
    fn a_request_aws_signs_passes_and_any_change_fails() {
        let sigv4 = SigV4::new("us-east-1").key("AKID", "secret");
        let now = SystemTime::now();
        let target = "/prod/%40connections/abc%3D";
        let headers = signed("secret", "us-east-1", now, b"hello");
        assert_eq!(
            sigv4.verify("POST", target, &headers, b"hello", now),
            Ok(())
        );
        let kind = |r: Result<(), Refusal>| r.unwrap_err().kind;
        assert_eq!(
            kind(sigv4.verify("POST", target, &headers, b"hellO", now)),
            "InvalidSignatureException"
        );
        assert_eq!(
            kind(sigv4.verify("DELETE", target, &headers, b"hello", now)),
            "InvalidSignatureException"
        );
        let wrong_secret = signed("not the secret", "us-east-1", now, b"hello");
        assert_eq!(
            kind(sigv4.verify("POST", target, &wrong_secret, b"hello", now)),
            "InvalidSignatureException"
        );
        let other_region = signed("secret", "eu-west-1", now, b"hello");
        let refusal = sigv4.verify("POST", target, &other_region, b"hello", now);
        assert!(refusal.unwrap_err().message.contains("region"));
        let later = now + Duration::from_secs(301);
        let refusal = sigv4.verify("POST", target, &headers, b"hello", later);
        assert!(
            refusal
                .unwrap_err()
                .message
                .starts_with("Signature expired")
        );
        // Signed more than the skew ahead of this clock: refused as well; just inside, let in.
        let earlier = now - Duration::from_secs(301);
        let refusal = sigv4.verify("POST", target, &headers, b"hello", earlier);
        assert!(
            refusal
                .unwrap_err()
                .message
                .starts_with("Signature expired")
        );
        let within = now + Duration::from_secs(299);
        assert_eq!(
            sigv4.verify("POST", target, &headers, b"hello", within),
            Ok(())
        );
        let unknown = SigV4::new("us-east-1").key("OTHER", "secret");
        assert_eq!(
            kind(unknown.verify("POST", target, &headers, b"hello", now)),
            "UnrecognizedClientException"
        );
    }

    #[test]
    fn dates_parse_as_aws_writes_them() {
        let parsed = parse_amz_date("20240102T030405Z").unwrap();
        assert_eq!(
            humantime::format_rfc3339_seconds(parsed).to_string(),
            "2024-01-02T03:04:05Z"
        );
        for bad in [
            "2024-01-02T03:04:05Z",
            "20240102T030405",
            "2024010xT030405Z",
            "",
        ] {
            assert!(parse_amz_date(bad).is_none(), "{bad}");
        }
    }
}
