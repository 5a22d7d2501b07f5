//! `Jwt::jwks_url` against a JWKS served on 127.0.0.1 (over HTTP, and over HTTPS with a CA made
//! at test time): keys fetched by `load`, fetched again for an unknown `kid` (at most once a
//! second, however many tokens name made-up keys) and when older than `refresh_every` (a key
//! rotated out is refused), kept while the URL fails; URLs it cannot use are errors that say so.

#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde_json::json;
use test_support::bounded;
use test_support::tls::{Certificates, P256};
use ws_runtime::{ClientTls, Credential, FetchError, Jwt, JwtError, Router, Tls, Verify};

/// The JWKS the test serves, and how many GETs it answered.
#[derive(Clone, Default)]
struct Served {
    jwks: Arc<Mutex<String>>,
    gets: Arc<AtomicUsize>,
    /// Answer 503 instead.
    down: Arc<std::sync::atomic::AtomicBool>,
}

impl Served {
    fn set(&self, jwks: String) {
        *self.jwks.lock().unwrap() = jwks;
    }

    fn gets(&self) -> usize {
        self.gets.load(Ordering::SeqCst)
    }

    fn app(&self) -> ws_runtime::App {
        let served = self.clone();
        Router::new().build().unwrap().map_router(move |router| {
            router.route(
                "/.well-known/jwks.json",
                axum::routing::get(move || {
                    let served = served.clone();
                    async move {
                        served.gets.fetch_add(1, Ordering::SeqCst);
                        if served.down.load(Ordering::SeqCst) {
                            return Err(axum::http::StatusCode::SERVICE_UNAVAILABLE);
                        }
                        Ok(served.jwks.lock().unwrap().clone())
                    }
                }),
            )
        })
    }
}

fn claims() -> serde_json::Value {
    let exp = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 600;
    json!({"sub": "ada", "exp": exp})
}

async fn verify(jwt: &Jwt, token: String) -> Result<String, JwtError> {
    jwt.verify(&Credential::Bearer(token))
        .await
        .map(|principal| principal.subject)
}

#[tokio::test]
async fn keys_are_fetched_again_for_an_unknown_kid_and_when_stale() {
    bounded(30, async {
        let served = Served::default();
        let (first, second) = (P256::generate(), P256::generate());
        served.set(first.jwks("k1"));
        let server = served.app().listen("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/.well-known/jwks.json", server.local_addr());

        let jwt = Jwt::jwks_url(&url).unwrap().load().await.unwrap();
        assert_eq!(served.gets(), 1, "load fetches once");
        assert_eq!(
            verify(&jwt, first.es256("k1", &claims())).await.unwrap(),
            "ada"
        );
        assert_eq!(served.gets(), 1, "a known kid fetches nothing");

        // A key rotated in: not fetched for within a second of the last fetch …
        served.set(second.jwks("k2"));
        let rotated = second.es256("k2", &claims());
        let refused = verify(&jwt, rotated.clone()).await.unwrap_err();
        assert!(
            matches!(&refused, JwtError::UnknownKey { kid, .. } if kid == "k2"),
            "{refused}"
        );
        assert_eq!(served.gets(), 1);
        // … then fetched once, however many handshakes ask at the same time.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let asking = (0..8).map(|_| verify(&jwt, rotated.clone()));
        for subject in futures_util::future::join_all(asking).await {
            assert_eq!(subject.unwrap(), "ada");
        }
        assert_eq!(served.gets(), 2);
        // Made-up kids within the second after: no fetch.
        for kid in ["x1", "x2", "x3"] {
            assert!(verify(&jwt, second.es256(kid, &claims())).await.is_err());
        }
        assert_eq!(served.gets(), 2);
    })
    .await;
}

