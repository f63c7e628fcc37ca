//! Sparse Merkle tree over 256-bit keys: the state commitment behind bottle provenance proofs.
//!
//! Each bottle record is stored under `key = sha256(record key)`. The tree's root goes into the
//! block header, and `prove` gives a short proof, checked offline by `verify`, that a key holds
//! a given value (membership) or holds nothing (non-membership).
//!
//! # Tree
//! The binary "compact" sparse Merkle tree of Diem/Aptos (JMT without nibbles) and Penumbra:
//! - the tree has 256 levels; bit `i` of the key (most significant bit of byte 0 first) picks
//!   the child at depth `i`: 0 left, 1 right. The root is at depth 0.
//! - leaf: `sha256(0x00 || key || value_hash)`, where `value_hash = sha256(value)`;
//!   internal node: `sha256(0x01 || left || right)`; empty subtree: 32 zero bytes
//!   (`EMPTY_HASH`, no known preimage). The root of the empty tree is `EMPTY_HASH`.
//! - compact rule: a subtree holding exactly one leaf is that leaf, placed at the shallowest
//!   depth where it is alone. So a leaf sits about `log2(n)` levels deep and a proof holds
//!   about `log2(n)` siblings, not 256. Subtrees holding two or more leaves are ordinary
//!   internal nodes, even when one side is empty (no path compression of internal nodes):
//!   that keeps verification a plain fold from the bottom up.
//! - the shape is a function of the key set alone (canonical), so the root does not depend on
//!   the order of insertions and removals; removal lifts a leaf left alone back up.
//! - the distinct prefixes stop a leaf from posing as an internal node and vice versa.
//!
//! # Proof
//! `Proof { siblings, leaf }`: the sibling hashes along the key's path from the root down
//! (`siblings[i]` is the other child at depth `i`, `EMPTY_HASH` where it is empty), and what
//! the path ends at: `None` for an empty subtree, or a leaf, which is the key itself
//! (membership) or a different key sharing the first `siblings.len()` bits (non-membership).
//! The verifier folds the leaf hash up with the siblings and compares with the root.
//!
//! # Representation
//! A persistent binary trie of `Arc` nodes: `Clone` is O(1) (the node clones the state for
//! every candidate block) and an update copies only the nodes on its path that a clone shares
//! (`Arc::make_mut`), O(log n). Each internal node holds its hash, computed when the node is
//! made and again by every update that passes through it, on the way back up; a node is
//! never changed once a clone shares it, so neither is its hash. Held outright rather than
//! in a lazily set `OnceLock`, the hash keeps a node at 64 bytes (80 with the `Arc` counts,
//! against 88), and no update checks or resets a cache: `smt_bench` at 5 M keys in batches
//! of 15,000 ran 5% faster (three interleaved pairs); peak memory did not move.
//! - `apply_batch` (the way to write a block) sorts the updates, walks down once splitting
//!   them by key bit, and hashes the changed nodes on the way back up: k updates in an n-key
//!   tree visit and hash about `2k + k * log2(n / k)` nodes, and `root()` is O(1).
//! - `insert` and `remove` (one key, O(log n)) hash their path.
//!
//! An `imbl::OrdMap` of leaves plus a cache of internal hashes keyed by prefix would give the
//! same O(1) clone, but with a second index to keep in step and an O(log n) lookup per node;
//! the trie is the same structural sharing and answers `get` and `prove` in one walk down.
//! No iteration order other than key order is ever observed, so the tree is deterministic.

use std::fmt;
use std::sync::Arc;

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::types::{sha256, Hash};

/// Key length in bits: the number of levels, and the most siblings a proof can hold.
pub const KEY_BITS: usize = 256;

/// The hash of an empty subtree, and the root of the empty tree.
pub const EMPTY_HASH: Hash = [0; 32];

const LEAF_PREFIX: u8 = 0x00;
const INTERNAL_PREFIX: u8 = 0x01;

/// Two trees are equal when their roots are: the root commits to every key and value.
impl PartialEq for Smt {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.root() == other.root()
    }
}

impl Eq for Smt {}

/// The hash of a value as committed in a leaf: `sha256(value)`.
pub fn value_hash(value: &[u8]) -> Hash {
    sha256(&[value])
}

