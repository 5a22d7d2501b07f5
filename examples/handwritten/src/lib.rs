//! A notice board, written by hand: clients `post` notes that everyone else receives, `echo`
//! text back to themselves, and anything else falls to `$default`. The types carry their own
//! schemas (derived with schemars), and [`asyncapi`] exports the AsyncAPI document that says so.

use serde::{Deserialize, Serialize};
use ws_runtime::{
    AsyncApi, Context, Handler, HandlerError, Message, RawMessage, Reply, Router, Routes,
};

/// A note for everyone else on the board.
#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema, Message)]
pub struct Post {
    /// What the note says (1 to 280 characters).
    #[schemars(length(min = 1, max = 280))]
    pub text: String,
}

/// Text to get back.
#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema, Message)]
pub struct Echo {
    pub text: String,
}

/// A note, as the others receive it.
#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema, Message)]
pub struct Note {
    /// The connection that posted it.
    pub from: String,
    pub text: String,
}

/// The echo, back to its sender.
#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema, Message)]
pub struct Echoed {
    pub text: String,
}

/// What clients send to `/board`, routed by `action`.
#[derive(Debug, Routes)]
#[routes(selection = "$request.body.action")]
pub enum BoardRoute {
    Post(Post),
    Echo(Echo),
    #[route(default)]
    Unknown(RawMessage),
}

/// The board's handler.
#[derive(Debug, Default, Clone)]
pub struct Board;

impl Handler<BoardRoute> for Board {
    async fn message(&self, cx: &Context, message: BoardRoute) -> Result<Reply, HandlerError> {
        match message {
            BoardRoute::Post(post) => {
                let note = Note {
                    from: cx.connection_id.to_string(),
                    text: post.text,
                };
                let text = serde_json::to_string(&note)?;
                cx.connections()
                    .broadcast_except(text, &cx.connection_id)
                    .await?;
                Ok(Reply::none())
            }
            BoardRoute::Echo(echo) => Reply::message(&Echoed { text: echo.text }),
            BoardRoute::Unknown(raw) => Reply::json(&serde_json::json!({
                "error": "unknown action",
                "received": raw.text,
            })),
        }
    }
}

/// The server: the board on `/board`.
///
/// # Errors
/// A route table the router refuses (it cannot happen for this one; the tests build it).
pub fn router() -> Result<ws_runtime::App, ws_runtime::RouterError> {
    Router::new().channel("/board", Board).build()
}

/// The AsyncAPI document of what this server does.
pub fn asyncapi() -> AsyncApi {
    AsyncApi::new("Notice board", "1.0.0")
        .description(
            "Written by hand with ws-runtime's derives; this document is exported from the types.",
        )
        .server("local", "127.0.0.1:8080")
        .channel::<BoardRoute>("/board")
        .sends::<Note>("/board")
        .sends::<Echoed>("/board")
}
