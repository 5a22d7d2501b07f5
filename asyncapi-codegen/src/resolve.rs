//! `resolve`: the root file and every file its `$ref`s reach, with every reference checked.
//!
//! [`Documents::load`] reads the root file, follows each `$ref` to the files it names (relative
//! to the file holding the `$ref`), and checks that every reference parses and lands on a node.
//! After that the set is immutable, and [`Documents::deref`] and [`Documents::inline`] answer
//! from memory. Remote (`http(s)`) references are never fetched; a ref map can point URL
//! prefixes at local folders instead.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use crate::diagnostic::{Diagnostic, ErrorKind, Report};
use crate::pointer::{Pointer, percent_decode};
use crate::scope::Scope;
use crate::source::{FileId, Pos, Sources, Span};
use crate::tree::{Key, Map, Node, Value};

/// How references are resolved.
#[derive(Debug, Clone)]
pub struct ResolveOptions {
    /// `(prefix, folder)`: a `$ref` that starts with `prefix` reads from `folder` instead; the rest
    /// of the reference is taken relative to `folder`. Meant for `http(s)` prefixes
    /// (`--ref-map https://schemas.example.com/=vendor/schemas`), and works for any prefix.
    pub ref_map: Vec<(String, PathBuf)>,
    /// The largest file read, the root included; a larger one is refused before it is read
    /// whole. Default [`MAX_FILE_SIZE`].
    pub max_file_size: u64,
}

impl Default for ResolveOptions {
    fn default() -> ResolveOptions {
        ResolveOptions {
            ref_map: Vec::new(),
            max_file_size: MAX_FILE_SIZE,
        }
    }
}

impl ResolveOptions {
    /// Adds a `PREFIX=DIR` mapping.
    pub fn map_prefix(mut self, prefix: impl Into<String>, dir: impl Into<PathBuf>) -> Self {
        self.ref_map.push((prefix.into(), dir.into()));
        self
    }
}

/// Where a reference lands: a file and a pointer into it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Target {
    pub file: FileId,
    pub pointer: Pointer,
}

/// A node together with the file it is in (needed to resolve the references below it).
#[derive(Debug, Clone, Copy)]
pub struct At<'a> {
    pub file: FileId,
    pub node: &'a Node,
}

/// The default largest file read: 64 MiB (the largest public AsyncAPI document we know of is
/// under 1 MiB).
pub const MAX_FILE_SIZE: u64 = 64 * 1024 * 1024;
/// An inlined value may hold at most this many nodes (references expanded).
pub const MAX_INLINED_NODES: usize = 2_000_000;
/// An inlined value may nest at most this deep, counting what its references bring in:
/// `serde_json`, and so the generated code that reads its schemas, reads 128 levels.
pub const MAX_INLINED_DEPTH: usize = 128;
/// A pointer that passes through a reference whose own pointer passes through a reference …
/// may do so this many times, one inside another. (A chain of references, `a` → `b` → `c`, has no
/// limit: it is followed in a loop.)
pub const MAX_POINTER_NESTING: usize = 64;

/// A loaded document: its files, their trees, and every reference checked.
#[derive(Debug)]
pub struct Documents {
    sources: Sources,
    trees: Vec<Node>,
    options: ResolveOptions,
    /// `$ref` string node (by file and span) → where it points, as written. Filled by `load`,
    /// complete.
    targets: HashMap<(FileId, Span), Target>,
    /// Target as written → where it lands, as a pointer that passes through no reference.
    landings: HashMap<Target, Target>,
    /// `$ref` string node → where its chain of references reaches a value (a direct pointer).
    values: HashMap<(FileId, Span), Target>,
    /// Every file but the root → the first `$ref` that read it.
    referenced_at: HashMap<FileId, Span>,
}

impl Documents {
    /// Reads `path` and every file it references.
    ///
    /// # Errors
    /// Every unreadable file, syntax error and unresolvable reference, each at its location.
    pub fn load(path: &Path, options: ResolveOptions) -> Result<Documents, Report> {
        let text = match read_file(path, options.max_file_size) {
            Ok(text) => text,
            Err(reason) => {
                return Err(Report {
                    sources: Sources::default(),
                    diagnostics: vec![Diagnostic::unplaced(ErrorKind::Io {
                        path: path.display().to_string(),
                        reason,
                    })],
                });
            }
        };
        Documents::from_text(path, text, options)
    }

    /// Like [`Documents::load`], with the root file's text given (relative references still read
    /// from `path`'s folder).
    ///
    /// # Errors
    /// As [`Documents::load`].
    pub fn from_text(
        path: &Path,
        text: String,
        options: ResolveOptions,
    ) -> Result<Documents, Report> {
        let mut docs = Documents {
            sources: Sources::default(),
            trees: Vec::new(),
            options,
            targets: HashMap::new(),
            landings: HashMap::new(),
            values: HashMap::new(),
            referenced_at: HashMap::new(),
        };
        let mut diagnostics = Vec::new();
        let root = docs.sources.add(path.to_path_buf(), text);
        match parse_file(&docs.sources, root) {
            Ok(tree) => docs.trees.push(tree),
            Err(d) => {
                return Err(Report {
                    sources: docs.sources,
                    diagnostics: vec![d],
                });
            }
        }
        docs.link(&mut diagnostics);
        if diagnostics.is_empty() {
            Ok(docs)
        } else {
            Err(Report {
                sources: docs.sources,
                diagnostics,
            })
        }
    }

