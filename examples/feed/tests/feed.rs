//! The generated client (`api::feed::FeedClient`) against the feed over real sockets on
//! loopback: who may connect (a JWT, from the header or the query), prices to the subscribers of
//! their symbol only and until they unsubscribe, a scope per route, heartbeats, `$default`, and
//! what the schemas refuse.

#![allow(clippy::unwrap_used)] // a test that cannot set itself up should stop right there

mod support;

use std::sync::Arc;
use std::time::Duration;

use feed::api::feed::{FeedClient, FeedOutbound, FeedRoute, PATH};
use feed::api::handlers::MAX_SYMBOLS;
use feed::api::types::{PlaceOrder, Price, Side, Subscribe, Unsubscribe};
use feed::market::Market;
use serde_json::json;
use support::{SECRET, now, refused_with, server_error, sign, token};
use test_support::bounded;
use ws_runtime::client::{Client, ClientError, ClientOptions, ErrorKind, Event, Target};

/// The feed on a free port, publishing every `tick`.
struct Feed {
    server: ws_runtime::Server,
    market: Arc<Market>,
    publisher: tokio::task::JoinHandle<()>,
}

impl Drop for Feed {
    fn drop(&mut self) {
        self.publisher.abort();
    }
}

async fn start(tick: Duration, heartbeat: Duration) -> Feed {
    let market = Arc::new(Market::new());
    let jwt = ws_runtime::Jwt::hs256(SECRET.as_bytes())
        .unwrap()
        .audience("feed");
    let app = feed::router(Arc::clone(&market))
        .verify("jwt", jwt)
        .build()
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = app.serve(listener).await.unwrap();
    let publisher = tokio::spawn({
        let (market, connections) = (Arc::clone(&market), server.connections());
        async move { feed::publish(&market, connections, tick, heartbeat).await }
    });
    Feed {
        server,
        market,
        publisher,
    }
}

impl Feed {
    fn url(&self) -> String {
        format!("ws://{}", self.server.local_addr())
    }

    async fn connect(&self, token: &str) -> Result<FeedClient, ClientError> {
        FeedClient::connect_with(&self.url(), ClientOptions::default().bearer(token)).await
    }
}

/// The next event (bounded in time).
async fn next(client: &mut FeedClient) -> Event<FeedOutbound> {
    tokio::time::timeout(Duration::from_secs(5), client.next())
        .await
        .expect("an event in time")
        .expect("the client is not closed for good")
}

/// The next price, past heartbeats.
async fn next_price(client: &mut FeedClient) -> Price {
    loop {
        match next(client).await {
            Event::Message(FeedOutbound::Price(price)) => return price,
            Event::Message(FeedOutbound::Heartbeat(_)) => {}
            other => panic!("a price, not {other:?}"),
        }
    }
}

#[tokio::test]
async fn only_a_valid_token_gets_in_from_the_header_or_the_query() {
    bounded(30, async {
        let feed = start(Duration::from_millis(50), Duration::from_secs(60)).await;
        // No token: 401 before any handler runs.
        assert_eq!(refused_with(FeedClient::connect(&feed.url()).await), 401);
        // Another key, another audience, expired.
        let claims = json!({"sub": "ada", "aud": "feed", "exp": now() + 600});
        let forged = sign(&claims, b"not-the-feeds-secret");
        assert_eq!(refused_with(feed.connect(&forged).await), 401);
        let elsewhere = sign(
            &json!({"sub": "ada", "aud": "billing", "exp": now() + 600}),
            SECRET.as_bytes(),
        );
        assert_eq!(refused_with(feed.connect(&elsewhere).await), 401);
        let expired = sign(
            &json!({"sub": "ada", "aud": "feed", "exp": now() - 10}),
            SECRET.as_bytes(),
        );
        assert_eq!(refused_with(feed.connect(&expired).await), 401);
        assert_eq!(refused_with(feed.connect("not a token").await), 401);

        // A valid token in the header, and in `access_token` as browsers send it.
        let mut ada = feed.connect(&token("ada", "")).await.unwrap();
        let reply = ada.subscribe(Subscribe::new(["ACME".to_owned()])).await;
        assert_eq!(reply.unwrap().symbols, ["ACME"]);
        let target = Target::new(&feed.url(), PATH).query("access_token", &token("bob", ""));
        let mut bob = Client::<FeedRoute, FeedOutbound>::connect(target, ClientOptions::default())
            .await
            .unwrap();
        let route = FeedRoute::Subscribe(Subscribe::new(["BOLT".to_owned()]));
        bob.send(&route).await.unwrap();
        let subscribed = loop {
            match bob.next().await.unwrap() {
                Event::Message(FeedOutbound::Subscribed(subscribed)) => break subscribed,
                Event::Message(FeedOutbound::Price(_) | FeedOutbound::Heartbeat(_)) => {}
                other => panic!("subscribed, not {other:?}"),
            }
        };
        assert_eq!(subscribed.symbols, ["BOLT"]);
    })
    .await;
}

