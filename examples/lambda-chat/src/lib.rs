//! AWS's serverless WebSocket chat sample, as Rust Lambda functions ([`handlers`]), run two
//! ways: in one server's process ([`router`], the `lambda-chat` binary), or as the sample is
//! deployed, each function a binary of its own on `lambda_runtime` (`src/bin`) behind the
//! sample's SAM template (`template.yaml`), which `asyncapi-rs local template.yaml` serves.

#![deny(warnings)]

pub mod aws;
pub mod handlers;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use aws_credential_types::Credentials;
use aws_sdk_apigatewaymanagement::Client as Management;
use aws_sdk_apigatewaymanagement::config::{Config, Region};
use ws_runtime::lambda::Lambda;
use ws_runtime::{Router, SigV4};

/// The connections table of a local run: a set in this process.
#[derive(Debug, Default)]
pub struct Table(Mutex<BTreeSet<String>>);

impl handlers::Connections for Table {
    async fn put(&self, connection_id: &str) -> Result<(), handlers::Error> {
        self.set().insert(connection_id.to_owned());
        Ok(())
    }

    async fn delete(&self, connection_id: &str) -> Result<(), handlers::Error> {
        self.set().remove(connection_id);
        Ok(())
    }

    async fn scan(&self) -> Result<Vec<String>, handlers::Error> {
        Ok(self.set().iter().cloned().collect())
    }
}

impl Table {
    fn set(&self) -> std::sync::MutexGuard<'_, BTreeSet<String>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The stage, as the sample deploys it.
pub const STAGE: &str = "Prod";

/// The chat's routes on ws-runtime, for a server listening on `addr`: the functions of
/// [`handlers`], the management API they post through (SigV4, a key made for this process), and
/// the table they share.
pub fn router(addr: SocketAddr, table: Arc<Table>) -> Router {
    let mut secret = [0u8; 20];
    getrandom::fill(&mut secret).unwrap_or_else(|_| unreachable!("the OS has randomness"));
    let secret: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    let management = Management::from_conf(
        Config::builder()
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("LOCAL", &secret, None, None, "local"))
            .endpoint_url(format!("http://{addr}/{STAGE}"))
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .build(),
    );
    let management = Arc::new(management);
    let (t1, t2, t3) = (Arc::clone(&table), Arc::clone(&table), table);
    let lambda = Lambda::new()
        .connect(move |event| {
            let table = Arc::clone(&t1);
            async move { handlers::on_connect(&*table, event).await }
        })
        .disconnect(move |event| {
            let table = Arc::clone(&t2);
            async move { handlers::on_disconnect(&*table, event).await }
        })
        .route("sendmessage", move |event| {
            let (table, management) = (Arc::clone(&t3), Arc::clone(&management));
            async move { handlers::send_message(&*table, &management, event).await }
        });
    Router::new()
        .stage(STAGE)
        .management_sigv4(SigV4::new("us-east-1").key("LOCAL", secret))
        .channel("/", lambda)
}
