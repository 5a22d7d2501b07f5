//! Who may connect, over 127.0.0.1 (feature `jwt`): a channel with security refuses a handshake
//! without its credentials (401) before any handler runs; the router's verifiers check them (a
//! JWT's signature, issuer, audience and expiry; an API key from the query); the principal
//! reaches every handler and `GET @connections`; a route that needs a scope answers `Forbidden`
//! to a principal without it, and only that route; a token that expires closes its connection
//! with 4001 then; a JWKS file is read again for a key rotated in (at most once a second);
//! `authorize` has the last word.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, SystemTime};

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;
use test_support::bounded;
use test_support::tls::P256;
use test_support::ws::{Client, closed, recv, send};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use ws_runtime::{
    Accept, ApiKeys, ChannelOptions, ConnectRequest, Context, Credential, Handler, HandlerError,
    Jwt, Limits, Location, Message, Principal, Reject, Reply, Router, RouterError, Routes, Scheme,
    Security, Verify,
};

const SECRET: &[u8] = b"a-long-random-secret-for-the-tests";

#[derive(Debug, Serialize, Deserialize, Message)]
#[message(name = "whoami", schema = r#"{"type": "object"}"#)]
struct WhoAmI {}

#[derive(Debug, Serialize, Deserialize, Message)]
#[message(name = "place", schema = r#"{"type": "object"}"#)]
struct Place {}

#[derive(Debug, Routes)]
enum Feed {
    #[route("whoami")]
    WhoAmI(WhoAmI),
    #[route("place")]
    Place(Place),
}

/// Answers `whoami` with its principal, `place` with `placed`; refuses the subject `mallory`.
struct Desk;

impl Handler<Feed> for Desk {
    /// `?slow=connect` waits 20 s; `?debug` refuses with the request's `Debug` as the body.
    async fn connect(&self, request: &ConnectRequest) -> Result<Accept, Reject> {
        if request.query_param("slow") == Some("connect") {
            tokio::time::sleep(Duration::from_secs(20)).await;
        }
        if request.query_param("debug").is_some() {
            return Err(Reject::new(StatusCode::IM_A_TEAPOT, format!("{request:?}")));
        }
        Ok(Accept::new())
    }

    /// `?slow=authorize` waits 20 s.
    async fn authorize(
        &self,
        request: &ConnectRequest,
        verified: Option<Principal>,
    ) -> Result<Principal, Reject> {
        if request.query_param("slow") == Some("authorize") {
            tokio::time::sleep(Duration::from_secs(20)).await;
        }
        let principal = verified.ok_or_else(Reject::unauthorized)?;
        if principal.subject == "mallory" {
            return Err(Reject::forbidden());
        }
        Ok(principal)
    }

    async fn message(&self, cx: &Context, message: Feed) -> Result<Reply, HandlerError> {
        let principal = cx.principal().unwrap();
        match message {
            Feed::WhoAmI(_) => {
                Reply::json(&json!({"subject": principal.subject, "scopes": principal.scopes}))
            }
            Feed::Place(_) => Reply::json(&json!({"placed": true})),
        }
    }
}

fn token(claims: serde_json::Value) -> String {
    let key = jsonwebtoken::EncodingKey::from_secret(SECRET).unwrap();
    jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).unwrap()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn claims(subject: &str, scope: &str) -> serde_json::Value {
    json!({"sub": subject, "scope": scope, "exp": now() + 600, "iss": "https://auth.test/", "aud": "feed"})
}

/// `/feed`'s security: a bearer JWT (scheme `jwt`) or an API key in the query (scheme `key`).
fn feed_options() -> ChannelOptions {
    let security = Security::all_of([Scheme::new("jwt", Location::Bearer)])
        .or([Scheme::new("key", Location::Query("api_key".into()))]);
    ChannelOptions {
        security: Some(security),
        scopes: vec![("place".into(), vec!["orders:write".into()])],
        ..ChannelOptions::default()
    }
}

/// A server whose `/feed` takes a bearer JWT (scheme `jwt`) or an API key in the query
/// (scheme `key`); `place` needs `orders:write`.
async fn serve(jwt: Jwt) -> ws_runtime::Server {
    serve_with(jwt, Limits::default()).await
}

