//! `ws_runtime::lambda` over real sockets: the events its functions get, field by field as API
//! Gateway writes them, and what each kind of response does.

#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use futures_util::SinkExt;
use serde_json::{Value, json};
use test_support::bounded;
use test_support::ws::{closed, connect, recv, silent, try_connect};
use tokio_tungstenite::tungstenite::Message as Frame;
use ws_runtime::Router;
use ws_runtime::lambda::Lambda;

type Events = Arc<Mutex<Vec<Value>>>;

/// A function that records its event and answers `response`.
fn recording(
    events: &Events,
    response: Value,
) -> impl Fn(Value) -> std::future::Ready<Result<Value, String>> + Send + Sync + 'static {
    let events = Arc::clone(events);
    move |event| {
        events.lock().unwrap().push(event);
        std::future::ready(Ok(response.clone()))
    }
}

async fn serve(lambda: Lambda) -> ws_runtime::Server {
    let app = Router::new()
        .stage("test")
        .channel("/", lambda)
        .build()
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    app.serve(listener).await.unwrap()
}

#[tokio::test]
async fn every_event_is_api_gateways() {
    bounded(30, async {
        let events = Events::default();
        let lambda = Lambda::new()
            .api_id("abc123")
            .connect(recording(&events, json!({"statusCode": 200})))
            .route(
                "ping",
                recording(&events, json!({"statusCode": 200, "body": "unsent"})),
            )
            .disconnect(recording(&events, json!({})));
        let server = serve(lambda).await;
        let addr = server.local_addr();
        let mut client = connect(addr, "/?room=a&room=b&name=ada").await;
        client
            .send(Frame::text(r#"{"action":"ping","n":1}"#))
            .await
            .unwrap();
        silent(&mut client).await; // one-way: the function's body is not sent
        client.close(None).await.unwrap();
        while events.lock().unwrap().len() < 3 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        let events = events.lock().unwrap().clone();
        let (connect, message, disconnect) = (&events[0], &events[1], &events[2]);
        let host = addr.to_string();
        for (event, route, kind) in [
            (connect, "$connect", "CONNECT"),
            (message, "ping", "MESSAGE"),
            (disconnect, "$disconnect", "DISCONNECT"),
        ] {
            let cx = &event["requestContext"];
            assert_eq!(cx["routeKey"], route);
            assert_eq!(cx["eventType"], kind);
            assert_eq!(cx["stage"], "test");
            assert_eq!(cx["apiId"], "abc123");
            assert_eq!(cx["domainName"], host.as_str());
            assert_eq!(cx["messageDirection"], "IN");
            assert_eq!(cx["identity"]["sourceIp"], "127.0.0.1");
            assert_eq!(
                cx["connectionId"],
                connect["requestContext"]["connectionId"]
            );
            assert_eq!(cx["connectedAt"], connect["requestContext"]["connectedAt"]);
            assert!(
                cx["requestTimeEpoch"].as_u64().unwrap() >= cx["connectedAt"].as_u64().unwrap()
            );
            let time = cx["requestTime"].as_str().unwrap();
            assert!(time.ends_with(" +0000") && time.len() == 26, "{time}");
            // Every event reads as aws_lambda_events' type, as on Lambda.
            let typed: ApiGatewayWebsocketProxyRequest =
                serde_json::from_value(event.clone()).unwrap();
            assert_eq!(typed.request_context.route_key.as_deref(), Some(route));
        }
        assert_eq!(
            connect["queryStringParameters"],
            json!({"room": "b", "name": "ada"})
        );
        assert_eq!(
            connect["multiValueQueryStringParameters"],
            json!({"room": ["a", "b"], "name": ["ada"]})
        );
        assert_eq!(connect["headers"]["host"], host.as_str());
        assert_eq!(message["body"], r#"{"action":"ping","n":1}"#);
        assert!(message["requestContext"]["messageId"].is_string());
        assert_eq!(disconnect["requestContext"]["disconnectStatusCode"], 1005);
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn responses_act_as_on_api_gateway() {
    bounded(30, async {
        let events = Events::default();
        // Typed as Lambda code is: the event and response of aws_lambda_events.
        let echo = |event: ApiGatewayWebsocketProxyRequest| async move {
            let mut response = ApiGatewayProxyResponse::default();
            response.status_code = 200;
            response.body = event.body.map(Into::into);
            Ok::<_, String>(response)
        };
        let lambda = Lambda::new()
            .connect(|event: Value| async move {
                let refused = event["queryStringParameters"]["token"] != "ok";
                Ok::<_, String>(if refused {
                    json!({"statusCode": 401, "body": "who are you?"})
                } else {
                    json!({"statusCode": 200})
                })
            })
            .two_way_route("echo", echo)
            .route("fail", |_: Value| async {
                Err::<Value, _>("the function failed")
            })
            .route(
                "$default",
                recording(&events, json!({"statusCode": 200, "body": "x"})),
            );
        let server = serve(lambda).await;
        let addr = server.local_addr();

        // `$connect` refuses with the function's status and body.
        let refused = try_connect(addr, "/?token=no").await.unwrap_err();
        let tokio_tungstenite::tungstenite::Error::Http(response) = refused else {
            panic!("{refused:?}");
        };
        assert_eq!(response.status(), 401);
        assert_eq!(response.body().as_deref(), Some(&b"who are you?"[..]));

        let mut client = connect(addr, "/?token=ok").await;
        // Two-way: the body comes back.
        client
            .send(Frame::text(r#"{"action":"echo","x":1}"#))
            .await
            .unwrap();
        assert_eq!(recv(&mut client).await, json!({"action": "echo", "x": 1}));
        // A failure: Internal server error, and the connection stays.
        client
            .send(Frame::text(r#"{"action":"fail"}"#))
            .await
            .unwrap();
        let error = recv(&mut client).await;
        assert_eq!(error["message"], "Internal server error");
        assert!(error["requestId"].is_string());
        // Anything else: `$default`, whose body is not sent (one-way).
        client
            .send(Frame::text(r#"{"action":"other"}"#))
            .await
            .unwrap();
        client.send(Frame::text("not json")).await.unwrap();
        silent(&mut client).await;
        let seen = events.lock().unwrap().clone();
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[0]["requestContext"]["routeKey"], "$default");
        assert_eq!(seen[1]["body"], "not json");
        server.shutdown().await;
        assert_eq!(closed(&mut client).await, 1001);
    })
    .await;
}