#[tokio::test]
async fn a_key_rotated_out_is_refused_once_the_keys_are_stale_and_a_failing_url_keeps_them() {
    bounded(30, async {
        let served = Served::default();
        let (first, second) = (P256::generate(), P256::generate());
        served.set(first.jwks("k1"));
        let server = served.app().listen("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/.well-known/jwks.json", server.local_addr());
        let jwt = Jwt::jwks_url(&url)
            .unwrap()
            .refresh_every(Duration::from_millis(300));
        // Not loaded: the first verification fetches.
        assert_eq!(
            verify(&jwt, first.es256("k1", &claims())).await.unwrap(),
            "ada"
        );
        assert_eq!(served.gets(), 1);

        // The URL fails: the keys read before are kept.
        served.down.store(true, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(350)).await;
        assert_eq!(
            verify(&jwt, first.es256("k1", &claims())).await.unwrap(),
            "ada"
        );
        assert_eq!(served.gets(), 2, "the stale keys were fetched for");

        // It answers again, without k1: k1 is refused once the keys are stale.
        served.down.store(false, Ordering::SeqCst);
        served.set(second.jwks("k2"));
        tokio::time::sleep(Duration::from_millis(350)).await;
        let refused = verify(&jwt, first.es256("k1", &claims()))
            .await
            .unwrap_err();
        assert!(
            matches!(&refused, JwtError::UnknownKey { kid, .. } if kid == "k1"),
            "{refused}"
        );
        assert_eq!(
            verify(&jwt, second.es256("k2", &claims())).await.unwrap(),
            "ada"
        );
        assert_eq!(served.gets(), 3);
    })
    .await;
}

#[tokio::test]
async fn over_https_with_a_ca_of_ones_own() {
    bounded(30, async {
        let served = Served::default();
        let key = P256::generate();
        served.set(key.jwks("k1"));
        let certificates = Certificates::for_names(&["localhost"]);
        let tls =
            Tls::from_pem(certificates.chain.as_bytes(), certificates.key.as_bytes()).unwrap();
        let server = served.app().listen_tls("127.0.0.1:0", tls).await.unwrap();
        let url = format!(
            "https://localhost:{}/.well-known/jwks.json",
            server.local_addr().port()
        );
        let trusted = ClientTls::with_ca_pem(certificates.ca.as_bytes()).unwrap();
        let jwt = Jwt::jwks_url(&url)
            .unwrap()
            .tls(trusted)
            .load()
            .await
            .unwrap();
        assert_eq!(
            verify(&jwt, key.es256("k1", &claims())).await.unwrap(),
            "ada"
        );

        // Trusting another CA: the fetch fails, and says where.
        let other = Certificates::for_names(&["localhost"]);
        let untrusted = ClientTls::with_ca_pem(other.ca.as_bytes()).unwrap();
        let error = Jwt::jwks_url(&url)
            .unwrap()
            .tls(untrusted)
            .load()
            .await
            .unwrap_err();
        assert!(
            matches!(
                error,
                JwtError::Fetch {
                    source: FetchError::Connect(_),
                    ..
                }
            ),
            "{error:?}"
        );
        assert!(error.to_string().starts_with(&url), "{error}");
        assert_eq!(served.gets(), 1);
    })
    .await;
}

#[tokio::test]
async fn urls_it_cannot_use_are_errors() {
    bounded(30, async {
        for (url, says) in [
            (
                "ftp://example.com/jwks.json",
                "is not an http:// or https:// URL",
            ),
            ("/jwks.json", "names no host"),
            ("http://exa mple.com/", "is not a URL"),
        ] {
            let error = Jwt::jwks_url(url).unwrap_err();
            assert!(error.to_string().contains(says), "{url}: {error}");
        }
        // Nothing listens there: `load` says so, naming the URL.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
        drop(listener);
        let error = Jwt::jwks_url(&url).unwrap().load().await.unwrap_err();
        assert!(matches!(error, JwtError::Fetch { source: FetchError::Connect(_), .. }), "{error:?}");
        assert!(error.to_string().starts_with(&url), "{error}");
        // A page that is not a JWKS.
        let served = Served::default();
        served.set("<html>".into());
        let server = served.app().listen("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/.well-known/jwks.json", server.local_addr());
        let error = Jwt::jwks_url(&url).unwrap().load().await.unwrap_err();
        assert!(matches!(error, JwtError::NotAJwks { .. }), "{error:?}");
        let missing = format!("http://{}/nothing-here", server.local_addr());
        let error = Jwt::jwks_url(&missing).unwrap().load().await.unwrap_err();
        assert!(error.to_string().ends_with("HTTP 404 Not Found"), "{error}");
        assert!(
            matches!(error, JwtError::Fetch { source: FetchError::Status(status), .. } if status == 404),
            "{error:?}"
        );
    })
    .await;
}
