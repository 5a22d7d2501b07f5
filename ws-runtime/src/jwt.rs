//! JWT bearer tokens (feature `jwt`, on the `jsonwebtoken` crate with its pure-Rust crypto):
//! HS256/384/512 with a shared secret, or RS, PS, ES and EdDSA with the keys of a JWKS file, read
//! again when a token names a key id it does not know (a key rotated in). `exp` and `nbf` are
//! checked with no leeway unless one is given; `iss` and `aud` when set.

use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant, SystemTime};

use jsonwebtoken::{Algorithm, DecodingKey, Validation};

use crate::security::{Credential, Principal, Verify};

/// Where the keys come from: a secret, or a JWKS file's keys by `kid`, decoded once each, and
/// when the file was last read.
enum Keys {
    Secret(Arc<DecodingKey>),
    Jwks {
        path: PathBuf,
        keys: RwLock<(JwksKeys, Instant)>,
    },
}

/// A JWKS file's keys by `kid`.
type JwksKeys = Vec<(String, Arc<DecodingKey>)>;

/// A JWKS file is read again for an unknown `kid` at most this often: tokens naming made-up
/// keys cannot make every handshake read the file.
const REREAD_AT_MOST_EVERY: Duration = Duration::from_secs(1);

/// A verifier of JWT bearer tokens: the principal is the token's `sub`, its scopes the `scope`
/// claim (space-separated, as OAuth 2.0 writes it) or `scp` (a list), its claims the whole
/// payload, and its expiry `exp` (the connection is closed then).
///
/// ```
/// let jwt = ws_runtime::Jwt::hs256(b"a-long-random-secret")?
///     .issuer("https://auth.example.com/")
///     .audience("feed");
/// # Ok::<(), String>(())
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
            Keys::Jwks { path, .. } => path.display().to_string(),
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
    pub fn hs256(secret: &[u8]) -> Result<Jwt, String> {
        if secret.is_empty() {
            return Err("the JWT secret is empty".into());
        }
        Ok(Jwt {
            keys: Keys::Secret(Arc::new(
                DecodingKey::from_secret(secret).map_err(|e| e.to_string())?,
            )),
            validations: validations(&[Algorithm::HS256]),
        })
    }

    /// Tokens signed with the keys of the JWKS file at `path` (RS256/384/512, PS256/384/512,
    /// ES256/384, EdDSA), each found by the token's `kid`. The file is read again when a token
    /// names a `kid` it does not have (at most once a second).
    ///
    /// # Errors
    /// The file cannot be read, or is not a JWKS; the error names it.
    pub fn jwks_file(path: impl Into<PathBuf>) -> Result<Jwt, String> {
        let path = path.into();
        let keys = read_jwks(&path)?;
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
        Ok(Jwt {
            keys: Keys::Jwks {
                path,
                keys: RwLock::new((keys, Instant::now())),
            },
            validations: validations(&algorithms),
        })
    }

    /// Tokens must name this issuer (`iss`).
    pub fn issuer(mut self, issuer: &str) -> Jwt {
        for validation in &mut self.validations {
            validation.set_issuer(&[issuer]);
        }
        self
    }

    /// Tokens must name this audience (`aud`).
    pub fn audience(mut self, audience: &str) -> Jwt {
        for validation in &mut self.validations {
            validation.set_audience(&[audience]);
            validation.validate_aud = true;
        }
        self
    }

    /// Accept `exp` and `nbf` this much off (clocks drift); none by default.
    pub fn leeway(mut self, leeway: Duration) -> Jwt {
        for validation in &mut self.validations {
            validation.leeway = leeway.as_secs();
        }
        self
    }

    fn key(&self, kid: Option<&str>) -> Result<Arc<DecodingKey>, String> {
        match &self.keys {
            Keys::Secret(key) => Ok(Arc::clone(key)),
            Keys::Jwks { path, keys } => {
                let kid = kid.ok_or("the token names no key (`kid`)")?;
                let find = |keys: &JwksKeys| {
                    keys.iter()
                        .find(|(id, _)| id == kid)
                        .map(|(_, key)| Arc::clone(key))
                };
                let unknown = || format!("no key `{kid}` in {}", path.display());
                let read_at = {
                    let known = keys.read().unwrap_or_else(PoisonError::into_inner);
                    if let Some(key) = find(&known.0) {
                        return Ok(key);
                    }
                    known.1
                };
                if read_at.elapsed() < REREAD_AT_MOST_EVERY {
                    return Err(unknown());
                }
                // A key rotated in since the file was read.
                let fresh = read_jwks(path)?;
                let key = find(&fresh);
                *keys.write().unwrap_or_else(PoisonError::into_inner) = (fresh, Instant::now());
                key.ok_or_else(unknown)
            }
        }
    }
}

/// The keys of a JWKS file that have a `kid`, each decoded once. A key `jsonwebtoken` cannot
/// use (an unknown curve, say) is left out: a token that names it is refused as for no key.
fn read_jwks(path: &std::path::Path) -> Result<JwksKeys, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let set: jsonwebtoken::jwk::JwkSet =
        serde_json::from_str(&text).map_err(|e| format!("{}: not a JWKS: {e}", path.display()))?;
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

impl Verify for Jwt {
    fn verify(&self, credential: &Credential) -> Result<Principal, String> {
        let Credential::Bearer(token) = credential else {
            return Err("not a bearer token".into());
        };
        let header = jsonwebtoken::decode_header(token).map_err(|e| e.to_string())?;
        let validation = self
            .validations
            .iter()
            .find(|v| v.algorithms[0] == header.alg)
            .ok_or_else(|| format!("the algorithm {:?} is not accepted", header.alg))?;
        let key = self.key(header.kid.as_deref())?;
        let data = jsonwebtoken::decode::<serde_json::Value>(token, &key, validation)
            .map_err(|e| e.to_string())?;
        let claims = data.claims;
        let subject = claims["sub"].as_str().unwrap_or_default().to_owned();
        let scopes: Vec<String> = match (&claims["scope"], &claims["scp"]) {
            (serde_json::Value::String(scope), _) => {
                scope.split_whitespace().map(str::to_owned).collect()
            }
            (_, serde_json::Value::Array(list)) => list
                .iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        };
        let expires_at = claims["exp"]
            .as_u64()
            .map(|exp| SystemTime::UNIX_EPOCH + Duration::from_secs(exp));
        Ok(Principal {
            expires_at,
            claims,
            ..Principal::new(subject).with_scopes(scopes)
        })
    }
}
