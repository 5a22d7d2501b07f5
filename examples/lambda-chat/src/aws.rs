//! The AWS side of the functions run one by one (`src/bin`): DynamoDB as the connections table
//! ([`DynamoTable`]), and the SDK clients made from the environment Lambda gives a function
//! (`AWS_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), with the
//! endpoints `AWS_ENDPOINT_URL_{SERVICE}` names, as the AWS SDKs read them: a local DynamoDB,
//! and the management API `asyncapi-rs local` serves.

use aws_credential_types::Credentials;
use aws_sdk_apigatewaymanagement::Client as Management;
use aws_sdk_dynamodb::Client as DynamoDb;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};

use crate::handlers::{Connections, Error};

/// What the SDK clients are made of: Lambda's environment.
#[derive(Debug, Clone)]
pub struct Environment {
    region: String,
    credentials: Credentials,
}

/// A variable of the environment, or an error that names it.
fn variable(name: &str) -> Result<String, Error> {
    std::env::var(name).map_err(|_| format!("the environment has no {name}").into())
}

impl Environment {
    /// The region and credentials of the environment, as Lambda sets them.
    ///
    /// # Errors
    /// `AWS_REGION`, `AWS_ACCESS_KEY_ID` or `AWS_SECRET_ACCESS_KEY` is missing.
    pub fn read() -> Result<Environment, Error> {
        let region = variable("AWS_REGION")?;
        let credentials = Credentials::new(
            variable("AWS_ACCESS_KEY_ID")?,
            variable("AWS_SECRET_ACCESS_KEY")?,
            std::env::var("AWS_SESSION_TOKEN").ok(),
            None,
            "lambda-environment",
        );
        Ok(Environment {
            region,
            credentials,
        })
    }

    /// A DynamoDB client: at `AWS_ENDPOINT_URL_DYNAMODB` (or `AWS_ENDPOINT_URL`) when set.
    pub fn dynamodb(&self) -> DynamoDb {
        let mut config = aws_sdk_dynamodb::Config::builder()
            .region(aws_sdk_dynamodb::config::Region::new(self.region.clone()))
            .credentials_provider(self.credentials.clone())
            .http_client(http_client());
        if let Some(endpoint) = endpoint("DYNAMODB") {
            config = config.endpoint_url(endpoint);
        }
        DynamoDb::from_conf(config.build())
    }

    /// A management API client: at `AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI` when set, else
    /// at `fallback` (the sample's `https://{domainName}/{stage}`, from the event).
    pub fn management(&self, fallback: impl FnOnce() -> String) -> Management {
        let endpoint = endpoint("APIGATEWAYMANAGEMENTAPI").unwrap_or_else(fallback);
        let config = aws_sdk_apigatewaymanagement::Config::builder()
            .region(aws_sdk_apigatewaymanagement::config::Region::new(
                self.region.clone(),
            ))
            .credentials_provider(self.credentials.clone())
            .http_client(http_client())
            .endpoint_url(endpoint)
            .build();
        Management::from_conf(config)
    }
}

/// `AWS_ENDPOINT_URL_{SERVICE}`, else `AWS_ENDPOINT_URL`, as the AWS SDKs read them.
fn endpoint(service: &str) -> Option<String> {
    std::env::var(format!("AWS_ENDPOINT_URL_{service}"))
        .or_else(|_| std::env::var("AWS_ENDPOINT_URL"))
        .ok()
}

/// An HTTP client for `https://` (AWS's endpoints, with rustls) and `http://` (local ones).
fn http_client() -> aws_sdk_dynamodb::config::SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

/// The sample's connections table in DynamoDB: items keyed by `connectionId`.
#[derive(Debug, Clone)]
pub struct DynamoTable {
    client: DynamoDb,
    name: String,
}

impl DynamoTable {
    /// The table `name`, through `client`.
    pub fn new(client: DynamoDb, name: impl Into<String>) -> DynamoTable {
        DynamoTable {
            client,
            name: name.into(),
        }
    }

    /// The table `TABLE_NAME` names, through a client made from the environment.
    ///
    /// # Errors
    /// The environment lacks `TABLE_NAME` or what [`Environment::read`] needs.
    pub fn from_env() -> Result<DynamoTable, Error> {
        Ok(DynamoTable::new(
            Environment::read()?.dynamodb(),
            variable("TABLE_NAME")?,
        ))
    }

    fn key(connection_id: &str) -> AttributeValue {
        AttributeValue::S(connection_id.to_owned())
    }
}

impl Connections for DynamoTable {
    async fn put(&self, connection_id: &str) -> Result<(), Error> {
        self.client
            .put_item()
            .table_name(&self.name)
            .item("connectionId", DynamoTable::key(connection_id))
            .send()
            .await?;
        Ok(())
    }

    async fn delete(&self, connection_id: &str) -> Result<(), Error> {
        self.client
            .delete_item()
            .table_name(&self.name)
            .key("connectionId", DynamoTable::key(connection_id))
            .send()
            .await?;
        Ok(())
    }

    async fn scan(&self) -> Result<Vec<String>, Error> {
        let mut ids = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .scan()
                .table_name(&self.name)
                .projection_expression("connectionId")
                .set_exclusive_start_key(start)
                .send()
                .await?;
            for item in page.items() {
                if let Some(AttributeValue::S(id)) = item.get("connectionId") {
                    ids.push(id.clone());
                }
            }
            match page.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => return Ok(ids),
            }
        }
    }
}
