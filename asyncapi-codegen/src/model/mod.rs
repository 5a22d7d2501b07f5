//! `model`: document graph → API model, for AsyncAPI 2.0–2.6 and 3.0–3.1.
//!
//! The version readers (`v2`, `v3`) check each object they read (required fields, unknown
//! fields, types) and map it into the one [`Api`] shape; `message` holds what both versions
//! share. Semantic rules the official parser applies are checked on the way: unique tag names,
//! unique operation and message ids, channel parameters that match the address.

pub mod api;
mod message;
mod reader;
mod schema;
mod v2;
mod v3;

pub use api::*;

use crate::diagnostic::{Diagnostic, ErrorKind};
use crate::resolve::Documents;
use reader::{Obj, Reader};

/// How the model is built.
#[derive(Debug, Clone, Default)]
pub struct ModelOptions {
    /// Which side the document describes (flip it for documents written from the client's view).
    pub side: Side,
}

/// Builds the API model. Diagnostics come back either way: warnings with a model, or errors
/// (and then no model).
pub fn build(docs: &Documents, options: &ModelOptions) -> (Option<Api>, Vec<Diagnostic>) {
    let mut r = Reader::new(docs);
    let mut api = build_api(&mut r, options);
    let mut diagnostics = r.diagnostics;
    if let Some(api) = &mut api {
        match docs.bundle() {
            Ok(document) => api.document = document,
            Err(diagnostic) => diagnostics.push(diagnostic),
        }
    }
    // Objects reached along several paths (a component used twice) report once.
    diagnostics.sort_by_key(|a| (a.span, a.severity));
    diagnostics.dedup_by(|a, b| a.span == b.span && a.kind == b.kind);
    let failed = diagnostics.iter().any(Diagnostic::is_error);
    (
        if failed {
            None
        } else {
            api.map(with_directions)
        },
        diagnostics,
    )
}

/// Fills each channel's `inbound` and `outbound` lists from the operations and their replies.
fn with_directions(mut api: Api) -> Api {
    let mut lists: Vec<[Vec<usize>; 2]> = vec![Default::default(); api.channels.len()];
    let slot = |d: Direction| match d {
        Direction::Inbound => 0,
        Direction::Outbound => 1,
    };
    for (c, channel) in api.channels.iter().enumerate() {
        for op in &channel.operations {
            lists[c][slot(op.direction)].extend(&op.messages);
            for reply in op.reply.iter().flat_map(|r| &r.messages) {
                lists[reply.channel][slot(op.direction.flip())].push(reply.message);
            }
        }
    }
    for (channel, [inbound, outbound]) in api.channels.iter_mut().zip(lists) {
        channel.inbound = ordered(inbound);
        channel.outbound = ordered(outbound);
    }
    api
}

fn ordered(mut indices: Vec<usize>) -> Vec<usize> {
    indices.sort_unstable();
    indices.dedup();
    indices
}

fn build_api<'d>(r: &mut Reader<'d>, options: &ModelOptions) -> Option<Api> {
    let root = r.docs.root();
    let Some(map) = root.node.as_object() else {
        r.error(
            ErrorKind::RootNotObject {
                found: root.node.kind(),
            },
            root.node.span,
        );
        return None;
    };
    let Some(asyncapi_node) = map.get("asyncapi") else {
        r.error(ErrorKind::NotAsyncApi, root.node.span);
        return None;
    };
    let asyncapi = r.as_string(asyncapi_node, "`asyncapi`")?;
    let version = match parse_version(&asyncapi) {
        Ok(version) => version,
        Err(reason) => {
            r.push(
                Diagnostic::error(
                    ErrorKind::UnsupportedVersion {
                        version: asyncapi.clone(),
                        reason,
                    },
                    asyncapi_node.span,
                )
                .with_help("asyncapi-rs reads AsyncAPI 2.0.0 to 2.6.0, 3.0.0 and 3.1.0"),
            );
            return None;
        }
    };
    let root = Obj {
        at: root,
        map,
        what: "the document root".to_owned(),
    };
    if version.major == 2 {
        v2::build(r, &root, asyncapi, version, options)
    } else {
        v3::build(r, &root, asyncapi, version, options)
    }
}

/// `2.6.0` → 2.6. Pre-releases other than 2.0.0-rc2 (which 2.0.0 kept unchanged) are refused.
fn parse_version(text: &str) -> Result<SpecVersion, String> {
    let supported = |major, minor| matches!((major, minor), (2, 0..=6) | (3, 0..=1));
    if text == "2.0.0-rc2" {
        return Ok(SpecVersion { major: 2, minor: 0 });
    }
    if text.starts_with("1.") {
        return Err(
            "1.x documents use `topics` instead of `channels`; convert the document to 2.x or 3.x first (the official converter does it)".into(),
        );
    }
    if text.contains("-rc") {
        return Err("pre-release versions are not supported; use the released version".into());
    }
    let mut parts = text.split('.');
    let number = |p: Option<&str>| p.and_then(|p| p.parse::<u8>().ok());
    match (
        number(parts.next()),
        number(parts.next()),
        number(parts.next()),
        parts.next(),
    ) {
        (Some(major), Some(minor), Some(_), None) if supported(major, minor) => {
            Ok(SpecVersion { major, minor })
        }
        (Some(_), Some(_), Some(_), None) => Err("this version is not supported".into()),
        _ => Err("not a version number of the form MAJOR.MINOR.PATCH".into()),
    }
}

