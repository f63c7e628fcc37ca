//! GS1 element strings, as printed under a barcode or emitted by an industrial scanner.
//!
//! Two forms:
//! - bracketed (human-readable): `(01)09506000134352(21)ABC123`. A literal `(` inside a value is
//!   written `\(`, as in GS1's syntax engine, so a serial may contain `(`.
//! - unbracketed (scanner data): `0109506000134352` `21ABC123`, with GS (`\u{1d}`, FNC1) ending
//!   each variable-length value that is not last. A leading AIM symbology identifier that
//!   announces GS1 data (`]C1`, `]e0`, `]d2`, `]Q3`, `]J1`) is accepted and dropped.
//!
//! Unlike Digital Link, GS1 does not fix the order of AIs in an element string, so `(21)` may
//! come before `(01)`. AI (01) must be the full 14 digits here (it is N14).

use super::ai::{assemble, Ai, GtinForm};
use super::check_size;
use super::error::CodeError;
use super::keys::{Code, Gtin, Sgtin};
use super::Scanned;

/// The GS1 separator (ASCII 29) that a scanner sends for FNC1.
pub const GROUP_SEPARATOR: char = '\u{1d}';

/// AIM symbology identifiers whose data is GS1 element strings.
const GS1_SYMBOLOGY_IDS: [&str; 5] = ["]C1", "]e0", "]d2", "]Q3", "]J1"];

/// Parses a bracketed or unbracketed element string naming a bottle, a case or pallet, a party
/// or a location.
pub fn parse_element_string(s: &str) -> Result<Code, CodeError> {
    scan_element_string(s).map(|scanned| scanned.code)
}

/// [`parse_element_string`], keeping a bottle's lot (`(10)`).
pub(crate) fn scan_element_string(s: &str) -> Result<Scanned, CodeError> {
    check_size(s)?;
    let pairs = if s.starts_with('(') {
        bracketed_pairs(s)?
    } else {
        unbracketed_pairs(s)?
    };
    assemble(&pairs, false, GtinForm::Gtin14)
}

fn bracketed_pairs(s: &str) -> Result<Vec<(Ai, String)>, CodeError> {
    let mut pairs = Vec::new();
    let mut rest = s;
    while !rest.is_empty() {
        let Some(open) = rest.strip_prefix('(') else {
            return Err(CodeError::NotAnElementString("expected '(' before each AI"));
        };
        let Some((ai_text, after)) = open.split_once(')') else {
            return Err(CodeError::NotAnElementString("'(' without a closing ')'"));
        };
        let ai = Ai::from_code(ai_text).ok_or_else(|| unknown_ai(ai_text))?;
        let (value, next) = bracketed_value(after);
        if value.is_empty() {
            return Err(CodeError::MissingValue { ai: ai.code() });
        }
        pairs.push((ai, value));
        rest = next;
    }
    Ok(pairs)
}

/// The value up to the next unescaped `(`, with `\(` unescaped, and the rest of the input.
fn bracketed_value(s: &str) -> (String, &str) {
    let mut value = String::new();
    let mut chars = s.char_indices().peekable();
    while let Some((index, c)) = chars.next() {
        match c {
            '(' => return (value, &s[index..]),
            '\\' if chars.peek().map(|(_, next)| *next) == Some('(') => {
                chars.next();
                value.push('(');
            }
            _ => value.push(c),
        }
    }
    (value, "")
}

fn unbracketed_pairs(s: &str) -> Result<Vec<(Ai, String)>, CodeError> {
    let mut rest = strip_symbology_id(s)?;
    rest = rest.strip_prefix(GROUP_SEPARATOR).unwrap_or(rest);
    if rest.is_empty() {
        return Err(CodeError::Empty);
    }
    let mut pairs = Vec::new();
    while !rest.is_empty() {
        let ai = Ai::ALL
            .into_iter()
            .find(|ai| rest.starts_with(ai.code()))
            .ok_or_else(|| unknown_ai(rest))?;
        let data = &rest[ai.code().len()..];
        let (value, next) = match ai.fixed_len() {
            Some(len) => {
                let end = data.char_indices().nth(len).map_or(data.len(), |(i, _)| i);
                let value = &data[..end];
                // Fixed-length keys are digits: a separator or letter inside one means the value
                // is short, which is the precise error, not the unknown "AI" that would follow.
                if let Some((position, character)) =
                    value.chars().enumerate().find(|(_, c)| !c.is_ascii_digit())
                {
                    return Err(CodeError::BadCharacter {
                        ai: ai.code(),
                        position,
                        character,
                    });
                }
                let next = &data[end..];
                (value, next.strip_prefix(GROUP_SEPARATOR).unwrap_or(next))
            }
            None => data.split_once(GROUP_SEPARATOR).unwrap_or((data, "")),
        };
        if value.is_empty() {
            return Err(CodeError::MissingValue { ai: ai.code() });
        }
        pairs.push((ai, value.to_owned()));
        rest = next;
    }
    Ok(pairs)
}

