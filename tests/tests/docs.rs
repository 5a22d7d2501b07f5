//! The guide holds together: every relative link in the repository's Markdown names a file that
//! exists and, with `#anchor`, a heading of that file (as GitHub makes anchors); the README stays
//! a front door.

use std::path::{Path, PathBuf};

/// The repository's root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The Markdown files the guide is made of.
fn pages() -> Vec<PathBuf> {
    let root = root();
    let mut pages: Vec<PathBuf> = ["README.md", "ARCHITECTURE.md", "BENCHMARKS.md"]
        .iter()
        .map(|p| root.join(p))
        .collect();
    for entry in std::fs::read_dir(root.join("docs")).expect("docs/ exists") {
        let path = entry.expect("docs/ reads").path();
        if path.extension().is_some_and(|e| e == "md") {
            pages.push(path);
        }
    }
    pages
}

/// The lines of `text` outside fenced code blocks.
fn prose(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut fenced = false;
    text.lines().enumerate().filter(move |(_, line)| {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            return false;
        }
        !fenced
    })
}

/// The targets of `[text](target)` and `![alt](target)` links on a line (inline code skipped).
fn links(line: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut in_code = false;
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'`' => in_code = !in_code,
            b']' if !in_code && bytes.get(i + 1) == Some(&b'(') => {
                if let Some(end) = line[i + 2..].find(')') {
                    found.push(&line[i + 2..i + 2 + end]);
                    i += 2 + end;
                }
            }
            _ => {}
        }
        i += 1;
    }
    found
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of a page's headings.
fn anchors(text: &str) -> Vec<String> {
    prose(text)
        .filter_map(|(_, line)| {
            let heading = line.trim_start_matches('#');
            (line.starts_with('#') && heading.starts_with(' ')).then(|| slug(heading))
        })
        .collect()
}

/// Every broken relative link of `page` (whose text is `text`), as `file:line: target (why)`.
fn broken(page: &Path, text: &str) -> Vec<String> {
    let mut broken = Vec::new();
    for (number, line) in prose(text) {
        for target in links(line) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (file, anchor) = target.split_once('#').unwrap_or((target, ""));
            let file = if file.is_empty() {
                page.to_path_buf()
            } else {
                page.parent().expect("a page is in a folder").join(file)
            };
            let why = if !file.exists() {
                Some("no such file")
            } else if anchor.is_empty() || file.extension().is_none_or(|e| e != "md") {
                None
            } else {
                let target_text = if file == page {
                    text.to_owned()
                } else {
                    std::fs::read_to_string(&file).expect("a linked page reads")
                };
                (!anchors(&target_text).iter().any(|a| a == anchor)).then_some("no such heading")
            };
            if let Some(why) = why {
                broken.push(format!(
                    "{}:{}: {target} ({why})",
                    page.display(),
                    number + 1
                ));
            }
        }
    }
    broken
}

#[test]
fn every_relative_link_of_the_guide_resolves() {
    let mut all = Vec::new();
    let mut checked = 0;
    for page in pages() {
        let text = std::fs::read_to_string(&page).expect("a page reads");
        checked += prose(&text).map(|(_, l)| links(l).len()).sum::<usize>();
        all.extend(broken(&page, &text));
    }
    assert!(
        checked > 20,
        "only {checked} links found: is the scan broken?"
    );
    assert!(all.is_empty(), "broken links:\n{}", all.join("\n"));
}

#[test]
fn the_check_sees_a_missing_file_and_a_missing_heading() {
    let page = root().join("docs").join("runtime.md");
    let text = "# Title\n\n[ok](#title) [gone](nowhere.md) [bad](../README.md#no-such-heading)\n\
                ```\n[in code](ignored.md)\n```\n`[inline](ignored.md)`";
    let found = broken(&page, text);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].ends_with("nowhere.md (no such file)"), "{found:?}");
    assert!(
        found[1].ends_with("#no-such-heading (no such heading)"),
        "{found:?}"
    );
    assert_eq!(
        slug("Handwritten types: `#[derive(Message)]` and `#[derive(Routes)]`"),
        "handwritten-types-derivemessage-and-deriveroutes"
    );
}

#[test]
fn the_readme_is_a_front_door() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md reads");
    let lines = readme.lines().count();
    assert!(
        lines <= 300,
        "README.md has {lines} lines: the manual belongs in docs/"
    );
}