    /// The files read, for rendering diagnostics.
    pub fn sources(&self) -> &Sources {
        &self.sources
    }

    /// Gives up the files (to build a [`Report`]).
    pub fn into_sources(self) -> Sources {
        self.sources
    }

    /// The root file's tree.
    pub fn root(&self) -> At<'_> {
        At {
            file: FileId(0),
            node: &self.trees[0],
        }
    }

    /// The tree of a file.
    pub fn tree(&self, file: FileId) -> &Node {
        &self.trees[file.0 as usize]
    }

    /// A wrong-type error about a whole file read as a string (a Markdown file, say, referenced
    /// where a schema or a message belongs) says so, and where the file is referenced.
    pub fn explain(&self, diagnostic: Diagnostic) -> Diagnostic {
        let Some(span) = diagnostic.span else {
            return diagnostic;
        };
        // The file was read as text: its tree is one string, the whole text.
        let text = &self.sources.file(span.file).text;
        let whole_file = self.trees.get(span.file.0 as usize).is_some_and(|tree| {
            tree.span == span && matches!(&tree.value, Value::String(s) if s == text)
        });
        let referenced_at = self.referenced_at.get(&span.file);
        match (&diagnostic.kind, whole_file, referenced_at) {
            (ErrorKind::WrongType { .. }, true, Some(&at)) => {
                let path = self.sources.file(span.file).path.display().to_string();
                diagnostic
                    .with_label(at, "the file is referenced here")
                    .with_help(format!(
                        "`{path}` is not YAML or JSON, so it is read as one string (its text); a text file can stand only where a string is allowed, such as a `description`"
                    ))
            }
            _ => diagnostic,
        }
    }

    /// Finds every `$ref` in every file (reading new files as they appear) and checks it lands.
    fn link(&mut self, diagnostics: &mut Vec<Diagnostic>) {
        // Pass 1: parse every reference, reading the files they name.
        // (file of the `$ref`, its span, its text, where it lands)
        let mut pending: Vec<(FileId, Span, String, Target)> = Vec::new();
        let mut scanned = 0;
        while scanned < self.trees.len() {
            let file = FileId(scanned as u32);
            let mut refs = Vec::new();
            collect_refs(&self.trees[scanned], Keys::Fields, &mut refs);
            let refs: Vec<Node> = refs.into_iter().cloned().collect();
            let first_new = pending.len();
            for node in &refs {
                match self.parse_ref(file, node) {
                    Ok(target) => {
                        let text = node.as_str().unwrap_or_default().to_owned();
                        pending.push((file, node.span, text, target));
                    }
                    Err(d) => diagnostics.push(d),
                }
            }
            // Files named by this file's references are read now, so later rounds scan them.
            let mut new_files: Vec<(FileId, Span)> = Vec::new();
            for (_, span, _, target) in &pending[first_new..] {
                if target.file.0 as usize >= self.trees.len()
                    && !new_files.iter().any(|(f, _)| *f == target.file)
                {
                    new_files.push((target.file, *span));
                }
            }
            new_files.sort();
            for (id, referenced_at) in new_files {
                self.referenced_at.insert(id, referenced_at);
                match parse_file(&self.sources, id) {
                    Ok(tree) => self.trees.push(tree),
                    Err(d) => {
                        diagnostics
                            .push(d.with_label(referenced_at, "the file is referenced here"));
                        // Keep ids aligned with trees: an unparsable file is an empty object.
                        self.trees.push(Node::new(
                            Value::Object(Map::default()),
                            Span::point(id, Default::default()),
                        ));
                    }
                }
            }
            scanned += 1;
        }
        // Pass 2: every pointer must land (pointers may pass through other references).
        for (file, span, _, target) in &pending {
            self.targets.insert((*file, *span), target.clone());
        }
        let graph = Graph {
            trees: &self.trees,
            targets: &self.targets,
        };
        let mut landings: HashMap<Target, Result<Target, Stop>> = HashMap::new();
        let mut landed = Vec::new();
        for (file, span, text, target) in &pending {
            match graph.land(&mut landings, target, &mut Vec::new()) {
                Ok(_) => landed.push((*file, *span, text)),
                Err(stop) => diagnostics.push(self.stopped(stop, text, *span)),
            }
        }
        // Pass 3: a chain of references must reach a value. Each reference is followed once:
        // a chain's outcome is shared by every reference on it.
        let landings: HashMap<Target, Target> = landings
            .into_iter()
            .filter_map(|(target, landing)| Some((target, landing.ok()?)))
            .collect();
        let mut values: HashMap<(FileId, Span), Reach> = HashMap::new();
        for (file, span, text) in landed {
            let mut chain = vec![(file, span)];
            let mut on_chain: HashSet<(FileId, Span)> = chain.iter().copied().collect();
            let reach = loop {
                let last = chain[chain.len() - 1];
                if let Some(known) = values.get(&last) {
                    break known.clone();
                }
                let Some(landing) = self.targets.get(&last).and_then(|t| landings.get(t)) else {
                    // A broken reference further on: reported where it is written.
                    break Reach::Broken;
                };
                // A `$ref` key that is not a reference (in an example, say) is part of a value.
                let next = direct(&self.trees, landing)
                    .get("$ref")
                    .map(|next| (landing.file, next.span))
                    .filter(|next| self.targets.contains_key(next));
                let Some(next) = next else {
                    break Reach::Value(landing.clone());
                };
                if !on_chain.insert(next) {
                    break Reach::Cycle;
                }
                chain.push(next);
            };
            if reach == Reach::Cycle {
                let reference = text.clone();
                diagnostics.push(Diagnostic::error(ErrorKind::RefCycle { reference }, span));
            }
            for link in chain {
                values.entry(link).or_insert_with(|| reach.clone());
            }
        }
        self.values = values
            .into_iter()
            .filter_map(|(at, reach)| match reach {
                Reach::Value(value) => Some((at, value)),
                Reach::Broken | Reach::Cycle => None,
            })
            .collect();
        self.landings = landings;
    }

    /// The diagnostic for a reference whose pointer did not land.
    fn stopped(&self, stop: Stop, reference: &str, span: Span) -> Diagnostic {
        let reference = reference.to_owned();
        match stop {
            Stop::Missing {
                file,
                missing,
                span: stopped_at,
            } => Diagnostic::error(
                ErrorKind::RefTargetMissing {
                    reference,
                    missing: format!("#{missing}"),
                    file: self.sources.file(file).path.display().to_string(),
                },
                span,
            )
            .with_label(stopped_at, "the pointer stops here"),
            Stop::Cycle => Diagnostic::error(ErrorKind::RefCycle { reference }, span),
            Stop::TooDeep => Diagnostic::error(
                ErrorKind::Semantic {
                    what: format!(
                        "`$ref: {reference}` passes through references nested more than {MAX_POINTER_NESTING} deep; asyncapi-rs refuses deeper nesting"
                    ),
                },
                span,
            ),
        }
    }

    /// Parses a `$ref` string node into a target, reading the file it names if needed.
    fn parse_ref(&mut self, file: FileId, node: &Node) -> Result<Target, Diagnostic> {
        let span = node.span;
        let Some(text) = node.as_str() else {
            return Err(Diagnostic::error(
                ErrorKind::RefNotString { found: node.kind() },
                span,
            ));
        };
        // A flow scalar folded over several lines gets a space where each line break was.
        let folded = span.start.line != span.end.line && text.contains(' ');
        if text.contains('\n') || folded {
            return Err(Diagnostic::error(
                ErrorKind::RefLineBreak {
                    reference: text.to_owned(),
                },
                span,
            )
            .with_help("write the reference on one line; YAML folds a line break into a space"));
        }
        let (uri, fragment) = match text.split_once('#') {
            Some((uri, fragment)) => (uri, Some(fragment)),
            None => (text, None),
        };
        let pointer = match fragment {
            None => Pointer::root(),
            Some(fragment) => Pointer::parse_fragment(fragment).map_err(|reason| {
                Diagnostic::error(
                    ErrorKind::RefBadPointer {
                        reference: text.to_owned(),
                        reason,
                    },
                    span,
                )
            })?,
        };
        if uri.is_empty() {
            return Ok(Target { file, pointer });
        }
        let path = self.ref_path(file, text, uri, fragment.is_some(), span)?;
        let target_file = match self.sources.find(&path) {
            Some(id) => id,
            None => {
                let text_of_file =
                    read_file(&path, self.options.max_file_size).map_err(|reason| {
                        Diagnostic::error(
                            ErrorKind::RefFile {
                                reference: text.to_owned(),
                                path: path.display().to_string(),
                                reason,
                            },
                            span,
                        )
                    })?;
                self.sources.add(path, text_of_file)
            }
        };
        Ok(Target {
            file: target_file,
            pointer,
        })
    }

    /// The file a reference's URI part names.
    fn ref_path(
        &self,
        file: FileId,
        text: &str,
        uri: &str,
        has_fragment: bool,
        span: Span,
    ) -> Result<PathBuf, Diagnostic> {
        for (prefix, dir) in &self.options.ref_map {
            if let Some(rest) = uri.strip_prefix(prefix.as_str()) {
                let rest = decode_path(text, rest, span)?;
                return Ok(normalize(&dir.join(rest)));
            }
        }
        if let Some(scheme) = uri_scheme(uri) {
            let kind =
                if scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https") {
                    ErrorKind::RefRemote {
                        reference: text.to_owned(),
                    }
                } else {
                    ErrorKind::RefScheme {
                        reference: text.to_owned(),
                        scheme: scheme.to_owned(),
                    }
                };
            let prefix = uri.rsplit_once('/').map_or(uri, |(p, _)| p);
            return Err(Diagnostic::error(kind, span).with_help(format!(
                "map the URL to a local folder with `--ref-map {prefix}/=DIR`"
            )));
        }
        let relative = decode_path(text, uri, span)?;
        let base = self
            .sources
            .file(file)
            .path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let path = normalize(&base.join(&relative));
        if relative.is_absolute() && !has_fragment && !path.is_file() {
            return Err(Diagnostic::error(
                ErrorKind::RefMissingHash {
                    reference: text.to_owned(),
                },
                span,
            )
            .with_help(format!(
                "a reference into this document starts with `#`: `#{uri}`"
            )));
        }
        Ok(path)
    }

    /// Follows `node` while it is a reference object, to the node that holds a value.
    ///
    /// # Errors
    /// A reference cycle that never reaches a value. (`load` checked every reference and every
    /// chain, so this is only for references it reported.)
    pub fn deref<'a>(&'a self, at: At<'a>) -> Result<At<'a>, Diagnostic> {
        let Some(reference) = at.node.get("$ref") else {
            return Ok(at);
        };
        let key = (at.file, reference.span);
        if !self.targets.contains_key(&key) {
            // In a data position (an example): a value.
            return Ok(at);
        }
        match self.values.get(&key) {
            Some(value) => Ok(self.direct(value)),
            None => Err(Diagnostic::error(
                ErrorKind::RefCycle {
                    reference: ref_text(Some(reference)),
                },
                at.node.span,
            )),
        }
    }

    /// The target of `at` when it is a reference object (`{"$ref": "..."}`).
    pub fn ref_of(&self, at: At<'_>) -> Option<&Target> {
        let reference = at.node.get("$ref")?;
        self.targets.get(&(at.file, reference.span))
    }

    /// The node a target lands on. Every target was checked by `load`.
    pub fn node_at(&self, target: &Target) -> At<'_> {
        self.direct(self.landings.get(target).unwrap_or(target))
    }

    /// The node at a pointer that passes through no reference (the file's root if it stops).
    fn direct(&self, target: &Target) -> At<'_> {
        At {
            file: target.file,
            node: direct(&self.trees, target),
        }
    }

    /// The root document as one JSON value, what a server serves as its contract: every
    /// reference into another file replaced by what it points to; references within the root
    /// file stay as written (what they point to is bundled in place). A cycle inlined from
    /// another file is cut into `components.schemas` (a name of its own there), its references
    /// pointing at it.
    ///
    /// # Errors
    /// As [`Documents::inline`], for an inlined file.
    pub fn bundle(&self) -> Result<serde_json::Value, Diagnostic> {
        let mut cuts = Vec::new();
        let mut json = self.bundle_at(self.root(), &mut cuts)?;
        if cuts.is_empty() {
            return Ok(json);
        }
        if let serde_json::Value::Object(root) = &mut json {
            let components = root
                .entry("components")
                .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
            if let serde_json::Value::Object(components) = components {
                let schemas = components
                    .entry("schemas")
                    .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
                if let serde_json::Value::Object(schemas) = schemas {
                    for (_, name, schema) in cuts {
                        schemas.insert(name, schema);
                    }
                }
            }
        }
        Ok(json)
    }

    /// `at` bundled; the cycles cut on the way are added to `cuts` (where the cycle's target
    /// was written, its name in `components.schemas`, its schema).
    fn bundle_at(
        &self,
        at: At<'_>,
        cuts: &mut Vec<(Target, String, serde_json::Value)>,
    ) -> Result<serde_json::Value, Diagnostic> {
        if self.ref_of(at).is_some_and(|target| target.file != at.file) {
            let inlined = self.inline(at)?;
            let mut json = inlined.node.to_json();
            let mut renamed = HashMap::new();
            let first_new = cuts.len();
            for def in &inlined.defs {
                let taken = |name: &str| {
                    self.root()
                        .node
                        .walk(["components", "schemas", name])
                        .is_some()
                        || cuts.iter().any(|(_, c, _)| c == name)
                };
                // The same cycle, met again from another place, is the same definition.
                let name = match cuts.iter().find(|(target, _, _)| *target == def.target) {
                    Some((_, name, _)) => name.clone(),
                    None => {
                        let mut name = def.name.clone();
                        let mut n = 1;
                        while taken(&name) {
                            n += 1;
                            name = format!("{}_{n}", def.name);
                        }
                        cuts.push((def.target.clone(), name.clone(), def.node.to_json()));
                        name
                    }
                };
                renamed.insert(def.name.clone(), name);
            }
            if !renamed.is_empty() {
                rebase_defs(&mut json, &renamed);
                for (_, _, body) in &mut cuts[first_new..] {
                    rebase_defs(body, &renamed);
                }
            }
            return Ok(json);
        }
        Ok(match &at.node.value {
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(self.bundle_at(
                        At {
                            file: at.file,
                            node: item,
                        },
                        cuts,
                    )?);
                }
                serde_json::Value::Array(out)
            }
            Value::Object(map) => {
                let mut out = serde_json::Map::with_capacity(map.entries.len());
                for (key, child) in &map.entries {
                    let json = self.bundle_at(
                        At {
                            file: at.file,
                            node: child,
                        },
                        cuts,
                    )?;
                    out.insert(key.name.clone(), json);
                }
                serde_json::Value::Object(out)
            }
            _ => at.node.to_json(),
        })
    }

    /// A copy of `at` with every reference replaced by what it points to.
    ///
    /// A reference back into something still being expanded (a cycle) cannot be inlined: it is
    /// replaced by `{"$ref": "#/$defs/NAME"}`, and the cycle's target goes into the returned
    /// definitions under `NAME`, expanded the same way. Each cycle is cut at the same place every
    /// time, so a recursive type appears once, in the definitions.
    ///
    /// # Errors
    /// A cycle of references that never reaches a value, or an expansion too large to hold.
    pub fn inline(&self, at: At<'_>) -> Result<Inlined, Diagnostic> {
        // Expand; every cycle found is cut, and the expansion runs again until none is new.
        let mut cut: Vec<Target> = Vec::new();
        loop {
            let names = names_for(&cut, &self.sources);
            let mut inliner = Inliner::new(self, &cut, &names);
            let node = inliner.node(at, Keys::Fields)?;
            if inliner.found.is_empty() {
                let mut defs = Vec::with_capacity(cut.len());
                for (target, name) in cut.iter().zip(&names) {
                    // A definition's own body, expanded with the same cuts.
                    let body = Inliner::new(self, &cut, &names)
                        .node(self.node_at(target), Keys::Fields)?;
                    defs.push(Definition {
                        name: name.clone(),
                        target: target.clone(),
                        node: body,
                    });
                }
                return Ok(Inlined { node, defs });
            }
            for target in inliner.found {
                if !cut.contains(&target) {
                    cut.push(target);
                }
            }
            cut.sort();
        }
    }
}

