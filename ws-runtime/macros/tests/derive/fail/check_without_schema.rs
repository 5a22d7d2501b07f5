use ws_runtime::Message;
use ws_runtime::__private::Tree;

fn anything(_: &Tree<'_>) -> bool {
    true
}

#[derive(serde::Serialize, serde::Deserialize, Message)]
#[message(check = anything)]
struct Ping {}

fn main() {}
