//! Unique names within one scope: generated types and fields, and the `$defs` names of cut
//! reference cycles.

use std::collections::BTreeSet;

/// A set of names in one scope; `claim` makes a name unique by appending a number.
#[derive(Debug, Default, Clone)]
pub(crate) struct Scope {
    taken: BTreeSet<String>,
}

impl Scope {
    pub fn with(reserved: &[&str]) -> Scope {
        Scope {
            taken: reserved.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    pub fn contains(&self, name: &str) -> bool {
        self.taken.contains(name)
    }

    pub fn claim(&mut self, base: String) -> String {
        if self.taken.insert(base.clone()) {
            return base;
        }
        (2..)
            .map(|n| format!("{base}{n}"))
            .find(|candidate| self.taken.insert(candidate.clone()))
            .unwrap_or(base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_append_a_number() {
        let mut scope = Scope::with(&["a"]);
        assert_eq!(scope.claim("a".into()), "a2");
        assert_eq!(scope.claim("a".into()), "a3");
        assert_eq!(scope.claim("b".into()), "b");
    }
}
