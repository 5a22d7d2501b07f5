//! Doc comments for generated code: Markdown from the document made safe as rustdoc, and the
//! `#[doc]` attributes that carry it.

use proc_macro2::TokenStream;
use quote::quote;

/// Markdown from a document, made safe as rustdoc: code fences without a language (or `rust`)
/// become `text`, so they are not compiled as doctests; indentation is removed, so indented text
/// is not a code block; and the lines that continue a list item are indented under it.
pub(crate) fn doc_lines(text: &str) -> Vec<String> {
    let mut in_fence = false;
    // The indentation a continuation of the current list item needs.
    let mut list_indent: Option<usize> = None;
    let mut out = Vec::new();
    for line in text.trim().lines() {
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix("```") {
            in_fence = !in_fence;
            let language = rest.trim();
            out.push(if !in_fence {
                "```".to_owned()
            } else if language.is_empty() || language.starts_with("rust") {
                "```text".to_owned()
            } else {
                trimmed.to_owned()
            });
            list_indent = None;
            continue;
        }
        if in_fence {
            out.push(line.trim_end().to_owned());
            continue;
        }
        if trimmed.is_empty() {
            list_indent = None;
            out.push(String::new());
        } else if let Some(width) = list_marker(trimmed) {
            list_indent = Some(width);
            out.push(trimmed.to_owned());
        } else if let Some(width) = list_indent {
            out.push(format!("{}{trimmed}", " ".repeat(width)));
        } else {
            out.push(trimmed.to_owned());
        }
    }
    out
}

/// The width of a list item's marker (`- `, `* `, `+ `, `12. `), if the line starts one.
fn list_marker(line: &str) -> Option<usize> {
    if line.starts_with("- ") || line.starts_with("* ") || line.starts_with("+ ") {
        return Some(2);
    }
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    (digits > 0 && line[digits..].starts_with(". ")).then_some(digits + 2)
}

/// `#[doc = "…"]` attributes, one per line.
pub(crate) fn outer_doc(lines: &[String]) -> TokenStream {
    let lines = lines.iter().map(|l| format!(" {l}"));
    quote! { #(#[doc = #lines])* }
}

pub(crate) fn inner_doc(lines: &[String]) -> TokenStream {
    let lines = lines.iter().map(|l| format!(" {l}"));
    quote! { #(#![doc = #lines])* }
}
