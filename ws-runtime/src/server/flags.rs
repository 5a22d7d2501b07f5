//! The operator's flags: what a server's `main` takes from its command line, each flag also from
//! an environment variable (`--jwt-secret` or `JWT_SECRET`): the verifiers of the API's security
//! schemes, TLS, API Gateway's limits and the rates, the cluster, the management API, metrics
//! and docs. Generated `main`s and the examples all read them here, so every server built on
//! ws-runtime is run, secured and limited the same way, without editing its `main`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::access::security::{ApiKeys, Location};
use crate::server::router::Router;
use crate::server::{App, Server};
use crate::transport::limits::{Limits, Rate};

/// Each flag, by what it sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Name {
    Addr,
    TlsCert,
    TlsKey,
    JwtSecret,
    Jwks,
    Issuer,
    Audience,
    ApiKeys,
    MaxConnections,
    MaxMessageSize,
    MaxFrameSize,
    IdleTimeout,
    MaxLifetime,
    MessageRate,
    PrincipalRate,
    HandshakeRate,
    CompressedConnections,
    Redis,
    Nats,
    ManagementToken,
    ManagementCredentials,
    Region,
    Stage,
    Metrics,
    Docs,
}

/// One flag: what it sets, its name, its environment variable, the value it takes (`None`: a
/// switch) and what it does.
struct Spec {
    /// Read where `Name`'s order is checked (debug builds and tests).
    #[cfg_attr(not(debug_assertions), allow(dead_code))]
    name: Name,
    flag: &'static str,
    env: &'static str,
    value: Option<&'static str>,
    help: &'static str,
}

/// Every flag, in the order `--help` lists them: `Name`'s.
const SPECS: &[Spec] = &[
    Spec {
        name: Name::Addr,
        flag: "--addr",
        env: "ADDR",
        value: Some("HOST:PORT"),
        help: "where to listen (port 0 picks a free port)",
    },
    Spec {
        name: Name::TlsCert,
        flag: "--tls-cert",
        env: "TLS_CERT",
        value: Some("FILE"),
        help: "serve wss:// and https:// with this certificate chain (PEM; feature `tls`)...",
    },
    Spec {
        name: Name::TlsKey,
        flag: "--tls-key",
        env: "TLS_KEY",
        value: Some("FILE"),
        help: "...and its private key (PEM); both or neither",
    },
    Spec {
        name: Name::JwtSecret,
        flag: "--jwt-secret",
        env: "JWT_SECRET",
        value: Some("SECRET"),
        help: "bearer schemes take JWTs signed HS256 with SECRET (feature `jwt`; prefer the variable: arguments show in `ps`)",
    },
    Spec {
        name: Name::Jwks,
        flag: "--jwks",
        env: "JWKS",
        value: Some("FILE|URL"),
        help: "bearer schemes take JWTs signed with a key of this JWKS (RS, PS, ES, EdDSA), by `kid`",
    },
    Spec {
        name: Name::Issuer,
        flag: "--issuer",
        env: "ISSUER",
        value: Some("ISS"),
        help: "tokens must name this issuer (`iss`)",
    },
    Spec {
        name: Name::Audience,
        flag: "--audience",
        env: "AUDIENCE",
        value: Some("AUD"),
        help: "tokens must name this audience (`aud`)",
    },
    Spec {
        name: Name::ApiKeys,
        flag: "--api-keys",
        env: "API_KEYS",
        value: Some("FILE"),
        help: "API-key schemes (query, header, cookie) take the keys of FILE: one `KEY SUBJECT [SCOPE ...]` a line",
    },
    Spec {
        name: Name::MaxConnections,
        flag: "--max-connections",
        env: "MAX_CONNECTIONS",
        value: Some("N"),
        help: "open connections at most; more get HTTP 429 (default 10000)",
    },
    Spec {
        name: Name::MaxMessageSize,
        flag: "--max-message-size",
        env: "MAX_MESSAGE_SIZE",
        value: Some("BYTES"),
        help: "the largest message; over it, close 1009 (default 131072)",
    },
    Spec {
        name: Name::MaxFrameSize,
        flag: "--max-frame-size",
        env: "MAX_FRAME_SIZE",
        value: Some("BYTES"),
        help: "the largest frame; over it, close 1009 (default 32768)",
    },
    Spec {
        name: Name::IdleTimeout,
        flag: "--idle-timeout",
        env: "IDLE_TIMEOUT",
        value: Some("SECONDS"),
        help: "close a connection idle this long with 1001 (default 600)",
    },
    Spec {
        name: Name::MaxLifetime,
        flag: "--max-lifetime",
        env: "MAX_LIFETIME",
        value: Some("SECONDS"),
        help: "close a connection this old with 1001 (default 7200)",
    },
    Spec {
        name: Name::MessageRate,
        flag: "--message-rate",
        env: "MESSAGE_RATE",
        value: Some("PER_SECOND[/BURST]"),
        help: "messages per connection; over it, `Too Many Requests` (default: none)",
    },
    Spec {
        name: Name::PrincipalRate,
        flag: "--principal-rate",
        env: "PRINCIPAL_RATE",
        value: Some("PER_SECOND[/BURST]"),
        help: "messages per principal, across its connections (default: none)",
    },
    Spec {
        name: Name::HandshakeRate,
        flag: "--handshake-rate",
        env: "HANDSHAKE_RATE",
        value: Some("PER_SECOND[/BURST]"),
        help: "handshakes per source address; over it, HTTP 429 (default: none)",
    },
    Spec {
        name: Name::CompressedConnections,
        flag: "--compressed-connections",
        env: "COMPRESSED_CONNECTIONS",
        value: Some("N"),
        help: "connections that may use permessage-deflate at once, about 250 KiB each; 0 turns it off (default 1000)",
    },
    Spec {
        name: Name::Redis,
        flag: "--redis",
        env: "REDIS_URL",
        value: Some("URL"),
        help: "join the cluster of the nodes on this Redis: redis://…, redis+sentinel://…/SERVICE or redis+cluster://… (feature `redis`)",
    },
    Spec {
        name: Name::Nats,
        flag: "--nats",
        env: "NATS_URL",
        value: Some("URL"),
        help: "join the cluster of the nodes on these NATS servers: nats://host:port[,host:port…] (feature `nats`)",
    },
    Spec {
        name: Name::ManagementToken,
        flag: "--management-token",
        env: "MANAGEMENT_TOKEN",
        value: Some("TOKEN"),
        help: "serve API Gateway's @connections API for this bearer token",
    },
    Spec {
        name: Name::ManagementCredentials,
        flag: "--management-credentials",
        env: "MANAGEMENT_CREDENTIALS",
        value: Some("FILE"),
        help: "...or for requests signed with SigV4 by a key of FILE: one `ACCESS_KEY_ID SECRET_ACCESS_KEY` a line (feature `sigv4`)",
    },
    Spec {
        name: Name::Region,
        flag: "--region",
        env: "AWS_REGION",
        value: Some("REGION"),
        help: "the region SigV4 signatures are scoped to (default us-east-1)",
    },
    Spec {
        name: Name::Stage,
        flag: "--stage",
        env: "STAGE",
        value: Some("NAME"),
        help: "the stage: in handlers' context and in /NAME/@connections/{id}",
    },
    Spec {
        name: Name::Metrics,
        flag: "--metrics",
        env: "METRICS",
        value: None,
        help: "serve Prometheus metrics at /metrics",
    },
    Spec {
        name: Name::Docs,
        flag: "--docs",
        env: "DOCS",
        value: None,
        help: "serve the AsyncAPI document and a docs page at /docs",
    },
];

