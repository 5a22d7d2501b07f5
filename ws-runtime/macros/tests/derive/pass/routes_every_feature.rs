use ws_runtime::{DecodeError, Message, RawMessage, Routes};

#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema, Message)]
struct SendMessage {
    text: String,
}

#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize, Message)]
#[message(schema = r#"{"type": "object", "required": ["action", "text"], "properties": {"action": {"const": "echo"}, "text": {"type": "string"}}}"#)]
struct Echo {
    text: String,
}

#[derive(Debug, PartialEq, Routes)]
#[routes(selection = "$request.body.action")]
enum ChatRoute {
    #[route("sendMessage")]
    Send(SendMessage),
    Echo(Echo),
    #[route(default)]
    Other(RawMessage),
}

#[derive(Debug, PartialEq, Routes)]
#[routes(selection = "${request.body.meta.service}/${request.body.meta.op}")]
enum Templated {
    #[route("chat/send")]
    Send(SendMessage),
}

fn main() {
    assert_eq!(ChatRoute::keys(), ["sendMessage", "echo"]);
    assert_eq!(ChatRoute::selection().as_str(), "$request.body.action");
    let routes = ChatRoute::routes();
    assert_eq!((routes[0].key, routes[0].message), ("sendMessage", "sendMessage"));
    assert_eq!((routes[1].key, routes[1].message), ("echo", "echo"));

    // Decoding validates the whole message, key included, then drops the key.
    let echo = ChatRoute::decode("echo", serde_json::json!({"action": "echo", "text": "hi"})).unwrap();
    assert_eq!(echo, ChatRoute::Echo(Echo { text: "hi".into() }));
    assert!(matches!(
        ChatRoute::decode("echo", serde_json::json!({"action": "echo"})),
        Err(DecodeError::Invalid(_))
    ));
    assert!(matches!(ChatRoute::decode("nope", serde_json::json!({})), Err(DecodeError::UnknownRoute(_))));

    // Encoding writes the key once.
    let send = ChatRoute::Send(SendMessage { text: "yo".into() });
    assert_eq!(send.route_key(), "sendMessage");
    assert_eq!(send.to_json().unwrap(), serde_json::json!({"text": "yo", "action": "sendMessage"}));

    // `$default`.
    let other = ChatRoute::fallback(RawMessage::new("not json")).unwrap();
    assert_eq!(other.route_key(), "$default");
    assert_eq!(other.to_json().unwrap(), serde_json::json!("not json"));

    // Templates route, but cannot write a key back; the message goes as it is.
    assert!(Templated::fallback(RawMessage::new("{}")).is_none());
    let key = Templated::selection().evaluate(&serde_json::json!({"meta": {"service": "chat", "op": "send"}}));
    assert_eq!(key, "chat/send");
    let decoded = Templated::decode(&key, serde_json::json!({"text": "x", "meta": {"service": "chat", "op": "send"}})).unwrap();
    assert_eq!(decoded, Templated::Send(SendMessage { text: "x".into() }));
}
