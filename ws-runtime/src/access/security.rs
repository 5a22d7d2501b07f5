//! Who may connect: a channel's security schemes (where the handshake carries each credential),
//! the credentials a handshake brought, the principal `authorize` makes of them, and the
//! verifiers that come with the runtime ([`ApiKeys`]; [`Jwt`] with feature `jwt`).
//!
//! A channel with [`Security`] refuses a handshake that lacks the credentials of every one of its
//! alternatives with HTTP 401 before any handler runs (as API Gateway does when an authorizer's
//! identity source is missing). The credentials go to the router's verifier of each scheme
//! ([`crate::Router::verify`]), then to the handler's `authorize`, whose principal every later
//! event sees ([`crate::Context::principal`]) and `GET @connections` shows. A principal with an
//! expiry is closed with [`CloseReason::TokenExpired`] when it comes. Routes that need scopes
//! ([`crate::ChannelOptions::scopes`]) answer `Forbidden` to a principal without them.

use std::collections::BTreeSet;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::time::SystemTime;

use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

#[cfg(doc)]
use crate::transport::close::CloseReason;

/// Where a scheme's credential is in the handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Location {
    /// A query parameter (`httpApiKey` in `query`).
    Query(String),
    /// A header (`httpApiKey` in `header`); names are case-insensitive.
    Header(String),
    /// A cookie (`httpApiKey` in `cookie`).
    Cookie(String),
    /// `Authorization: Bearer <token>` (`http` bearer, `oauth2`, `openIdConnect`), or the
    /// `access_token` query parameter (RFC 6750 §2.3): browsers cannot set a WebSocket
    /// handshake's headers.
    Bearer,
    /// `Authorization: Basic <base64 user:password>` (`http` basic).
    Basic,
}

/// A security scheme of the document, by its name (`components.securitySchemes` key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scheme {
    /// The scheme's name: what verifiers are registered under.
    pub name: String,
    /// Where its credential is.
    pub location: Location,
}

impl Scheme {
    /// A scheme called `name` whose credential is at `location`.
    pub fn new(name: impl Into<String>, location: Location) -> Scheme {
        Scheme {
            name: name.into(),
            location,
        }
    }
}

/// A channel's security: any one of its alternatives, each of which needs all of its schemes
/// (the document's list of requirements).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Security {
    /// The alternatives, in the document's order.
    pub alternatives: Vec<Vec<Scheme>>,
}

impl Security {
    /// One alternative: all of `schemes`.
    pub fn all_of(schemes: impl IntoIterator<Item = Scheme>) -> Security {
        Security {
            alternatives: vec![schemes.into_iter().collect()],
        }
    }

    /// These alternatives, and `schemes` as another.
    pub fn or(mut self, schemes: impl IntoIterator<Item = Scheme>) -> Security {
        self.alternatives.push(schemes.into_iter().collect());
        self
    }

    /// The credentials of the first alternative the handshake has all of, or `None`.
    pub(crate) fn credentials(
        &self,
        query: &[(String, String)],
        headers: &HeaderMap,
    ) -> Option<Credentials> {
        self.alternatives.iter().find_map(|schemes| {
            let found = schemes
                .iter()
                .map(|scheme| {
                    find(&scheme.location, query, headers).map(|c| (scheme.name.clone(), c))
                })
                .collect::<Option<Vec<_>>>()?;
            Some(Credentials { found })
        })
    }
}

/// One credential, as the handshake carried it.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credential {
    /// An API key (from the query, a header or a cookie).
    ApiKey(String),
    /// A bearer token.
    Bearer(String),
    /// A user name and password.
    Basic {
        /// The user.
        user: String,
        /// The password.
        password: String,
    },
}

impl std::fmt::Debug for Credential {
    /// Secrets are not printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::ApiKey(_) => f.write_str("ApiKey(…)"),
            Credential::Bearer(_) => f.write_str("Bearer(…)"),
            Credential::Basic { user, .. } => write!(f, "Basic {{ user: {user:?}, .. }}"),
        }
    }
}

/// The credentials of the alternative a handshake satisfied, by scheme.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    found: Vec<(String, Credential)>,
}

