//! Why an op is refused. A refused op changes nothing.

use super::state::{ContainerId, Flag, LifeState};
use crate::gs1::{Code, Gtin, Sgtin};
use crate::types::Role;

/// A refused op, with the first code that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProvenanceError {
    #[error("an op must carry at least one code")]
    EmptyBatch,
    #[error("batch of {len} codes exceeds the maximum of {max}")]
    BatchTooLarge { len: usize, max: usize },
    #[error("code {0} appears twice in one op")]
    Duplicate(Code),
    #[error("org '{0}' is not a registered party with the claimed role")]
    UnknownActor(String),
    #[error("role {role} may not {op}")]
    RoleNotAllowed { role: Role, op: &'static str },
    #[error("org '{org_id}' does not own the brand of GTIN {gtin}")]
    NotBrandOwner { org_id: String, gtin: Gtin },
    #[error("no record of bottle {0}")]
    UnknownBottle(Sgtin),
    #[error("no record of container {0:?}")]
    UnknownContainer(ContainerId),
    #[error("code {0} is already in use")]
    CodeInUse(Code),
    #[error("{code} is {state:?}; cannot {op}")]
    WrongState {
        code: Code,
        state: LifeState,
        op: &'static str,
    },
    #[error("{code} is in the custody of '{custodian}'")]
    NotCustodian { code: Code, custodian: String },
    #[error("only the producer '{producer}' of {code} may do this")]
    NotProducer { code: Code, producer: String },
    #[error("{code} is packed in {parent:?}; ship, receive or void its root container")]
    InContainer { code: Code, parent: ContainerId },
    #[error("{code} is already packed in {parent:?}")]
    AlreadyPacked { code: Code, parent: ContainerId },
    #[error("{code} is not packed in {parent:?}")]
    NotInContainer { code: Code, parent: ContainerId },
    #[error("container {0:?} is full")]
    ContainerFull(ContainerId),
    #[error("packing {0:?} would make a cycle or nest deeper than allowed")]
    NestingTooDeep(ContainerId),
    #[error("{code} is {child:?} but its container is {parent:?}")]
    StateMismatch {
        code: Code,
        child: LifeState,
        parent: LifeState,
    },
    #[error("{code} is flagged {flag:?}")]
    Flagged { code: Code, flag: Flag },
    #[error("destination '{0}' is not a registered party")]
    UnknownDestination(String),
    #[error("cannot ship to oneself")]
    ShipToSelf,
    #[error("{code} is of lot {lot}, which its brand owner recalled")]
    LotRecalled { code: Code, lot: crate::gs1::Lot },
    #[error("a lot is recorded only under a registered product, and GTIN {0} has none")]
    LotWithoutProduct(crate::gs1::Gtin),
    #[error("a recalled {0} may only be shipped to its producer")]
    RecalledNotToProducer(Code),
    #[error("only the shipper '{shipper}' may void the shipment of {code}")]
    NotShipper { code: Code, shipper: String },
    #[error("{code} was shipped to '{expected}', not to '{by}'")]
    Diverted {
        code: Code,
        expected: String,
        by: String,
    },
    #[error("{0} is already sold")]
    AlreadySold(Code),
    #[error("{code} is in the custody of '{custodian}', not of the selling store")]
    SaleByNonCustodian { code: Code, custodian: String },
    #[error("{code} was sold by '{store}'")]
    NotSeller { code: Code, store: String },
    #[error("the undo window for the sale of {0} has passed")]
    UndoWindowPassed(Code),
    #[error("city must be 1 to {max} characters")]
    BadCity { max: usize },
    #[error("{code} already has flag {flag:?}")]
    FlagAlreadySet { code: Code, flag: Flag },
    #[error("{code} does not have flag {flag:?}")]
    FlagNotSet { code: Code, flag: Flag },
    #[error("'{org_id}' may not change flag {flag:?} on {code}")]
    FlagNotAllowed {
        code: Code,
        flag: Flag,
        org_id: String,
    },
    #[error("{0} cannot replace a code: it must be unknown or issued, same GTIN and producer")]
    BadReplacement(Code),
}

impl ProvenanceError {
    /// A stable machine-readable code for the RPC; clients match on it, so never change one.
    pub fn code(&self) -> &'static str {
        use ProvenanceError as E;
        match self {
            E::EmptyBatch => "EMPTY_BATCH",
            E::BatchTooLarge { .. } => "BATCH_TOO_LARGE",
            E::Duplicate(_) => "DUPLICATE_CODE",
            E::UnknownActor(_) => "UNKNOWN_ACTOR",
            E::RoleNotAllowed { .. } => "ROLE_NOT_ALLOWED",
            E::NotBrandOwner { .. } => "NOT_BRAND_OWNER",
            E::UnknownBottle(_) => "UNKNOWN_CODE",
            E::UnknownContainer(_) => "UNKNOWN_CONTAINER",
            E::CodeInUse(_) => "CODE_IN_USE",
            E::WrongState { .. } => "WRONG_STATE",
            E::NotCustodian { .. } => "NOT_CUSTODIAN",
            E::NotProducer { .. } => "NOT_PRODUCER",
            E::InContainer { .. } => "IN_CONTAINER",
            E::AlreadyPacked { .. } => "ALREADY_PACKED",
            E::NotInContainer { .. } => "NOT_IN_CONTAINER",
            E::ContainerFull(_) => "CONTAINER_FULL",
            E::NestingTooDeep(_) => "NESTING_TOO_DEEP",
            E::StateMismatch { .. } => "STATE_MISMATCH",
            E::Flagged { .. } => "FLAGGED",
            E::UnknownDestination(_) => "UNKNOWN_DESTINATION",
            E::ShipToSelf => "SHIP_TO_SELF",
            E::RecalledNotToProducer(_) => "RECALLED_NOT_TO_PRODUCER",
            E::LotRecalled { .. } => "LOT_RECALLED",
            E::LotWithoutProduct(_) => "LOT_WITHOUT_PRODUCT",
            E::NotShipper { .. } => "NOT_SHIPPER",
            E::Diverted { .. } => "DIVERTED",
            E::AlreadySold(_) => "ALREADY_SOLD",
            E::SaleByNonCustodian { .. } => "SALE_BY_NON_CUSTODIAN",
            E::NotSeller { .. } => "NOT_SELLER",
            E::UndoWindowPassed(_) => "UNDO_WINDOW_PASSED",
            E::BadCity { .. } => "BAD_CITY",
            E::FlagAlreadySet { .. } => "FLAG_ALREADY_SET",
            E::FlagNotSet { .. } => "FLAG_NOT_SET",
            E::FlagNotAllowed { .. } => "FLAG_NOT_ALLOWED",
            E::BadReplacement(_) => "BAD_REPLACEMENT",
        }
    }
}