/// Points the cut references of an inlined value (`#/$defs/NAME`) at the bundle's
/// `#/components/schemas/RENAMED`.
fn rebase_defs(json: &mut serde_json::Value, renamed: &HashMap<String, String>) {
    match json {
        serde_json::Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                match value {
                    serde_json::Value::String(text) if key == "$ref" => {
                        let name = text.strip_prefix("#/$defs/").and_then(|n| renamed.get(n));
                        if let Some(name) = name {
                            let token = name.replace('~', "~0").replace('/', "~1");
                            *text = format!("#/components/schemas/{token}");
                        }
                    }
                    other => rebase_defs(other, renamed),
                }
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                rebase_defs(item, renamed);
            }
        }
        _ => {}
    }
}

/// An inlined value and the definitions its cycles point into.
#[derive(Debug, Clone, PartialEq)]
pub struct Inlined {
    pub node: Node,
    pub defs: Vec<Definition>,
}

/// A cycle's target, expanded once.
#[derive(Debug, Clone, PartialEq)]
pub struct Definition {
    /// The name used in `#/$defs/NAME` (from the target's last pointer token, made unique).
    pub name: String,
    /// Where the definition was written.
    pub target: Target,
    pub node: Node,
}

impl Inlined {
    /// The value as JSON, with the definitions under `$defs` at the root.
    pub fn to_json(&self) -> serde_json::Value {
        let mut json = self.node.to_json();
        if self.defs.is_empty() {
            return json;
        }
        let defs: serde_json::Map<String, serde_json::Value> = self
            .defs
            .iter()
            .map(|d| (d.name.clone(), d.node.to_json()))
            .collect();
        // Only an object can hold definitions; a boolean schema cannot contain a cycle anyway.
        if let serde_json::Value::Object(map) = &mut json {
            map.insert("$defs".to_owned(), serde_json::Value::Object(defs));
        }
        json
    }
}

