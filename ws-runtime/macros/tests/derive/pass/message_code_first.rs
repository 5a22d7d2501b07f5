use ws_runtime::Message;

/// A new name.
#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Message)]
struct SetName {
    name: String,
    #[serde(default)]
    color: Option<String>,
}

fn main() {
    assert_eq!(SetName::NAME, "setName");
    let schema = SetName::schema().json();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    assert_eq!(schema["properties"]["name"]["type"], "string");
    assert_eq!(schema["required"], serde_json::json!(["name"]));
    assert!(SetName::from_json(serde_json::json!({"name": "ada"})).is_ok());
    assert!(SetName::from_json(serde_json::json!({"color": "red"})).is_err());
}
