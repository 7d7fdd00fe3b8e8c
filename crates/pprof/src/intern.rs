//! Dense ids for distinct values, in order of first sight: how the call graph and the
//! flame stacks give each function one small number.

use std::collections::HashMap;
use std::hash::Hash;

pub(crate) struct Interner<K> {
    ids: HashMap<K, u32>,
    /// The values, indexed by id.
    pub values: Vec<K>,
}

impl<K: Hash + Eq + Clone> Interner<K> {
    pub fn with_capacity(n: usize) -> Interner<K> {
        Interner {
            ids: HashMap::with_capacity(n),
            values: Vec::with_capacity(n),
        }
    }

    /// The id of `k`, new if it has not been seen.
    pub fn id(&mut self, k: K) -> u32 {
        let values = &mut self.values;
        *self.ids.entry(k).or_insert_with_key(|k| {
            values.push(k.clone());
            values.len() as u32 - 1
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_sight_order() {
        let mut i = Interner::with_capacity(0);
        assert_eq!([i.id("b"), i.id("a"), i.id("b")], [0, 1, 0]);
        assert_eq!(i.values, ["b", "a"]);
    }
}