/// Why the flags cannot be taken, or the server they describe cannot start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FlagsError {
    /// A flag that takes a value came last, with none.
    #[error("{0} needs a value")]
    MissingValue(&'static str),
    /// A value that does not read as what its flag takes (the value is not repeated: it may be
    /// a secret).
    #[error("{flag} (or {env}) takes {expected}")]
    Invalid {
        /// The flag.
        flag: &'static str,
        /// Its environment variable.
        env: &'static str,
        /// What it takes.
        expected: &'static str,
    },
    /// One of two flags that go together.
    #[error("{0} and {1} go together")]
    Together(&'static str, &'static str),
    /// Two flags of which one at most may be given.
    #[error("give {0} or {1}, not both")]
    Either(&'static str, &'static str),
    /// A flag whose feature this build lacks.
    #[error("{flag} needs the `{feature}` feature: build with `--features {feature}`")]
    NeedsFeature {
        /// The flag.
        flag: &'static str,
        /// The feature (of the generated crate, and of ws-runtime).
        feature: &'static str,
    },
    /// A security scheme of the API that no flag gave credentials for: it would let no one in.
    #[error("the security scheme `{scheme}` takes {takes}: give {flags}")]
    NoVerifier {
        /// The scheme's name.
        scheme: String,
        /// What its credentials are.
        takes: &'static str,
        /// The flags (and variables) that give them.
        flags: &'static str,
    },
    /// A security scheme whose credentials no flag can check (HTTP basic): register a verifier
    /// in code ([`Router::verify`]).
    #[error(
        "the security scheme `{0}` (a user and password) has no flag: register a verifier for it with `Router::verify`"
    )]
    Unsupported(String),
    /// A verifier's flag for credentials no channel takes.
    #[error("{flag}: no channel of this API takes {takes}")]
    Unused {
        /// The flag.
        flag: &'static str,
        /// What it verifies.
        takes: &'static str,
    },
    /// A verifier that cannot be made: a JWKS that cannot be read, an API-key file that cannot
    /// be parsed.
    #[error("{flag}: {source}")]
    Verifier {
        /// The flag.
        flag: &'static str,
        /// What is wrong.
        #[source]
        source: crate::access::security::BoxError,
    },
    /// A management credentials file that cannot be read or parsed.
    #[error("{path}: {message}")]
    Credentials {
        /// The file.
        path: PathBuf,
        /// What is wrong (a line number).
        message: String,
    },
    /// The cluster's Redis URL.
    #[error(transparent)]
    Cluster(#[from] crate::registry::cluster::ClusterError),
    /// The TLS certificate or key.
    #[cfg(feature = "tls")]
    #[error(transparent)]
    Tls(#[from] crate::transport::tls::TlsError),
    /// The address cannot be listened on.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: String,
        /// Why.
        source: std::io::Error,
    },
}