/// [`serve`] with these limits.
async fn serve_with(jwt: Jwt, limits: Limits) -> ws_runtime::Server {
    let keys = ApiKeys::new().key(
        "k-reporting",
        Principal::new("reporting").with_scopes(["read"]),
    );
    Router::new()
        .channel_with("/feed", Desk, feed_options())
        .verify("jwt", jwt)
        .verify("key", keys)
        .limits(limits)
        .management_api("m-token")
        .build()
        .unwrap()
        .listen("127.0.0.1:0")
        .await
        .unwrap()
}

/// A server whose `/feed` takes an API key in the query (scheme `key`) only, checked by `keys`.
async fn serve_keys(keys: impl Verify, limits: Limits) -> ws_runtime::Server {
    let options = ChannelOptions {
        security: Some(Security::all_of([Scheme::new(
            "key",
            Location::Query("api_key".into()),
        )])),
        ..ChannelOptions::default()
    };
    Router::new()
        .channel_with("/feed", Desk, options)
        .verify("key", keys)
        .limits(limits)
        .build()
        .unwrap()
        .listen("127.0.0.1:0")
        .await
        .unwrap()
}

fn hs256() -> Jwt {
    Jwt::hs256(SECRET)
        .unwrap()
        .issuer("https://auth.test/")
        .audience("feed")
}

/// The handshake with `Authorization: Bearer <token>` (when given): the client, or the status
/// of the refusal.
async fn handshake(
    server: &ws_runtime::Server,
    path: &str,
    bearer: Option<&str>,
) -> Result<Client, u16> {
    let mut request = format!("ws://{}{path}", server.local_addr())
        .into_client_request()
        .unwrap();
    if let Some(token) = bearer {
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
    }
    let connect = tokio_tungstenite::connect_async(request);
    match tokio::time::timeout(Duration::from_secs(5), connect)
        .await
        .unwrap()
    {
        Ok((client, _)) => Ok(client),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            Err(response.status().as_u16())
        }
        Err(other) => panic!("the handshake failed: {other}"),
    }
}

#[tokio::test]
async fn without_valid_credentials_the_handshake_gets_401() {
    bounded(30, async {
        let server = serve(hs256()).await;
        assert_eq!(handshake(&server, "/feed", None).await.err(), Some(401));
        // Signed with another secret.
        let key = jsonwebtoken::EncodingKey::from_secret(b"another-secret").unwrap();
        let forged = jsonwebtoken::encode(
            &jsonwebtoken::Header::default(),
            &claims("ada", "read"),
            &key,
        )
        .unwrap();
        assert_eq!(
            handshake(&server, "/feed", Some(&forged)).await.err(),
            Some(401)
        );
        // Another audience, another issuer, expired, not yet valid.
        let mut other_audience = claims("ada", "read");
        other_audience["aud"] = json!("billing");
        let mut other_issuer = claims("ada", "read");
        other_issuer["iss"] = json!("https://evil.test/");
        let mut expired = claims("ada", "read");
        expired["exp"] = json!(now() - 10);
        let mut early = claims("ada", "read");
        early["nbf"] = json!(now() + 600);
        for claims in [other_audience, other_issuer, expired, early] {
            assert_eq!(
                handshake(&server, "/feed", Some(&token(claims.clone())))
                    .await
                    .err(),
                Some(401),
                "{claims}"
            );
        }
        // Not a JWT at all; an unknown API key.
        assert_eq!(
            handshake(&server, "/feed", Some("not-a-jwt")).await.err(),
            Some(401)
        );
        assert_eq!(
            handshake(&server, "/feed?api_key=k-wrong", None)
                .await
                .err(),
            Some(401)
        );
        // `authorize` has the last word.
        assert_eq!(
            handshake(&server, "/feed", Some(&token(claims("mallory", "read"))))
                .await
                .err(),
            Some(403)
        );
    })
    .await;
}

