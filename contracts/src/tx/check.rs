//! Stateless checks: everything about a tx that can be decided without the state or the
//! signature, so a node can refuse junk before paying for a signature verification.
//!
//! The payload rules here are also re-run by `State::check`, so a caller that skips
//! [`check_stateless`] cannot get a malformed payload into the state. Only the chain id check
//! depends on the caller, because the state does not know which chain it belongs to.

use crate::error::TxError;
use crate::tx::verify::is_strict_point;
use crate::tx::{Payload, SignedTx, ANCHOR_DATA_BYTES_MAX, CODES_PER_TX_MAX, OPS_PER_TX_MAX};
use crate::types::{Org, PublicKey};

/// Longest organisation id, in characters (all ASCII, so also bytes).
pub const ORG_ID_CHARS_MAX: usize = 64;
/// Longest organisation name, in bytes of UTF-8.
pub const ORG_NAME_BYTES_MAX: usize = 128;
/// Most signing keys one organisation may hold.
pub const ORG_KEYS_MAX: usize = 16;

/// Checks the chain id and that the payload is well formed. Does not check the signature.
pub fn check_stateless(tx: &SignedTx, chain_id: &str) -> Result<(), TxError> {
    if tx.body.chain_id != chain_id {
        return Err(TxError::WrongChainId {
            expected: chain_id.to_string(),
            got: tx.body.chain_id.clone(),
        });
    }
    check_payload(&tx.body.payload)
}

/// Well-formedness of a payload on its own.
pub(crate) fn check_payload(payload: &Payload) -> Result<(), TxError> {
    match payload {
        Payload::RegisterOrg {
            id,
            name,
            role: _,
            keys,
        } => {
            check_org_id(id)?;
            check_org_name(name)?;
            normalize_keys(keys).map(drop)
        }
        Payload::AddOrgKey { org_id, key } => {
            check_org_id(org_id)?;
            check_key(key)
        }
        // The key to remove needs no check: if it is registered it was checked when added,
        // and if it is not, the state answers KeyNotFound.
        Payload::RemoveOrgKey { org_id, key: _ } => check_org_id(org_id),
        Payload::SetOrgActive { org_id, active: _ } => check_org_id(org_id),
        Payload::Anchor {
            record_hash: _,
            data,
        } => {
            if data.len() > ANCHOR_DATA_BYTES_MAX {
                return Err(TxError::InvalidPayload(format!(
                    "anchor data is {} bytes, at most {ANCHOR_DATA_BYTES_MAX} allowed",
                    data.len()
                )));
            }
            Ok(())
        }
        Payload::SetOrgPgln { org_id, pgln: _ } => check_org_id(org_id),
        Payload::SetProduct {
            gtin: _,
            name,
            volume_ml,
            abv_bp,
        } => crate::product::check_fields(name, *volume_ml, *abv_bp),
        // GTIN and lot are checked by their types; the rest needs the state.
        Payload::RecallLot { .. } => Ok(()),
        Payload::Provenance { ops } => check_ops(ops),
        // Size is bounded by TX_BYTES_MAX; the document is parsed and checked by the state.
        Payload::Capture { document } => {
            if document.is_empty() {
                return Err(TxError::InvalidPayload("empty EPCIS document".into()));
            }
            Ok(())
        }
        Payload::Lottery { op } => op.check_bounds().map_err(TxError::from),
        Payload::SeedShare { partial, .. } => {
            if partial.len() != crate::lottery::PARTIAL_BYTES {
                return Err(TxError::InvalidPayload(format!(
                    "a seed share is {} bytes, not {}",
                    crate::lottery::PARTIAL_BYTES,
                    partial.len()
                )));
            }
            Ok(())
        }
    }
}

/// The tx-level bounds of a provenance payload; each op's own batch rules are the
/// lifecycle's, checked when it applies.
fn check_ops(ops: &[crate::provenance::Op]) -> Result<(), TxError> {
    if ops.is_empty() || ops.len() > OPS_PER_TX_MAX {
        return Err(TxError::InvalidPayload(format!(
            "a provenance tx carries 1 to {OPS_PER_TX_MAX} ops, not {}",
            ops.len()
        )));
    }
    let codes: usize = ops.iter().map(|op| op.codes_len()).sum();
    if codes > CODES_PER_TX_MAX {
        return Err(TxError::InvalidPayload(format!(
            "the ops name {codes} codes, at most {CODES_PER_TX_MAX} per tx"
        )));
    }
    Ok(())
}

/// Applies the registration rules to a genesis or persisted org and returns it with its keys
/// in canonical (sorted) order.
pub(crate) fn validate_org(org: &Org) -> Result<Org, TxError> {
    check_org_id(&org.id)?;
    check_org_name(&org.name)?;
    let keys = normalize_keys(&org.keys)?;
    Ok(Org {
        keys,
        ..org.clone()
    })
}

/// Checks 1 to [`ORG_KEYS_MAX`] valid keys without duplicates and returns them sorted.
/// Sorting makes the stored order independent of the order the signer listed them in.
fn normalize_keys(keys: &[PublicKey]) -> Result<Vec<PublicKey>, TxError> {
    if keys.is_empty() || keys.len() > ORG_KEYS_MAX {
        return Err(TxError::InvalidPayload(format!(
            "an organisation needs 1 to {ORG_KEYS_MAX} keys, got {}",
            keys.len()
        )));
    }
    let mut sorted = keys.to_vec();
    sorted.sort_unstable();
    if let Some(pair) = sorted.windows(2).find(|pair| pair[0] == pair[1]) {
        return Err(TxError::InvalidPayload(format!(
            "duplicate key {}",
            pair[0]
        )));
    }
    for key in &sorted {
        check_key(key)?;
    }
    Ok(sorted)
}

/// A registrable key is the canonical encoding of a point in the prime-order subgroup.
///
/// Honest keys (`[a]B`) always are. Refusing the rest means one point has one byte form (so
/// "a key belongs to at most one org" cannot be dodged by re-encoding), and no registered key
/// has a torsion component, whose signatures verify or not depending on the verifier
/// (cofactored or not, batched or not): an auditor re-checking signatures with another
/// ed25519 library must reach the same verdict as the chain.
pub(crate) fn check_key(key: &PublicKey) -> Result<(), TxError> {
    if !is_strict_point(&key.0) {
        return Err(TxError::InvalidPayload(format!(
            "key {key} is not a canonically encoded ed25519 point of prime order"
        )));
    }
    Ok(())
}

/// Org ids are short ASCII so they are safe in URLs, file names and logs.
fn check_org_id(id: &str) -> Result<(), TxError> {
    let allowed = |b: u8| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.');
    if id.is_empty() || id.len() > ORG_ID_CHARS_MAX || !id.bytes().all(allowed) {
        // The id is not echoed: it is unchecked input and may be 64 KiB long.
        return Err(TxError::InvalidPayload(format!(
            "org id must be 1 to {ORG_ID_CHARS_MAX} characters of a-z 0-9 - _ . (got {} bytes)",
            id.len()
        )));
    }
    Ok(())
}

fn check_org_name(name: &str) -> Result<(), TxError> {
    if name.len() > ORG_NAME_BYTES_MAX {
        return Err(TxError::InvalidPayload(format!(
            "org name is {} bytes, at most {ORG_NAME_BYTES_MAX} allowed",
            name.len()
        )));
    }
    Ok(())
}
