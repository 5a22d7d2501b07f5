//! Printing token streams as Rust files: `prettyplease` (no rustfmt needed), with a blank line
//! between items.

use proc_macro2::TokenStream;

/// Prints a file with `prettyplease` (no rustfmt needed), with a blank line between items.
pub fn pretty(tokens: TokenStream) -> String {
    // Parsed without a copy: a clone kept beside it would make syn copy every group it walks.
    match syn::parse2::<syn::File>(tokens) {
        Ok(file) => spaced(&prettyplease::unparse(&file)),
        // Not reachable for the emitters' tokens; the file says why instead of being lost.
        Err(error) => format!("compile_error!({:?});\n", error.to_string()),
    }
}

/// A blank line after each top-level item (a line at column 0 that closes it), as rustfmt'd code
/// reads; `use` lines of one root stay together.
fn spaced(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 20);
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        out.push_str(line);
        out.push('\n');
        let ends_item = line == "}" || (!line.starts_with([' ', '#', '/']) && line.ends_with(';'));
        // `use` lines from the same place stay together (`super::…`, `ws_runtime::…`).
        let same_use_group = |next: &str| {
            let root = |l: &str| {
                l.strip_prefix("use ")?
                    .split("::")
                    .next()
                    .map(str::to_owned)
            };
            root(line).is_some() && root(line) == root(next)
        };
        if ends_item
            && lines
                .peek()
                .is_some_and(|next| !next.is_empty() && !same_use_group(next))
        {
            out.push('\n');
        }
    }
    out
}