#[tokio::test]
async fn prices_reach_the_subscribers_of_their_symbol_only_until_they_unsubscribe() {
    bounded(30, async {
        let feed = start(Duration::from_millis(20), Duration::from_secs(60)).await;
        let mut ada = feed.connect(&token("ada", "")).await.unwrap();
        let mut bob = feed.connect(&token("bob", "")).await.unwrap();
        let mut carl = feed.connect(&token("carl", "")).await.unwrap();
        let both = ["ACME".to_owned(), "BOLT".to_owned()];
        let subscribed = ada.subscribe(Subscribe::new(both.clone())).await.unwrap();
        assert_eq!(subscribed.symbols, both);
        // Subscribing again adds nothing; the reply lists everything watched.
        let again = ["BOLT".to_owned()];
        let subscribed = bob.subscribe(Subscribe::new(again.clone())).await.unwrap();
        assert_eq!(subscribed.symbols, again);
        let subscribed = bob.subscribe(Subscribe::new(again)).await.unwrap();
        assert_eq!(subscribed.symbols, ["BOLT"]);
        assert_eq!(feed.market.symbols(), both);

        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..10 {
            let price = next_price(&mut ada).await;
            assert!(price.price > 0.0 && price.time > 0, "{price:?}");
            seen.insert(price.symbol);
        }
        assert_eq!(seen.into_iter().collect::<Vec<_>>(), both, "ada gets both");
        for _ in 0..10 {
            assert_eq!(
                next_price(&mut bob).await.symbol,
                "BOLT",
                "bob gets BOLT only"
            );
        }

        // Carl keeps ACME quoted while Ada leaves it.
        let acme = Subscribe::new(["ACME".to_owned()]);
        assert_eq!(carl.subscribe(acme).await.unwrap().symbols, ["ACME"]);
        // Prices pushed before the reply to `unsubscribe` wait in the client, ACME's among
        // them; of a tick that began after the reply came, none is ACME's.
        let reply = ada
            .unsubscribe(Unsubscribe::new(["ACME".to_owned()]))
            .await
            .unwrap();
        let replied = feed::market::now();
        assert_eq!(reply.symbols, ["BOLT"]);
        let mut later = 0;
        while later < 10 {
            let price = next_price(&mut ada).await;
            if price.time > replied {
                assert_eq!(price.symbol, "BOLT", "{price:?} after {replied}");
                later += 1;
            }
        }
        assert_eq!(next_price(&mut carl).await.symbol, "ACME");
        assert_eq!(feed.market.symbols(), both);

        // Closing a connection ends its subscriptions: once Carl is gone, no one watches ACME.
        carl.close().await.unwrap();
        while feed.market.symbols() != ["BOLT"] {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        ada.close().await.unwrap();
        bob.close().await.unwrap();
        while !feed.market.symbols().is_empty() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
}

#[tokio::test]
async fn a_connection_watches_at_most_max_symbols() {
    bounded(30, async {
        let feed = start(Duration::from_secs(60), Duration::from_secs(60)).await;
        let mut ada = feed.connect(&token("ada", "")).await.unwrap();
        let symbols: Vec<String> = (0..60)
            .map(|i| {
                let letter = |n: usize| char::from(b'A' + u8::try_from(n % 26).unwrap());
                format!("Q{}{}", letter(i / 26), letter(i))
            })
            .collect();
        let mut watched = Vec::new();
        for chunk in symbols.chunks(20) {
            watched = ada
                .subscribe(Subscribe::new(chunk.to_vec()))
                .await
                .unwrap()
                .symbols;
        }
        assert_eq!(watched.len(), MAX_SYMBOLS);
        assert_eq!(watched, symbols[..MAX_SYMBOLS]);
        assert_eq!(feed.market.symbols().len(), MAX_SYMBOLS);
    })
    .await;
}

#[tokio::test]
async fn placing_an_order_needs_the_orders_write_scope() {
    bounded(30, async {
        let feed = start(Duration::from_secs(60), Duration::from_secs(60)).await;
        let order = PlaceOrder::new("ACME", Side::Buy, 100).with_limit(101.5);

        // Without the scope: `Forbidden` to that message only; the connection goes on.
        let mut reader = feed.connect(&token("rita", "prices:read")).await.unwrap();
        let refused = reader.place_order(order.clone()).await;
        assert_eq!(server_error(refused), ErrorKind::Forbidden);
        let reply = reader.subscribe(Subscribe::new(["ACME".to_owned()])).await;
        assert_eq!(reply.unwrap().symbols, ["ACME"]);

        // With it: the order, in the name of the token's subject.
        let mut trader = feed
            .connect(&token("ada", "prices:read orders:write"))
            .await
            .unwrap();
        let first = trader.place_order(order.clone()).await.unwrap();
        assert_eq!(
            (first.trader.as_str(), first.symbol.as_str(), first.side),
            ("ada", "ACME", Side::Buy)
        );
        assert_eq!((first.quantity, first.limit), (100, Some(101.5)));
        let market = PlaceOrder::new("BOLT", Side::Sell, 5);
        let second = trader.place_order(market).await.unwrap();
        assert_eq!((second.limit, second.side), (None, Side::Sell));
        assert_ne!(first.order_id, second.order_id);
    })
    .await;
}

#[tokio::test]
async fn every_connection_gets_heartbeats() {
    bounded(30, async {
        let feed = start(Duration::from_secs(60), Duration::from_millis(100)).await;
        let mut ada = feed.connect(&token("ada", "")).await.unwrap();
        let mut bob = feed.connect(&token("bob", "")).await.unwrap();
        for client in [&mut ada, &mut bob] {
            let Event::Message(FeedOutbound::Heartbeat(beat)) = next(client).await else {
                panic!("a heartbeat");
            };
            assert!(beat.time > 0);
        }
    })
    .await;
}

#[tokio::test]
async fn what_no_route_takes_and_what_the_schemas_refuse() {
    bounded(30, async {
        let feed = start(Duration::from_secs(60), Duration::from_secs(60)).await;
        // Outgoing checks on, as in debug builds (a release build turns them off by default).
        let options = ClientOptions::default()
            .bearer(&token("ada", "orders:write"))
            .validate_outgoing(true);
        let mut ada = FeedClient::connect_with(&feed.url(), options)
            .await
            .unwrap();
        // `$default` answers `error`.
        let dance = json!({"action": "dance"}).to_string();
        ada.inner_mut().send_text(dance).await.unwrap();
        let Event::Message(FeedOutbound::Error(error)) = next(&mut ada).await else {
            panic!("an error");
        };
        assert_eq!(
            error.message,
            "unknown action `dance`; actions: subscribe, unsubscribe, placeOrder"
        );

        // A symbol the schema refuses: the client will not send it …
        let lower = Subscribe::new(["acme".to_owned()]);
        let Err(ClientError::Invalid(errors)) = ada.subscribe(lower.clone()).await else {
            panic!("refused before it is sent");
        };
        assert!(errors.to_string().contains("/symbols/0"), "{errors}");
        // … and the server answers `Bad request body` when it is sent anyway.
        let options = ClientOptions::default()
            .bearer(&token("ada", "orders:write"))
            .validate_outgoing(false);
        let mut careless = FeedClient::connect_with(&feed.url(), options)
            .await
            .unwrap();
        let refused = careless.subscribe(lower).await;
        assert_eq!(server_error(refused), ErrorKind::BadRequestBody);
        let zero = PlaceOrder::new("ACME", Side::Buy, 0);
        assert_eq!(
            server_error(careless.place_order(zero).await),
            ErrorKind::BadRequestBody
        );
        let none = Subscribe::new(Vec::<String>::new());
        assert_eq!(
            server_error(careless.subscribe(none).await),
            ErrorKind::BadRequestBody
        );
    })
    .await;
}