/// `info`, the same in every version but for `tags` and `externalDocs` (3.x).
fn read_info<'d>(r: &mut Reader<'d>, root: &Obj<'d>, v3: bool) -> Option<Info> {
    let info = r.object_field(root, "info", "the info object")?;
    const V3: &[&str] = &[
        "title",
        "version",
        "description",
        "termsOfService",
        "contact",
        "license",
        "tags",
        "externalDocs",
    ];
    // 2.x has all but the last two.
    let allowed = if v3 { V3 } else { &V3[..6] };
    r.fields(&info, allowed, &["title", "version"]);
    if v3 {
        r.unique_tags(&info);
    }
    if let Some(contact) = r.object_field(&info, "contact", "the contact object") {
        r.fields(&contact, &["name", "url", "email"], &[]);
    }
    if let Some(license) = r.object_field(&info, "license", "the license object") {
        r.fields(&license, &["name", "url"], &["name"]);
    }
    let title = r.string(&info, "title");
    let version = r.string(&info, "version");
    let description = r.string(&info, "description");
    Some(Info {
        title: title?,
        version: version?,
        description,
    })
}

/// The root's `x-route-selection-expression`, or a channel's.
fn route_selection<'d>(r: &mut Reader<'d>, obj: &Obj<'d>) -> Option<String> {
    let node = obj.map.get("x-route-selection-expression")?;
    r.as_string(node, "`x-route-selection-expression`")
}

/// Channel parameters must match the `{names}` of the address: a name used in the address must
/// be declared (an error: nothing would say what it holds); a declared parameter the address does
/// not use is a warning (harmless, and common in real documents).
fn check_parameters<'d>(
    r: &mut Reader<'d>,
    id: &str,
    address: &str,
    address_span: crate::source::Span,
    parameters: &[Parameter],
) {
    let used = reader::address_parameters(address);
    for parameter in parameters {
        if !used.contains(&parameter.name.as_str()) {
            r.push(Diagnostic::warning(
                ErrorKind::UnusedParameter {
                    channel: id.to_owned(),
                    name: parameter.name.clone(),
                },
                parameter.span,
            ));
        }
    }
    for name in used {
        if !parameters.iter().any(|p| p.name == name) {
            r.error(
                ErrorKind::UndeclaredParameter {
                    channel: id.to_owned(),
                    name: name.to_owned(),
                },
                address_span,
            );
        }
    }
}

/// Components are checked even when nothing uses them, as the official parser does: the
/// messages (returned, each read once) and the operation traits (`operation_trait`: the fields
/// the version allows in one).
fn check_components<'d>(
    r: &mut Reader<'d>,
    components: &Obj<'d>,
    version: SpecVersion,
    operation_trait: &[&str],
) -> Vec<Message> {
    let messages = message::components(r, components, version);
    if let Some(traits) = r.object_field(
        components,
        "operationTraits",
        "`components.operationTraits`",
    ) {
        for (key, node) in traits.map.iter() {
            let at = reader::At {
                file: traits.at.file,
                node,
            };
            if let Some(obj) = r.object(at, format!("operation trait `{}`", key.name)) {
                r.fields(&obj, operation_trait, &[]);
                r.unique_tags(&obj);
            }
        }
    }
    messages
}

/// `components.schemas`, with where each definition is (after following references).
fn named_schemas<'d>(r: &mut Reader<'d>, root: &Obj<'d>) -> Vec<NamedSchema> {
    let Some(components) = root.map.get("components").and_then(|c| {
        r.deref(reader::At {
            file: root.at.file,
            node: c,
        })
    }) else {
        return Vec::new();
    };
    let Some(schemas) = components.node.get("schemas") else {
        return Vec::new();
    };
    let Some(list) = r.deref(reader::At {
        file: components.file,
        node: schemas,
    }) else {
        return Vec::new();
    };
    let Some(map) = list.node.as_object() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (key, node) in map.iter() {
        if let Some(at) = r.deref(reader::At {
            file: list.file,
            node,
        }) {
            out.push(NamedSchema {
                name: key.name.clone(),
                span: at.node.span,
            });
        }
    }
    out
}

/// Makes `key` unique among `taken` by adding a number.
fn unique_key(key: String, taken: &[Message]) -> String {
    if !taken.iter().any(|m| m.key == key) {
        return key;
    }
    (2..)
        .map(|n| format!("{key}{n}"))
        .find(|k| !taken.iter().any(|m| &m.key == k))
        .unwrap_or(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(
            parse_version("2.6.0").unwrap(),
            SpecVersion { major: 2, minor: 6 }
        );
        assert_eq!(
            parse_version("3.1.0").unwrap(),
            SpecVersion { major: 3, minor: 1 }
        );
        assert_eq!(
            parse_version("2.0.0-rc2").unwrap(),
            SpecVersion { major: 2, minor: 0 }
        );
        assert!(parse_version("1.2.0").unwrap_err().contains("1.x"));
        assert!(
            parse_version("2.0.0-rc1")
                .unwrap_err()
                .contains("pre-release")
        );
        assert!(
            parse_version("2.7.0")
                .unwrap_err()
                .contains("not supported")
        );
        assert!(
            parse_version("latest")
                .unwrap_err()
                .contains("MAJOR.MINOR.PATCH")
        );
    }
}