struct Inliner<'d, 'c> {
    docs: &'d Documents,
    /// Targets every reference to which is cut, and their `$defs` names (same order).
    cut: &'c [Target],
    names: &'c [String],
    /// Targets being expanded: a reference to one of them is a cycle.
    stack: Vec<Target>,
    /// Cycles found that `cut` does not cut yet.
    found: Vec<Target>,
    budget: usize,
    /// How deep the value being made is.
    depth: usize,
}

impl<'d, 'c> Inliner<'d, 'c> {
    fn new(docs: &'d Documents, cut: &'c [Target], names: &'c [String]) -> Inliner<'d, 'c> {
        Inliner {
            docs,
            cut,
            names,
            stack: Vec::new(),
            found: Vec::new(),
            budget: MAX_INLINED_NODES,
            depth: 0,
        }
    }

    fn node(&mut self, at: At<'_>, keys: Keys) -> Result<Node, Diagnostic> {
        self.budget = self.budget.checked_sub(1).ok_or_else(|| {
            Diagnostic::error(
                ErrorKind::Semantic {
                    what: format!(
                        "expanding references here makes more than {MAX_INLINED_NODES} nodes"
                    ),
                },
                at.node.span,
            )
        })?;
        if keys != Keys::SchemaNames
            && let Some(target) = self.docs.ref_of(at)
        {
            return self.reference(at, target.clone(), keys);
        }
        let nests = matches!(at.node.value, Value::Array(_) | Value::Object(_));
        if nests {
            if self.depth >= MAX_INLINED_DEPTH {
                return Err(Diagnostic::error(
                    ErrorKind::Semantic {
                        what: format!(
                            "with its references expanded, this value nests deeper than {MAX_INLINED_DEPTH} levels, the most asyncapi-rs reads"
                        ),
                    },
                    at.node.span,
                ));
            }
            self.depth += 1;
        }
        let node = self.expand(at, keys);
        self.depth -= usize::from(nests);
        node
    }

