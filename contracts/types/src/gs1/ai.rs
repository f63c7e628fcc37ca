//! The application identifiers this chain knows, and the rules that turn a list of AI/value
//! pairs into a [`Code`] (and the lot a bottle's symbol may carry beside it).
//!
//! The same rules serve Digital Link URIs and element strings: one primary key; (01) needs
//! (21) and may carry (10), the lot, which is read but is not part of the bottle's identity;
//! (00), (417) and (414) stand alone. Qualifiers that GS1 allows but a bottle must not carry
//! (22 CPV, 235 TPX, 254 GLN extension) are known so that they are refused by name rather
//! than as unknown AIs.

use super::error::CodeError;
use super::keys::{Code, Gln, Gtin, Lot, Serial, Sgtin, Sscc};
use super::Scanned;

/// An application identifier the parsers recognise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ai {
    Sscc,
    Gtin,
    Lot,
    Serial,
    Cpv,
    Tpx,
    GlnExtension,
    LocationGln,
    PartyGln,
}

impl Ai {
    /// Every known AI; the GS1 AI table is prefix-free, so at most one matches a digit string.
    pub(crate) const ALL: [Ai; 9] = [
        Ai::Sscc,
        Ai::Gtin,
        Ai::Lot,
        Ai::Serial,
        Ai::Cpv,
        Ai::Tpx,
        Ai::GlnExtension,
        Ai::LocationGln,
        Ai::PartyGln,
    ];

    /// The AI's digits.
    pub(crate) fn code(self) -> &'static str {
        match self {
            Ai::Sscc => "00",
            Ai::Gtin => "01",
            Ai::Lot => "10",
            Ai::Serial => "21",
            Ai::Cpv => "22",
            Ai::Tpx => "235",
            Ai::GlnExtension => "254",
            Ai::LocationGln => "414",
            Ai::PartyGln => "417",
        }
    }

    /// The AI written as exactly `s`, if known.
    pub(crate) fn from_code(s: &str) -> Option<Ai> {
        Ai::ALL.into_iter().find(|ai| ai.code() == s)
    }

    /// Whether the AI is a GS1 primary key (identifies a thing on its own).
    pub(crate) fn is_key(self) -> bool {
        matches!(self, Ai::Sscc | Ai::Gtin | Ai::LocationGln | Ai::PartyGln)
    }

    /// The primary key a qualifier belongs to in GS1 Digital Link (itself for a key).
    pub(crate) fn owner(self) -> Ai {
        match self {
            Ai::Lot | Ai::Serial | Ai::Cpv | Ai::Tpx => Ai::Gtin,
            Ai::GlnExtension => Ai::LocationGln,
            key => key,
        }
    }

    /// Length of the value when the AI has a predefined fixed length (no FNC1 after it).
    pub(crate) fn fixed_len(self) -> Option<usize> {
        match self {
            Ai::Sscc => Some(18),
            Ai::Gtin => Some(14),
            Ai::LocationGln | Ai::PartyGln => Some(13),
            _ => None,
        }
    }
}

/// How a GTIN value may be written in the form being parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GtinForm {
    /// GTIN-8, -12, -13 or -14 (Digital Link path, which GS1 once allowed zero-suppressed).
    AnyLength,
    /// Exactly 14 digits (element strings: AI 01 is N14).
    Gtin14,
}

/// Turns AI/value pairs, in input order, into a [`Scanned`] code. With `key_first` (Digital
/// Link) the first pair must be the primary key and qualifiers keep the Digital Link order
/// (lot before serial); element strings may carry AIs in any order.
pub(crate) fn assemble(
    pairs: &[(Ai, String)],
    key_first: bool,
    gtin_form: GtinForm,
) -> Result<Scanned, CodeError> {
    let Some(first) = pairs.first() else {
        return Err(CodeError::MissingKey);
    };
    if key_first && !first.0.is_key() {
        return Err(CodeError::WrongOrder {
            ai: first.0.code(),
            key: first.0.owner().code(),
        });
    }
    for (index, (ai, _)) in pairs.iter().enumerate() {
        if pairs[..index].iter().any(|(seen, _)| seen == ai) {
            return Err(CodeError::DuplicateAi { ai: ai.code() });
        }
    }
    let mut keys = pairs.iter().filter(|(ai, _)| ai.is_key());
    let Some((key, key_value)) = keys.next() else {
        return Err(CodeError::MissingKey);
    };
    if let Some((second, _)) = keys.next() {
        return Err(CodeError::MixedKeys {
            first: key.code(),
            second: second.code(),
        });
    }
    let mut serial = None;
    let mut lot = None;
    for (ai, value) in pairs.iter().filter(|(ai, _)| !ai.is_key()) {
        match (key, ai) {
            (Ai::Gtin, Ai::Serial) => serial = Some(value),
            (Ai::Gtin, Ai::Lot) if key_first && serial.is_some() => {
                return Err(CodeError::QualifierOrder {
                    ai: Ai::Lot.code(),
                    before: Ai::Serial.code(),
                })
            }
            (Ai::Gtin, Ai::Lot) => lot = Some(value),
            _ => {
                return Err(CodeError::DisallowedQualifier {
                    ai: ai.code(),
                    key: key.code(),
                })
            }
        }
    }
    let code = match key {
        Ai::Gtin => {
            let gtin = match gtin_form {
                GtinForm::AnyLength => Gtin::parse(key_value)?,
                GtinForm::Gtin14 => Gtin::parse_gtin14(key_value)?,
            };
            let serial = serial.ok_or(CodeError::MissingSerial)?;
            Code::Item(Sgtin::new(gtin, Serial::parse(serial)?))
        }
        Ai::Sscc => Code::Logistic(Sscc::parse(key_value)?),
        Ai::PartyGln => Code::Party(Gln::parse_for("417", key_value)?),
        Ai::LocationGln => Code::Location(Gln::parse_for("414", key_value)?),
        other => unreachable!("({}) is not a primary key", other.code()),
    };
    let lot = lot.map(|value| Lot::parse(value)).transpose()?;
    Ok(Scanned { code, lot })
}
