//! The feed as API Gateway runs it: the SAM template `asyncapi-rs generate --sam` wrote
//! (`template.yaml`) served by `asyncapi-rs local`'s library, the binary `--lambda` wrote
//! (`src/bin/lambda.rs`, `feed-lambda`) a process on the Lambda Runtime API. The feed's JWT
//! goes through the template's `REQUEST` authorizer, which is that binary with the verifier the
//! server's `--jwt-secret` and `--audience` make (from `JwtSecret` and `Audience`, the
//! template's parameters); its principal reaches every later event, where the `orders:write`
//! scope is checked. The generated Rust client connects to the stage URL as to ws-runtime.

#![allow(clippy::unwrap_used)] // a test that cannot set itself up should stop right there

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use asyncapi_cli::local_server::{self, Options, Serve, Template};
use feed::api::feed::{FeedClient, FeedOutbound, FeedRoute, PATH};
use feed::api::types::{PlaceOrder, Side, Subscribe, Unsubscribe};
use serde_json::json;
use support::{SECRET, now, refused_with, server_error, sign, token};
use test_support::bounded;
use test_support::functions::DynamoDb;
use ws_runtime::client::{Client, ClientOptions, ErrorKind, Event, Target};

#[test]
fn the_template_is_what_generate_sam_writes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let loaded = asyncapi_codegen::load(&root.join("asyncapi.yaml"), &Default::default())
        .unwrap_or_else(|report| panic!("{}", report.render(false)));
    let template = asyncapi_codegen::generate::sam_template(&loaded.api, "feed");
    let drifted = asyncapi_codegen::generate::drift(root, &[template]);
    assert!(
        drifted.is_empty(),
        "template.yaml differs from examples/feed/asyncapi.yaml: rerun `asyncapi-rs generate asyncapi.yaml -o . --crate feed --client --sam` in examples/feed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_runs_from_its_generated_sam_template_its_jwt_through_the_authorizer() {
    bounded(120, async {
        // No table yet: `local` creates the template's (`Connections`, keyed by `pk` and `sk`).
        let dynamodb = DynamoDb::start(&[]);
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let template = Template::read(&root.join("template.yaml")).unwrap();
        let options = Options {
            bootstraps: BTreeMap::from([(
                "FeedFunction".to_owned(),
                PathBuf::from(env!("CARGO_BIN_EXE_feed-lambda")),
            )]),
            dynamodb: Some(dynamodb.endpoint.clone()),
            ..Options::default()
        };
        let parameters = [
            ("JwtSecret".to_owned(), SECRET.to_owned()),
            ("Audience".to_owned(), "feed".to_owned()),
        ];
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let what = Serve {
            template: &template,
            parameters: &parameters,
            api: None,
            options: &options,
        };
        let served = local_server::serve(listener, what).await.unwrap();
        assert_eq!(served.created_tables, ["Connections"]);
        // The stage URL, as `sam deploy` prints it.
        let url = format!("ws://{}/prod", served.server.local_addr());
        let connect = |token: String| {
            let url = url.clone();
            async move {
                FeedClient::connect_with(&url, ClientOptions::default().bearer(&token)).await
            }
        };

        // No token, another key, another audience, expired, not a token: the authorizer
        // refuses, and API Gateway answers 401.
        assert_eq!(refused_with(FeedClient::connect(&url).await), 401);
        let claims = json!({"sub": "ada", "aud": "feed", "exp": now() + 600});
        assert_eq!(
            refused_with(connect(sign(&claims, b"not-the-feeds-secret")).await),
            401
        );
        let elsewhere = json!({"sub": "ada", "aud": "billing", "exp": now() + 600});
        assert_eq!(
            refused_with(connect(sign(&elsewhere, SECRET.as_bytes())).await),
            401
        );
        let expired = json!({"sub": "ada", "aud": "feed", "exp": now() - 10});
        assert_eq!(
            refused_with(connect(sign(&expired, SECRET.as_bytes())).await),
            401
        );
        assert_eq!(refused_with(connect("not a token".into()).await), 401);

        // A valid token in the header: the session keeps what each connection watches, from
        // one invocation to the next.
        let mut ada = connect(token("ada", "prices:read")).await.unwrap();
        let both = ["ACME".to_owned(), "BOLT".to_owned()];
        let reply = ada.subscribe(Subscribe::new(["ACME".to_owned()])).await;
        assert_eq!(reply.unwrap().symbols, ["ACME"]);
        let reply = ada.subscribe(Subscribe::new(["BOLT".to_owned()])).await;
        assert_eq!(reply.unwrap().symbols, both);
        let reply = ada
            .unsubscribe(Unsubscribe::new(["ACME".to_owned()]))
            .await;
        assert_eq!(reply.unwrap().symbols, ["BOLT"]);

        // And in `access_token`, as browsers send it.
        let target = Target::new(&url, PATH).query("access_token", &token("bob", ""));
        let mut bob = Client::<FeedRoute, FeedOutbound>::connect(target, ClientOptions::default())
            .await
            .unwrap();
        bob.send(&FeedRoute::Subscribe(Subscribe::new(["BOLT".to_owned()])))
            .await
            .unwrap();
        let Event::Message(FeedOutbound::Subscribed(subscribed)) = bob.next().await.unwrap()
        else {
            panic!("subscribed");
        };
        assert_eq!(subscribed.symbols, ["BOLT"]);

        // The principal the authorizer found is every later event's: without `orders:write`,
        // `Forbidden`; with it, the order in the name of the token's subject.
        let order = PlaceOrder::new("ACME", Side::Buy, 100).with_limit(101.5);
        assert_eq!(
            server_error(ada.place_order(order.clone()).await),
            ErrorKind::Forbidden
        );
        let mut trader = connect(token("carl", "prices:read orders:write"))
            .await
            .unwrap();
        let accepted = trader.place_order(order).await.unwrap();
        assert_eq!(
            (accepted.trader.as_str(), accepted.symbol.as_str()),
            ("carl", "ACME")
        );

        // `$default`, and what the schemas refuse.
        let options = ClientOptions::default()
            .bearer(&token("dee", ""))
            .validate_outgoing(false);
        let mut careless = FeedClient::connect_with(&url, options).await.unwrap();
        let lower = Subscribe::new(["acme".to_owned()]);
        assert_eq!(
            server_error(careless.subscribe(lower).await),
            ErrorKind::BadRequestBody
        );
        let dance = json!({"action": "dance"}).to_string();
        careless.inner_mut().send_text(dance).await.unwrap();
        let next = tokio::time::timeout(Duration::from_secs(5), careless.next()).await;
        let Ok(Some(Event::Message(FeedOutbound::Error(error)))) = next else {
            panic!("an error, not {next:?}");
        };
        assert_eq!(
            error.message,
            "unknown action `dance`; actions: subscribe, unsubscribe, placeOrder"
        );
        served.shutdown().await;
    })
    .await;
}