impl FlagsError {
    /// The exit status a `main` ends with: 2 for flags that are wrong, 1 for a server that
    /// cannot start with them.
    pub fn exit_code(&self) -> u8 {
        match self {
            FlagsError::Listen { .. } => 1,
            _ => 2,
        }
    }
}

/// The limits and rates the flags set (the rest stay as the router has them).
#[derive(Debug, Default)]
struct LimitFlags {
    max_connections: Option<usize>,
    max_message_size: Option<usize>,
    max_frame_size: Option<usize>,
    idle_timeout: Option<Duration>,
    max_lifetime: Option<Duration>,
    message_rate: Option<Rate>,
    principal_rate: Option<Rate>,
    handshake_rate: Option<Rate>,
}

impl LimitFlags {
    /// `limits`, with these over them.
    fn over(&self, mut limits: Limits) -> Limits {
        let sizes = [
            (self.max_connections, &mut limits.max_connections),
            (self.max_message_size, &mut limits.max_message_size),
            (self.max_frame_size, &mut limits.max_frame_size),
        ];
        for (given, limit) in sizes {
            if let Some(given) = given {
                *limit = given;
            }
        }
        for (given, limit) in [
            (self.idle_timeout, &mut limits.idle_timeout),
            (self.max_lifetime, &mut limits.max_lifetime),
        ] {
            if let Some(given) = given {
                *limit = given;
            }
        }
        for (given, limit) in [
            (self.message_rate, &mut limits.message_rate),
            (self.principal_rate, &mut limits.principal_message_rate),
            (self.handshake_rate, &mut limits.handshake_rate),
        ] {
            if given.is_some() {
                *limit = given;
            }
        }
        limits
    }
}

/// What verifies bearer tokens: `Jwt` (feature `jwt`).
#[cfg(feature = "jwt")]
type JwtVerifier = crate::access::jwt::Jwt;

/// Without the `jwt` feature, nothing verifies bearer tokens: a verifier that cannot be made.
#[cfg(not(feature = "jwt"))]
enum JwtVerifier {}

#[cfg(not(feature = "jwt"))]
impl crate::access::security::Verify for JwtVerifier {
    type Error = std::convert::Infallible;

    async fn verify(
        &self,
        _: &crate::access::security::Credential,
    ) -> Result<crate::access::security::Principal, Self::Error> {
        match *self {}
    }
}

/// Where JWTs' keys come from.
#[cfg_attr(not(feature = "jwt"), allow(dead_code))]
enum JwtKeys {
    Secret(String),
    Jwks(String),
}

