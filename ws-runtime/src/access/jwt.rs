//! JWT bearer tokens (feature `jwt`, on the `jsonwebtoken` crate with its pure-Rust crypto):
//! HS256/384/512 with a shared secret, or RS, PS, ES and EdDSA with the keys of a JWKS file or
//! URL, read again when a token names a key id it does not know (a key rotated in) and when they
//! are older than [`Jwt::refresh_every`] (a key rotated out). `exp` and `nbf` are checked with no
//! leeway unless one is given (`exp` to the fraction of a second); `iss` and `aud` when set, and
//! then a token without them is refused.

use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant, SystemTime};

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use crate::access::security::{Credential, Principal, Verify};
use crate::transport::http_client::{self, FetchError, Outgoing};

/// Why a [`Jwt`] could not be made, read its keys, or verify a token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JwtError {
    /// [`Jwt::hs256`] with an empty secret.
    #[error("the JWT secret is empty")]
    EmptySecret,
    /// A JWKS URL that does not parse.
    #[error("`{url}` is not a URL: {source}")]
    NotAUrl {
        /// The URL.
        url: String,
        /// Why.
        #[source]
        source: axum::http::uri::InvalidUri,
    },
    /// A JWKS URL without a host.
    #[error("`{url}` names no host")]
    NoHost {
        /// The URL.
        url: String,
    },
    /// A JWKS URL that is not `http://` or `https://`.
    #[error("`{url}` is not an http:// or https:// URL")]
    NotHttp {
        /// The URL.
        url: String,
    },
    /// An `https://` JWKS URL, in a build without feature `tls`.
    #[error("`{url}`: fetching a JWKS over https needs ws-runtime's feature `tls`")]
    HttpsNeedsTls {
        /// The URL.
        url: String,
    },
    /// A JWKS file that cannot be read.
    #[error("{}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A JWKS URL that could not be fetched.
    #[error("{uri}: {source}")]
    Fetch {
        /// The URL.
        uri: axum::http::Uri,
        /// Why.
        #[source]
        source: FetchError,
    },
    /// A file or a body that is not a JWKS.
    #[error("{origin}: not a JWKS: {source}")]
    NotAJwks {
        /// The file or URL.
        origin: String,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// A credential that is not a bearer token.
    #[error("not a bearer token")]
    NotBearer,
    /// A token whose header does not decode.
    #[error("the token's header: {0}")]
    Header(#[source] jsonwebtoken::errors::Error),
    /// A token signed with an algorithm this verifier does not take.
    #[error("the algorithm {0:?} is not accepted")]
    Algorithm(Algorithm),
    /// A token for a JWKS that names no key.
    #[error("the token names no key (`kid`)")]
    NoKeyId,
    /// A token naming a key the JWKS does not have.
    #[error("no key `{kid}` in {origin}")]
    UnknownKey {
        /// The key id the token names.
        kid: String,
        /// The JWKS file or URL.
        origin: String,
    },
    /// A token whose signature or claims (`exp`, `nbf`, `iss`, `aud`) are refused.
    #[error("{0}")]
    Token(#[source] jsonwebtoken::errors::Error),
    /// A token whose claims are not of the types a JWT's are.
    #[error("claims: {0}")]
    Claims(#[source] serde_json::Error),
}

/// Where the keys come from: a secret, or a JWKS's keys by `kid`, decoded once each.
enum Keys {
    Secret(Arc<DecodingKey>),
    Jwks(Box<Jwks>),
}

/// A JWKS file or URL, its keys, and when they were read.
struct Jwks {
    source: Source,
    /// The keys, and when they were read (`None`: not yet).
    keys: RwLock<(JwksKeys, Option<Instant>)>,
    /// One reading at a time: the handshakes that find the keys stale wait for it, and use
    /// what it read.
    reading: tokio::sync::Mutex<()>,
    refresh_every: Duration,
}

enum Source {
    File(PathBuf),
    Url {
        uri: axum::http::Uri,
        #[cfg(feature = "tls")]
        tls: Option<crate::transport::tls::ClientTls>,
    },
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::File(path) => write!(f, "{}", path.display()),
            Source::Url { uri, .. } => write!(f, "{uri}"),
        }
    }
}

/// A JWKS's keys by `kid`.
type JwksKeys = Vec<(String, Arc<DecodingKey>)>;

/// A JWKS is read again for an unknown `kid` at most this often: tokens naming made-up keys
/// cannot make every handshake read the file or fetch the URL.
const REREAD_AT_MOST_EVERY: Duration = Duration::from_secs(1);

/// How old a JWKS's keys may get before they are read again (a key rotated out stops being
/// accepted then), unless [`Jwt::refresh_every`] says otherwise.
const REFRESH_EVERY: Duration = Duration::from_secs(300);

/// The most leeway [`Jwt::leeway`] gives: `jsonwebtoken` subtracts it from the time now.
const MAX_LEEWAY_SECONDS: u64 = 86_400;

/// The most a JWKS URL's answer may weigh, and the longest it may take.
const FETCH_LIMIT: usize = 1 << 20;
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// A verifier of JWT bearer tokens: the principal is the token's `sub`, its scopes the `scope`
/// claim (space-separated, as OAuth 2.0 writes it) or `scp` (a list), its claims the whole
/// payload, and its expiry `exp` (the connection is closed then).
///
/// ```
/// let jwt = ws_runtime::Jwt::hs256(b"a-long-random-secret")?
///     .issuer("https://auth.example.com/")
///     .audience("feed");
/// # Ok::<(), ws_runtime::JwtError>(())
/// ```
pub struct Jwt {
    keys: Keys,
    /// One validation per accepted algorithm: `jsonwebtoken` wants every algorithm it is given
    /// to be of the key's family, so a token is checked with its own algorithm's alone (made
    /// once here, not per handshake).
    validations: Vec<Validation>,
}

impl std::fmt::Debug for Jwt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys = match &self.keys {
            Keys::Secret(_) => "a shared secret".to_owned(),
            Keys::Jwks(jwks) => jwks.source.to_string(),
        };
        f.debug_struct("Jwt")
            .field("keys", &keys)
            .field(
                "algorithms",
                &self
                    .validations
                    .iter()
                    .map(|v| v.algorithms[0])
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

fn validations(algorithms: &[Algorithm]) -> Vec<Validation> {
    algorithms
        .iter()
        .map(|&algorithm| {
            let mut validation = Validation::new(algorithm);
            validation.validate_nbf = true;
            validation.leeway = 0;
            validation.validate_aud = false;
            validation.required_spec_claims =
                ["exp", "sub"].iter().map(|c| (*c).to_owned()).collect();
            validation
        })
        .collect()
}

impl Jwt {
    /// Tokens signed with HMAC-SHA256 and `secret`.
    ///
    /// # Errors
    /// A secret `jsonwebtoken` refuses (an empty one).
    pub fn hs256(secret: &[u8]) -> Result<Jwt, JwtError> {
        if secret.is_empty() {
            return Err(JwtError::EmptySecret);
        }
        Ok(Jwt {
            keys: Keys::Secret(Arc::new(
                DecodingKey::from_secret(secret).map_err(JwtError::Token)?,
            )),
            validations: validations(&[Algorithm::HS256]),
        })
    }

    /// Tokens signed with the keys of the JWKS file at `path` (RS256/384/512, PS256/384/512,
    /// ES256/384, EdDSA), each found by the token's `kid`. The file is read again when a token
    /// names a `kid` it does not have (at most once a second), and when its keys are older than
    /// [`Jwt::refresh_every`].
    ///
    /// # Errors
    /// The file cannot be read, or is not a JWKS; the error names it.
    pub fn jwks_file(path: impl Into<PathBuf>) -> Result<Jwt, JwtError> {
        let path = path.into();
        let keys = parse_jwks(&read_file(&path)?, &path.display().to_string())?;
        Ok(Jwt::jwks(Source::File(path), Some(keys)))
    }

    /// Tokens signed with the keys of the JWKS at `url` (an identity provider's `jwks_uri`:
    /// `https://…/.well-known/jwks.json`), as [`Jwt::jwks_file`] reads a file: fetched with a
    /// GET (HTTP/1.1; `https://` with feature `tls`, trusting the system's roots unless
    /// [`Jwt::tls`] says otherwise), again for an unknown `kid` (at most once a second) and when
    /// the keys are older than [`Jwt::refresh_every`]. A fetch that fails keeps the keys
    /// already read (and is logged).
    ///
    /// The keys are fetched at the first handshake; [`Jwt::load`] fetches them now, so that a
    /// server does not start with a JWKS it cannot reach.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), ws_runtime::JwtError> {
    /// let jwt = ws_runtime::Jwt::jwks_url("https://auth.example.com/.well-known/jwks.json")?
    ///     .issuer("https://auth.example.com/")
    ///     .load()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// `url` is not an `http://` or `https://` URL with a host (`https://` needs feature `tls`).
    pub fn jwks_url(url: &str) -> Result<Jwt, JwtError> {
        let uri: axum::http::Uri = url.parse().map_err(|source| JwtError::NotAUrl {
            url: url.to_owned(),
            source,
        })?;
        let url = || url.to_owned();
        if uri.host().is_none() {
            return Err(JwtError::NoHost { url: url() });
        }
        match uri.scheme_str() {
            Some("http") => {}
            #[cfg(feature = "tls")]
            Some("https") => {}
            #[cfg(not(feature = "tls"))]
            Some("https") => return Err(JwtError::HttpsNeedsTls { url: url() }),
            _ => return Err(JwtError::NotHttp { url: url() }),
        }
        Ok(Jwt::jwks(
            Source::Url {
                uri,
                #[cfg(feature = "tls")]
                tls: None,
            },
            None,
        ))
    }

    /// What an `https://` JWKS URL is trusted by (feature `tls`): a CA of your own, say. The
    /// system's roots by default.
    #[cfg(feature = "tls")]
    pub fn tls(mut self, client_tls: crate::transport::tls::ClientTls) -> Jwt {
        if let Keys::Jwks(jwks) = &mut self.keys
            && let Source::Url { tls, .. } = &mut jwks.source
        {
            *tls = Some(client_tls);
        }
        self
    }

    /// How old a JWKS's keys may get before the next handshake reads them again (5 minutes by
    /// default): a key removed from the JWKS is refused from then on.
    pub fn refresh_every(mut self, every: Duration) -> Jwt {
        if let Keys::Jwks(jwks) = &mut self.keys {
            jwks.refresh_every = every;
        }
        self
    }

    /// Reads the JWKS now (fetches its URL) unless it was read already.
    ///
    /// # Errors
    /// The JWKS cannot be read or fetched, or is not a JWKS; the error names it.
    pub async fn load(self) -> Result<Jwt, JwtError> {
        if let Keys::Jwks(jwks) = &self.keys {
            let read = jwks.keys.read().unwrap_or_else(PoisonError::into_inner).1;
            if read.is_none() {
                let keys = jwks.source.read().await?;
                *jwks.keys.write().unwrap_or_else(PoisonError::into_inner) =
                    (keys, Some(Instant::now()));
            }
        }
        Ok(self)
    }

    fn jwks(source: Source, keys: Option<JwksKeys>) -> Jwt {
        let algorithms = [
            Algorithm::RS256,
            Algorithm::RS384,
            Algorithm::RS512,
            Algorithm::PS256,
            Algorithm::PS384,
            Algorithm::PS512,
            Algorithm::ES256,
            Algorithm::ES384,
            Algorithm::EdDSA,
        ];
        let read = keys.as_ref().map(|_| Instant::now());
        Jwt {
            keys: Keys::Jwks(Box::new(Jwks {
                source,
                keys: RwLock::new((keys.unwrap_or_default(), read)),
                reading: tokio::sync::Mutex::new(()),
                refresh_every: REFRESH_EVERY,
            })),
            validations: validations(&algorithms),
        }
    }

    /// Tokens must name this issuer (`iss`): a token that names another, or none, is refused.
    pub fn issuer(mut self, issuer: &str) -> Jwt {
        for validation in &mut self.validations {
            validation.set_issuer(&[issuer]);
            validation.required_spec_claims.insert("iss".to_owned());
        }
        self
    }

    /// Tokens must name this audience (`aud`): a token that names others only, or none, is
    /// refused.
    pub fn audience(mut self, audience: &str) -> Jwt {
        for validation in &mut self.validations {
            validation.set_audience(&[audience]);
            validation.validate_aud = true;
            validation.required_spec_claims.insert("aud".to_owned());
        }
        self
    }

    /// Accept `exp` and `nbf` this much off (clocks drift), at most a day; none by default.
    pub fn leeway(mut self, leeway: Duration) -> Jwt {
        for validation in &mut self.validations {
            validation.leeway = leeway.as_secs().min(MAX_LEEWAY_SECONDS);
        }
        self
    }

    async fn key(&self, kid: Option<&str>) -> Result<Arc<DecodingKey>, JwtError> {
        match &self.keys {
            Keys::Secret(key) => Ok(Arc::clone(key)),
            Keys::Jwks(jwks) => jwks.key(kid.ok_or(JwtError::NoKeyId)?).await,
        }
    }
}

impl Jwks {
    /// The key `kid`, reading the JWKS again first when its keys are stale, or when `kid` is
    /// not among them and they were not read within the last second.
    async fn key(&self, kid: &str) -> Result<Arc<DecodingKey>, JwtError> {
        let find = |keys: &JwksKeys| {
            keys.iter()
                .find(|(id, _)| id == kid)
                .map(|(_, key)| Arc::clone(key))
        };
        // What to do with the keys as they are: `Ok` a key, `Err(true)` read them again first.
        let look = || {
            let known = self.keys.read().unwrap_or_else(PoisonError::into_inner);
            let age = known.1.map(|read| read.elapsed());
            match (find(&known.0), age) {
                (_, None) => Err(true),
                (Some(key), Some(age)) if age < self.refresh_every => Ok(key),
                (Some(_), Some(_)) => Err(true),
                (None, Some(age)) => Err(age >= REREAD_AT_MOST_EVERY),
            }
        };
        let unknown = || JwtError::UnknownKey {
            kid: kid.to_owned(),
            origin: self.source.to_string(),
        };
        match look() {
            Ok(key) => return Ok(key),
            Err(false) => return Err(unknown()),
            Err(true) => {}
        }
        let _reading = self.reading.lock().await;
        // Another handshake may have read them while this one waited.
        match look() {
            Ok(key) => return Ok(key),
            Err(false) => return Err(unknown()),
            Err(true) => {}
        }
        match self.source.read().await {
            Ok(fresh) => {
                let key = find(&fresh);
                *self.keys.write().unwrap_or_else(PoisonError::into_inner) =
                    (fresh, Some(Instant::now()));
                key.ok_or_else(unknown)
            }
            Err(error) => {
                // Keep what was read: an identity provider that is down for a moment must not
                // lock everyone out. The next reading waits as long as after a success.
                let mut known = self.keys.write().unwrap_or_else(PoisonError::into_inner);
                let had_keys = known.1.is_some();
                if had_keys {
                    known.1 = Some(Instant::now());
                }
                tracing::warn!(%error, "the JWKS could not be read again; keeping the keys read before");
                let key = find(&known.0);
                drop(known);
                match key {
                    Some(key) => Ok(key),
                    None if had_keys => Err(unknown()),
                    None => Err(error),
                }
            }
        }
    }
}

impl Source {
    async fn read(&self) -> Result<JwksKeys, JwtError> {
        match self {
            Source::File(path) => parse_jwks(&read_file(path)?, &self.to_string()),
            Source::Url {
                uri,
                #[cfg(feature = "tls")]
                tls,
            } => {
                let fetched = fetch(
                    uri,
                    #[cfg(feature = "tls")]
                    tls.as_ref(),
                );
                let body = tokio::time::timeout(FETCH_TIMEOUT, fetched)
                    .await
                    .unwrap_or(Err(FetchError::TimedOut(FETCH_TIMEOUT)))
                    .map_err(|source| JwtError::Fetch {
                        uri: uri.clone(),
                        source,
                    })?;
                parse_jwks(&body, &self.to_string())
            }
        }
    }
}

fn read_file(path: &std::path::Path) -> Result<String, JwtError> {
    std::fs::read_to_string(path).map_err(|source| JwtError::Read {
        path: path.to_owned(),
        source,
    })
}

/// The keys of a JWKS that have a `kid`, each decoded once. A key `jsonwebtoken` cannot use (an
/// unknown curve, say) is left out: a token that names it is refused as for no key.
fn parse_jwks(text: &str, origin: &str) -> Result<JwksKeys, JwtError> {
    let set: jsonwebtoken::jwk::JwkSet =
        serde_json::from_str(text).map_err(|source| JwtError::NotAJwks {
            origin: origin.to_owned(),
            source,
        })?;
    Ok(set
        .keys
        .iter()
        .filter_map(|jwk| {
            let kid = jwk.common.key_id.clone()?;
            let key = DecodingKey::from_jwk(jwk).ok()?;
            Some((kid, Arc::new(key)))
        })
        .collect())
}

/// A GET of a JWKS URL: the body of a 200 (at most [`FETCH_LIMIT`]), as text.
async fn fetch(
    uri: &axum::http::Uri,
    #[cfg(feature = "tls")] tls: Option<&crate::transport::tls::ClientTls>,
) -> Result<String, FetchError> {
    let mut headers = axum::http::HeaderMap::new();
    headers.insert(
        axum::http::header::ACCEPT,
        axum::http::HeaderValue::from_static("application/json"),
    );
    let request = Outgoing {
        method: axum::http::Method::GET,
        uri,
        headers,
        body: axum::body::Bytes::new(),
        limit: FETCH_LIMIT,
        #[cfg(feature = "tls")]
        tls,
    };
    let answer = http_client::send(request).await?;
    if answer.status != axum::http::StatusCode::OK {
        return Err(FetchError::Status(answer.status));
    }
    String::from_utf8(answer.body.to_vec()).map_err(|_| FetchError::NotUtf8)
}

impl Verify for Jwt {
    type Error = JwtError;

    async fn verify(&self, credential: &Credential) -> Result<Principal, JwtError> {
        let Credential::Bearer(token) = credential else {
            return Err(JwtError::NotBearer);
        };
        let header = jsonwebtoken::decode_header(token).map_err(JwtError::Header)?;
        let validation = self
            .validations
            .iter()
            .find(|v| v.algorithms[0] == header.alg)
            .ok_or(JwtError::Algorithm(header.alg))?;
        let key = self.key(header.kid.as_deref()).await?;
        let data = jsonwebtoken::decode::<serde_json::Value>(token, &key, validation)
            .map_err(JwtError::Token)?;
        let claims = Claims::deserialize(&data.claims).map_err(JwtError::Claims)?;
        let scopes: Vec<String> = match (claims.scope, claims.scp) {
            (Some(scope), _) | (None, Some(Scopes::Text(scope))) => {
                scope.split_whitespace().map(str::to_owned).collect()
            }
            (None, Some(Scopes::List(list))) => list,
            (None, None) => Vec::new(),
        };
        Ok(Principal {
            expires_at: claims.exp.instant(),
            claims: data.claims,
            ..Principal::new(claims.sub).with_scopes(scopes)
        })
    }
}

/// The claims a verifier reads, typed (`jsonwebtoken` has checked `exp`, `nbf`, `iss` and `aud`
/// against the validation); the whole payload stays in [`Principal::claims`].
#[derive(Deserialize)]
struct Claims {
    sub: String,
    exp: NumericDate,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    scp: Option<Scopes>,
}

/// `scp`: a list (Okta, Auth0), or space-separated text (Microsoft Entra ID).
#[derive(Deserialize)]
#[serde(untagged)]
enum Scopes {
    List(Vec<String>),
    Text(String),
}

/// A JWT NumericDate (RFC 7519 §2): seconds since the Unix epoch, fractions included.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(try_from = "f64")]
struct NumericDate(f64);

impl TryFrom<f64> for NumericDate {
    type Error = &'static str;

    fn try_from(seconds: f64) -> Result<NumericDate, &'static str> {
        if seconds.is_finite() && seconds >= 0.0 {
            Ok(NumericDate(seconds))
        } else {
            Err("a NumericDate is a finite number of seconds since 1970")
        }
    }
}

impl NumericDate {
    /// The instant it names; `None` for one past what the system clock can name (a token that,
    /// for this process, never expires).
    fn instant(self) -> Option<SystemTime> {
        let since = Duration::try_from_secs_f64(self.0).ok()?;
        SystemTime::UNIX_EPOCH.checked_add(since)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(json: &str) -> Result<NumericDate, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn a_numeric_date_keeps_its_fraction_and_never_overflows() {
        let half = date("1700000000.5").unwrap().instant().unwrap();
        assert_eq!(
            half.duration_since(SystemTime::UNIX_EPOCH).unwrap(),
            Duration::from_millis(1_700_000_000_500)
        );
        // Past what the clock can name: no expiry, and no panic.
        for huge in [
            "18446744073709551615",
            "9223372036854775808",
            "1.8e19",
            "1e300",
        ] {
            assert_eq!(date(huge).unwrap().instant(), None, "{huge}");
        }
        for bad in ["-1", "\"soon\"", "null"] {
            assert!(date(bad).is_err(), "{bad}");
        }
    }
}