    /// The copy of an array or an object, its children expanded; any other value as it is.
    fn expand(&mut self, at: At<'_>, keys: Keys) -> Result<Node, Diagnostic> {
        Ok(match &at.node.value {
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(self.node(
                        At {
                            file: at.file,
                            node: item,
                        },
                        keys.item(),
                    )?);
                }
                Node::new(Value::Array(out), at.node.span)
            }
            Value::Object(map) => {
                let mut out = Map::default();
                out.entries.reserve(map.len());
                for (key, value) in map.iter() {
                    let child = if keys == Keys::Message && key.name == "examples" {
                        self.examples(At {
                            file: at.file,
                            node: value,
                        })?
                    } else if keys.is_fields() && is_data_keyword(&key.name) {
                        value.clone()
                    } else {
                        self.node(
                            At {
                                file: at.file,
                                node: value,
                            },
                            keys.below(&key.name),
                        )?
                    };
                    out.entries.push((key.clone(), child));
                }
                Node::new(Value::Object(out), at.node.span)
            }
            _ => at.node.clone(),
        })
    }

    /// A message's `examples` list: data, except that an item that is a reference object stands
    /// for its target (as the official parser reads them).
    fn examples(&mut self, at: At<'_>) -> Result<Node, Diagnostic> {
        let Value::Array(items) = &at.node.value else {
            return Ok(at.node.clone());
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let item_at = At {
                file: at.file,
                node: item,
            };
            out.push(if is_reference_object(item) {
                self.node(item_at, Keys::Fields)?
            } else {
                item.clone()
            });
        }
        Ok(Node::new(Value::Array(out), at.node.span))
    }

    /// The value a reference object stands for. A chain of references (`a` → `b` → … → a
    /// value) is followed in a loop, each step checked for cycles like the first.
    fn reference(&mut self, at: At<'_>, target: Target, keys: Keys) -> Result<Node, Diagnostic> {
        // The reference objects on the way, each with its target; each target followed is on
        // the stack until the value is made.
        let mut hops: Vec<(At<'_>, Target)> = vec![(at, target)];
        let base = self.stack.len();
        let (body, annotated) = loop {
            let (hop, target) = &hops[hops.len() - 1];
            let ref_span = hop.node.get("$ref").map_or(hop.node.span, |n| n.span);
            if let Some(index) = self.cut.iter().position(|t| t == target) {
                break (
                    Ok(cut_ref(&self.names[index], ref_span, hop.node.span)),
                    hops.len() - 1,
                );
            }
            if self.stack.contains(target) {
                // Not cut yet: this expansion is thrown away and redone with it cut.
                self.found.push(target.clone());
                break (Ok(cut_ref("", ref_span, hop.node.span)), hops.len() - 1);
            }
            self.stack.push(target.clone());
            let landed = self.docs.node_at(target);
            match self.docs.ref_of(landed) {
                Some(next) => hops.push((landed, next.clone())),
                None => break (self.node(landed, keys), hops.len()),
            }
        };
        self.stack.truncate(base);
        // Annotations written beside a `$ref` (a description, say) are kept over its target's,
        // the outermost last.
        let mut body = body?;
        for (hop, _) in hops[..annotated].iter().rev() {
            if let (Value::Object(body_map), Some(siblings)) =
                (&mut body.value, hop.node.as_object())
            {
                for (key, value) in siblings.iter() {
                    if ANNOTATIONS.contains(&key.name.as_str()) {
                        body_map.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        Ok(body)
    }
}

/// Keywords that may sit beside `$ref` and are kept: they describe, they do not constrain.
const ANNOTATIONS: &[&str] = &["description", "title", "summary", "deprecated"];

/// `{"$ref": "#/$defs/NAME"}`, where a cycle is cut.
fn cut_ref(name: &str, ref_span: Span, span: Span) -> Node {
    let mut map = Map::default();
    map.entries.push((
        Key {
            name: "$ref".into(),
            span: ref_span,
        },
        Node::new(Value::String(format!("#/$defs/{name}")), ref_span),
    ));
    Node::new(Value::Object(map), span)
}

/// Keys whose values are data, never references (`$ref` inside an example is just a key).
/// An item of a message's `examples` list that is itself a reference object is the exception
/// ([`is_reference_object`]).
fn is_data_keyword(key: &str) -> bool {
    matches!(key, "examples" | "example" | "const" | "enum" | "default")
}

/// An object whose `$ref` is a string: in a message's `examples` list, a reference to an
/// example.
fn is_reference_object(node: &Node) -> bool {
    node.as_object()
        .and_then(|map| map.get("$ref"))
        .is_some_and(|r| matches!(r.value, Value::String(_)))
}

/// What the keys of an object are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keys {
    /// Fields of an object: `$ref` is a reference, and `examples`, `default` … hold data.
    Fields,
    /// Fields of a message or a message trait: as `Fields`, except that an item of its
    /// `examples` list may be a reference to an example.
    Message,
    /// Names of a schema map (`properties` …): even `$ref` is a name.
    SchemaNames,
    /// Names of an AsyncAPI map (`channels`, `operations` …): an operation may be called
    /// `default` or a message `examples`.
    Names,
    /// Names of a map of messages or message traits.
    MessageNames,
}

impl Keys {
    /// An object's fields, a message's or another's.
    fn is_fields(self) -> bool {
        matches!(self, Keys::Fields | Keys::Message)
    }

    /// What the keys of the object under `key` are.
    fn below(self, key: &str) -> Keys {
        match self {
            // A named thing is an object with fields.
            Keys::SchemaNames | Keys::Names => Keys::Fields,
            Keys::MessageNames => Keys::Message,
            Keys::Fields | Keys::Message => match key {
                "properties" | "patternProperties" | "definitions" | "$defs"
                | "dependentSchemas" => Keys::SchemaNames,
                "messages" | "messageTraits" => Keys::MessageNames,
                // 2.x: an operation's message, or its `oneOf` of messages; a message's traits.
                "message" => Keys::Message,
                "oneOf" | "traits" if self == Keys::Message => Keys::Message,
                "channels" | "operations" | "servers" | "schemas" | "parameters"
                | "securitySchemes" | "correlationIds" | "operationTraits" | "serverVariables"
                | "variables" | "replies" | "replyAddresses" | "serverBindings"
                | "channelBindings" | "operationBindings" | "messageBindings" => Keys::Names,
                _ => Keys::Fields,
            },
        }
    }

    /// What the items of an array in this position are: a list of messages (3.x operations,
    /// 2.x `oneOf`) or of message traits holds messages; any other list, objects with fields.
    fn item(self) -> Keys {
        match self {
            Keys::Message | Keys::MessageNames => Keys::Message,
            _ => Keys::Fields,
        }
    }
}

/// Every `$ref` value node below `node` that is in a reference position.
fn collect_refs<'a>(node: &'a Node, keys: Keys, out: &mut Vec<&'a Node>) {
    match &node.value {
        Value::Object(map) => {
            for (key, value) in map.iter() {
                if key.name == "$ref" && keys != Keys::SchemaNames {
                    out.push(value);
                } else if keys == Keys::Message && key.name == "examples" {
                    if let Value::Array(items) = &value.value {
                        for item in items.iter().filter(|i| is_reference_object(i)) {
                            collect_refs(item, Keys::Fields, out);
                        }
                    }
                } else if !keys.is_fields() || !is_data_keyword(&key.name) {
                    collect_refs(value, keys.below(&key.name), out);
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                collect_refs(item, keys.item(), out);
            }
        }
        _ => {}
    }
}

/// Where a pointer could go no further.
#[derive(Debug, Clone)]
enum Stop {
    /// A token that is not there.
    Missing {
        file: FileId,
        missing: Pointer,
        span: Span,
    },
    /// The pointer passes through a reference that leads back to itself.
    Cycle,
    /// References nested deeper than [`MAX_POINTER_NESTING`].
    TooDeep,
}

/// Where a chain of references ends.
#[derive(Debug, Clone, PartialEq)]
enum Reach {
    Value(Target),
    /// At a reference that does not land (reported where it is written).
    Broken,
    Cycle,
}

/// The trees and the references in them, for walking pointers.
struct Graph<'a> {
    trees: &'a [Node],
    targets: &'a HashMap<(FileId, Span), Target>,
}

/// The node at a pointer that passes through no reference (the file's root if it stops).
fn direct<'a>(trees: &'a [Node], target: &Target) -> &'a Node {
    let root = &trees[target.file.0 as usize];
    target
        .pointer
        .tokens()
        .iter()
        .try_fold(root, |node, token| node.child(token))
        .unwrap_or(root)
}