/// The operator's flags, read: what a server's `main` takes from its command line, each flag also
/// from an environment variable (`--jwt-secret` or `JWT_SECRET`): the verifiers of the API's
/// security schemes, TLS, API Gateway's limits and the rates, the cluster, the management API,
/// metrics and docs. [`Flags::apply`] puts them on a [`Router`], [`Flags::serve`] listens with
/// them; [`Flags::help`] lists them. Secrets are kept out of `Debug`.
///
/// ```no_run
/// # use ws_runtime::{Flags, Router};
/// # async fn run(router: Router, document: &str) -> Result<(), Box<dyn std::error::Error>> {
/// let flags = Flags::from_env(std::env::args().skip(1), "127.0.0.1:8080")?;
/// let router = flags.apply(router, document).await?;
/// let server = flags.serve(router.build()?).await?;
/// let banner = format!("listening on {}", server.local_addr());
/// server.until_stopped(&banner).await;
/// # Ok(()) }
/// ```
pub struct Flags {
    /// Where to listen.
    pub addr: String,
    /// `-h` or `--help` was given: print [`Flags::help`] (with your own flags) and exit.
    pub help: bool,
    /// The arguments these flags do not know, in order, for the caller's own flags (an unknown
    /// one is the caller's to refuse).
    pub rest: Vec<String>,
    tls: Option<(PathBuf, PathBuf)>,
    jwt: Option<JwtKeys>,
    issuer: Option<String>,
    audience: Option<String>,
    api_keys: Option<PathBuf>,
    limits: LimitFlags,
    /// `--compressed-connections`.
    compressed_connections: Option<usize>,
    /// `--redis` or `--nats`, and its URL (kept out of `Debug`: it may hold a password).
    cluster: Option<(EngineKind, String)>,
    management_token: Option<String>,
    management_credentials: Option<PathBuf>,
    region: String,
    stage: Option<String>,
    metrics: bool,
    docs: bool,
}

impl std::fmt::Debug for Flags {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let jwt = self.jwt.as_ref().map(|keys| match keys {
            JwtKeys::Secret(_) => "a shared secret".to_owned(),
            JwtKeys::Jwks(source) => source.clone(),
        });
        f.debug_struct("Flags")
            .field("addr", &self.addr)
            .field("tls", &self.tls)
            .field("jwt", &jwt)
            .field("api_keys", &self.api_keys)
            .field("limits", &self.limits)
            .field("compressed_connections", &self.compressed_connections)
            .field(
                "management_token",
                &self.management_token.as_ref().map(|_| "…"),
            )
            .field("management_credentials", &self.management_credentials)
            .field("stage", &self.stage)
            .field("metrics", &self.metrics)
            .field("docs", &self.docs)
            .finish_non_exhaustive()
    }
}

impl Flags {
    /// The flags of `args` (the program's name left out), then of the environment for those not
    /// given; `addr` unless `--addr` or `ADDR` says otherwise.
    ///
    /// # Errors
    /// A flag without its value, or a value that does not read as its flag's.
    pub fn from_env(
        args: impl IntoIterator<Item = String>,
        addr: &str,
    ) -> Result<Flags, FlagsError> {
        Flags::parse(args, addr, |name| std::env::var(name).ok())
    }

    /// [`Flags::from_env`] with the environment `env` gives (`None`: not set).
    ///
    /// # Errors
    /// As [`Flags::from_env`].
    pub fn parse(
        args: impl IntoIterator<Item = String>,
        addr: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Flags, FlagsError> {
        let mut given: Vec<Option<String>> = vec![None; SPECS.len()];
        let mut rest = Vec::new();
        let mut help = false;
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            if arg == "-h" || arg == "--help" {
                help = true;
                continue;
            }
            let (name, inline) = match arg.split_once('=') {
                Some((name, value)) if name.starts_with("--") => (name, Some(value.to_owned())),
                _ => (arg.as_str(), None),
            };
            let Some(index) = SPECS.iter().position(|spec| spec.flag == name) else {
                rest.push(arg);
                continue;
            };
            let spec = &SPECS[index];
            given[index] = Some(match (spec.value, inline) {
                (None, _) => "1".to_owned(),
                (Some(_), Some(value)) => value,
                (Some(_), None) => args.next().ok_or(FlagsError::MissingValue(spec.flag))?,
            });
        }
        // What was not given comes from the environment; empty is unset.
        for (value, spec) in given.iter_mut().zip(SPECS) {
            if value.is_none() {
                *value = env(spec.env).filter(|v| !v.is_empty());
            }
        }
        let mut read = Read { given };
        let tls = match (read.text(Name::TlsCert), read.text(Name::TlsKey)) {
            (Some(cert), Some(key)) => Some((cert.into(), key.into())),
            (None, None) => None,
            _ => return Err(FlagsError::Together("--tls-cert", "--tls-key")),
        };
        let jwt = match (read.text(Name::JwtSecret), read.text(Name::Jwks)) {
            (Some(secret), None) => Some(JwtKeys::Secret(secret)),
            (None, Some(jwks)) => Some(JwtKeys::Jwks(jwks)),
            (None, None) => None,
            (Some(_), Some(_)) => return Err(FlagsError::Either("--jwt-secret", "--jwks")),
        };
        let (issuer, audience) = (read.text(Name::Issuer), read.text(Name::Audience));
        if jwt.is_none() && (issuer.is_some() || audience.is_some()) {
            return Err(FlagsError::Together(
                "--issuer/--audience",
                "--jwt-secret or --jwks",
            ));
        }
        let size = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        let limits = LimitFlags {
            max_connections: read.number(Name::MaxConnections)?.map(size),
            max_message_size: read.number(Name::MaxMessageSize)?.map(size),
            max_frame_size: read.number(Name::MaxFrameSize)?.map(size),
            idle_timeout: read.number(Name::IdleTimeout)?.map(Duration::from_secs),
            max_lifetime: read.number(Name::MaxLifetime)?.map(Duration::from_secs),
            message_rate: read.rate(Name::MessageRate)?,
            principal_rate: read.rate(Name::PrincipalRate)?,
            handshake_rate: read.rate(Name::HandshakeRate)?,
        };
        Ok(Flags {
            addr: read.text(Name::Addr).unwrap_or_else(|| addr.to_owned()),
            help,
            rest,
            tls,
            jwt,
            issuer,
            audience,
            api_keys: read.text(Name::ApiKeys).map(PathBuf::from),
            limits,
            compressed_connections: read.count(Name::CompressedConnections)?.map(size),
            cluster: match (read.text(Name::Redis), read.text(Name::Nats)) {
                (Some(_), Some(_)) => return Err(FlagsError::Either("--redis", "--nats")),
                (Some(url), None) => Some((EngineKind::Redis, url)),
                (None, Some(url)) => Some((EngineKind::Nats, url)),
                (None, None) => None,
            },
            management_token: read.text(Name::ManagementToken),
            management_credentials: read.text(Name::ManagementCredentials).map(PathBuf::from),
            region: read
                .text(Name::Region)
                .unwrap_or_else(|| "us-east-1".to_owned()),
            stage: read.text(Name::Stage),
            metrics: read.switch(Name::Metrics)?,
            docs: read.switch(Name::Docs)?,
        })
    }

