//! The AWS SDK clients of a function behind API Gateway, made from the environment Lambda gives
//! it: `AWS_REGION`, the credentials (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//! `AWS_SESSION_TOKEN`), and the endpoints `AWS_ENDPOINT_URL_{SERVICE}` (or `AWS_ENDPOINT_URL`)
//! name, as the AWS SDKs read them: a local DynamoDB, the management API `asyncapi-rs local`
//! serves.

use aws_credential_types::Credentials;
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};

/// A variable the environment lacks.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the environment has no {0}")]
pub struct MissingVariable(pub &'static str);

fn variable(name: &'static str) -> Result<String, MissingVariable> {
    std::env::var(name).map_err(|_| MissingVariable(name))
}

/// The region and credentials of a Lambda function's environment.
#[derive(Clone)]
pub(crate) struct Environment {
    pub region: String,
    credentials: Credentials,
}

impl std::fmt::Debug for Environment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `Credentials` redacts its secrets itself.
        f.debug_struct("Environment")
            .field("region", &self.region)
            .field("credentials", &self.credentials)
            .finish()
    }
}

impl Environment {
    pub fn read() -> Result<Environment, MissingVariable> {
        Ok(Environment::new(
            variable("AWS_REGION")?,
            variable("AWS_ACCESS_KEY_ID")?,
            variable("AWS_SECRET_ACCESS_KEY")?,
            std::env::var("AWS_SESSION_TOKEN").ok(),
        ))
    }

    pub fn new(
        region: String,
        access_key_id: String,
        secret_access_key: String,
        session_token: Option<String>,
    ) -> Environment {
        let credentials = Credentials::new(
            access_key_id,
            secret_access_key,
            session_token,
            None,
            "lambda-environment",
        );
        Environment {
            region,
            credentials,
        }
    }

    /// A DynamoDB client, at `AWS_ENDPOINT_URL_DYNAMODB` when set.
    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        let mut config = aws_sdk_dynamodb::Config::builder()
            .region(aws_sdk_dynamodb::config::Region::new(self.region.clone()))
            .credentials_provider(self.credentials.clone())
            .http_client(http_client());
        if let Some(endpoint) = endpoint("DYNAMODB") {
            config = config.endpoint_url(endpoint);
        }
        aws_sdk_dynamodb::Client::from_conf(config.build())
    }

    /// A management API client, at `AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI` when set, else at
    /// the API's own endpoint.
    pub fn management(&self, api_id: &str, stage: &str) -> aws_sdk_apigatewaymanagement::Client {
        let endpoint = endpoint("APIGATEWAYMANAGEMENTAPI").unwrap_or_else(|| {
            format!(
                "https://{api_id}.execute-api.{}.amazonaws.com/{stage}",
                self.region
            )
        });
        let config = aws_sdk_apigatewaymanagement::Config::builder()
            .region(aws_sdk_apigatewaymanagement::config::Region::new(
                self.region.clone(),
            ))
            .credentials_provider(self.credentials.clone())
            .http_client(http_client())
            .endpoint_url(endpoint)
            .build();
        aws_sdk_apigatewaymanagement::Client::from_conf(config)
    }
}

/// `AWS_ENDPOINT_URL_{SERVICE}`, else `AWS_ENDPOINT_URL`, as the AWS SDKs read them.
fn endpoint(service: &str) -> Option<String> {
    std::env::var(format!("AWS_ENDPOINT_URL_{service}"))
        .or_else(|_| std::env::var("AWS_ENDPOINT_URL"))
        .ok()
}

/// An HTTP client for `https://` (AWS's endpoints, with rustls on ring, as ws-runtime's TLS) and
/// `http://` (local ones).
fn http_client() -> aws_sdk_dynamodb::config::SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
}