impl<'a> Graph<'a> {
    /// Where `target` lands, as a pointer that passes through no reference; memoized, so each
    /// target is walked once. A step that lands on a reference object and does not find the
    /// next token there continues in the value that reference reaches, as the AsyncAPI tools
    /// do (`#/channels/echo/messages/x` where `/channels/echo` is a `$ref` to another file).
    fn land(
        &self,
        memo: &mut HashMap<Target, Result<Target, Stop>>,
        target: &Target,
        walking: &mut Vec<Target>,
    ) -> Result<Target, Stop> {
        if let Some(done) = memo.get(target) {
            return done.clone();
        }
        if walking.contains(target) {
            return Err(Stop::Cycle);
        }
        if walking.len() >= MAX_POINTER_NESTING {
            return Err(Stop::TooDeep);
        }
        walking.push(target.clone());
        let landing = self.walk(memo, target, walking);
        walking.pop();
        memo.insert(target.clone(), landing.clone());
        landing
    }

    fn walk(
        &self,
        memo: &mut HashMap<Target, Result<Target, Stop>>,
        target: &Target,
        walking: &mut Vec<Target>,
    ) -> Result<Target, Stop> {
        let tokens = target.pointer.tokens();
        let mut file = target.file;
        let mut node = &self.trees[file.0 as usize];
        let mut path: Vec<String> = Vec::with_capacity(tokens.len());
        for (index, token) in tokens.iter().enumerate() {
            // The references followed for this token: coming back to one is a cycle.
            let mut followed: HashSet<(FileId, Span)> = HashSet::new();
            loop {
                if let Some(next) = node.child(token) {
                    node = next;
                    path.push(token.clone());
                    break;
                }
                let missing = || Stop::Missing {
                    file,
                    missing: Pointer(tokens[..=index].to_vec()),
                    span: node.span,
                };
                let Some(reference) = node.get("$ref") else {
                    return Err(missing());
                };
                let Some(next) = self.targets.get(&(file, reference.span)) else {
                    return Err(missing());
                };
                if !followed.insert((file, reference.span)) {
                    return Err(Stop::Cycle);
                }
                let landed = match self.land(memo, next, walking) {
                    Ok(landed) => landed,
                    Err(Stop::Missing { .. }) => return Err(missing()),
                    Err(stop) => return Err(stop),
                };
                file = landed.file;
                node = direct(self.trees, &landed);
                path = landed.pointer.0;
            }
        }
        Ok(Target {
            file,
            pointer: Pointer(path),
        })
    }
}

