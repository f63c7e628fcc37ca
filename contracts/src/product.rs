//! Product master data on chain: what a GTIN is (name, volume, strength) and which producer
//! owns its brand.
//!
//! A producer registers each of its GTINs with `Payload::SetProduct`. Registering claims the
//! GTIN: from then on only that producer may issue or commission codes under it (T1/T2's
//! "GTIN belongs to signer"), and only it may amend the entry. A GTIN nobody registered is
//! open to any producer, as before this registry existed (documented in
//! docs/provenance.md).
//!
//! Each product is a leaf of the state root (after the orgs), so a verify answer carries the
//! product with its path and a client checks name, volume and ABV against the same signed
//! header as the bottle's record. With no products the state root is what it was without
//! the registry.
//!
//! A product also lists its recalled lots (`Payload::RecallLot`, section 7.2's lot-scope
//! `RECALLED`): a bottle whose recorded lot is on its product's list is treated as recalled
//! by the lifecycle (no sale, shipped only back to its producer) and by every verify answer.
//! Because a verifier must see the list to know a lot is *not* recalled, a lot is recorded
//! only on bottles of a registered GTIN, and an answer about a bottle with a lot must carry
//! its product and proof.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::error::TxError;
use crate::gs1::{Gtin, Lot};
use crate::merkle;
use crate::types::Hash;

/// Most characters in a product name.
pub const PRODUCT_NAME_CHARS_MAX: usize = 80;
/// Largest volume, in millilitres (a 100 l cask).
pub const VOLUME_ML_MAX: u32 = 100_000;
/// Strength is in basis points of alcohol by volume: 5300 is 53.00% ABV.
pub const ABV_BP_MAX: u16 = 10_000;

/// Most lots one product may have recalled at once. Every verify answer about the
/// product's bottles carries its leaf, recalls included (up to about 120 bytes of JSON a
/// lot), so this bounds what recalls add to an answer (about 8 KB) and to a proof. A recall
/// that is over (the stock back and destroyed) is cleared to make room.
pub const RECALLED_LOTS_MAX: usize = 64;

/// Domain of a product's state-root leaf.
const PRODUCT_LEAF_DOMAIN: &[u8] = b"product\0";

/// One GTIN's master data.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Product {
    pub gtin: Gtin,
    /// The producer org that registered it and owns its brand.
    pub brand_owner: String,
    pub name: String,
    pub volume_ml: u32,
    /// Alcohol by volume in basis points (5300 = 53.00%).
    pub abv_bp: u16,
    /// The lots under recall, in lot order; amending the product keeps them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recalled_lots: Vec<LotRecall>,
}

/// One recalled lot of a product.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct LotRecall {
    pub lot: Lot,
    /// The org that recalled it (the brand owner).
    pub by: String,
    /// Block time of the recall.
    pub since_ms: u64,
}

impl Product {
    /// The recall of `lot`, if it is recalled.
    pub fn lot_recall(&self, lot: &Lot) -> Option<&LotRecall> {
        self.recalled_lots
            .binary_search_by(|r| r.lot.cmp(lot))
            .ok()
            .map(|i| &self.recalled_lots[i])
    }

    /// The bytes of this product's state-root leaf: domain, then borsh.
    pub fn leaf_bytes(&self) -> Vec<u8> {
        let mut bytes = PRODUCT_LEAF_DOMAIN.to_vec();
        BorshSerialize::serialize(self, &mut bytes).expect("borsh writes to a Vec cannot fail");
        bytes
    }

    /// The state-root leaf hash of this product.
    pub fn leaf_hash(&self) -> Hash {
        merkle::leaf_hash(&self.leaf_bytes())
    }
}

