use ws_runtime::Routes;

struct NotAMessage;

#[derive(Routes)]
enum ChatRoute {
    Send(NotAMessage),
}

fn main() {}
