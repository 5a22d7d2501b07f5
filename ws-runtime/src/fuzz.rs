//! Property tests of what a client controls before any handler runs: the handshake's query and
//! headers (as the credentials, the `ws` binding's schemas and the header spellings read them),
//! a JWT's claims (signed, so that they reach the claim checks), and the frames the selection
//! expression and the compiled checks read. Random and extreme values; the property is that
//! each gives an answer, and never a panic.

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::access::security::{Location, Scheme, Security};
use crate::messages::selection::Selection;
use crate::messages::tree::Tree;
use crate::server::{header_spelling, query_pairs, typed_value};

/// Text as clients send it: printable, percent escapes, separators, and any character.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9_%+=&;:, .-]{0,40}",
        "(%[0-9A-Fa-f]{2}|%[G-Z]|%|[&=+])*",
        any::<String>(),
    ]
}

/// Numbers at and past every edge a claim or a value can reach.
fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<u64>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON numbers are finite", |f| f.is_finite())
            .prop_map(Value::from),
        Just(json!(u64::MAX)),
        Just(json!(1u64 << 63)),
        Just(json!(1.8e19)),
        Just(json!(1e308)),
        Just(json!(-1e308)),
        Just(json!(0.5)),
    ]
}

/// Any JSON value, a few levels deep.
fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(text(), inner, 0..6)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn a_query_string_is_read_or_refused(query in text()) {
        if let Ok(pairs) = query_pairs(&query) {
            // A name holds `&` only when the query spelled it `%26`: a raw `&` always splits.
            for (name, _) in &pairs {
                prop_assert!(!name.contains('&') || query.to_ascii_lowercase().contains("%26"));
            }
        }
    }

    #[test]
    fn handshake_values_read_as_any_schema_type(schema in value(), text in text()) {
        let _ = typed_value(Some(&schema), &text);
        let _ = header_spelling(&schema, &text);
    }

    #[test]
    fn credentials_come_from_any_headers_and_query(
        headers in prop::collection::vec((text(), text()), 0..8),
        query in prop::collection::vec((text(), text()), 0..8),
        authorization in prop_oneof![text(), text().prop_map(|t| format!("Basic {t}")), text().prop_map(|t| format!("Bearer {t}"))],
    ) {
        let mut map = HeaderMap::new();
        let pairs = headers.iter().map(|(n, v)| (n.as_str(), v.as_str()));
        for (name, value) in pairs.chain([("authorization", authorization.as_str())]) {
            if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value)) {
                map.append(name, value);
            }
        }
        let security = Security::all_of([Scheme::new("key", Location::Header("x-api-key".into()))])
            .or([Scheme::new("key", Location::Cookie("session".into()))])
            .or([Scheme::new("key", Location::Query("api_key".into()))])
            .or([Scheme::new("basic", Location::Basic)])
            .or([Scheme::new("jwt", Location::Bearer)]);
        if let Some(credentials) = security.credentials(&query, &map) {
            prop_assert!(credentials.iter().count() == 1);
        }
        crate::access::security::mark_sensitive(&mut map, Some(&security));
    }

    #[test]
    fn any_frame_gives_a_route_key(body in value(), expression in text()) {
        let selection = Selection::parse("$request.body.action").map_err(|e| TestCaseError::fail(e.to_string()))?;
        let _ = selection.evaluate(&body);
        let text = body.to_string();
        Tree::read(&text, |tree| {
            if let Ok(tree) = tree {
                let _ = selection.evaluate(&tree);
                let _ = tree.to_value();
            }
        });
        let _ = Selection::parse(&expression);
    }
}

#[cfg(feature = "jwt")]
mod jwt {
    use super::*;
    use crate::access::jwt::Jwt;
    use crate::access::security::{Credential, Verify};

    const SECRET: &[u8] = b"the-secret-of-the-property-tests";

    /// A runtime for one case's verifications (a verifier may wait; these do not).
    fn runtime() -> Result<tokio::runtime::Runtime, TestCaseError> {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .map_err(|e| TestCaseError::fail(e.to_string()))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_claims_get_a_verdict(
            exp in prop_oneof![number(), value()],
            nbf in prop::option::of(number()),
            sub in prop_oneof![text().prop_map(Value::String), value()],
            scope in prop::option::of(value()),
            scp in prop::option::of(value()),
            aud in prop::option::of(value()),
            iss in prop::option::of(value()),
        ) {
            let mut claims = json!({"exp": exp, "sub": sub});
            for (name, claim) in [("nbf", nbf), ("scope", scope), ("scp", scp), ("aud", aud), ("iss", iss)] {
                if let Some(claim) = claim {
                    claims[name] = claim;
                }
            }
            let key = jsonwebtoken::EncodingKey::from_secret(SECRET).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let token = jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let runtime = runtime()?;
            for jwt in [Jwt::hs256(SECRET), Jwt::hs256(SECRET).map(|j| j.issuer("i").audience("a"))] {
                let jwt = jwt.map_err(|e| TestCaseError::fail(e.to_string()))?;
                let verdict = runtime.block_on(jwt.verify(&Credential::Bearer(token.clone())));
                if let Ok(principal) = verdict {
                    // What was let in names its subject and, when it has one, an expiry after now.
                    prop_assert_eq!(Some(principal.subject.as_str()), claims["sub"].as_str());
                    if let Some(at) = principal.expires_at {
                        prop_assert!(at + std::time::Duration::from_secs(5) > std::time::SystemTime::now());
                    }
                }
            }
        }

        #[test]
        fn any_token_text_gets_a_verdict(token in text()) {
            let runtime = runtime()?;
            let jwt = Jwt::hs256(SECRET).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert!(runtime.block_on(jwt.verify(&Credential::Bearer(token))).is_err());
        }
    }
}
