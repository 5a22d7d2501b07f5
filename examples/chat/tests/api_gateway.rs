//! The chat's `@connections` API against the AWS SDK for Rust's `ApiGatewayManagementApi`
//! client, pointed at the running binary by its endpoint alone and signing with SigV4, as it
//! would sign for API Gateway. (`tests/api_gateway.mjs` does the same with the AWS SDK for
//! JavaScript v3.)

#![allow(clippy::unwrap_used)]

mod support;

use std::process::Stdio;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sdk_apigatewaymanagement::error::ProvideErrorMetadata;
use aws_sdk_apigatewaymanagement::primitives::Blob;
use aws_sdk_apigatewaymanagement::{Client as Management, Config, config::Region};
use futures_util::SinkExt;
use serde_json::json;
use support::{Client, Server, node_test, recv, start_args};
use test_support::bounded;
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const KEY_ID: &str = "AKIDCHATTEST";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

/// The chat with SigV4 keys and the stage `prod`; its credentials file in a folder `name`.
fn serve(name: &str) -> (Server, tempdir::Dir) {
    let dir = tempdir::Dir::new(name);
    let credentials = dir.path.join("credentials");
    std::fs::write(&credentials, format!("# test keys\n{KEY_ID} {SECRET}\n")).unwrap();
    let server = start_args(
        &[
            "--management-credentials",
            credentials.to_str().unwrap(),
            "--region",
            "eu-west-1",
            "--stage",
            "prod",
        ],
        Stdio::null(),
    );
    (server, dir)
}

/// A management client for `endpoint`, as a backend would build one for API Gateway.
fn management(endpoint: &str, key_id: &str, secret: &str) -> Management {
    let config = Config::builder()
        .region(Region::new("eu-west-1"))
        .credentials_provider(Credentials::new(key_id, secret, None, None, "test"))
        .endpoint_url(endpoint)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    Management::from_conf(config)
}