/// Reads a file as text: a regular file (never a device, a FIFO or a folder) of at most
/// `max_size` bytes, refused before more than that is read.
fn read_file(path: &Path, max_size: u64) -> Result<String, String> {
    let metadata = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if !metadata.is_file() {
        return Err("not a regular file".into());
    }
    let too_large = || format!("the file is larger than {max_size} bytes, the most that is read");
    if metadata.len() > max_size {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0));
    std::fs::File::open(path)
        .and_then(|file| {
            file.take(max_size.saturating_add(1))
                .read_to_end(&mut bytes)
        })
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > max_size {
        return Err(too_large());
    }
    String::from_utf8(bytes).map_err(|e| format!("the file is not UTF-8: {e}"))
}

/// Parses a file by its extension: `.json` is JSON, `.yaml`/`.yml` YAML. A referenced file that
/// is prose (`.md`, `.markdown`, `.txt`, `.html`, `.htm`), or that has another extension and does
/// not parse as YAML, is its text: a string, as the official parser reads a `description` kept
/// in a Markdown file. The root file is always a document.
fn parse_file(sources: &Sources, id: FileId) -> Result<Node, Diagnostic> {
    let file = sources.file(id);
    let extension = file
        .path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let is_root = id == FileId(0);
    match extension.as_deref() {
        Some("json") => crate::load::parse(id, &file.text, "JSON"),
        Some("yaml" | "yml") => crate::load::parse(id, &file.text, "YAML"),
        Some("md" | "markdown" | "txt" | "html" | "htm") if !is_root => {
            Ok(text_node(id, &file.text))
        }
        _ if is_root => crate::load::parse(id, &file.text, "YAML"),
        _ => crate::load::parse(id, &file.text, "YAML").or_else(|_| Ok(text_node(id, &file.text))),
    }
}

