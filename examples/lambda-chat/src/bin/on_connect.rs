//! `OnConnectFunction` of `template.yaml`: the sample's `$connect`, as Lambda runs it.

use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use lambda_chat::aws::DynamoTable;
use lambda_chat::handlers;
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let table = DynamoTable::from_env()?;
    lambda_runtime::run(service_fn(
        |event: LambdaEvent<ApiGatewayWebsocketProxyRequest>| {
            let table = table.clone();
            async move { handlers::on_connect(&table, event.payload).await }
        },
    ))
    .await
}