    /// The flags' lines for a `--help`: each flag, its variable and what it does.
    pub fn help() -> String {
        let mut text = String::new();
        for spec in SPECS {
            let flag = match spec.value {
                Some(value) => format!("{} {value}", spec.flag),
                None => spec.flag.to_owned(),
            };
            text.push_str(&format!(
                "  {flag:<38} {}\n  {:<38} (or {})\n",
                spec.help, "", spec.env
            ));
        }
        text.push_str("/healthz and /readyz always answer.");
        text
    }

    /// `router` as the flags say: a verifier for each security scheme its channels name (bearer
    /// schemes from `--jwt-secret` or `--jwks`, API-key schemes from `--api-keys`), the limits
    /// and rates, the cluster, the management API, the stage, metrics, and `document` with its
    /// docs page. A JWKS URL is fetched now: a server that cannot reach its identity provider
    /// does not start.
    ///
    /// # Errors
    /// A scheme no flag gives credentials for, a verifier's flag no scheme uses, a verifier that
    /// cannot be made, a flag whose feature this build lacks.
    pub async fn apply(&self, mut router: Router, document: &str) -> Result<Router, FlagsError> {
        let schemes: Vec<(String, Location)> = router
            .schemes()
            .map(|scheme| (scheme.name.clone(), scheme.location.clone()))
            .collect();
        let takes_bearer = schemes.iter().any(|(_, l)| *l == Location::Bearer);
        let takes_keys = schemes.iter().any(|(_, l)| {
            matches!(
                l,
                Location::Query(_) | Location::Header(_) | Location::Cookie(_)
            )
        });
        if self.jwt.is_some() && !takes_bearer {
            return Err(FlagsError::Unused {
                flag: "--jwt-secret/--jwks",
                takes: "bearer tokens",
            });
        }
        if self.api_keys.is_some() && !takes_keys {
            return Err(FlagsError::Unused {
                flag: "--api-keys",
                takes: "API keys",
            });
        }
        let jwt = if takes_bearer {
            self.jwt().await?
        } else {
            None
        };
        let keys = match &self.api_keys {
            Some(path) if takes_keys => {
                Some(
                    ApiKeys::from_file(path).map_err(|error| FlagsError::Verifier {
                        flag: "--api-keys",
                        source: error.into(),
                    })?,
                )
            }
            _ => None,
        };
        for (scheme, location) in schemes {
            router = match location {
                Location::Bearer => match &jwt {
                    Some(jwt) => router.verify(scheme, Arc::clone(jwt)),
                    None => {
                        return Err(FlagsError::NoVerifier {
                            scheme,
                            takes: "bearer tokens",
                            flags: "--jwt-secret or --jwks (JWT_SECRET, JWKS)",
                        });
                    }
                },
                Location::Query(_) | Location::Header(_) | Location::Cookie(_) => match &keys {
                    Some(keys) => router.verify(scheme, keys.clone()),
                    None => {
                        return Err(FlagsError::NoVerifier {
                            scheme,
                            takes: "API keys",
                            flags: "--api-keys FILE (API_KEYS)",
                        });
                    }
                },
                _ => return Err(FlagsError::Unsupported(scheme)),
            };
        }
        router.limits = self.limits.over(std::mem::take(&mut router.limits));
        if let Some(connections) = self.compressed_connections {
            router.compression = router.compression.for_connections(connections);
        }
        if let Some((kind, url)) = &self.cluster {
            router = router.cluster(cluster(*kind, url)?);
        }
        if let Some(token) = &self.management_token {
            router = router.management_api(token.clone());
        }
        if let Some(path) = &self.management_credentials {
            router = management_sigv4(router, path, &self.region)?;
        }
        if let Some(stage) = &self.stage {
            router = router.stage(stage.clone());
        }
        if self.metrics {
            router = router.metrics();
        }
        if self.docs {
            router = router.docs(document);
        }
        Ok(router)
    }

