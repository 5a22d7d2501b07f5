use ws_runtime::{RawMessage, Routes};

#[derive(Routes)]
enum ChatRoute {
    #[route(default)]
    One(RawMessage),
    #[route(default)]
    Two(RawMessage),
}

fn main() {}