/// The hash of the leaf holding `key` with `value_hash`.
pub fn leaf_hash(key: &Hash, value_hash: &Hash) -> Hash {
    sha256(&[&[LEAF_PREFIX], key, value_hash])
}

/// The hash of an internal node from its children's hashes.
pub fn internal_hash(left: &Hash, right: &Hash) -> Hash {
    sha256(&[&[INTERNAL_PREFIX], left, right])
}

/// Bit `index` of `key`, most significant bit of byte 0 first; true means right.
fn bit(key: &Hash, index: usize) -> bool {
    (key[index / 8] >> (7 - index % 8)) & 1 == 1
}

/// How many leading bits `a` and `b` share (256 when equal).
fn common_prefix_bits(a: &Hash, b: &Hash) -> usize {
    match a.iter().zip(b).position(|(x, y)| x != y) {
        Some(byte) => byte * 8 + (a[byte] ^ b[byte]).leading_zeros() as usize,
        None => KEY_BITS,
    }
}

/// A sparse Merkle tree mapping 256-bit keys to value hashes. Cloning is O(1).
#[derive(Clone, Default)]
pub struct Smt {
    root: Node,
    len: usize,
}

/// A subtree. Invariant (canonical shape): an `Internal` node holds at least two leaves, so
/// neither of its children is empty while the other is a leaf.
#[derive(Clone, Default)]
enum Node {
    #[default]
    Empty,
    Leaf(Arc<Leaf>),
    Internal(Arc<Internal>),
}

/// Its hash is not kept: it is needed only when a parent's hash is recomputed (the paths a
/// block changes) or a proof names it as a sibling, and keeping it cost 32 of the ~190
/// bytes a key holds in memory.
struct Leaf {
    key: Hash,
    value_hash: Hash,
}

#[derive(Clone)]
struct Internal {
    left: Node,
    right: Node,
    /// `internal_hash(left, right)`, kept in step by whoever changes a child.
    hash: Hash,
}

impl Leaf {
    fn new(key: Hash, value_hash: Hash) -> Self {
        Self { key, value_hash }
    }
}

/// Dropping a tree version frees the nodes only it holds: along each path a block rewrote,
/// a node it alone holds and a sibling it shares with the newer version. Both children are
/// cold by then, and the atomic decrements of their reference counts each wait for their
/// cache miss in turn; plain reads of both counts first let the two misses overlap.
impl Drop for Internal {
    fn drop(&mut self) {
        self.touch_children();
    }
}

impl Internal {
    fn new(left: Node, right: Node) -> Self {
        let hash = internal_hash(&left.hash(), &right.hash());
        Self { left, right, hash }
    }

    /// Recomputes the hash after a child changed.
    fn rehash(&mut self) {
        self.hash = internal_hash(&self.left.hash(), &self.right.hash());
    }

    /// The child on side `right`, and its sibling.
    fn toward(&self, right: bool) -> (&Node, &Node) {
        if right {
            (&self.right, &self.left)
        } else {
            (&self.left, &self.right)
        }
    }

    /// Reads both children's reference counts, changing nothing (see the `Drop` impl).
    fn touch_children(&self) {
        let count = |node: &Node| match node {
            Node::Empty => 0,
            Node::Leaf(leaf) => Arc::strong_count(leaf),
            Node::Internal(internal) => Arc::strong_count(internal),
        };
        std::hint::black_box(count(&self.left) + count(&self.right));
    }

    fn child_mut(&mut self, right: bool) -> &mut Node {
        if right {
            &mut self.right
        } else {
            &mut self.left
        }
    }

    /// What replaces this node when it holds at most one leaf: that leaf, or nothing.
    fn collapsed(&self) -> Option<Node> {
        match (&self.left, &self.right) {
            (Node::Empty, Node::Empty) => Some(Node::Empty),
            (Node::Empty, Node::Leaf(leaf)) | (Node::Leaf(leaf), Node::Empty) => {
                Some(Node::Leaf(Arc::clone(leaf)))
            }
            _ => None,
        }
    }
}

impl Node {
    fn hash(&self) -> Hash {
        match self {
            Node::Empty => EMPTY_HASH,
            Node::Leaf(leaf) => leaf_hash(&leaf.key, &leaf.value_hash),
            Node::Internal(internal) => internal.hash,
        }
    }
}

