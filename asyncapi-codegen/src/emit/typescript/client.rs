//! A channel's module (`<channel>.js` and its `.d.ts`): its typed client, `connect`, the
//! handshake's types and the union of what the server sends; and `schemas.js`.

use std::fmt::Write as _;

use heck::ToLowerCamelCase;

use super::types::{expression, property_key};
use super::{jsdoc, string};
use crate::plan::types::{Kind, Ty, TypeId};
use crate::plan::{ChannelPlan, HandshakeField, Plan, RoutePlan};
use crate::scope::Scope;

/// Words JavaScript keeps for itself (a namespace cannot be one of them).
const RESERVED: &[&str] = &[
    "arguments",
    "await",
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "debugger",
    "default",
    "delete",
    "do",
    "else",
    "enum",
    "eval",
    "export",
    "extends",
    "false",
    "finally",
    "for",
    "function",
    "if",
    "implements",
    "import",
    "in",
    "instanceof",
    "interface",
    "let",
    "new",
    "null",
    "package",
    "private",
    "protected",
    "public",
    "return",
    "static",
    "super",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "typeof",
    "var",
    "void",
    "while",
    "with",
    "yield",
];

/// The members of `Client` a route's method must not take.
const CLIENT_MEMBERS: &[&str] = &[
    "constructor",
    "closed",
    "url",
    "isOpen",
    "on",
    "events",
    "send",
    "sendText",
    "request",
    "close",
];

/// `user_signed_up` → `userSignedUp`; a reserved word gets `Channel` after it.
pub(super) fn identifier(snake: &str) -> String {
    let camel = snake.to_lower_camel_case();
    if RESERVED.contains(&camel.as_str()) {
        format!("{camel}Channel")
    } else {
        camel
    }
}

/// `schemas.js`: every message's payload schema, by the message's name.
pub(super) fn schemas_js(plan: &Plan) -> String {
    let mut out = String::from(
        "// Each message's payload schema (JSON Schema), by the message's name: for a validator\n\
         // (ajv, say) passed to `connect` as `validate`.\n\nexport const schemas = {\n",
    );
    for message in &plan.messages {
        let _ = writeln!(out, "  {}: {},", string(&message.name), message.schema);
    }
    out.push_str("};\n");
    out
}

/// `schemas.d.ts`.
pub(super) fn schemas_dts(plan: &Plan) -> String {
    let mut out = String::from(
        "import type { JsonSchema } from \"./runtime.js\";\n\n\
         /** Each message's payload schema, by the message's name. */\n\
         export declare const schemas: {\n",
    );
    for message in &plan.messages {
        let _ = writeln!(out, "  readonly {}: JsonSchema;", string(&message.name));
    }
    out.push_str("};\n");
    out
}

/// One method of the client: a route.
struct Method<'a> {
    name: String,
    route: &'a RoutePlan,
    /// The constants of the payload (wire name, JSON value, required), filled in by the client.
    constants: Vec<(String, String, bool)>,
}