impl Credentials {
    /// The credential of the scheme called `scheme`.
    pub fn get(&self, scheme: &str) -> Option<&Credential> {
        self.found
            .iter()
            .find(|(name, _)| name == scheme)
            .map(|(_, c)| c)
    }

    /// Each scheme's name and credential, in the alternative's order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Credential)> {
        self.found.iter().map(|(name, c)| (name.as_str(), c))
    }
}

fn find(
    location: &Location,
    query: &[(String, String)],
    headers: &HeaderMap,
) -> Option<Credential> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let authorization = |kind: &str| {
        let value = header("authorization")?;
        let (scheme, rest) = value.split_once(' ')?;
        scheme
            .eq_ignore_ascii_case(kind)
            .then(|| rest.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    match location {
        Location::Query(name) => query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
            .map(Credential::ApiKey),
        Location::Header(name) => header(name)
            .filter(|v| !v.is_empty())
            .map(|v| Credential::ApiKey(v.to_owned())),
        Location::Cookie(name) => headers
            .get_all("cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
            .map(|v| Credential::ApiKey(v.to_owned())),
        Location::Bearer => authorization("bearer")
            .or_else(|| {
                query
                    .iter()
                    .find(|(k, _)| k == "access_token")
                    .map(|(_, v)| v.clone())
                    .filter(|v| !v.is_empty())
            })
            .map(Credential::Bearer),
        Location::Basic => {
            use base64::Engine;
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(authorization("basic")?)
                .ok()?;
            let text = String::from_utf8(decoded).ok()?;
            let (user, password) = text.split_once(':')?;
            Some(Credential::Basic {
                user: user.to_owned(),
                password: password.to_owned(),
            })
        }
    }
}

/// Marks the handshake's credentials sensitive, so that no `Debug` of its headers prints them:
/// `Authorization`, `Proxy-Authorization`, `Cookie`, and every header a scheme of `security`
/// reads.
pub(crate) fn mark_sensitive(headers: &mut HeaderMap, security: Option<&Security>) {
    use axum::http::header::{AUTHORIZATION, COOKIE, PROXY_AUTHORIZATION};
    let read_by_a_scheme = |name: &str| {
        security.is_some_and(|security| {
            security.alternatives.iter().flatten().any(|scheme| {
                matches!(&scheme.location, Location::Header(header) if header.eq_ignore_ascii_case(name))
            })
        })
    };
    for (name, value) in headers.iter_mut() {
        if name == AUTHORIZATION
            || name == PROXY_AUTHORIZATION
            || name == COOKIE
            || read_by_a_scheme(name.as_str())
        {
            value.set_sensitive(true);
        }
    }
}

/// Who connected, as the verifiers and `authorize` made it out: every later event of the
/// connection sees it, and `GET @connections/{id}` shows it (without the expiry's instant).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Principal {
    /// Who it is: a token's `sub`, an API key's owner.
    pub subject: String,
    /// What it may do: a token's `scope`/`scp`, an API key's scopes.
    pub scopes: BTreeSet<String>,
    /// A token's claims (or anything a verifier keeps); `null` for none.
    #[serde(default)]
    pub claims: serde_json::Value,
    /// When it stops being valid: the connection is closed with [`CloseReason::TokenExpired`] then.
    #[serde(skip)]
    pub expires_at: Option<SystemTime>,
}

impl Principal {
    /// A principal called `subject`, with no scopes.
    pub fn new(subject: impl Into<String>) -> Principal {
        Principal {
            subject: subject.into(),
            ..Principal::default()
        }
    }

    /// With these scopes too.
    pub fn with_scopes<S: Into<String>>(
        mut self,
        scopes: impl IntoIterator<Item = S>,
    ) -> Principal {
        self.scopes.extend(scopes.into_iter().map(Into::into));
        self
    }

    /// Whether it has every one of `scopes`.
    pub fn has_scopes(&self, scopes: &[String]) -> bool {
        scopes.iter().all(|s| self.scopes.contains(s))
    }
}

/// What checks one scheme's credentials: a refusal is HTTP 401 for the handshake, with no reason
/// given to the client (the reason is logged). It may wait (fetch keys, ask an introspection
/// endpoint, read a database): the handshake waits with it, within the accept loop's handshake
/// deadline.
///
/// ```
/// use ws_runtime::{Credential, Principal, Verify};
///
/// /// Lets in the bearer token `open-sesame` only.
/// struct Sesame;
///
/// impl Verify for Sesame {
///     type Error = &'static str;
///
///     async fn verify(&self, credential: &Credential) -> Result<Principal, Self::Error> {
///         match credential {
///             Credential::Bearer(token) if token == "open-sesame" => Ok(Principal::new("ali")),
///             _ => Err("not the word"),
///         }
///     }
/// }
/// ```
pub trait Verify: Send + Sync + 'static {
    /// Why a credential is refused: an error type, or text (`&'static str`, `String`).
    type Error: Into<BoxError>;

    /// The principal `credential` stands for.
    ///
    /// # Errors
    /// Why the credential is refused (logged, not sent).
    fn verify(
        &self,
        credential: &Credential,
    ) -> impl Future<Output = Result<Principal, Self::Error>> + Send;
}