#[tokio::test]
async fn the_principal_reaches_handlers_and_the_management_api_and_scopes_guard_routes() {
    bounded(30, async {
        let server = serve(hs256()).await;
        let jwt = token(claims("ada", "read orders:write"));
        let mut ada = handshake(&server, "/feed", Some(&jwt)).await.unwrap();
        send(&mut ada, json!({"action": "whoami"})).await;
        assert_eq!(recv(&mut ada).await, json!({"subject": "ada", "scopes": ["orders:write", "read"]}));
        send(&mut ada, json!({"action": "place"})).await;
        assert_eq!(recv(&mut ada).await, json!({"placed": true}));

        // An API key from the query: its principal has `read` only.
        let mut reporting = handshake(&server, "/feed?api_key=k-reporting", None).await.unwrap();
        send(&mut reporting, json!({"action": "whoami"})).await;
        assert_eq!(recv(&mut reporting).await, json!({"subject": "reporting", "scopes": ["read"]}));
        send(&mut reporting, json!({"action": "place"})).await;
        let refused = recv(&mut reporting).await;
        assert_eq!(refused["message"], "Forbidden", "{refused}");
        // Only that route: the connection and its other routes go on.
        send(&mut reporting, json!({"action": "whoami"})).await;
        assert_eq!(recv(&mut reporting).await["subject"], "reporting");

        // `GET @connections/{id}` shows who it is.
        let connections = server.connections();
        let ids = connections.ids();
        assert_eq!(ids.len(), 2);
        let mut subjects = Vec::new();
        for id in ids {
            let (status, body) = test_support::http::http(
                server.local_addr(),
                &format!("GET /@connections/{id} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer m-token\r\nConnection: close\r\n\r\n"),
            )
            .await;
            assert_eq!(status, 200, "{body}");
            let info: serde_json::Value = serde_json::from_str(&body).unwrap();
            subjects.push(info["principal"]["subject"].as_str().unwrap().to_owned());
        }
        subjects.sort();
        assert_eq!(subjects, ["ada", "reporting"]);
    })
    .await;
}