    /// The JWT verifier of `--jwt-secret` or `--jwks`, loaded, with its issuer and audience.
    #[cfg(feature = "jwt")]
    async fn jwt(&self) -> Result<Option<Arc<JwtVerifier>>, FlagsError> {
        use crate::access::jwt::Jwt;
        let flag = match self.jwt {
            Some(JwtKeys::Secret(_)) => "--jwt-secret",
            _ => "--jwks",
        };
        let error = |error: crate::access::jwt::JwtError| FlagsError::Verifier {
            flag,
            source: error.into(),
        };
        let mut jwt = match &self.jwt {
            None => return Ok(None),
            Some(JwtKeys::Secret(secret)) => Jwt::hs256(secret.as_bytes()).map_err(error)?,
            Some(JwtKeys::Jwks(url))
                if url.starts_with("http://") || url.starts_with("https://") =>
            {
                Jwt::jwks_url(url).map_err(error)?
            }
            Some(JwtKeys::Jwks(file)) => Jwt::jwks_file(file).map_err(error)?,
        };
        if let Some(issuer) = &self.issuer {
            jwt = jwt.issuer(issuer);
        }
        if let Some(audience) = &self.audience {
            jwt = jwt.audience(audience);
        }
        Ok(Some(Arc::new(jwt.load().await.map_err(error)?)))
    }

    /// Without the `jwt` feature, JWTs cannot be verified: a bearer scheme refuses to start.
    #[cfg(not(feature = "jwt"))]
    async fn jwt(&self) -> Result<Option<Arc<JwtVerifier>>, FlagsError> {
        if self.jwt.is_none() && self.issuer.is_none() && self.audience.is_none() {
            return Ok(None);
        }
        Err(FlagsError::NeedsFeature {
            flag: "--jwt-secret/--jwks",
            feature: "jwt",
        })
    }

    /// Listens on `--addr` (over TLS with `--tls-cert` and `--tls-key`) and serves `app`. A node
    /// of a cluster waits for its engine (Redis or NATS) first, at most 10 seconds (a warning on
    /// stderr if it did not answer: it joins when it does).
    ///
    /// # Errors
    /// The address cannot be listened on, the certificate or key cannot be read, or TLS was
    /// asked for in a build without the `tls` feature.
    pub async fn serve(&self, app: App) -> Result<Server, FlagsError> {
        if let Some(node) = app.cluster() {
            let wait = Duration::from_secs(10);
            if tokio::time::timeout(wait, node.ready()).await.is_err() {
                eprintln!(
                    "warning: the cluster's engine did not answer within {wait:?}; serving this node's clients, and joining the cluster when it does"
                );
            }
        }
        let listen = |source| FlagsError::Listen {
            addr: self.addr.clone(),
            source,
        };
        match &self.tls {
            None => app.listen(&self.addr).await.map_err(listen),
            #[cfg(feature = "tls")]
            Some((cert, key)) => {
                let tls = crate::transport::tls::Tls::from_pem_files(cert, key)?;
                app.listen_tls(&self.addr, tls).await.map_err(listen)
            }
            #[cfg(not(feature = "tls"))]
            Some(_) => Err(FlagsError::NeedsFeature {
                flag: "--tls-cert",
                feature: "tls",
            }),
        }
    }

    /// Whether `--tls-cert` and `--tls-key` were given: the scheme of the URLs a banner prints
    /// (`wss` or `ws`).
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }
}

/// The values given, by their flag's place in [`SPECS`]; each taken once.
struct Read {
    given: Vec<Option<String>>,
}

impl Read {
    /// `name`'s place in [`SPECS`] (they are in `Name`'s order: a test checks), and its spec.
    fn spec(name: Name) -> (usize, &'static Spec) {
        let index = name as usize;
        debug_assert_eq!(SPECS[index].name, name, "SPECS is in Name's order");
        (index, &SPECS[index])
    }

