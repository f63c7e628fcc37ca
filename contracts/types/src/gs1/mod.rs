//! GS1 identifiers: parsing and validation of the codes printed on bottles, cases and pallets,
//! and of the identifiers of parties and locations.
//!
//! A scan resolves to one [`Code`]: an item (SGTIN: GTIN, AI 01, plus serial, AI 21), a case or
//! pallet (SSCC, AI 00), a party (PGLN, AI 417) or a location (GLN, AI 414). Accepted forms:
//! GS1 Digital Link URIs ([`parse_digital_link`]), element strings ([`parse_element_string`]),
//! EPC URNs ([`parse_epc_urn`]), and the producer's legacy 16-digit bottle codes, which are
//! carried as AI 21 under the product GTIN ([`legacy_code`]). [`parse_code`] picks the form.
//!
//! Invariants: parsing is pure and deterministic, reads at most [`CODE_BYTES_MAX`] bytes, and
//! never panics; every refusal is a [`CodeError`] whose RPC verdict is `INVALID_CODE`. A parsed
//! value is valid by construction (check digits hold, serials are 1 to 20 CSET 82 characters)
//! and its `Display` is the canonical Digital Link URI on `id.gs1.org`, which parses back to the
//! same value. Two spellings of one bottle (GTIN-13 or -14, escaped or not, any host) give the
//! same value, so the chain keys bottles by value, never by the scanned text.

mod ai;
mod check_digit;
mod digital_link;
mod element_string;
mod epc_urn;
mod error;
mod keys;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod refusals;
#[cfg(test)]
mod tests;

pub use digital_link::{parse_digital_link, parse_lot_link, percent_encode};
pub use element_string::{parse_element_string, GROUP_SEPARATOR};
pub use epc_urn::parse_epc_urn;
pub use error::{CodeError, INVALID_CODE};
pub use keys::{is_cset82, Code, Gln, Gtin, Lot, Serial, Sgtin, Sscc, CANONICAL_HOST};

/// What a scan says: the code, and the lot (AI 10) when a bottle's symbol carries one
/// (`/01/{gtin}/10/{lot}/21/{serial}`, `(01)..(10)..(21)..`). The lot is not part of the
/// identity: a bottle scanned with or without it is the same [`Code`]; the verify answer
/// compares it with the lot the chain recorded at commissioning.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scanned {
    pub code: Code,
    pub lot: Option<Lot>,
}

/// Largest input any parser reads; longer input is refused before parsing. A Digital Link URI
/// with a 20-character serial fully escaped is under 150 bytes; tag parameters in the query
/// add a few hundred at most.
pub const CODE_BYTES_MAX: usize = 2048;

/// Digits in a legacy bottle code.
pub const LEGACY_CODE_DIGITS: usize = 16;

/// Refuses empty and oversized input; every public parser calls it first.
pub(crate) fn check_size(s: &str) -> Result<(), CodeError> {
    if s.is_empty() {
        return Err(CodeError::Empty);
    }
    if s.len() > CODE_BYTES_MAX {
        return Err(CodeError::TooLong {
            len: s.len(),
            max: CODE_BYTES_MAX,
        });
    }
    Ok(())
}

/// Parses whatever a scanner or a user handed over, after trimming ASCII whitespace (readers
/// often append a line break):
/// - `http://` or `https://` (any case; the Digital Link parser then insists on one case):
///   Digital Link URI;
/// - `(`: bracketed element string; a leading digit or GS: unbracketed element string;
/// - `]` + AIM symbology identifier: `]Q1`, `]d1`, `]J0` (plain data) are dropped and the rest
///   parsed again; the GS1 ones (`]d2`, `]Q3`, ...) introduce an unbracketed element string;
/// - `urn:`: EPC URN.
///
/// Exactly 16 digits is refused as [`CodeError::LegacyCodeNeedsGtin`]: it is a legacy bottle
/// code and only [`legacy_code`] with the product GTIN can read it. (As an unbracketed element
/// string, `414` or `417` followed by 13 digits is also 16 digits; reading a bottle code as a
/// location would be worse than refusing a rarely scanned GLN.)
pub fn parse_code(s: &str) -> Result<Code, CodeError> {
    parse_scanned(s).map(|scanned| scanned.code)
}

/// [`parse_code`], keeping the lot (AI 10) a bottle's Digital Link or element string carries.
pub fn parse_scanned(s: &str) -> Result<Scanned, CodeError> {
    check_size(s)?;
    dispatch(s.trim_matches(|c: char| c.is_ascii_whitespace()), true)
}

fn dispatch(s: &str, symbology_id_allowed: bool) -> Result<Scanned, CodeError> {
    let starts_with_http = s.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("http"));
    let code_only = |code| Scanned { code, lot: None };
    if s.is_empty() {
        Err(CodeError::Empty)
    } else if starts_with_http {
        digital_link::scan_digital_link(s)
    } else if s.starts_with("urn:") {
        parse_epc_urn(s).map(code_only)
    } else if s.starts_with(']') && symbology_id_allowed {
        match ["]Q1", "]d1", "]J0"]
            .into_iter()
            .find_map(|id| s.strip_prefix(id))
        {
            Some(data) => dispatch(data, false),
            None => element_string::scan_element_string(s),
        }
    } else if s.len() == LEGACY_CODE_DIGITS && s.bytes().all(|b| b.is_ascii_digit()) {
        Err(CodeError::LegacyCodeNeedsGtin)
    } else if s.starts_with('(')
        || s.starts_with(GROUP_SEPARATOR)
        || s.starts_with(|c: char| c.is_ascii_digit())
    {
        element_string::scan_element_string(s)
    } else {
        Err(CodeError::UnrecognisedForm)
    }
}

/// A legacy bottle code (exactly 16 ASCII digits, no check digit of its own) read as the
/// serial (AI 21) of a bottle of product `gtin`, so legacy codes and GS1 codes name bottles
/// the same way: `legacy_code(gtin, c)` equals the item of `https://<host>/01/<gtin>/21/<c>`.
pub fn legacy_code(gtin: &Gtin, code16: &str) -> Result<Sgtin, CodeError> {
    check_size(code16)?;
    let len = code16.chars().count();
    if len != LEGACY_CODE_DIGITS {
        return Err(CodeError::BadLength {
            ai: "21",
            len,
            expected: "16 digits (legacy bottle code)",
        });
    }
    if let Some((position, character)) = code16
        .chars()
        .enumerate()
        .find(|(_, c)| !c.is_ascii_digit())
    {
        return Err(CodeError::BadCharacter {
            ai: "21",
            position,
            character,
        });
    }
    Ok(Sgtin::new(*gtin, Serial::parse(code16)?))
}
