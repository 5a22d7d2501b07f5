use ws_runtime::{Message, Routes};

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Message)]
struct Ping {}

#[derive(Routes)]
enum ChatRoute {
    #[route("$default")]
    Ping(Ping),
}

fn main() {}
