//! Why a transaction is refused.
//!
//! Every refusal is bad input from a client or a peer, never a bug: the node turns it into an
//! RPC error (with [`TxError::code`]) or a peer penalty, and the state is left untouched.

use crate::types::{PublicKey, Role};

/// A transaction refused by decoding, stateless checks, signature verification or the state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxError {
    #[error("transaction is {bytes} bytes, more than the {max} allowed")]
    Oversized { bytes: usize, max: usize },
    #[error("transaction bytes do not decode: {0}")]
    Malformed(String),
    #[error("transaction is for chain '{got}', this is chain '{expected}'")]
    WrongChainId { expected: String, got: String },
    #[error("signature does not verify against the signer key")]
    BadSignature,
    #[error("signer key is not registered to an active organisation")]
    UnknownSigner,
    #[error("an org with role {role} may not {action}")]
    Unauthorized { role: Role, action: String },
    #[error("transaction was already applied")]
    Replayed,
    #[error("transaction expired at height {expires_at_height}, chain is at height {height}")]
    Expired { height: u64, expires_at_height: u64 },
    #[error("expiry height {expires_at_height} is too far ahead, at most {max} is allowed")]
    ExpiryTooFar { expires_at_height: u64, max: u64 },
    #[error("invalid payload: {0}")]
    InvalidPayload(String),
    #[error("organisation '{0}' already exists")]
    OrgExists(String),
    #[error("no organisation '{0}'")]
    UnknownOrg(String),
    #[error("key {0} already belongs to an organisation")]
    KeyInUse(PublicKey),
    #[error("key {0} does not belong to the organisation")]
    KeyNotFound(PublicKey),
    #[error("{message}")]
    Capture { code: &'static str, message: String },
    #[error("lottery op refused: {0}")]
    Lottery(#[from] jiu_lottery::LotteryError),
    #[error("seed share refused: {0}")]
    SeedShare(crate::lottery::ShareError),
    #[error("GTIN {gtin} is registered to producer '{owner}'")]
    ProductOwned {
        gtin: crate::gs1::Gtin,
        owner: String,
    },
    #[error("GTIN {0} has no registered product")]
    UnknownProduct(crate::gs1::Gtin),
    #[error("lot {lot} of GTIN {gtin} is already recalled")]
    LotAlreadyRecalled {
        gtin: crate::gs1::Gtin,
        lot: crate::gs1::Lot,
    },
    #[error("lot {lot} of GTIN {gtin} is not recalled")]
    LotNotRecalled {
        gtin: crate::gs1::Gtin,
        lot: crate::gs1::Lot,
    },
    #[error("GTIN {gtin} has {max} lots under recall, the most allowed: clear one first")]
    TooManyRecalledLots { gtin: crate::gs1::Gtin, max: usize },
    #[error("the tx changes {records} records by its op {index}; at most {max} per tx: split it")]
    TooManyRecords {
        index: usize,
        records: usize,
        max: usize,
    },
    #[error("op {index} refused: {error}")]
    Lifecycle {
        index: usize,
        error: crate::provenance::ProvenanceError,
    },
}

impl TxError {
    /// A stable machine-readable code for the RPC; clients match on it, so never change one.
    pub fn code(&self) -> &'static str {
        match self {
            TxError::Oversized { .. } => "OVERSIZED",
            TxError::Malformed(_) => "MALFORMED",
            TxError::WrongChainId { .. } => "WRONG_CHAIN_ID",
            TxError::BadSignature => "BAD_SIGNATURE",
            TxError::UnknownSigner => "UNKNOWN_SIGNER",
            TxError::Unauthorized { .. } => "UNAUTHORIZED",
            TxError::Replayed => "REPLAYED",
            TxError::Expired { .. } => "EXPIRED",
            TxError::ExpiryTooFar { .. } => "EXPIRY_TOO_FAR",
            TxError::InvalidPayload(_) => "INVALID_PAYLOAD",
            TxError::OrgExists(_) => "ORG_EXISTS",
            TxError::UnknownOrg(_) => "UNKNOWN_ORG",
            TxError::KeyInUse(_) => "KEY_IN_USE",
            TxError::KeyNotFound(_) => "KEY_NOT_FOUND",
            TxError::ProductOwned { .. } => "PRODUCT_OWNED",
            TxError::UnknownProduct(_) => "UNKNOWN_PRODUCT",
            TxError::LotAlreadyRecalled { .. } => "LOT_ALREADY_RECALLED",
            TxError::LotNotRecalled { .. } => "LOT_NOT_RECALLED",
            TxError::TooManyRecalledLots { .. } => "TOO_MANY_RECALLED_LOTS",
            TxError::TooManyRecords { .. } => "TOO_MANY_RECORDS",
            // The lifecycle's own code (WRONG_STATE, NOT_CUSTODIAN, ...): more use to a client
            // than one umbrella code; the codes are distinct from the ones above.
            TxError::Lifecycle { error, .. } => error.code(),
            TxError::Capture { code, .. } => code,
            // The book's codes (LATE_BATCH, DUPLICATE_NULLIFIER, ...) and the share codes.
            TxError::Lottery(error) => error.code(),
            TxError::SeedShare(error) => error.code(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gtin() -> crate::gs1::Gtin {
        crate::gs1::Gtin::parse("09506000134352").expect("gtin")
    }

    fn lot() -> crate::gs1::Lot {
        crate::gs1::Lot::parse("L1").expect("lot")
    }

    #[test]
    fn test_codes_are_stable_and_distinct() {
        let key = PublicKey([0; 32]);
        let all = [
            (TxError::Oversized { bytes: 2, max: 1 }, "OVERSIZED"),
            (TxError::Malformed(String::new()), "MALFORMED"),
            (
                TxError::WrongChainId {
                    expected: "a".into(),
                    got: "b".into(),
                },
                "WRONG_CHAIN_ID",
            ),
            (TxError::BadSignature, "BAD_SIGNATURE"),
            (TxError::UnknownSigner, "UNKNOWN_SIGNER"),
            (
                TxError::Unauthorized {
                    role: Role::Auditor,
                    action: "anchor".into(),
                },
                "UNAUTHORIZED",
            ),
            (TxError::Replayed, "REPLAYED"),
            (
                TxError::TooManyRecords {
                    index: 0,
                    records: 2,
                    max: 1,
                },
                "TOO_MANY_RECORDS",
            ),
            (
                TxError::Expired {
                    height: 2,
                    expires_at_height: 1,
                },
                "EXPIRED",
            ),
            (
                TxError::ExpiryTooFar {
                    expires_at_height: 9,
                    max: 1,
                },
                "EXPIRY_TOO_FAR",
            ),
            (TxError::InvalidPayload(String::new()), "INVALID_PAYLOAD"),
            (TxError::OrgExists(String::new()), "ORG_EXISTS"),
            (TxError::UnknownOrg(String::new()), "UNKNOWN_ORG"),
            (TxError::KeyInUse(key), "KEY_IN_USE"),
            (TxError::KeyNotFound(key), "KEY_NOT_FOUND"),
            (
                TxError::ProductOwned {
                    gtin: gtin(),
                    owner: "p".into(),
                },
                "PRODUCT_OWNED",
            ),
            (TxError::UnknownProduct(gtin()), "UNKNOWN_PRODUCT"),
            (
                TxError::LotAlreadyRecalled {
                    gtin: gtin(),
                    lot: lot(),
                },
                "LOT_ALREADY_RECALLED",
            ),
            (
                TxError::LotNotRecalled {
                    gtin: gtin(),
                    lot: lot(),
                },
                "LOT_NOT_RECALLED",
            ),
            (
                TxError::TooManyRecalledLots {
                    gtin: gtin(),
                    max: 1,
                },
                "TOO_MANY_RECALLED_LOTS",
            ),
        ];
        let codes: std::collections::BTreeSet<_> = all.iter().map(|(e, _)| e.code()).collect();
        assert_eq!(codes.len(), all.len());
        for (error, code) in all {
            assert_eq!(error.code(), code);
            assert!(!error.to_string().is_empty());
        }
    }
}
