use ws_runtime::Routes;

#[derive(Routes)]
enum ChatRoute {
    Send { text: String },
}

fn main() {}