impl Smt {
    /// The empty tree; its root is `EMPTY_HASH`.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of keys.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the tree holds no key.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The value hash stored under `key`.
    pub fn get(&self, key: &Hash) -> Option<Hash> {
        let mut node = &self.root;
        let mut depth = 0;
        loop {
            match node {
                Node::Empty => return None,
                Node::Leaf(leaf) => return (leaf.key == *key).then_some(leaf.value_hash),
                Node::Internal(internal) => {
                    node = internal.toward(bit(key, depth)).0;
                    depth += 1;
                }
            }
        }
    }

    /// Stores `value_hash` under `key`; returns the value hash it replaces. O(log n).
    pub fn insert(&mut self, key: Hash, value_hash: Hash) -> Option<Hash> {
        let old = self.get(&key);
        // An unchanged value leaves the nodes, and so the sharing between clones, untouched.
        if old == Some(value_hash) {
            return old;
        }
        insert_at(&mut self.root, 0, Leaf::new(key, value_hash));
        if old.is_none() {
            self.len += 1;
        }
        old
    }

    /// Deletes `key`; returns the value hash it held. O(log n).
    pub fn remove(&mut self, key: &Hash) -> Option<Hash> {
        let old = self.get(key)?;
        remove_at(&mut self.root, 0, key);
        self.len -= 1;
        Some(old)
    }

    /// Applies a batch of updates: `Some(value_hash)` stores, `None` deletes; a key updated
    /// twice keeps its last update. Same result as the updates one by one, but each node on
    /// the touched paths is visited and hashed once: the way to write a block's changes.
    /// A no-op update (deleting an absent key) still copies its path if a clone shares it.
    pub fn apply_batch(&mut self, updates: impl IntoIterator<Item = (Hash, Option<Hash>)>) {
        // Sorted keys split into contiguous runs at every node (children split on key bits).
        // The stable sort keeps a key's updates in order; the last one of each run wins.
        let mut updates: Vec<(Hash, Option<Hash>)> = updates.into_iter().collect();
        updates.sort_by_key(|(key, _)| *key);
        let mut last = Vec::with_capacity(updates.len());
        for (i, update) in updates.iter().enumerate() {
            if updates.get(i + 1).is_none_or(|next| next.0 != update.0) {
                last.push(*update);
            }
        }
        let mut scratch = Vec::new();
        apply_at(&mut self.root, 0, &last, &mut self.len, &mut scratch);
    }

    /// The root hash. O(1).
    pub fn root(&self) -> Hash {
        self.root.hash()
    }

    /// A proof of what `key` holds: its leaf, or the empty subtree or other leaf on its path.
    pub fn prove(&self, key: &Hash) -> Proof {
        let mut siblings = Vec::new();
        let mut node = &self.root;
        let leaf = loop {
            match node {
                Node::Empty => break None,
                Node::Leaf(leaf) => {
                    break Some(ProofLeaf {
                        key: leaf.key,
                        value_hash: leaf.value_hash,
                    })
                }
                Node::Internal(internal) => {
                    let (child, sibling) = internal.toward(bit(key, siblings.len()));
                    siblings.push(sibling.hash());
                    node = child;
                }
            }
        };
        Proof { siblings, leaf }
    }
}

/// Builds a tree from leaves given in strictly increasing key order, as a store keyed by
/// record key yields them, with none of [`Smt::apply_batch`]'s copies and sort: a node
/// restoring ten million records at a restart keeps its peak memory near the tree's own
/// size (the freed peak is not returned to the OS; see `cli/src/main.rs`).
#[derive(Default)]
pub struct SmtBuilder {
    leaves: Vec<Arc<Leaf>>,
}

/// A key not above the one before it, given to [`SmtBuilder::push`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnsortedKey(pub Hash);

impl fmt::Display for UnsortedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "key {} is not above the key before it",
            hex::encode(self.0)
        )
    }
}

impl SmtBuilder {
    /// Room for `n` leaves.
    pub fn with_capacity(n: usize) -> Self {
        Self {
            leaves: Vec::with_capacity(n),
        }
    }