/// Any error, boxed: what a verifier's refusal becomes behind the router.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// One verifier for several schemes (a JWT verifier for two bearer schemes, say).
impl<V: Verify> Verify for Arc<V> {
    type Error = V::Error;

    fn verify(
        &self,
        credential: &Credential,
    ) -> impl Future<Output = Result<Principal, V::Error>> + Send {
        V::verify(self, credential)
    }
}

/// A [`Verify`] behind a pointer: its future boxed, one allocation per verification.
pub(crate) trait DynVerify: Send + Sync + 'static {
    fn verify_boxed<'a>(
        &'a self,
        credential: &'a Credential,
    ) -> Pin<Box<dyn Future<Output = Result<Principal, BoxError>> + Send + 'a>>;
}

impl<V: Verify> DynVerify for V {
    fn verify_boxed<'a>(
        &'a self,
        credential: &'a Credential,
    ) -> Pin<Box<dyn Future<Output = Result<Principal, BoxError>> + Send + 'a>> {
        Box::pin(async move { self.verify(credential).await.map_err(Into::into) })
    }
}

/// Why the verifiers refused a handshake's credentials (logged; the client gets 401).
#[derive(Debug, thiserror::Error)]
pub(crate) enum Refused {
    /// A credential of a scheme that no verifier checks.
    #[error("`{scheme}`: no verifier checks this scheme")]
    NoVerifier { scheme: String },
    /// The scheme's verifier refused it.
    #[error("`{scheme}`: {source}")]
    Verifier {
        scheme: String,
        #[source]
        source: BoxError,
    },
}

/// The router's verifiers, by scheme name.
pub(crate) type Verifiers = Arc<Vec<(String, Arc<dyn DynVerify>)>>;

/// What the verifiers make of `credentials`: one principal, the first verifier's, with every
/// verifier's scopes and the earliest expiry (`None` for no credentials). Every credential is
/// checked: one whose scheme has no verifier is refused ([`crate::Router::build`] refuses such a
/// router, so that takes a verifier list built some other way). A refusal names its scheme.
pub(crate) async fn verify(
    verifiers: &[(String, Arc<dyn DynVerify>)],
    credentials: &Credentials,
) -> Result<Option<Principal>, Refused> {
    let mut principal: Option<Principal> = None;
    for (scheme, credential) in credentials.iter() {
        let Some((_, verifier)) = verifiers.iter().find(|(name, _)| name == scheme) else {
            return Err(Refused::NoVerifier {
                scheme: scheme.to_owned(),
            });
        };
        let found =
            verifier
                .verify_boxed(credential)
                .await
                .map_err(|source| Refused::Verifier {
                    scheme: scheme.to_owned(),
                    source,
                })?;
        principal = Some(match principal {
            None => found,
            Some(mut first) => {
                first.scopes.extend(found.scopes);
                first.expires_at = match (first.expires_at, found.expires_at) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                first
            }
        });
    }
    Ok(principal)
}