/// The stateless checks of a `SetProduct` payload.
pub(crate) fn check_fields(name: &str, volume_ml: u32, abv_bp: u16) -> Result<(), TxError> {
    let chars = name.chars().count();
    if chars == 0 || chars > PRODUCT_NAME_CHARS_MAX || name.chars().any(char::is_control) {
        return Err(TxError::InvalidPayload(format!(
            "product name must be 1 to {PRODUCT_NAME_CHARS_MAX} characters without control \
             characters (got {} bytes)",
            name.len()
        )));
    }
    if volume_ml == 0 || volume_ml > VOLUME_ML_MAX {
        return Err(TxError::InvalidPayload(format!(
            "volume must be 1 to {VOLUME_ML_MAX} ml (got {volume_ml})"
        )));
    }
    if abv_bp > ABV_BP_MAX {
        return Err(TxError::InvalidPayload(format!(
            "ABV must be at most {ABV_BP_MAX} basis points (got {abv_bp})"
        )));
    }
    Ok(())
}

/// Proof that a product is a leaf of a state root.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductProof {
    pub state_leaf_index: u64,
    pub state_leaf_count: u64,
    /// RFC 6962 path of the product's leaf, deepest sibling first.
    #[serde(with = "crate::smt::serde_hex_list")]
    pub state_path: Vec<Hash>,
}

/// A state-root leaf beside the place an unregistered GTIN's leaf would take, with the
/// bytes it hashes (domain and borsh body), so a verifier sees what kind of leaf it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeighbourLeaf {
    // Fields in key order, as answers write their JSON.
    #[serde(with = "jiu_types::serde_hex")]
    pub leaf_bytes: Vec<u8>,
    pub state_leaf_index: u64,
    /// RFC 6962 path of the leaf, deepest sibling first.
    #[serde(with = "crate::smt::serde_hex_list")]
    pub state_path: Vec<Hash>,
}

/// Proof that no product is registered under a GTIN: the two neighbouring leaves of the
/// state root between which its leaf would sit.
///
/// The state root's leaves are the orgs, then the products in GTIN order, then the anchors
/// leaf (`State::root`). So two adjacent leaves, the first an org or a product with a
/// smaller GTIN and the second a product with a larger GTIN or the anchors leaf, leave no
/// place for the GTIN: with no products at all they are the last org and the anchors.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductAbsenceProof {
    // Fields in key order, as answers write their JSON.
    pub after: NeighbourLeaf,
    pub before: NeighbourLeaf,
    pub state_leaf_count: u64,
}

/// Domain of an org's state-root leaf.
pub(crate) const ORG_LEAF_DOMAIN: &[u8] = b"org\0";
/// Domain of the anchors' state-root leaf, the first after the products.
pub(crate) const ANCHORS_LEAF_DOMAIN: &[u8] = b"anchors\0";

/// Why a product proof fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProductProofError {
    /// The product does not hash, along its path, to the state root: it or the path was
    /// altered, or it is not the chain's entry for its GTIN.
    #[error("the product and its path do not hash to the state root")]
    StateRoot,
    /// An absence proof's leaf does not hash, along its path, to the state root.
    #[error("the {0} leaf of the absence proof and its path do not hash to the state root")]
    NeighbourRoot(&'static str),
    /// The two leaves are not adjacent, or do not enclose the GTIN's place.
    #[error("the absence proof does not enclose the GTIN's place: {0}")]
    NotEnclosed(&'static str),
}

impl ProductProofError {
    pub fn code(&self) -> &'static str {
        match self {
            ProductProofError::StateRoot => "PRODUCT_TAMPERED",
            ProductProofError::NeighbourRoot(_) | ProductProofError::NotEnclosed(_) => {
                "ABSENCE_NOT_PROVEN"
            }
        }
    }
}

/// The GTIN of a product leaf's bytes (its borsh body starts with the GTIN as a `u64`), or
/// `None` for a leaf of another kind.
fn product_leaf_gtin(leaf_bytes: &[u8]) -> Option<u64> {
    let body = leaf_bytes.strip_prefix(PRODUCT_LEAF_DOMAIN)?;
    Some(u64::from_le_bytes(body.get(..8)?.try_into().ok()?))
}

