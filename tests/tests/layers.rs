//! Imports run one way: each module of the engine and of the runtime names only modules of its
//! own layer or below (ARCHITECTURE.md draws the same layers). A `crate::x` path, a
//! `use crate::{x, …}` list, and a type the crate root re-exports from a module all count; in the
//! runtime, a type named through the crate root at all is a problem (import from its module).

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::Path;

/// The engine, lowest layer first.
const ENGINE: &[&[&str]] = &[
    &["source", "pointer", "scope"],
    &["tree", "diagnostic"],
    &["load"],
    &["resolve"],
    &["model"],
    &["routing"],
    &["plan", "contract", "diff"],
    &["emit"],
    &["generate", "build"],
];

/// The runtime, lowest layer first: its folders (and its few files of their own).
const RUNTIME: &[&[&str]] = &[
    &["messages", "transport", "access", "metrics"],
    &["registry"],
    &["dispatch"],
    &["apigw"],
    &["server", "client", "lambda"],
    &["fuzz"],
];

/// The names `lib.rs` re-exports, by the module they come from (`pub use module::{A, B};`).
fn re_exports(lib: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for statement in lib.split(';') {
        let Some(rest) = statement.trim().strip_prefix("pub use ") else {
            continue;
        };
        let Some((module, names)) = rest.split_once("::") else {
            continue;
        };
        for name in names.trim_matches(|c| c == '{' || c == '}').split(',') {
            let name = name.trim().rsplit("::").next().unwrap_or_default().trim();
            // A derive re-exported beside its trait (`Message`) keeps the trait's module.
            if !name.is_empty() {
                out.entry(name.to_owned())
                    .or_insert_with(|| module.trim().to_owned());
            }
        }
    }
    out
}

/// Every module `text` names through `crate::`: `crate::x::…`, `use crate::{x, y::Z}`, and
/// re-exported root names (`crate::Message`). A root function call (`crate::load(…)`) is the
/// crate's own entry point, not a module.
fn named_modules(text: &str, exported: &BTreeMap<String, String>) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        let items: Vec<&str> = if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            group[..end].split(',').collect()
        } else {
            vec![rest]
        };
        for item in items {
            let item = item.trim_start();
            let name: String = item
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let after = &item[name.len()..];
            if name.is_empty() || name.starts_with("__") || after.starts_with('(') {
                continue;
            }
            if name.starts_with(|c: char| c.is_ascii_uppercase()) {
                if let Some(module) = exported.get(&name) {
                    out.push(module.clone());
                }
            } else {
                out.push(name);
            }
        }
    }
    out
}

/// Where each module of the crate at `src` imports from, against `layers`; with `from_defining`,
/// a name the crate root re-exports (`crate::Router`) is a problem too: modules import from the
/// module that defines a name, and `lib.rs` is the public face only.
fn check(krate: &str, layers: &[&[&str]], from_defining: bool) -> Vec<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(krate)
        .join("src");
    check_dir(krate, &src, layers, from_defining)
}

fn check_dir(krate: &str, src: &Path, layers: &[&[&str]], from_defining: bool) -> Vec<String> {
    let src = src.to_owned();
    let layer_of = |module: &str| layers.iter().position(|l| l.contains(&module));
    let exported = re_exports(&std::fs::read_to_string(src.join("lib.rs")).unwrap());
    let mut files = Vec::new();
    let mut folders = vec![src.clone()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    let mut problems = Vec::new();
    for file in files {
        let relative = file.strip_prefix(&src).unwrap();
        let first = relative.components().next().unwrap().as_os_str();
        let module = Path::new(first).file_stem().unwrap().to_str().unwrap();
        if module == "lib" || module == "main" {
            continue;
        }
        let Some(own) = layer_of(module) else {
            problems.push(format!("{krate}: `{module}` is in no layer"));
            continue;
        };
        // Code only: a doc link to a higher layer (`[`crate::Router`]`) is not an import.
        let code: String = std::fs::read_to_string(&file)
            .unwrap()
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        if from_defining {
            for name in root_names(&code) {
                problems.push(format!(
                    "{krate}/src/{}: names `crate::{name}` through the crate root; import it from its module",
                    relative.display()
                ));
            }
        }
        for named in named_modules(&code, &exported) {
            match layer_of(&named) {
                Some(layer) if layer > own => problems.push(format!(
                    "{krate}/src/{}: `{module}` (layer {own}) imports `{named}` (layer {layer})",
                    relative.display()
                )),
                Some(_) => {}
                None => problems.push(format!(
                    "{krate}/src/{}: names `crate::{named}`, which is in no layer",
                    relative.display()
                )),
            }
        }
    }
    problems
}

/// The types `text` names through the crate root (`crate::Router`).
fn root_names(text: &str) -> Vec<String> {
    text.match_indices("crate::")
        .map(|(at, _)| &text[at + "crate::".len()..])
        .filter(|rest| rest.starts_with(|c: char| c.is_ascii_uppercase()))
        .map(|rest| {
            rest.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect()
        })
        .collect()
}

#[test]
fn no_import_runs_up_a_layer() {
    let mut problems = check("asyncapi-codegen", ENGINE, false);
    problems.extend(check("ws-runtime", RUNTIME, true));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The check on a crate made up for it: an import up a layer, and one through the crate root,
/// are each reported; the same crate without them passes.
#[test]
fn the_check_fails_on_an_import_that_runs_up_or_through_the_root() {
    let src = std::env::temp_dir().join(format!("layers-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&src);
    let write = |path: &str, text: &str| {
        let path = src.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "lib.rs",
        "mod transport;\nmod server;\npub use server::router::Router;\n",
    );
    write(
        "server/mod.rs",
        "pub(crate) mod router;\nuse crate::transport::socket::Socket;\n",
    );
    write("server/router.rs", "pub struct Router;\n");
    write("transport/mod.rs", "pub(crate) mod socket;\n");
    write("transport/socket.rs", "pub struct Socket;\n");
    let layers: &[&[&str]] = &[&["transport"], &["server"]];
    assert_eq!(
        check_dir("made-up", &src, layers, true),
        Vec::<String>::new()
    );
    write(
        "transport/socket.rs",
        "use crate::server::router::Router;\npub struct Socket(crate::Router);\n",
    );
    let problems = check_dir("made-up", &src, layers, true);
    assert_eq!(
        problems,
        [
            "made-up/src/transport/socket.rs: names `crate::Router` through the crate root; import it from its module",
            "made-up/src/transport/socket.rs: `transport` (layer 0) imports `server` (layer 1)",
            "made-up/src/transport/socket.rs: `transport` (layer 0) imports `server` (layer 1)",
        ],
        "{problems:#?}"
    );
    std::fs::remove_dir_all(&src).unwrap();
}

#[test]
fn the_check_sees_an_import_that_runs_up() {
    let exported = re_exports(
        "pub use server::{App, Server};\npub use message::Message;\npub use macros::Message;",
    );
    let named = named_modules(
        "use crate::{plan::Plan, routing};\nfn f<M: crate::Message>() { crate::load(p); }\nlet a: crate::App;",
        &exported,
    );
    assert_eq!(named, ["plan", "routing", "message", "server"]);
}