/// API keys, each standing for a principal, compared in constant time.
///
/// ```
/// use ws_runtime::{ApiKeys, Principal};
///
/// let keys = ApiKeys::new().key("k-3f9a", Principal::new("reporting").with_scopes(["read"]));
/// ```
#[derive(Clone, Default)]
pub struct ApiKeys {
    keys: Vec<(String, Principal)>,
}

impl std::fmt::Debug for ApiKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeys")
            .field("keys", &self.keys.len())
            .finish()
    }
}

impl ApiKeys {
    /// No keys.
    pub fn new() -> ApiKeys {
        ApiKeys::default()
    }

    /// And `key`, standing for `principal`.
    pub fn key(mut self, key: impl Into<String>, principal: Principal) -> ApiKeys {
        self.keys.push((key.into(), principal));
        self
    }

    /// Keys from text: one a line, `KEY SUBJECT [SCOPE …]`; blank lines and `#` comments are
    /// skipped.
    ///
    /// # Errors
    /// A line with a key and no subject, with its number.
    pub fn parse(text: &str) -> Result<ApiKeys, ApiKeysError> {
        ApiKeys::parse_from(text, "the text")
    }

    /// Keys from a file, as [`ApiKeys::parse`] reads them.
    ///
    /// # Errors
    /// The file cannot be read, or a line is malformed; the error names the file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<ApiKeys, ApiKeysError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ApiKeysError::Read {
            path: path.to_owned(),
            source,
        })?;
        ApiKeys::parse_from(&text, &path.display().to_string())
    }

    /// Keys from the environment variable `name`, as [`ApiKeys::parse`] reads them (lines or
    /// `;`-separated entries).
    ///
    /// # Errors
    /// The variable is not set, or an entry is malformed.
    pub fn from_env(name: &str) -> Result<ApiKeys, ApiKeysError> {
        let text = std::env::var(name).map_err(|source| ApiKeysError::Variable {
            name: name.to_owned(),
            source,
        })?;
        ApiKeys::parse_from(&text.replace(';', "\n"), &format!("${name}"))
    }

    fn parse_from(text: &str, origin: &str) -> Result<ApiKeys, ApiKeysError> {
        let mut keys = ApiKeys::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut words = line.split_whitespace();
            let (Some(key), Some(subject)) = (words.next(), words.next()) else {
                return Err(ApiKeysError::Malformed {
                    origin: origin.to_owned(),
                    line: number + 1,
                });
            };
            keys = keys.key(key, Principal::new(subject).with_scopes(words));
        }
        Ok(keys)
    }
}

/// Why API keys could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiKeysError {
    /// The file cannot be read.
    #[error("{}: {source}", path.display())]
    Read {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The environment variable is not set, or not UTF-8.
    #[error("${name}: {source}")]
    Variable {
        /// The variable.
        name: String,
        /// Why.
        #[source]
        source: std::env::VarError,
    },
    /// A line with a key and no subject.
    #[error("{origin}: line {line}: expected `KEY SUBJECT [SCOPE …]`")]
    Malformed {
        /// Where the line is: a file, `$VARIABLE`, or the text.
        origin: String,
        /// Its number, from 1.
        line: usize,
    },
}

/// Why [`ApiKeys`] refused a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApiKeyRefused {
    /// The credential is a user and password, not a key.
    #[error("not an API key")]
    NotAKey,
    /// No key matches.
    #[error("an unknown API key")]
    Unknown,
}

impl Verify for ApiKeys {
    type Error = ApiKeyRefused;

