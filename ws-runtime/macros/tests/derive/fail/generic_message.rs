use ws_runtime::Message;

#[derive(serde::Serialize, serde::Deserialize, Message)]
#[message(schema = "{}")]
struct Wrapper<T> {
    inner: T,
}

fn main() {}
