use ws_runtime::Routes;

#[derive(Routes)]
enum ChatRoute {
    Ping,
}

fn main() {}
