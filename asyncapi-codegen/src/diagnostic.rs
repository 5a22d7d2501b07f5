//! Typed errors with source locations, and their rendering with source snippets.

use std::fmt;

use crate::source::{Location, Sources, Span};

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// What went wrong. Each variant's text is the headline of a diagnostic.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    // ---- reading and parsing ----
    #[error("cannot read `{path}`: {reason}")]
    Io { path: String, reason: String },
    #[error("{format} syntax error: {message}")]
    Syntax {
        format: &'static str,
        message: String,
    },
    #[error("duplicate key `{key}`")]
    DuplicateKey { key: String },
    #[error("mapping keys must be plain scalars; a {found} cannot be a key")]
    ComplexKey { found: &'static str },
    #[error("the file holds {count} YAML documents; an AsyncAPI file holds exactly one")]
    MultipleDocuments { count: usize },
    #[error("the file is empty")]
    EmptyFile,
    #[error("unsupported YAML tag `{tag}`")]
    UnsupportedTag { tag: String },
    #[error("`{value}` is not a valid {tag}")]
    BadTaggedScalar { tag: &'static str, value: String },

    // ---- references ----
    #[error("`$ref` must be a string, found {found}")]
    RefNotString { found: &'static str },
    #[error("`$ref` contains a line break: {reference:?}")]
    RefLineBreak { reference: String },
    #[error("`$ref: {reference}` is an absolute path, not a JSON pointer")]
    RefMissingHash { reference: String },
    #[error("`$ref: {reference}` is a remote reference, and remote references are never fetched")]
    RefRemote { reference: String },
    #[error("`$ref: {reference}` uses the unsupported scheme `{scheme}:`")]
    RefScheme { reference: String, scheme: String },
    #[error("`$ref: {reference}` points to `{path}`, which cannot be read: {reason}")]
    RefFile {
        reference: String,
        path: String,
        reason: String,
    },
    #[error("`$ref: {reference}` has an invalid JSON pointer: {reason}")]
    RefBadPointer { reference: String, reason: String },
    #[error("`$ref: {reference}` points to nothing: `{missing}` does not exist in {file}")]
    RefTargetMissing {
        reference: String,
        missing: String,
        file: String,
    },
    #[error("`$ref: {reference}` is part of a cycle of references that never reaches a value")]
    RefCycle { reference: String },

    // ---- document structure ----
    #[error("not an AsyncAPI document: the root has no `asyncapi` field")]
    NotAsyncApi,
    #[error("the root of the document must be an object, found {found}")]
    RootNotObject { found: &'static str },
    #[error("AsyncAPI {version} is not supported: {reason}")]
    UnsupportedVersion { version: String, reason: String },
    #[error("{object} is missing the required field `{field}`")]
    MissingField { object: String, field: String },
    #[error("{object} has an unknown field `{field}`")]
    UnknownField { object: String, field: String },
    #[error("{what} must be {expected}, found {found}")]
    WrongType {
        what: String,
        expected: &'static str,
        found: &'static str,
    },
    #[error("{what}: {message}")]
    InvalidValue { what: String, message: String },

    // ---- semantics ----
    #[error("duplicate tag name `{name}` in {object}")]
    DuplicateTag { name: String, object: String },
    #[error("duplicate {what} `{id}`")]
    DuplicateId { what: &'static str, id: String },
    #[error("channel `{channel}` declares parameter `{name}`, but its address has no `{{{name}}}`")]
    UnusedParameter { channel: String, name: String },
    #[error(
        "channel `{channel}` uses `{{{name}}}` in its address but does not declare the parameter"
    )]
    UndeclaredParameter { channel: String, name: String },
    #[error("message `{message}` uses the unknown schema format `{format}`")]
    UnknownSchemaFormat { format: String, message: String },
    #[error(
        "message `{message}` uses the {format} schema format, which asyncapi-rs does not support; its payload is opaque"
    )]
    UnsupportedSchemaFormat { format: String, message: String },
    #[error("{what} `{reference}` must point into `{expected}`")]
    MisplacedReference {
        what: &'static str,
        reference: String,
        expected: String,
    },
    #[error("example `{example}` of message `{message}` breaks its {part} schema: {errors}")]
    InvalidExample {
        message: String,
        example: String,
        part: &'static str,
        errors: String,
    },
    #[error("{what}")]
    Semantic { what: String },
}

/// A secondary place a diagnostic talks about ("first defined here").
#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