    fn text(&mut self, name: Name) -> Option<String> {
        self.given[Read::spec(name).0].take()
    }

    fn switch(&mut self, name: Name) -> Result<bool, FlagsError> {
        let (index, spec) = Read::spec(name);
        match self.given[index].take().as_deref() {
            None | Some("0" | "false" | "no") => Ok(false),
            Some("1" | "true" | "yes") => Ok(true),
            Some(_) => Err(FlagsError::Invalid {
                flag: spec.flag,
                env: spec.env,
                expected: "1, true or yes (0, false or no to leave it off)",
            }),
        }
    }

    /// A whole number above 0.
    fn number(&mut self, name: Name) -> Result<Option<u64>, FlagsError> {
        self.whole(name, 1, "a whole number above 0")
    }

    /// A whole number, 0 included.
    fn count(&mut self, name: Name) -> Result<Option<u64>, FlagsError> {
        self.whole(name, 0, "a whole number")
    }

    fn whole(
        &mut self,
        name: Name,
        least: u64,
        expected: &'static str,
    ) -> Result<Option<u64>, FlagsError> {
        let (index, spec) = Read::spec(name);
        let Some(text) = self.given[index].take() else {
            return Ok(None);
        };
        match text.trim().parse::<u64>() {
            Ok(n) if n >= least => Ok(Some(n)),
            _ => Err(FlagsError::Invalid {
                flag: spec.flag,
                env: spec.env,
                expected,
            }),
        }
    }

    fn rate(&mut self, name: Name) -> Result<Option<Rate>, FlagsError> {
        let (index, spec) = Read::spec(name);
        let Some(text) = self.given[index].take() else {
            return Ok(None);
        };
        let invalid = || FlagsError::Invalid {
            flag: spec.flag,
            env: spec.env,
            expected: "PER_SECOND or PER_SECOND/BURST, whole numbers above 0",
        };
        let (per_second, burst) = text.split_once('/').unwrap_or((&text, &text));
        let per_second: u32 = per_second.trim().parse().map_err(|_| invalid())?;
        let burst: u32 = burst.trim().parse().map_err(|_| invalid())?;
        if per_second == 0 || burst == 0 {
            return Err(invalid());
        }
        Ok(Some(Rate::new(per_second, burst)))
    }
}

/// The cluster's engine, as the flags name it.
#[derive(Debug, Clone, Copy)]
enum EngineKind {
    Redis,
    Nats,
}

impl EngineKind {
    fn flag(self) -> &'static str {
        match self {
            EngineKind::Redis => "--redis",
            EngineKind::Nats => "--nats",
        }
    }

    /// Its feature, of ws-runtime and of a generated crate.
    fn feature(self) -> &'static str {
        &self.flag()[2..]
    }
}

/// The cluster on the engine `kind` at `url`. Without the engine's feature, an error, not a
/// silent single node.
#[cfg_attr(not(any(feature = "redis", feature = "nats")), allow(unused_variables))]
fn cluster(kind: EngineKind, url: &str) -> Result<crate::registry::cluster::Cluster, FlagsError> {
    match kind {
        #[cfg(feature = "redis")]
        EngineKind::Redis => Ok(crate::registry::cluster::Cluster::redis(url)?),
        #[cfg(feature = "nats")]
        EngineKind::Nats => Ok(crate::registry::cluster::Cluster::nats(url)?),
        #[allow(unreachable_patterns)]
        kind => Err(FlagsError::NeedsFeature {
            flag: kind.flag(),
            feature: kind.feature(),
        }),
    }
}

