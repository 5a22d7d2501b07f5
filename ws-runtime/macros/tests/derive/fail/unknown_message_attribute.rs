use ws_runtime::Message;

#[derive(serde::Serialize, serde::Deserialize, Message)]
#[message(nmae = "typo")]
struct Ping {}

fn main() {}