/// Checks that no product of `gtin` is a leaf of `state_root` (see [`ProductAbsenceProof`]).
pub fn verify_product_absence(
    state_root: &Hash,
    gtin: &Gtin,
    proof: &ProductAbsenceProof,
) -> Result<(), ProductProofError> {
    for (name, leaf) in [("first", &proof.before), ("second", &proof.after)] {
        if !crate::state::is_state_leaf(
            merkle::leaf_hash(&leaf.leaf_bytes),
            leaf.state_leaf_index,
            proof.state_leaf_count,
            &leaf.state_path,
            state_root,
        ) {
            return Err(ProductProofError::NeighbourRoot(name));
        }
    }
    if proof.before.state_leaf_index.checked_add(1) != Some(proof.after.state_leaf_index) {
        return Err(ProductProofError::NotEnclosed(
            "the two leaves are not adjacent",
        ));
    }
    let gtin = gtin.value();
    let before_ok = proof.before.leaf_bytes.starts_with(ORG_LEAF_DOMAIN)
        || product_leaf_gtin(&proof.before.leaf_bytes).is_some_and(|g| g < gtin);
    if !before_ok {
        return Err(ProductProofError::NotEnclosed(
            "the first leaf is neither an org nor a product of a smaller GTIN",
        ));
    }
    let after_ok = proof.after.leaf_bytes.starts_with(ANCHORS_LEAF_DOMAIN)
        || product_leaf_gtin(&proof.after.leaf_bytes).is_some_and(|g| g > gtin);
    if !after_ok {
        return Err(ProductProofError::NotEnclosed(
            "the second leaf is neither a product of a larger GTIN nor the anchors",
        ));
    }
    Ok(())
}

/// Checks that `product` is a leaf of `state_root`.
pub fn verify_product(
    state_root: &Hash,
    product: &Product,
    proof: &ProductProof,
) -> Result<(), ProductProofError> {
    if crate::state::is_state_leaf(
        product.leaf_hash(),
        proof.state_leaf_index,
        proof.state_leaf_count,
        &proof.state_path,
        state_root,
    ) {
        Ok(())
    } else {
        Err(ProductProofError::StateRoot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A product leaf's borsh layout is a format: the consumer page hashes it by hand
    /// (`checkProduct` in node/src/web/proof.js), so the layout is spelled out here field by
    /// field, and a change to it fails this test.
    #[test]
    fn test_product_leaf_layout_golden() {
        let product = Product {
            gtin: Gtin::parse("09506000134352").expect("gtin"),
            brand_owner: "p".into(),
            name: "N".into(),
            volume_ml: 500,
            abv_bp: 5300,
            recalled_lots: vec![LotRecall {
                lot: Lot::parse("L1").expect("lot"),
                by: "p".into(),
                since_ms: 7,
            }],
        };
        let text = |t: &str| [&(t.len() as u32).to_le_bytes()[..], t.as_bytes()].concat();
        let expected = [
            // The GTIN as its u64 value, brand owner, name, volume, ABV.
            9_506_000_134_352u64.to_le_bytes().to_vec(),
            text("p"),
            text("N"),
            500u32.to_le_bytes().to_vec(),
            5300u16.to_le_bytes().to_vec(),
            // One recalled lot: lot, by, since_ms.
            1u32.to_le_bytes().to_vec(),
            text("L1"),
            text("p"),
            7u64.to_le_bytes().to_vec(),
        ]
        .concat();
        assert_eq!(borsh::to_vec(&product).expect("encodes"), expected);
        let leaf = merkle::leaf_hash(&[PRODUCT_LEAF_DOMAIN, &expected].concat());
        assert_eq!(product.leaf_hash(), leaf);
        // The JSON form a verify answer carries lists the recall; without one it has none.
        let json = serde_json::to_value(&product).expect("json");
        assert_eq!(json["recalled_lots"][0]["lot"], "L1");
        let plain = Product {
            recalled_lots: Vec::new(),
            ..product
        };
        let json = serde_json::to_value(&plain).expect("json");
        assert!(json.get("recalled_lots").is_none());
        assert_eq!(serde_json::from_value::<Product>(json).ok(), Some(plain));
    }
}
