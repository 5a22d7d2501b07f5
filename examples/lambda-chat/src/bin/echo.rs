//! The smallest function on `lambda_runtime`: the message's body back, as a two-way route's
//! response. Not part of the sample: the function benchmark's Rust function
//! (`benches/functions.rs`).

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::run(service_fn(
        |event: LambdaEvent<ApiGatewayWebsocketProxyRequest>| async move {
            let mut response = ApiGatewayProxyResponse::default();
            response.status_code = 200;
            response.body = event.payload.body.map(Into::into);
            Ok::<_, lambda_runtime::Error>(response)
        },
    ))
    .await
}
