use ws_runtime::{DecodeError, Message};

#[derive(serde::Serialize, serde::Deserialize, Message)]
#[message(schema = r#"{"type": "object", "required": ["text"], "properties": {"text": {"type": "string", "minLength": 1}}}"#)]
struct SendMessage {
    text: String,
}

#[derive(serde::Serialize, serde::Deserialize, Message)]
#[message(name = "tick", schema = serde_json::json!({"type": "integer", "minimum": 0}))]
struct Tick(u64);

fn main() {
    assert_eq!(SendMessage::NAME, "sendMessage");
    assert_eq!(Tick::NAME, "tick");
    let ok = SendMessage::from_json(serde_json::json!({"text": "hi"})).unwrap();
    assert_eq!(ok.text, "hi");
    // Validated before deserializing: serde alone would accept the empty string.
    let Err(DecodeError::Invalid(errors)) = SendMessage::from_json(serde_json::json!({"text": ""})) else {
        panic!("an empty text must be refused");
    };
    assert_eq!(errors.0[0].instance_path, "/text");
    assert!(Tick::from_json(serde_json::json!(-1)).is_err());
    assert_eq!(Tick::from_json(serde_json::json!(3)).unwrap().0, 3);
}
