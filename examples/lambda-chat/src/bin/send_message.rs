//! `SendMessageFunction` of `template.yaml`: the sample's `sendmessage`, as Lambda runs it. The
//! management API is the endpoint the environment names, else the sample's
//! `https://{domainName}/{stage}` from the event.

use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use lambda_chat::aws::{DynamoTable, Environment};
use lambda_chat::handlers;
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let environment = Environment::read()?;
    let table = DynamoTable::from_env()?;
    lambda_runtime::run(service_fn(
        |event: LambdaEvent<ApiGatewayWebsocketProxyRequest>| {
            let table = table.clone();
            let context = &event.payload.request_context;
            let endpoint = format!(
                "https://{}/{}",
                context.domain_name.as_deref().unwrap_or_default(),
                context.stage.as_deref().unwrap_or_default()
            );
            let management = environment.management(|| endpoint);
            async move { handlers::send_message(&table, &management, event.payload).await }
        },
    ))
    .await
}