/// The management API for requests signed by a key of the credentials file at `path`: one
/// `ACCESS_KEY_ID SECRET_ACCESS_KEY` a line; blank lines and `#` comments are skipped.
#[cfg(feature = "sigv4")]
fn management_sigv4(
    router: Router,
    path: &std::path::Path,
    region: &str,
) -> Result<Router, FlagsError> {
    let error = |message: String| FlagsError::Credentials {
        path: path.to_owned(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
    let mut sigv4 = crate::access::sigv4::SigV4::new(region);
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        match (words.next(), words.next(), words.next()) {
            (Some(id), Some(secret), None) => sigv4 = sigv4.key(id, secret),
            _ => {
                return Err(error(format!(
                    "line {}: expected `ACCESS_KEY_ID SECRET_ACCESS_KEY`",
                    number + 1
                )));
            }
        }
    }
    Ok(router.management_sigv4(sigv4))
}

/// Without the `sigv4` feature, signed requests cannot be checked.
#[cfg(not(feature = "sigv4"))]
fn management_sigv4(_: Router, _: &std::path::Path, _: &str) -> Result<Router, FlagsError> {
    Err(FlagsError::NeedsFeature {
        flag: "--management-credentials",
        feature: "sigv4",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str], env: &[(&str, &str)]) -> Result<Flags, FlagsError> {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Flags::parse(
            args.iter().map(|a| (*a).to_owned()),
            "127.0.0.1:8080",
            |name| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()),
        )
    }

    #[test]
    fn flags_come_from_arguments_then_the_environment() {
        let flags = parse(
            &[
                "--addr",
                "0.0.0.0:1",
                "--tick",
                "5",
                "--message-rate=10/20",
                "--metrics",
            ],
            &[
                ("MAX_CONNECTIONS", "7"),
                ("ADDR", "ignored:1"),
                ("HANDSHAKE_RATE", "3"),
                ("DOCS", ""),
            ],
        )
        .unwrap();
        assert_eq!(flags.addr, "0.0.0.0:1");
        assert_eq!(flags.rest, ["--tick", "5"]);
        let limits = flags.limits.over(Limits::default());
        assert_eq!(limits.max_connections, 7);
        assert_eq!(limits.message_rate, Some(Rate::new(10, 20)));
        assert_eq!(limits.handshake_rate, Some(Rate::new(3, 3)));
        assert!(flags.metrics && !flags.docs);
        assert_eq!(parse(&[], &[]).unwrap().addr, "127.0.0.1:8080");
    }

    #[tokio::test]
    async fn compressed_connections_bound_compression_and_zero_turns_it_off() {
        use crate::transport::compression::Compression;
        let router = |args: &[&str]| {
            let flags = parse(args, &[]).unwrap();
            async move { flags.apply(Router::new(), "{}").await.unwrap().compression }
        };
        assert_eq!(router(&[]).await, Compression::default());
        assert_eq!(
            router(&["--compressed-connections", "0"]).await,
            Compression::Off
        );
        let Compression::Deflate {
            max_connections, ..
        } = router(&["--compressed-connections=5"]).await
        else {
            panic!("compression stays on");
        };
        assert_eq!(max_connections, 5);
        let flags = parse(&["--compressed-connections", "9"], &[]).unwrap();
        let off = Router::new().compression(Compression::Off);
        let Compression::Deflate {
            max_connections, ..
        } = flags.apply(off, "{}").await.unwrap().compression
        else {
            panic!("a bound turns it on");
        };
        assert_eq!(max_connections, 9);
    }

    #[test]
    fn wrong_flags_say_what_and_keep_secrets_out() {
        for (args, env, expected) in [
            (&["--jwt-secret"][..], &[][..], "--jwt-secret needs a value"),
            (
                &["--tls-cert", "c.pem"],
                &[],
                "--tls-cert and --tls-key go together",
            ),
            (
                &["--jwt-secret", "s"],
                &[("JWKS", "k.json")],
                "give --jwt-secret or --jwks",
            ),
            (
                &["--redis", "redis://127.0.0.1"],
                &[("NATS_URL", "nats://127.0.0.1")],
                "give --redis or --nats",
            ),
            (
                &["--max-connections", "0"],
                &[],
                "--max-connections (or MAX_CONNECTIONS) takes a whole number",
            ),
            (
                &[],
                &[("MESSAGE_RATE", "fast")],
                "--message-rate (or MESSAGE_RATE) takes PER_SECOND",
            ),
            (
                &[],
                &[("METRICS", "maybe")],
                "--metrics (or METRICS) takes 1",
            ),
        ] {
            let error = parse(args, env).unwrap_err().to_string();
            assert!(error.starts_with(expected), "{args:?} {env:?}: {error}");
        }
        let flags = parse(
            &[
                "--jwt-secret",
                "s3cr3t",
                "--management-token",
                "t0k3n",
                "--nats",
                "nats://user:pa55@127.0.0.1:4222",
            ],
            &[],
        )
        .unwrap();
        let debug = format!("{flags:?}");
        assert!(
            !debug.contains("s3cr3t") && !debug.contains("t0k3n") && !debug.contains("pa55"),
            "{debug}"
        );
    }

    #[test]
    fn help_lists_every_flag_and_its_variable() {
        let help = Flags::help();
        for spec in SPECS {
            assert!(
                help.contains(spec.flag) && help.contains(spec.env),
                "{}",
                spec.flag
            );
            // Each name finds its own spec.
            assert_eq!(Read::spec(spec.name).1.flag, spec.flag);
        }
        assert_eq!(
            SPECS.len(),
            Name::Docs as usize + 1,
            "a name without its spec"
        );
    }
}