    /// Adds the next leaf; refuses (and ignores) a key not above the previous one.
    pub fn push(&mut self, key: Hash, value_hash: Hash) -> Result<(), UnsortedKey> {
        if self.leaves.last().is_some_and(|last| last.key >= key) {
            return Err(UnsortedKey(key));
        }
        self.leaves.push(Arc::new(Leaf::new(key, value_hash)));
        Ok(())
    }

    /// The tree of the leaves pushed: the same tree as inserting them one by one.
    pub fn finish(self) -> Smt {
        Smt {
            root: build(&self.leaves, 0),
            len: self.leaves.len(),
        }
    }
}

impl fmt::Debug for Smt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Smt")
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

/// Puts `leaf` into the subtree `node` at `depth`, which lies on the leaf's path.
fn insert_at(node: &mut Node, depth: usize, leaf: Leaf) {
    match node {
        Node::Empty => *node = Node::Leaf(Arc::new(leaf)),
        Node::Leaf(existing) if existing.key == leaf.key => *node = Node::Leaf(Arc::new(leaf)),
        Node::Leaf(existing) => {
            let (existing, leaf) = (Arc::clone(existing), Arc::new(leaf));
            let pair = if existing.key < leaf.key {
                [existing, leaf]
            } else {
                [leaf, existing]
            };
            *node = build(&pair, depth);
        }
        Node::Internal(internal) => {
            let right = bit(&leaf.key, depth);
            let internal = Arc::make_mut(internal);
            insert_at(internal.child_mut(right), depth + 1, leaf);
            internal.rehash();
        }
    }
}

/// Takes `key`, which is present, out of the subtree `node` at `depth`, and lifts a leaf left
/// alone so the shape stays canonical.
fn remove_at(node: &mut Node, depth: usize, key: &Hash) {
    match node {
        Node::Empty => unreachable!("remove_at only follows the path of a present key"),
        Node::Leaf(leaf) => {
            assert!(
                leaf.key == *key,
                "the path of a present key ends at its leaf"
            );
            *node = Node::Empty;
        }
        Node::Internal(internal) => {
            let internal = Arc::make_mut(internal);
            remove_at(internal.child_mut(bit(key, depth)), depth + 1, key);
            match internal.collapsed() {
                Some(collapsed) => *node = collapsed,
                None => internal.rehash(),
            }
        }
    }
}

/// Applies sorted, distinct `updates`, all on the path of the subtree `node` at `depth`, and
/// hashes the changed nodes on the way back up, while they are still in cache. `scratch` is a
/// buffer reused across calls.
fn apply_at(
    node: &mut Node,
    depth: usize,
    updates: &[(Hash, Option<Hash>)],
    len: &mut usize,
    scratch: &mut Vec<Arc<Leaf>>,
) {
    if updates.is_empty() {
        return;
    }
    match node {
        Node::Internal(internal) => {
            let (left, right) = updates.split_at(updates.partition_point(|(k, _)| !bit(k, depth)));
            let internal = Arc::make_mut(internal);
            apply_at(&mut internal.left, depth + 1, left, len, scratch);
            apply_at(&mut internal.right, depth + 1, right, len, scratch);
            match internal.collapsed() {
                Some(collapsed) => *node = collapsed,
                None => internal.rehash(),
            }
        }
        Node::Leaf(leaf) => {
            let leaf = Arc::clone(leaf);
            merge(Some(leaf), updates, len, scratch);
            *node = build(scratch, depth);
        }
        Node::Empty => {
            merge(None, updates, len, scratch);
            *node = build(scratch, depth);
        }
    }
}

/// Fills `leaves` with the sorted leaves of a subtree that held at most `existing`, after
/// `updates`.
fn merge(
    existing: Option<Arc<Leaf>>,
    updates: &[(Hash, Option<Hash>)],
    len: &mut usize,
    leaves: &mut Vec<Arc<Leaf>>,
) {
    leaves.clear();
    let mut kept = existing;
    for (key, value_hash) in updates {
        let replaced = kept.as_ref().is_some_and(|leaf| leaf.key == *key);
        if replaced {
            kept = None;
        }
        match (value_hash, replaced) {
            (Some(value_hash), replaced) => {
                leaves.push(Arc::new(Leaf::new(*key, *value_hash)));
                *len += usize::from(!replaced);
            }
            (None, true) => *len -= 1,
            (None, false) => {}
        }
    }
    if let Some(leaf) = kept {
        let at = leaves.partition_point(|other| other.key < leaf.key);
        leaves.insert(at, leaf);
    }
}