/// Joins as `name` with a user agent; returns the client and its connection id, which the
/// chat's error frame for a bad message names.
async fn join(server: &Server, name: &str) -> (Client, String) {
    let mut request = format!("ws://{}/?name={name}", server.address)
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("user-agent", "chat-test/1.0".parse().unwrap());
    let (mut client, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let bad = json!({"action": "sendMessage", "text": 42}).to_string();
    client.send(Frame::text(bad)).await.unwrap();
    loop {
        let frame = recv(&mut client).await;
        if frame["message"] == "Bad request body" {
            return (client, frame["connectionId"].as_str().unwrap().to_owned());
        }
    }
}

#[tokio::test]
async fn the_aws_sdk_for_rust_posts_gets_and_deletes_with_and_without_the_stage() {
    bounded(60, async {
        let (server, _dir) = serve("sdk-rust");
        let (mut ada, ada_id) = join(&server, "Ada").await;
        for endpoint in [
            format!("http://{}/prod", server.address),
            format!("http://{}", server.address),
        ] {
            let sdk = management(&endpoint, KEY_ID, SECRET);
            let data = json!({"type": "message", "from": "backend", "text": endpoint});
            sdk.post_to_connection()
                .connection_id(&ada_id)
                .data(Blob::new(data.to_string()))
                .send()
                .await
                .unwrap();
            assert_eq!(recv(&mut ada).await, data);
            // Data that is not UTF-8 arrives as a binary frame, byte for byte.
            let bytes = vec![0xff, 0xfe, 0x00, 0x80];
            sdk.post_to_connection()
                .connection_id(&ada_id)
                .data(Blob::new(bytes.clone()))
                .send()
                .await
                .unwrap();
            assert_eq!(test_support::ws::binary(&mut ada).await, bytes);

            let got = sdk
                .get_connection()
                .connection_id(&ada_id)
                .send()
                .await
                .unwrap();
            let now = SystemTime::now();
            for at in [got.connected_at().unwrap(), got.last_active_at().unwrap()] {
                let at = SystemTime::try_from(*at).unwrap();
                let age = now.duration_since(at).unwrap_or_default();
                assert!(age < Duration::from_secs(30), "{at:?} is not recent");
            }
            let identity = got.identity().unwrap();
            assert_eq!(identity.source_ip(), Some("127.0.0.1"));
            assert_eq!(identity.user_agent(), Some("chat-test/1.0"));
        }

        let sdk = management(&format!("http://{}/prod", server.address), KEY_ID, SECRET);
        let gone = sdk
            .post_to_connection()
            .connection_id("no-such-connection")
            .data(Blob::new("x"))
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert!(gone.is_gone_exception(), "{gone:?}");

        let large = "x".repeat(128 * 1024 + 1);
        let too_large = sdk
            .post_to_connection()
            .connection_id(&ada_id)
            .data(Blob::new(large))
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert!(too_large.is_payload_too_large_exception(), "{too_large:?}");

        sdk.delete_connection()
            .connection_id(&ada_id)
            .send()
            .await
            .unwrap();
        assert_eq!(test_support::ws::closed(&mut ada).await, 1000);
        let after = sdk
            .get_connection()
            .connection_id(&ada_id)
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert!(after.is_gone_exception(), "{after:?}");
    })
    .await;
}

#[tokio::test]
async fn wrong_credentials_and_a_wrong_stage_are_refused_as_api_gateway_refuses_them() {
    bounded(60, async {
        let (server, _dir) = serve("sdk-rust-refused");
        let (_bob, bob_id) = join(&server, "Bob").await;
        let refused = |endpoint: String, key_id: &'static str, secret: &'static str| {
            let bob_id = bob_id.clone();
            async move {
                let error = management(&endpoint, key_id, secret)
                    .get_connection()
                    .connection_id(bob_id)
                    .send()
                    .await
                    .unwrap_err();
                let status = error.raw_response().map(|r| r.status().as_u16());
                let code = error.code().map(str::to_owned);
                (status, code)
            }
        };
        let prod = format!("http://{}/prod", server.address);
        assert_eq!(
            refused(prod.clone(), KEY_ID, "not-the-secret").await,
            (Some(403), Some("InvalidSignatureException".into()))
        );
        assert_eq!(
            refused(prod, "AKIDUNKNOWN", SECRET).await,
            (Some(403), Some("UnrecognizedClientException".into()))
        );
        assert_eq!(
            refused(format!("http://{}/dev", server.address), KEY_ID, SECRET).await,
            (Some(403), Some("ForbiddenException".into()))
        );
    })
    .await;
}

/// A temporary folder of this test process, removed when dropped.
mod tempdir {
    pub struct Dir {
        pub path: std::path::PathBuf,
    }

    impl Dir {
        pub fn new(name: &str) -> Dir {
            let path = std::env::temp_dir().join(format!("chat-{name}-{}", std::process::id()));
            std::fs::create_dir_all(&path).unwrap();
            Dir { path }
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

#[tokio::test]
async fn the_aws_sdk_for_javascript_v3_posts_gets_deletes_and_is_refused_as_on_api_gateway() {
    bounded(90, async {
        let (server, _dir) = serve("sdk-javascript");
        let (mut ada, ada_id) = join(&server, "Ada").await;
        // The tests of one file run in order: two posts, the refusals, then the delete.
        let env = [
            ("CHAT_ADDRESS", server.address.as_str()),
            ("KEY_ID", KEY_ID),
            ("SECRET", SECRET),
            ("CONNECTION_ID", ada_id.as_str()),
        ];
        node_test("api_gateway.test.mjs", &env, 5).await;
        // What the SDK posted arrived, from each endpoint, then the delete closed the socket.
        for endpoint in [
            format!("http://{}/prod", server.address),
            format!("http://{}", server.address),
        ] {
            let data = json!({"type": "message", "from": "node", "text": endpoint});
            assert_eq!(recv(&mut ada).await, data);
            let bytes = vec![0xff, 0x00, u8::try_from(endpoint.len()).unwrap()];
            assert_eq!(test_support::ws::binary(&mut ada).await, bytes);
        }
        assert_eq!(test_support::ws::closed(&mut ada).await, 1000);
    })
    .await;
}