fn strip_symbology_id(s: &str) -> Result<&str, CodeError> {
    if !s.starts_with(']') {
        return Ok(s);
    }
    GS1_SYMBOLOGY_IDS
        .into_iter()
        .find_map(|id| s.strip_prefix(id))
        .ok_or(CodeError::NotAnElementString(
            "symbology identifier does not announce GS1 data",
        ))
}

/// An unknown AI is echoed in the error, cut to the longest AI length (4 digits).
fn unknown_ai(text: &str) -> CodeError {
    CodeError::UnknownAi {
        ai: text.chars().take(4).collect(),
    }
}

impl Sgtin {
    /// The bracketed element string, e.g. `(01)09506000134352(21)ABC123`.
    ///
    /// Written without `format!`: every record key hashes it, many times per bottle while a
    /// block executes, and the formatting machinery was 3-5% of a node during ingest.
    pub fn element_string(&self) -> String {
        let serial = self.serial.as_str();
        let mut out = String::with_capacity(8 + Gtin::DIGITS + serial.len() + 2);
        out.push_str("(01)");
        push_zero_padded(&mut out, self.gtin.value(), Gtin::DIGITS);
        out.push_str("(21)");
        for c in serial.chars() {
            if c == '(' {
                out.push('\\');
            }
            out.push(c);
        }
        out
    }
}

/// Appends `value` in decimal, zero-padded to `width` digits (at most 20).
fn push_zero_padded(out: &mut String, mut value: u64, width: usize) {
    let mut digits = [b'0'; 20];
    let mut at = digits.len();
    while value > 0 {
        at -= 1;
        digits[at] = b'0' + (value % 10) as u8;
        value /= 10;
    }
    let start = at.min(digits.len() - width.min(digits.len()));
    out.extend(digits[start..].iter().map(|&d| char::from(d)));
}

impl Code {
    /// The bracketed element string: `(01)..(21)..`, `(00)..`, `(417)..` or `(414)..`.
    pub fn element_string(&self) -> String {
        match self {
            Code::Item(sgtin) => sgtin.element_string(),
            Code::Logistic(sscc) => format!("(00){sscc}"),
            Code::Party(gln) => format!("(417){gln}"),
            Code::Location(gln) => format!("(414){gln}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gs1::keys::Serial;

    /// Escapes `(` as `\(` for the bracketed form (what `element_string` writes).
    fn escape_value(value: &str) -> String {
        value.replace('(', "\\(")
    }

    /// The hand-written element string is the formatted one.
    #[test]
    fn test_sgtin_element_string_matches_formatting() {
        let widest = Gtin::from_body(9_999_999_999_999).expect("13 body digits");
        let gtins = [
            Gtin::parse("09506000134352"),
            Gtin::from_body(1),
            Ok(widest),
        ];
        for gtin in gtins.map(|g| g.expect("valid GTIN")) {
            for serial in ["B000000001", "A(B", "((x", "x%2F/!\"", "Z"] {
                let serial = Serial::parse(serial).expect("valid serial");
                let sgtin = Sgtin::new(gtin, serial.clone());
                let formatted = format!("(01){}(21){}", gtin, escape_value(serial.as_str()));
                assert_eq!(sgtin.element_string(), formatted);
            }
        }
        let mut out = String::new();
        push_zero_padded(&mut out, 0, 3);
        push_zero_padded(&mut out, 42, 1);
        assert_eq!(out, "00042");
    }

    #[test]
    fn test_bracketed_value_unescapes_open_parenthesis() {
        assert_eq!(
            bracketed_value("A\\(B)C(21)x"),
            ("A(B)C".to_owned(), "(21)x")
        );
    }

    #[test]
    fn test_unknown_symbology_identifier_is_refused() {
        assert_eq!(
            parse_element_string("]E00950600013435221X"),
            Err(CodeError::NotAnElementString(
                "symbology identifier does not announce GS1 data"
            ))
        );
    }

    #[test]
    fn test_unbracketed_only_separator_is_empty() {
        assert_eq!(parse_element_string("]d2\u{1d}"), Err(CodeError::Empty));
    }
}
