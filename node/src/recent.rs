//! A bounded map of the most recent entries, oldest dropped first: what a node remembers
//! about transactions that left its hands (the mempool's rejections, a follower's hand-offs)
//! so `GET /tx/{id}` can say what became of them, without growing for ever.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;

/// At most `max` entries; inserting past that drops the oldest key.
pub struct Recent<K, V> {
    max: usize,
    entries: HashMap<K, V>,
    order: VecDeque<K>,
}

impl<K: Hash + Eq + Clone, V> Recent<K, V> {
    /// An empty map holding at most `max` entries.
    pub fn new(max: usize) -> Self {
        Self {
            max,
            entries: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    /// Inserts or replaces `key`; a replaced key keeps its place in the order.
    pub fn insert(&mut self, key: K, value: V) {
        if self.entries.insert(key.clone(), value).is_none() {
            self.order.push_back(key);
        }
        while self.order.len() > self.max {
            if let Some(old) = self.order.pop_front() {
                self.entries.remove(&old);
            }
        }
    }

    /// The value under `key`, if it is still remembered.
    pub fn get(&self, key: &K) -> Option<&V> {
        self.entries.get(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_keeps_the_newest_entries_only() {
        let mut recent = Recent::new(3);
        for key in 0..5 {
            recent.insert(key, key * 10);
        }
        assert_eq!((recent.get(&0), recent.get(&1)), (None, None));
        assert_eq!(
            (recent.get(&2), recent.get(&3), recent.get(&4)),
            (Some(&20), Some(&30), Some(&40))
        );
        // Replacing a key neither pushes another out nor moves it to the back.
        recent.insert(4, 41);
        assert_eq!((recent.get(&2), recent.get(&4)), (Some(&20), Some(&41)));
        recent.insert(5, 50);
        assert_eq!((recent.get(&2), recent.get(&3)), (None, Some(&30)));
    }
}