/// The channel's module: (`.js`, `.d.ts`).
pub(super) fn channel(plan: &Plan, channel: &ChannelPlan) -> (String, String) {
    let prefix = &channel.prefix;
    let client = format!("{prefix}Client");
    let incoming_type = format!("{prefix}Incoming");
    let options_type = format!("{prefix}ConnectOptions");
    let message_ty =
        |index: usize| expression(&plan.types, &Ty::Named(plan.messages[index].ty), "types.");

    // What the server sends: its outbound messages, then the replies of its routes.
    let mut incoming: Vec<usize> = channel.outbound.iter().map(|(_, m)| *m).collect();
    for reply in channel
        .routes
        .iter()
        .filter_map(|r| r.reply)
        .chain(channel.default_reply)
    {
        if !incoming.contains(&reply) {
            incoming.push(reply);
        }
    }

    let mut names = Scope::with(CLIENT_MEMBERS);
    let methods: Vec<Method> = channel
        .routes
        .iter()
        .map(|r| Method {
            name: names.claim(identifier(&r.client_method)),
            route: r,
            constants: constants(plan, plan.messages[r.message].ty),
        })
        .collect();

    // The `.js` module.
    let mut js = String::from(
        "import { Client } from \"./runtime.js\";\nimport { schemas } from \"./schemas.js\";\n\n",
    );
    let _ = writeln!(
        js,
        "/** The `{}` channel: its path, and what the server sends on it, in the order frames are told apart. */",
        channel.id
    );
    let _ = write!(
        js,
        "export const CHANNEL = {{\n  path: {},\n  incoming: [",
        string(&channel.path)
    );
    for &index in &incoming {
        let name = string(&plan.messages[index].name);
        let _ = write!(js, "\n    [{name}, schemas[{name}]],");
    }
    if !incoming.is_empty() {
        js.push_str("\n  ");
    }
    js.push_str("],\n};\n\n");
    let _ = writeln!(js, "export class {client} extends Client {{");
    for (i, method) in methods.iter().enumerate() {
        if i > 0 {
            js.push('\n');
        }
        let schema = format!(
            "schemas[{}]",
            string(&plan.messages[method.route.message].name)
        );
        let message = if method.constants.is_empty() {
            "message".to_owned()
        } else {
            let fills: Vec<String> = method
                .constants
                .iter()
                .map(|(wire, value, _)| format!("{}: {value}", property_key(wire)))
                .collect();
            format!("{{ {}, ...message }}", fills.join(", "))
        };
        match method.route.reply {
            None => {
                let _ = writeln!(
                    js,
                    "  {}(message) {{\n    this.send({message}, {schema});\n  }}",
                    method.name
                );
            }
            Some(reply) => {
                let correlation = method
                    .route
                    .correlation
                    .as_ref()
                    .map(|(request, reply)| {
                        format!(", correlation: [{}, {}]", string(request), string(reply))
                    })
                    .unwrap_or_default();
                let reply = format!("schemas[{}]", string(&plan.messages[reply].name));
                let _ = writeln!(
                    js,
                    "  {}(message, options) {{\n    return this.request({message}, {{ schema: {schema}, reply: {reply}{correlation} }}, options);\n  }}",
                    method.name
                );
            }
        }
    }
    js.push_str("}\n\n");
    let _ = writeln!(
        js,
        "/** Connects to the `{}` channel of the server at `base`. */\nexport function connect(base, options = {{}}) {{\n  return Client.connect({client}, base, CHANNEL, options);\n}}",
        channel.id
    );

    // The `.d.ts`.
    let mut dts = String::from(
        "import type * as runtime from \"./runtime.js\";\nimport type * as types from \"./types.js\";\nimport { Client } from \"./runtime.js\";\n",
    );
    let mut required_options = false;
    let mut option_fields = Vec::new();
    if !channel.params.is_empty() {
        let name = format!("{prefix}Params");
        let _ = write!(
            dts,
            "\n/** The parameters of the `{}` channel's address. */\nexport interface {name} {{\n",
            channel.id
        );
        for (_, wire) in &channel.params {
            let _ = writeln!(dts, "  {}: string;", property_key(wire));
        }
        dts.push_str("}\n");
        option_fields.push(format!(
            "  /** The channel's address parameters. */\n  params: {name};\n"
        ));
        required_options = true;
    }
    for (suffix, fields, what, option) in [
        ("Query", &channel.query, "query parameters", "query"),
        (
            "Headers",
            &channel.headers,
            "headers (the `ws` package sends them; browsers cannot)",
            "headers",
        ),
    ] {
        if fields.is_empty() {
            continue;
        }
        let name = format!("{prefix}{suffix}");
        let _ = write!(
            dts,
            "\n/** The {what} of the `{}` channel's handshake (its `ws` binding), checked by the server. */\nexport interface {name} {{\n",
            channel.id
        );
        handshake_fields(&mut dts, fields);
        dts.push_str("}\n");
        let required = fields.iter().any(|f| f.required);
        required_options |= required;
        let mark = if required { "" } else { "?" };
        option_fields.push(format!(
            "  /** The handshake's {option}. */\n  {option}{mark}: {name};\n"
        ));
    }

    let _ = write!(
        dts,
        "\n/** What the server sends on the `{}` channel, told apart by `name`. */\nexport type {incoming_type} =\n",
        channel.id
    );
    if incoming.is_empty() {
        dts.push_str("  never;\n");
    } else {
        let members: Vec<String> = incoming
            .iter()
            .map(|&index| {
                format!(
                    "  | {{ readonly name: {}; readonly payload: {} }}",
                    string(&plan.messages[index].name),
                    message_ty(index)
                )
            })
            .collect();
        let _ = writeln!(dts, "{};", members.join("\n"));
    }

    let _ = write!(
        dts,
        "\n/** How to connect to the `{}` channel. */\nexport interface {options_type} extends runtime.ConnectOptions {{\n",
        channel.id
    );
    for field in &option_fields {
        dts.push_str(field);
    }
    dts.push_str("}\n");

    let _ = writeln!(
        dts,
        "\n/** The `{}` channel's path, and what the server sends on it. */\nexport declare const CHANNEL: runtime.Channel;",
        channel.id
    );

    let mut class_doc = vec![format!(
        "A client of the `{}` channel: one method per route.",
        channel.id
    )];
    if !channel.doc.is_empty() {
        class_doc.push(String::new());
        class_doc.extend(channel.doc.iter().cloned());
    }
    dts.push('\n');
    dts.push_str(&jsdoc(&class_doc, ""));
    let _ = writeln!(
        dts,
        "export declare class {client} extends Client<{incoming_type}> {{"
    );
    for (i, method) in methods.iter().enumerate() {
        if i > 0 {
            dts.push('\n');
        }
        let request = &plan.messages[method.route.message];
        let payload = message_ty(method.route.message);
        let required: Vec<String> = method
            .constants
            .iter()
            .filter(|(_, _, required)| *required)
            .map(|(wire, _, _)| string(wire))
            .collect();
        let parameter = if required.is_empty() {
            payload
        } else {
            format!("runtime.Sendable<{payload}, {}>", required.join(" | "))
        };
        let route = &method.route.key;
        let mut doc = match method.route.reply {
            None => vec![format!(
                "Sends `{}` (route `{route}`). Throws a `ClientError`: `closed`, or `invalid` (with `validate`).",
                request.name
            )],
            Some(reply) => {
                let how = match &method.route.correlation {
                    Some((request, reply)) => format!(
                        "its `correlationId` (`{request}` in the request, `{reply}` in the reply)"
                    ),
                    None => "its shape (the document gives no `correlationId`)".into(),
                };
                vec![format!(
                    "Sends `{}` (route `{route}`) and resolves with its reply, `{}`, told apart by {how}. Rejects with a `ClientError`: `timeout`, `server` (an error frame), `closed`, `invalid` (with `validate`).",
                    request.name, plan.messages[reply].name
                )]
            }
        };
        if !method.route.doc.is_empty() {
            doc.push(String::new());
            doc.extend(method.route.doc.iter().cloned());
        }
        if !method.constants.is_empty() {
            doc.push(String::new());
            let keys: Vec<String> = method
                .constants
                .iter()
                .map(|(wire, _, _)| format!("`{wire}`"))
                .collect();
            doc.push(format!(
                "The client fills in {} when the message leaves it out.",
                keys.join(", ")
            ));
        }
        dts.push_str(&jsdoc(&doc, "  "));
        match method.route.reply {
            None => {
                let _ = writeln!(dts, "  {}(message: {parameter}): void;", method.name);
            }
            Some(reply) => {
                let _ = writeln!(
                    dts,
                    "  {}(message: {parameter}, options?: runtime.RequestOptions): Promise<{}>;",
                    method.name,
                    message_ty(reply)
                );
            }
        }
    }
    dts.push_str("}\n");
    let mark = if required_options { "" } else { "?" };
    let _ = writeln!(
        dts,
        "\n/** Connects to the `{}` channel of the server at `base` (`ws://host:port`, with the path it is mounted under); rejects with a `refused` `ClientError`. */\nexport declare function connect(base: string, options{mark}: {options_type}): Promise<{client}>;",
        channel.id
    );
    (js, dts)
}

fn handshake_fields(out: &mut String, fields: &[HandshakeField]) {
    for field in fields {
        out.push_str(&jsdoc(&field.doc, "  "));
        let mark = if field.required { "" } else { "?" };
        let _ = writeln!(out, "  {}{mark}: string;", property_key(&field.wire));
    }
}

/// The constants of a message's payload (`action: "sendMessage"`): its top-level fields whose
/// schema is a `const` string, and whether each is required.
fn constants(plan: &Plan, ty: TypeId) -> Vec<(String, String, bool)> {
    let mut def = plan.types.get(ty);
    if let Kind::Newtype(Ty::Named(inner)) = &def.kind {
        def = plan.types.get(*inner);
    }
    let Kind::Struct(fields) = &def.kind else {
        return Vec::new();
    };
    fields
        .iter()
        .filter_map(|f| {
            let ty = match &f.ty {
                Ty::Option(inner) if f.optional => inner.as_ref(),
                ty => ty,
            };
            match ty {
                Ty::Named(id) => match &plan.types.get(*id).kind {
                    Kind::Const { wire, .. } => Some((f.wire.clone(), string(wire), !f.optional)),
                    _ => None,
                },
                _ => None,
            }
        })
        .collect()
}
