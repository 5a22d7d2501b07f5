use ws_runtime::{Message, Routes};

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Message)]
struct Ping {}

#[derive(Routes)]
enum Lobby {
    Ping(Ping),
    JoinRoom(Ping),
}

fn main() {
    assert_eq!(Lobby::selection().as_str(), "$request.body.action");
    assert_eq!(Lobby::keys(), ["ping", "joinRoom"]);
}
