use ws_runtime::{Message, Routes};

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Message)]
struct Ping {}

#[derive(Routes)]
enum ChatRoute {
    Ping(Ping),
    #[route("ping")]
    Again(Ping),
}

fn main() {}
