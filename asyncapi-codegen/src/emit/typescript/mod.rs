//! `--typescript`: plan → a TypeScript client for browsers and Node. ES modules that a page
//! imports as they are (no build step, no dependency), each with its declarations (`.d.ts`):
//!
//! - `runtime.js`: the WebSocket client every channel builds on (written by hand, copied);
//! - `types.d.ts`: the payload types;
//! - `schemas.js`: each message's JSON Schema, for a validator of the user's choice;
//! - one module per channel: its typed client and `connect`;
//! - `index.js`: every channel as a namespace, the schemas and the runtime's names.

mod client;
mod types;

use super::{File, FileKind, header};
use crate::plan::Plan;
use crate::scope::Scope;

const RUNTIME_JS: &str = include_str!("runtime.js");
const RUNTIME_DTS: &str = include_str!("runtime.d.ts");

/// Every file of the TypeScript client, paths relative to its folder.
pub fn files(plan: &Plan) -> Vec<File> {
    let header = header(plan);
    let file = |path: String, body: &str| File {
        path,
        contents: format!("{header}\n{body}"),
        kind: FileKind::Generated,
    };
    let mut files = vec![
        file("runtime.js".into(), RUNTIME_JS),
        file("runtime.d.ts".into(), RUNTIME_DTS),
        file("types.d.ts".into(), &types::file(plan)),
        file("schemas.js".into(), &client::schemas_js(plan)),
        file("schemas.d.ts".into(), &client::schemas_dts(plan)),
    ];
    let mut modules = Scope::with(&["runtime", "types", "schemas", "index"]);
    let mut namespaces = Scope::with(&["schemas", "ClientError"]);
    let mut index_js = String::new();
    let mut index_dts = String::new();
    for channel in &plan.channels {
        let module = modules.claim(channel.module.clone());
        let namespace = namespaces.claim(client::identifier(&channel.module));
        let (js, dts) = client::channel(plan, channel);
        files.push(file(format!("{module}.js"), &js));
        files.push(file(format!("{module}.d.ts"), &dts));
        let line = format!("export * as {namespace} from \"./{module}.js\";\n");
        index_js.push_str(&line);
        index_dts.push_str(&line);
    }
    let shared = "export { schemas } from \"./schemas.js\";\n\
                  export { ClientError, errorFrame, matches } from \"./runtime.js\";\n";
    index_js.push_str(shared);
    index_dts.push_str(shared);
    index_dts.push_str(
        "export type * from \"./types.js\";\n\
         export type { ClientEvent, ConnectOptions, ErrorFrame, JsonSchema, JsonValue, RequestOptions, Validate } from \"./runtime.js\";\n",
    );
    files.push(file("index.js".into(), &index_js));
    files.push(file("index.d.ts".into(), &index_dts));
    files
}

/// A JSDoc comment from doc lines, each line indented by `indent`; nothing when there are none.
fn jsdoc(lines: &[String], indent: &str) -> String {
    let lines: Vec<String> = lines.iter().map(|l| l.replace("*/", "*\\/")).collect();
    match lines.as_slice() {
        [] => String::new(),
        [line] => format!("{indent}/** {line} */\n"),
        _ => {
            let mut out = format!("{indent}/**\n");
            for line in &lines {
                if line.is_empty() {
                    out.push_str(&format!("{indent} *\n"));
                } else {
                    out.push_str(&format!("{indent} * {line}\n"));
                }
            }
            out.push_str(&format!("{indent} */\n"));
            out
        }
    }
}

/// A JavaScript string literal.
fn string(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}