/// The canonical subtree at `depth` holding exactly `leaves` (sorted, sharing `depth` bits).
fn build(leaves: &[Arc<Leaf>], depth: usize) -> Node {
    match leaves {
        [] => Node::Empty,
        [leaf] => Node::Leaf(Arc::clone(leaf)),
        _ => {
            let (left, right) = leaves.split_at(leaves.partition_point(|l| !bit(&l.key, depth)));
            let internal = Internal::new(build(left, depth + 1), build(right, depth + 1));
            Node::Internal(Arc::new(internal))
        }
    }
}

/// A membership or non-membership proof for one key; see the module doc. Borsh: a `u32`
/// count and 32 bytes per sibling, then an optional leaf of 64 bytes. JSON: hex strings.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Proof {
    /// Sibling hashes along the key's path, from the root down; `EMPTY_HASH` for an empty one.
    #[serde(with = "serde_hex_list")]
    pub siblings: Vec<Hash>,
    /// The leaf the path ends at, or `None` for an empty subtree.
    pub leaf: Option<ProofLeaf>,
}

/// A leaf as shown in a proof.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct ProofLeaf {
    #[serde(with = "crate::serde_hex")]
    pub key: Hash,
    #[serde(with = "crate::serde_hex")]
    pub value_hash: Hash,
}

/// Why a proof does not show what was asked against a root.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("proof has {len} siblings, more than the {KEY_BITS} levels of the tree")]
    TooManySiblings { len: usize },
    #[error("a value was expected but the proof is one of absence")]
    ProofOfAbsence,
    #[error("absence was expected but the proof shows the key present")]
    ProofOfPresence,
    #[error("the proof shows the key with a different value")]
    ValueMismatch,
    #[error("the proof's leaf does not lie on the key's path")]
    LeafNotOnPath,
    #[error("the proof does not lead to the root")]
    RootMismatch,
}

/// Checks that `proof` shows, against `root`, that `key` holds `value_hash` (`Some`) or
/// nothing (`None`). Needs only hashing: this is what a phone runs offline.
pub fn verify(
    root: Hash,
    key: Hash,
    value_hash: Option<Hash>,
    proof: &Proof,
) -> Result<(), ProofError> {
    let depth = proof.siblings.len();
    if depth > KEY_BITS {
        return Err(ProofError::TooManySiblings { len: depth });
    }
    let bottom = match (value_hash, &proof.leaf) {
        (Some(expected), Some(leaf)) if leaf.key == key => {
            if leaf.value_hash != expected {
                return Err(ProofError::ValueMismatch);
            }
            leaf_hash(&leaf.key, &leaf.value_hash)
        }
        (Some(_), _) => return Err(ProofError::ProofOfAbsence),
        (None, Some(leaf)) if leaf.key == key => return Err(ProofError::ProofOfPresence),
        (None, Some(leaf)) => {
            // Another leaf proves absence only if it occupies the key's path.
            if common_prefix_bits(&leaf.key, &key) < depth {
                return Err(ProofError::LeafNotOnPath);
            }
            leaf_hash(&leaf.key, &leaf.value_hash)
        }
        (None, None) => EMPTY_HASH,
    };
    let computed =
        proof
            .siblings
            .iter()
            .enumerate()
            .rev()
            .fold(bottom, |hash, (level, sibling)| {
                if bit(&key, level) {
                    internal_hash(sibling, &hash)
                } else {
                    internal_hash(&hash, sibling)
                }
            });
    if computed != root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// A list of hashes as a JSON array of lowercase hex strings.
pub(crate) mod serde_hex_list {
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::types::Hash;

    pub(crate) fn serialize<S: Serializer>(
        hashes: &[Hash],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(hashes.iter().map(|h| jiu_types::serde_hex::encode(h)))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<Hash>, D::Error> {
        Vec::<String>::deserialize(deserializer)?
            .iter()
            .map(|text| {
                let bytes = hex::decode(text).map_err(D::Error::custom)?;
                Hash::try_from(bytes).map_err(|_| D::Error::custom("a hash must be 32 bytes"))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
