//! The chat's handlers: the one file of `src/api/` that is ours (asyncapi-rs wrote it once as a
//! stub and never touches it again). Everyone connected is in the room: the runtime's connection
//! registry is the member list, and each connection's name is in its session from `$connect` on
//! (a session, not attached state, so that it survives behind API Gateway, where each event is
//! a Lambda invocation of its own).

use serde::{Deserialize, Serialize};
use ws_runtime::{Accept, Close, ConnectRequest, Context, HandlerError, RawMessage, Reject};

use super::chat::{ChatHandler, ChatOutbound};
use super::types::{
    Echo, EchoReply, Error, Joined, Left, Message, SendMessage, SetName,
};

/// The room.
#[derive(Debug, Default, Clone)]
pub struct Chat;

/// A connection's session: the name the others see.
#[derive(Debug, Serialize, Deserialize)]
struct Member {
    name: String,
}

fn member(cx: &Context) -> Result<Member, HandlerError> {
    cx.session::<Member>()?
        .ok_or_else(|| HandlerError::new("the connection has no member session"))
}

/// Sends `message` to everyone in the room but `sender`, on every node of a cluster. An error
/// says some of the room may have missed it (the cluster could not carry it).
async fn broadcast_except(
    connections: &ws_runtime::Connections,
    message: &ChatOutbound,
    sender: &ws_runtime::ConnectionId,
) -> Result<(), HandlerError> {
    let text = message.to_text().map_err(HandlerError::new)?;
    connections.broadcast_except(text, sender).await?;
    Ok(())
}

impl ChatHandler for Chat {
    /// A `name` that is missing or only white space is refused with 400. The binding's schema
    /// says so (`pattern: \S`) and the runtime checks it first; this is the handler's own
    /// guard, by the same rule. The name is kept as it was sent, as `setName` keeps it.
    async fn connect(&self, request: &ConnectRequest) -> Result<Accept, Reject> {
        let name = request.query_param("name").unwrap_or("");
        if name.trim().is_empty() {
            return Err(Reject::new(
                axum::http::StatusCode::BAD_REQUEST,
                "a `name` query parameter with a character that is not white space is required",
            ));
        }
        tracing::debug!(connection_id = %request.connection_id, name, "joined");
        let joined = ChatOutbound::Joined(Joined::new(name));
        // The new connection is not in the registry yet: this reaches everyone else. A node cut
        // off from its cluster still lets people in; the other nodes miss the notice (notices
        // are at most once, and the runtime logs the outage).
        let _ = broadcast_except(request.connections(), &joined, &request.connection_id).await;
        let member = Member {
            name: name.to_owned(),
        };
        Accept::new().session(&member).map_err(|error| {
            tracing::error!(%error, "the session cannot be JSON");
            Reject::internal_error()
        })
    }

    async fn send_message(&self, cx: &Context, message: SendMessage) -> Result<(), HandlerError> {
        let out = ChatOutbound::Message(Message::new(member(cx)?.name, message.text));
        broadcast_except(cx.connections(), &out, &cx.connection_id).await
    }

    async fn echo(&self, _: &Context, message: Echo) -> Result<EchoReply, HandlerError> {
        Ok(EchoReply::new(message.text))
    }

    async fn set_name(&self, cx: &Context, message: SetName) -> Result<(), HandlerError> {
        let old = member(cx)?.name;
        cx.set_session(&Member {
            name: message.name.clone(),
        })?;
        // The room sees the old name leave and the new one join.
        let left = ChatOutbound::Left(Left::new(old));
        broadcast_except(cx.connections(), &left, &cx.connection_id).await?;
        let joined = ChatOutbound::Joined(Joined::new(message.name));
        broadcast_except(cx.connections(), &joined, &cx.connection_id).await
    }

    /// Anything no route takes: the sender is told what went wrong.
    async fn default_route(&self, _: &Context, message: RawMessage) -> Result<Error, HandlerError> {
        let action = message
            .json
            .as_ref()
            .and_then(|json| json.get("action"))
            .and_then(|action| action.as_str());
        let what = match action {
            Some(action) => format!("unknown action `{action}`"),
            None => "a message needs an `action`".to_owned(),
        };
        Ok(Error::new(format!(
            "{what}; actions: sendMessage, echo, setName"
        )))
    }

    async fn disconnect(&self, cx: &Context, _: &Close) {
        if let Ok(member) = member(cx) {
            let left = ChatOutbound::Left(Left::new(member.name));
            let _ = broadcast_except(cx.connections(), &left, &cx.connection_id).await;
        }
    }
}
