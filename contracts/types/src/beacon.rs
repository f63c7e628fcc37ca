//! What the chain needs of the lottery beacon's threshold signatures, as a trait: the state
//! machine (jiu-contracts) calls it without linking pairing code; jiu-beacon implements it
//! for its `GroupPublic` (the genesis group key).

use crate::PublicKey;

/// The threshold BLS operations the chain needs, over the genesis group key. Implemented by
/// jiu-beacon for the genesis `GroupPublic`.
///
/// Implementors must be deterministic, and [`Beacon::verify`] must accept for a message at
/// most one signature byte string (the canonical compressed encoding): the seed is the hash
/// of those bytes.
pub trait Beacon: Send + Sync {
    /// Shares needed for a signature.
    fn threshold(&self) -> u32;
    /// The share index of a participant's (validator's) consensus key.
    fn index_of(&self, key: &PublicKey) -> Option<u32>;
    /// Whether `partial` (share index then point) is share `index`'s signature of `message`.
    fn verify_share(&self, index: u32, message: &[u8], partial: &[u8]) -> bool;
    /// The threshold signature from at least `threshold` verified shares, or `None`.
    fn combine(&self, message: &[u8], partials: &[Vec<u8>]) -> Option<Vec<u8>>;
    /// Whether `signature` is the group's signature of `message`.
    fn verify(&self, message: &[u8], signature: &[u8]) -> bool;
}