    /// Every key is compared, each in constant time, so the time taken says nothing about which
    /// key came close.
    async fn verify(&self, credential: &Credential) -> Result<Principal, ApiKeyRefused> {
        let (Credential::ApiKey(given) | Credential::Bearer(given)) = credential else {
            return Err(ApiKeyRefused::NotAKey);
        };
        let mut found = None;
        for (key, principal) in &self.keys {
            if bool::from(key.as_bytes().ct_eq(given.as_bytes())) {
                found = Some(principal);
            }
        }
        found.cloned().ok_or(ApiKeyRefused::Unknown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        map
    }

    #[test]
    fn credentials_come_from_where_each_scheme_says() {
        let query = vec![("api_key".to_owned(), "q1".to_owned())];
        let h = headers(&[
            ("authorization", "Bearer t0k"),
            ("x-key", "h1"),
            ("cookie", "a=1; session=c1"),
        ]);
        let found = |location: Location| {
            Security::all_of([Scheme::new("s", location)])
                .credentials(&query, &h)
                .and_then(|c| c.get("s").cloned())
        };
        assert_eq!(
            found(Location::Query("api_key".into())),
            Some(Credential::ApiKey("q1".into()))
        );
        assert_eq!(
            found(Location::Header("X-Key".into())),
            Some(Credential::ApiKey("h1".into()))
        );
        assert_eq!(
            found(Location::Cookie("session".into())),
            Some(Credential::ApiKey("c1".into()))
        );
        assert_eq!(
            found(Location::Bearer),
            Some(Credential::Bearer("t0k".into()))
        );
        assert_eq!(found(Location::Basic), None);
        let from_query = vec![("access_token".to_owned(), "q0k".to_owned())];
        let bearer = Security::all_of([Scheme::new("b", Location::Bearer)]);
        assert_eq!(
            bearer
                .credentials(&from_query, &HeaderMap::new())
                .unwrap()
                .get("b"),
            Some(&Credential::Bearer("q0k".into()))
        );
        assert_eq!(found(Location::Query("other".into())), None);
        let basic = headers(&[("authorization", "Basic YWRhOnMzY3JldA==")]);
        let security = Security::all_of([Scheme::new("b", Location::Basic)]);
        assert_eq!(
            security.credentials(&[], &basic).unwrap().get("b"),
            Some(&Credential::Basic {
                user: "ada".into(),
                password: "s3cret".into()
            })
        );
    }

    #[test]
    fn the_first_alternative_with_every_credential_wins() {
        let security = Security::all_of([
            Scheme::new("key", Location::Query("k".into())),
            Scheme::new("jwt", Location::Bearer),
        ])
        .or([Scheme::new("jwt", Location::Bearer)]);
        let h = headers(&[("authorization", "bearer abc")]);
        let found = security.credentials(&[], &h).unwrap();
        assert_eq!(found.iter().count(), 1);
        assert_eq!(found.get("jwt"), Some(&Credential::Bearer("abc".into())));
        assert!(security.credentials(&[], &HeaderMap::new()).is_none());
    }

    #[tokio::test]
    async fn api_keys_from_text_and_their_principals() {
        let keys = ApiKeys::parse("# keys\nk1 alice read write\n\nk2 bob\n").unwrap();
        let alice = keys.verify(&Credential::ApiKey("k1".into())).await.unwrap();
        assert_eq!(alice.subject, "alice");
        assert!(alice.has_scopes(&["read".into(), "write".into()]));
        assert_eq!(
            keys.verify(&Credential::ApiKey("k2".into()))
                .await
                .unwrap()
                .subject,
            "bob"
        );
        let refused = async |key: &str| keys.verify(&Credential::ApiKey(key.into())).await;
        assert_eq!(refused("k3").await.unwrap_err(), ApiKeyRefused::Unknown);
        assert_eq!(refused("k").await.unwrap_err(), ApiKeyRefused::Unknown);
        let basic = Credential::Basic {
            user: "k1".into(),
            password: "k1".into(),
        };
        assert_eq!(
            keys.verify(&basic).await.unwrap_err(),
            ApiKeyRefused::NotAKey
        );
        let malformed = ApiKeys::parse("k1 ada\nlonely").unwrap_err();
        assert!(
            matches!(malformed, ApiKeysError::Malformed { line: 2, .. }),
            "{malformed:?}"
        );
        assert_eq!(
            malformed.to_string(),
            "the text: line 2: expected `KEY SUBJECT [SCOPE …]`"
        );
        assert_eq!(
            format!("{:?}", Credential::ApiKey("secret".into())),
            "ApiKey(…)"
        );
    }
}
