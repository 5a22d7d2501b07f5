//! The Lambda functions of AWS's serverless chat sample (`simple-websockets-chat-app`), in Rust,
//! as they are deployed on Lambda: each takes API Gateway's WebSocket event and answers a proxy
//! response. Nothing here knows about ws-runtime.
//!
//! The sample keeps connection ids in DynamoDB; here the table is a trait (`Connections`), so the
//! functions run one by one (`src/bin`, as Lambda runs them) pass DynamoDB
//! ([`crate::aws::DynamoTable`]) and the server that runs them in its own process an in-process
//! set ([`crate::Table`]).

use std::future::Future;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use aws_sdk_apigatewaymanagement::Client as Management;
use aws_sdk_apigatewaymanagement::primitives::Blob;
use serde_json::Value;

/// What a Lambda function fails with (`lambda_runtime::Error`).
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// The table of connected clients (DynamoDB's `connections` table in the sample).
pub trait Connections: Send + Sync {
    /// Stores a connection id.
    fn put(&self, connection_id: &str) -> impl Future<Output = Result<(), Error>> + Send;
    /// Removes a connection id.
    fn delete(&self, connection_id: &str) -> impl Future<Output = Result<(), Error>> + Send;
    /// Every stored connection id.
    fn scan(&self) -> impl Future<Output = Result<Vec<String>, Error>> + Send;
}

fn response(status_code: i64, body: &str) -> ApiGatewayProxyResponse {
    let mut response = ApiGatewayProxyResponse::default();
    response.status_code = status_code;
    response.body = Some(body.to_owned().into());
    response
}

fn connection_id(event: &ApiGatewayWebsocketProxyRequest) -> Result<&str, Error> {
    event
        .request_context
        .connection_id
        .as_deref()
        .ok_or_else(|| "the event has no connection id".into())
}

/// `$connect`: remember the connection.
pub async fn on_connect(
    table: &impl Connections,
    event: ApiGatewayWebsocketProxyRequest,
) -> Result<ApiGatewayProxyResponse, Error> {
    table.put(connection_id(&event)?).await?;
    Ok(response(200, "Connected."))
}

/// `$disconnect`: forget it.
pub async fn on_disconnect(
    table: &impl Connections,
    event: ApiGatewayWebsocketProxyRequest,
) -> Result<ApiGatewayProxyResponse, Error> {
    table.delete(connection_id(&event)?).await?;
    Ok(response(200, "Disconnected."))
}

/// `sendmessage`: `{"action": "sendmessage", "data": "…"}` posts `data` to every connection
/// through the management API, and forgets the connections that are gone.
pub async fn send_message(
    table: &impl Connections,
    management: &Management,
    event: ApiGatewayWebsocketProxyRequest,
) -> Result<ApiGatewayProxyResponse, Error> {
    let body: Value = serde_json::from_str(event.body.as_deref().unwrap_or_default())?;
    let data = match &body["data"] {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    for id in table.scan().await? {
        let posted = management
            .post_to_connection()
            .connection_id(&id)
            .data(Blob::new(data.as_bytes()))
            .send()
            .await;
        if let Err(error) = posted {
            if error
                .as_service_error()
                .is_some_and(|e| e.is_gone_exception())
            {
                // Found stale connection, deleting.
                table.delete(&id).await?;
            } else {
                return Err(error.into());
            }
        }
    }
    Ok(response(200, "Data sent."))
}
