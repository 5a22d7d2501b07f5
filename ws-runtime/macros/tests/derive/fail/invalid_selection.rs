use ws_runtime::{Message, Routes};

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Message)]
struct Ping {}

#[derive(Routes)]
#[routes(selection = "$request.header.action")]
enum ChatRoute {
    Ping(Ping),
}

fn main() {}
