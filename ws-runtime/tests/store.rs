//! `lambda::DynamoDbStore`, the connection store of an app behind API Gateway, against a local
//! DynamoDB (dynalite, from npm, started on a free port): each operation of `ConnectionStore`,
//! and what it answers for a connection that is not stored.

#![allow(clippy::unwrap_used)] // a test that cannot set itself up should stop right there

use std::net::IpAddr;

use test_support::bounded;
use test_support::functions::DynamoDb;
use ws_runtime::lambda::{ConnectionRecord, ConnectionStore, DynamoDbStore, StoreError};
use ws_runtime::{ConnectionId, Identity, Principal};

fn store(dynamodb: &DynamoDb) -> DynamoDbStore {
    let config = aws_sdk_dynamodb::Config::builder()
        .region(aws_sdk_dynamodb::config::Region::new("eu-west-1"))
        .credentials_provider(aws_credential_types::Credentials::new(
            "local", "local", None, None, "test",
        ))
        .endpoint_url(&dynamodb.endpoint)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    DynamoDbStore::new(aws_sdk_dynamodb::Client::from_conf(config), "Connections")
}

fn record(id: &str) -> ConnectionRecord {
    ConnectionRecord {
        id: ConnectionId::from(id),
        connected_at: 1_700_000_000_000,
        identity: Identity {
            source_ip: IpAddr::from([192, 0, 2, 7]),
            user_agent: Some("test".into()),
        },
        principal: Some(Principal::new("ada").with_scopes(["orders:write"])),
        session: Some(serde_json::json!({"name": "Ada"})),
        groups: Vec::new(),
    }
}

fn sorted(mut ids: Vec<ConnectionId>) -> Vec<String> {
    ids.sort();
    ids.iter().map(|id| id.as_str().to_owned()).collect()
}

#[tokio::test]
async fn the_dynamodb_store_keeps_connections_sessions_and_groups() {
    bounded(60, async {
        let dynamodb = DynamoDb::start(&["Connections:pk/sk"]);
        let store = store(&dynamodb);
        let (a, b) = (ConnectionId::from("a="), ConnectionId::from("b="));
        store.put(&record("a=")).await.unwrap();
        store.put(&record("b=")).await.unwrap();
        assert_eq!(sorted(store.ids().await.unwrap()), ["a=", "b="]);

        // A record reads back as it was put.
        let read = store.get(&a).await.unwrap().unwrap();
        assert_eq!(read.connected_at, 1_700_000_000_000);
        assert_eq!(read.identity, record("a=").identity);
        assert_eq!(read.principal.unwrap().subject, "ada");
        assert_eq!(read.session, Some(serde_json::json!({"name": "Ada"})));

        // Sessions are replaced and removed.
        let renamed = serde_json::json!({"name": "Bo"});
        store.set_session(&b, Some(&renamed)).await.unwrap();
        assert_eq!(store.get(&b).await.unwrap().unwrap().session, Some(renamed));
        store.set_session(&b, None).await.unwrap();
        assert_eq!(store.get(&b).await.unwrap().unwrap().session, None);

        // Groups: members by group, groups by connection; leaving twice is leaving once.
        store.join(&a, "ACME").await.unwrap();
        store.join(&b, "ACME").await.unwrap();
        store.join(&a, "BOLT").await.unwrap();
        assert_eq!(sorted(store.members("ACME").await.unwrap()), ["a=", "b="]);
        assert_eq!(sorted(store.members("BOLT").await.unwrap()), ["a="]);
        let mut groups = store.get(&a).await.unwrap().unwrap().groups;
        groups.sort();
        assert_eq!(groups, ["ACME", "BOLT"]);
        store.leave(&b, "ACME").await.unwrap();
        store.leave(&b, "ACME").await.unwrap();
        assert_eq!(sorted(store.members("ACME").await.unwrap()), ["a="]);

        // Removing a connection takes it out of its groups too.
        store.remove(&a).await.unwrap();
        assert!(store.get(&a).await.unwrap().is_none());
        assert!(store.members("ACME").await.unwrap().is_empty());
        assert!(store.members("BOLT").await.unwrap().is_empty());
        assert_eq!(sorted(store.ids().await.unwrap()), ["b="]);

        // A connection that is not stored: gone for what needs it, nothing for the rest.
        let gone = ConnectionId::from("gone=");
        assert!(matches!(
            store.join(&gone, "ACME").await,
            Err(StoreError::Gone)
        ));
        assert!(store.members("ACME").await.unwrap().is_empty());
        let session = serde_json::json!(1);
        assert!(matches!(
            store.set_session(&gone, Some(&session)).await,
            Err(StoreError::Gone)
        ));
        store.leave(&gone, "ACME").await.unwrap();
        store.remove(&gone).await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn an_unreachable_store_is_a_client_error() {
    bounded(60, async {
        // A port nothing listens on (the emulator's, once it is gone).
        let endpoint = {
            let dynamodb = DynamoDb::start(&[]);
            dynamodb.endpoint.clone()
        };
        let config = aws_sdk_dynamodb::Config::builder()
            .region(aws_sdk_dynamodb::config::Region::new("eu-west-1"))
            .credentials_provider(aws_credential_types::Credentials::new(
                "local", "local", None, None, "test",
            ))
            .endpoint_url(endpoint)
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .build();
        let store = DynamoDbStore::new(aws_sdk_dynamodb::Client::from_conf(config), "T");
        let failed = store.get(&ConnectionId::from("a=")).await;
        assert!(matches!(failed, Err(StoreError::Client(_))), "{failed:?}");
    })
    .await;
}