/// One error or warning, located in the source.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub kind: ErrorKind,
    /// Where it is; `None` only for failures before any file was read.
    pub span: Option<Span>,
    pub labels: Vec<Label>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(kind: ErrorKind, span: Span) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            kind,
            span: Some(span),
            labels: Vec::new(),
            help: None,
        }
    }

    pub fn warning(kind: ErrorKind, span: Span) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(kind, span)
        }
    }

    /// A diagnostic with no place in any file (the root file cannot be read).
    pub fn unplaced(kind: ErrorKind) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            kind,
            span: None,
            labels: Vec::new(),
            help: None,
        }
    }

    pub fn with_label(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.labels.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Diagnostics together with the files they point into: what a failed load returns.
#[derive(Debug)]
pub struct Report {
    pub sources: Sources,
    pub diagnostics: Vec<Diagnostic>,
}

impl Report {
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.is_error())
    }

    pub fn has_errors(&self) -> bool {
        self.errors().next().is_some()
    }

    /// `file:line:column` of a diagnostic.
    pub fn location(&self, diagnostic: &Diagnostic) -> Option<Location> {
        diagnostic.span.map(|span| self.sources.location(span))
    }

    /// Renders every diagnostic with a source snippet, rustc style.
    pub fn render(&self, color: bool) -> String {
        render(&self.sources, &self.diagnostics, color)
    }

    /// The diagnostics as JSON values, for `--format json`.
    pub fn to_json(&self) -> serde_json::Value {
        to_json(&self.sources, &self.diagnostics)
    }
}

/// Renders diagnostics with source snippets, rustc style.
pub fn render(sources: &Sources, diagnostics: &[Diagnostic], color: bool) -> String {
    let renderer = if color {
        annotate_snippets::Renderer::styled()
    } else {
        annotate_snippets::Renderer::plain()
    };
    let mut out = String::new();
    for diagnostic in diagnostics {
        out.push_str(&render_one(&renderer, sources, diagnostic));
        out.push_str("\n\n");
    }
    out
}

/// Diagnostics as a JSON array of `{severity, message, file, line, column, related, help}`.
pub fn to_json(sources: &Sources, diagnostics: &[Diagnostic]) -> serde_json::Value {
    diagnostics
        .iter()
        .map(|d| {
            let location = d.span.map(|span| sources.location(span));
            serde_json::json!({
                "severity": d.severity,
                "message": d.kind.to_string(),
                "file": location.as_ref().map(|l| l.path.display().to_string()),
                "line": location.as_ref().map(|l| l.line),
                "column": location.as_ref().map(|l| l.column),
                "related": d.labels.iter().map(|l| {
                    let at = sources.location(l.span);
                    serde_json::json!({"message": l.message, "location": at.to_string()})
                }).collect::<Vec<_>>(),
                "help": d.help,
            })
        })
        .collect()
}

impl fmt::Display for Report {
    /// One line per diagnostic: `file:line:column: error: message`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.diagnostics {
            let level = match d.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            match self.location(d) {
                Some(at) => writeln!(f, "{at}: {level}: {}", d.kind)?,
                None => writeln!(f, "{level}: {}", d.kind)?,
            }
        }
        Ok(())
    }
}

impl std::error::Error for Report {}

fn render_one(
    renderer: &annotate_snippets::Renderer,
    sources: &Sources,
    diagnostic: &Diagnostic,
) -> String {
    use annotate_snippets::{AnnotationKind, Group, Level, Snippet};

    let level = match diagnostic.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
    };
    let title = diagnostic.kind.to_string();
    let mut group = Group::with_title(level.primary_title(title.as_str()));

    // One snippet per file; the primary span first, then the labels.
    let mut spans: Vec<(Span, Option<&str>, bool)> = Vec::new();
    if let Some(span) = diagnostic.span {
        spans.push((span, None, true));
    }
    for label in &diagnostic.labels {
        spans.push((label.span, Some(label.message.as_str()), false));
    }
    let mut files: Vec<_> = spans.iter().map(|(s, _, _)| s.file).collect();
    files.dedup();
    let mut seen = Vec::new();
    for file_id in files {
        if seen.contains(&file_id) {
            continue;
        }
        seen.push(file_id);
        let file = sources.file(file_id);
        let path = file.path.display().to_string();
        let mut snippet = Snippet::source(file.text.as_str()).path(path).fold(true);
        for (span, message, primary) in spans.iter().filter(|(s, _, _)| s.file == file_id) {
            let start = file.offset(span.start);
            let mut end = file.offset(span.end).max(start);
            // Underline one line at most: long nodes are marked at their first line.
            if let Some(newline) = file.text[start..end].find('\n') {
                end = start + newline;
            }
            let kind = if *primary {
                AnnotationKind::Primary
            } else {
                AnnotationKind::Context
            };
            let mut annotation = kind.span(start..end);
            if let Some(message) = message {
                annotation = annotation.label(*message);
            }
            snippet = snippet.annotation(annotation);
        }
        group = group.element(snippet);
    }
    if let Some(help) = &diagnostic.help {
        group = group.element(Level::HELP.message(help.as_str()));
    }
    renderer.render(&[group]).to_string()
}
