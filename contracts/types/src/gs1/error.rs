//! Why a code is refused.
//!
//! Every refusal is bad input from a scanner, a client or a peer, never a bug. The RPC answers
//! all of them with the verdict [`INVALID_CODE`] and shows [`CodeError::reason`] to a human.

/// The machine-readable verdict for every refused code; clients match on it, so never change it.
pub const INVALID_CODE: &str = "INVALID_CODE";

/// A code that does not parse, or parses to something the chain does not accept.
///
/// `ai` fields name the GS1 application identifier whose value is at fault (`"01"` GTIN,
/// `"21"` serial, `"00"` SSCC, `"414"` location GLN, `"417"` party GLN); positions count
/// characters from 0 within that value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("code is empty")]
    Empty,
    #[error("code is {len} bytes, more than the {max} allowed")]
    TooLong { len: usize, max: usize },
    #[error(
        "not a code this chain reads: expected a GS1 Digital Link URI, an element string or an \
         EPC URN"
    )]
    UnrecognisedForm,
    #[error("a bare 16-digit code is a legacy bottle code and is only read with its product GTIN")]
    LegacyCodeNeedsGtin,
    #[error("not a GS1 Digital Link URI: {0}")]
    NotAUri(&'static str),
    #[error("not a GS1 element string: {0}")]
    NotAnElementString(&'static str),
    #[error("not an EPC URN this chain reads: {0}")]
    NotAnEpcUrn(&'static str),
    #[error("URI path segment {index} is empty")]
    EmptySegment { index: usize },
    #[error("URI path segment {index} follows the last application identifier value")]
    TrailingSegment { index: usize },
    #[error("no primary key: expected (01) GTIN, (00) SSCC, (417) party GLN or (414) GLN")]
    MissingKey,
    #[error("({ai}) has no value")]
    MissingValue { ai: &'static str },
    #[error("'{ai}' is not an application identifier this chain accepts")]
    UnknownAi { ai: String },
    #[error("({ai}) must come after its primary key ({key})")]
    WrongOrder { ai: &'static str, key: &'static str },
    #[error(
        "({ai}) is not allowed with ({key}): the chain accepts (01) with (21) and optionally \
         (10) for a bottle, and (00), (417) or (414) alone"
    )]
    DisallowedQualifier { ai: &'static str, key: &'static str },
    #[error("({ai}) must come before ({before}) in a Digital Link path")]
    QualifierOrder {
        ai: &'static str,
        before: &'static str,
    },
    #[error("({ai}) appears more than once")]
    DuplicateAi { ai: &'static str },
    #[error("two primary keys, ({first}) and ({second}); a code identifies one thing")]
    MixedKeys {
        first: &'static str,
        second: &'static str,
    },
    #[error("(01) GTIN without (21) serial: a bottle is identified by both")]
    MissingSerial,
    #[error("({ai}) value has {len} characters, expected {expected}")]
    BadLength {
        ai: &'static str,
        len: usize,
        expected: &'static str,
    },
    #[error("({ai}) value has {character:?} at position {position}, which is not allowed there")]
    BadCharacter {
        ai: &'static str,
        position: usize,
        character: char,
    },
    #[error("({ai}) value has a malformed percent escape at position {position}")]
    BadPercentEncoding { ai: &'static str, position: usize },
    #[error("({ai}) check digit is {got}, expected {expected}")]
    BadCheckDigit {
        ai: &'static str,
        expected: u8,
        got: u8,
    },
    #[error("a GS1 company prefix has 6 to 12 digits, not {len}")]
    BadCompanyPrefixLength { len: usize },
}

impl CodeError {
    /// The RPC verdict: [`INVALID_CODE`] for every variant. The variant is for logs and tests.
    pub fn code(&self) -> &'static str {
        INVALID_CODE
    }

    /// A sentence for a human saying what is wrong with the code.
    pub fn reason(&self) -> String {
        self.to_string()
    }
}