/// A whole file as one string node, its span the whole text.
fn text_node(id: FileId, text: &str) -> Node {
    let lines = text.lines().count().max(1);
    let last = text.lines().last().unwrap_or_default();
    let end = Pos {
        line: u32::try_from(lines).unwrap_or(u32::MAX),
        column: u32::try_from(last.chars().count() + 1).unwrap_or(u32::MAX),
    };
    let span = Span {
        file: id,
        start: Pos { line: 1, column: 1 },
        end,
    };
    Node::new(Value::String(text.to_owned()), span)
}

fn ref_text(node: Option<&Node>) -> String {
    node.and_then(Node::as_str).unwrap_or_default().to_owned()
}

fn decode_path(text: &str, uri: &str, span: Span) -> Result<PathBuf, Diagnostic> {
    percent_decode(uri).map(PathBuf::from).map_err(|reason| {
        Diagnostic::error(
            ErrorKind::RefBadPointer {
                reference: text.to_owned(),
                reason,
            },
            span,
        )
    })
}

/// `scheme:` at the start of a URI (two letters at least, so `C:` stays a drive).
fn uri_scheme(uri: &str) -> Option<&str> {
    let (scheme, _) = uri.split_once(':')?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    let valid = first.is_ascii_alphabetic()
        && scheme.len() > 1
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then_some(scheme)
}

/// Removes `.` and `..` lexically (no file-system access), so one file has one path.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if matches!(out.components().next_back(), Some(Component::Normal(_))) {
                    out.pop();
                } else {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// Unique, readable names for cut targets: `#/components/schemas/Node` → `Node`; a whole file
/// is named after the file (`tree.yaml` → `tree`).
fn names_for(cut: &[Target], sources: &Sources) -> Vec<String> {
    let mut used = Scope::default();
    cut.iter()
        .map(|target| {
            let base = match target.pointer.last() {
                Some(last) => last.to_owned(),
                None => sources
                    .file(target.file)
                    .path
                    .file_stem()
                    .map_or_else(|| "Root".to_owned(), |s| s.to_string_lossy().into_owned()),
            };
            used.claim(base)
        })
        .collect()
}
