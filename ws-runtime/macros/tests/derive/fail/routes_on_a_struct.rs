use ws_runtime::Routes;

#[derive(Routes)]
struct ChatRoute {
    text: String,
}

fn main() {}