/// An `exp` in whole seconds, and one with a fraction (a NumericDate may have one).
#[tokio::test]
async fn a_token_that_expires_closes_its_connection_with_4001_then() {
    bounded(30, async {
        let server = serve(hs256()).await;
        for fraction in [false, true] {
            // Read the clock now: the previous round took its time.
            let exp = if fraction {
                json!(now_f64() + 1.5)
            } else {
                json!(now() + 2)
            };
            let mut soon = claims("ada", "read");
            soon["exp"] = exp.clone();
            let started = std::time::Instant::now();
            let mut ada = handshake(&server, "/feed", Some(&token(soon)))
                .await
                .unwrap();
            send(&mut ada, json!({"action": "whoami"})).await;
            assert_eq!(recv(&mut ada).await["subject"], "ada");
            assert_eq!(closed(&mut ada).await, 4001, "exp {exp}");
            let took = started.elapsed();
            assert!(
                took >= Duration::from_millis(500) && took < Duration::from_secs(3),
                "exp {exp}: {took:?}"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn jwks_keys_by_kid_and_a_key_rotated_into_the_file() {
    bounded(30, async {
        let dir = std::env::temp_dir().join(format!("ws-runtime-jwks-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("jwks.json");
        let (first, second) = (P256::generate(), P256::generate());
        std::fs::write(&file, first.jwks("k1")).unwrap();
        let jwt = Jwt::jwks_file(&file)
            .unwrap()
            .issuer("https://auth.test/")
            .audience("feed");
        let server = serve(jwt).await;
        let ada = claims("ada", "read");
        assert!(
            handshake(&server, "/feed", Some(&first.es256("k1", &ada)))
                .await
                .is_ok()
        );
        // A key the file does not have yet: refused; once it is in the file, accepted.
        assert_eq!(
            handshake(&server, "/feed", Some(&second.es256("k2", &ada)))
                .await
                .err(),
            Some(401)
        );
        std::fs::write(&file, second.jwks("k2")).unwrap();
        // Read again at most once a second: made-up `kid`s cannot make every handshake read it.
        assert_eq!(
            handshake(&server, "/feed", Some(&second.es256("k2", &ada)))
                .await
                .err(),
            Some(401)
        );
        tokio::time::sleep(Duration::from_millis(1100)).await;
        assert!(
            handshake(&server, "/feed", Some(&second.es256("k2", &ada)))
                .await
                .is_ok()
        );
        // The kid must match the key that signed.
        assert_eq!(
            handshake(&server, "/feed", Some(&first.es256("k2", &ada)))
                .await
                .err(),
            Some(401)
        );
        std::fs::remove_dir_all(&dir).unwrap();
    })
    .await;
}

#[test]
fn scopes_for_a_route_the_channel_does_not_have_stop_the_build() {
    let options = ChannelOptions {
        scopes: vec![("nope".into(), vec!["x".into()])],
        ..ChannelOptions::default()
    };
    let error = Router::new()
        .channel_with("/feed", Desk, options)
        .build()
        .unwrap_err();
    assert!(error.to_string().contains("`nope`"), "{error}");
}

#[tokio::test]
async fn a_principal_over_its_message_rate_is_throttled_across_its_connections() {
    bounded(30, async {
        let limits = Limits {
            principal_message_rate: Some(ws_runtime::Rate::new(1, 3)),
            ..Limits::default()
        };
        let keys = ApiKeys::new()
            .key("k-1", Principal::new("reporting"))
            .key("k-2", Principal::new("reporting"))
            .key("k-3", Principal::new("billing"));
        let server = serve_keys(keys, limits).await;
        // Two connections of one principal share its bucket of three.
        let mut clients = [
            handshake(&server, "/feed?api_key=k-1", None).await.unwrap(),
            handshake(&server, "/feed?api_key=k-2", None).await.unwrap(),
        ];
        let mut answers = Vec::new();
        for i in [0, 1, 0, 1] {
            send(&mut clients[i], json!({"action": "whoami"})).await;
            let frame = recv(&mut clients[i]).await;
            answers.push(frame["message"].as_str().unwrap_or("answered").to_owned());
        }
        assert_eq!(
            answers,
            ["answered", "answered", "answered", "Too Many Requests"]
        );
        // Another principal has its own.
        let mut billing = handshake(&server, "/feed?api_key=k-3", None).await.unwrap();
        send(&mut billing, json!({"action": "whoami"})).await;
        assert_eq!(recv(&mut billing).await["subject"], "billing");
    })
    .await;
}

fn now_f64() -> f64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

#[tokio::test]
async fn a_token_without_the_configured_issuer_or_audience_is_refused() {
    bounded(30, async {
        let strict = serve(hs256()).await;
        let lenient = serve(Jwt::hs256(SECRET).unwrap()).await;
        for missing in ["iss", "aud"] {
            let mut without = claims("ada", "read");
            without.as_object_mut().unwrap().remove(missing);
            let token = token(without);
            assert_eq!(
                handshake(&strict, "/feed", Some(&token)).await.err(),
                Some(401),
                "a token without `{missing}`, when one is configured"
            );
            assert!(
                handshake(&lenient, "/feed", Some(&token)).await.is_ok(),
                "a token without `{missing}`, when none is configured"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn an_exp_past_what_the_clock_can_name_gets_an_answer_not_a_panic() {
    bounded(30, async {
        let server = serve(hs256()).await;
        for exp in [json!(u64::MAX), json!(1u64 << 63), json!(1.8e19)] {
            let mut forever = claims("ada", "read");
            forever["exp"] = exp.clone();
            let mut ada = handshake(&server, "/feed", Some(&token(forever)))
                .await
                .unwrap_or_else(|status| panic!("exp {exp}: HTTP {status}"));
            send(&mut ada, json!({"action": "whoami"})).await;
            assert_eq!(recv(&mut ada).await["subject"], "ada", "exp {exp}");
        }
    })
    .await;
}

/// Sends the handshake for `path` with an API key, waits `wait`, and goes away.
async fn abandon(server: &ws_runtime::Server, path: &str, wait: Duration) {
    use tokio::io::AsyncWriteExt;
    let mut stream = tokio::net::TcpStream::connect(server.local_addr())
        .await
        .unwrap();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    tokio::time::sleep(wait).await;
}

#[tokio::test]
async fn a_client_gone_while_authorize_or_connect_waits_gives_its_slot_back() {
    bounded(30, async {
        let limits = Limits {
            max_connections: 2,
            handshake_timeout: Duration::from_secs(25),
            connect_timeout: Duration::from_secs(25),
            ..Limits::default()
        };
        let server = serve_with(hs256(), limits).await;
        // Each hook waits 20 s, longer than this test waits for the slots: only the dropped
        // future can give them back.
        for slow in ["authorize", "connect", "authorize", "connect"] {
            abandon(
                &server,
                &format!("/feed?api_key=k-reporting&slow={slow}"),
                Duration::from_millis(200),
            )
            .await;
        }
        let path = "/feed?api_key=k-reporting";
        let started = std::time::Instant::now();
        let full = loop {
            let first = handshake(&server, path, None).await;
            let second = handshake(&server, path, None).await;
            match (first, second) {
                (Ok(a), Ok(b)) => break [a, b],
                (first, second) => {
                    assert!(
                        started.elapsed() < Duration::from_secs(3),
                        "slots still held 3 s after their clients left: {:?} {:?}",
                        first.err(),
                        second.err()
                    );
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        };
        // And `max_connections` still holds.
        assert_eq!(handshake(&server, path, None).await.err(), Some(429));
        drop(full);
        let report = server.shutdown().await;
        assert_eq!(report.unfinished, 0);
    })
    .await;
}

/// Lets any API key in, after 20 s.
struct Sluggish;

impl Verify for Sluggish {
    type Error = std::convert::Infallible;

    async fn verify(&self, _credential: &Credential) -> Result<Principal, Self::Error> {
        tokio::time::sleep(Duration::from_secs(20)).await;
        Ok(Principal::new("late"))
    }
}

#[tokio::test]
async fn slow_verifiers_authorize_and_connect_are_bounded() {
    bounded(30, async {
        let limits = Limits {
            handshake_timeout: Duration::from_millis(800),
            connect_timeout: Duration::from_millis(800),
            ..Limits::default()
        };
        let server = serve_with(hs256(), limits.clone()).await;
        for slow in ["authorize", "connect"] {
            let started = std::time::Instant::now();
            let path = format!("/feed?api_key=k-reporting&slow={slow}");
            assert_eq!(
                handshake(&server, &path, None).await.err(),
                Some(504),
                "{slow}"
            );
            assert!(started.elapsed() < Duration::from_secs(3), "{slow}");
        }
        let sluggish = serve_keys(Sluggish, limits).await;
        let started = std::time::Instant::now();
        assert_eq!(
            handshake(&sluggish, "/feed?api_key=any", None).await.err(),
            Some(504)
        );
        assert!(started.elapsed() < Duration::from_secs(3));
    })
    .await;
}

#[tokio::test]
async fn no_credential_reaches_the_handshakes_debug() {
    bounded(30, async {
        let server = serve(hs256()).await;
        let jwt = token(claims("ada", "read"));
        let request = format!(
            "GET /feed?access_token={jwt}&debug=1&api_key=k-reporting HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nAuthorization: Bearer {jwt}\r\nCookie: session=c00kie-value\r\n\r\n"
        );
        let (status, body) = test_support::http::http(server.local_addr(), &request).await;
        assert_eq!(status, 418, "{body}");
        assert!(body.contains("ConnectRequest"), "{body}");
        // The token's signature is its last part: no piece of it, of the API key or the cookie.
        let signature = jwt.rsplit('.').next().unwrap();
        for secret in [signature, "k-reporting", "c00kie-value"] {
            assert!(!body.contains(secret), "`{secret}` in {body}");
        }
    })
    .await;
}

#[test]
fn a_scheme_without_a_verifier_or_a_verifier_without_a_scheme_stops_the_build() {
    let keys = || ApiKeys::new().key("k", Principal::new("p"));
    let error = Router::new()
        .channel_with("/feed", Desk, feed_options())
        .verify("jwt", hs256())
        .build()
        .unwrap_err();
    assert!(
        matches!(&error, RouterError::NoVerifier { scheme, .. } if scheme == "key"),
        "{error}"
    );
    let error = Router::new()
        .channel_with("/feed", Desk, feed_options())
        .verify("jwt", hs256())
        .verify("key", keys())
        .verify("jtw", hs256())
        .build()
        .unwrap_err();
    assert!(
        matches!(&error, RouterError::VerifierForNoScheme(name, _) if name == "jtw"),
        "{error}"
    );
    assert!(error.to_string().contains("jwt, key"), "{error}");
    assert!(
        Router::new()
            .channel_with("/feed", Desk, feed_options())
            .verify("jwt", hs256())
            .verify("key", keys())
            .build()
            .is_ok()
    );
}
