//! Serves the API as an AWS Lambda function behind Amazon API Gateway: `$connect`, every
//! route, `$disconnect` and the `REQUEST` authorizer of one channel (`WS_CHANNEL`), with
//! the handlers `main.rs` serves. `template.yaml` deploys it (`sam build && sam deploy
//! --guided`; `asyncapi-rs local template.yaml` on a desk). Its settings are the
//! function's environment: the verifiers as the server's flags name them (`JWT_SECRET`,
//! `JWKS`, `ISSUER`, `AUDIENCE`, `API_KEYS`), and `CONNECTIONS_TABLE`, the DynamoDB table
//! of connections, sessions and groups.
use chat::api;

fn main() -> std::process::ExitCode {
    ws_runtime::main(serve())
}

async fn serve() -> std::process::ExitCode {
    let flags = match ws_runtime::Flags::from_env(std::iter::empty::<String>(), "127.0.0.1:0") {
        Ok(flags) => flags,
        Err(error) => {
            eprintln!("error: {error}");
            return std::process::ExitCode::from(error.exit_code());
        }
    };
    let router = ws_runtime::Router::new();
    let router = api::chat::mount(router, api::handlers::Chat);
    let router = match flags.apply(router, api::ASYNCAPI).await {
        Ok(router) => router,
        Err(error) => {
            eprintln!("error: {error}");
            return std::process::ExitCode::from(error.exit_code());
        }
    };
    let app = match router.build() {
        Ok(app) => app,
        Err(error) => {
            eprintln!("error: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match ws_runtime::lambda::run(app).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
