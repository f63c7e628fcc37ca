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
use super::keys::{Code, Sgtin};

/// The GS1 separator (ASCII 29) that a scanner sends for FNC1.
pub const GROUP_SEPARATOR: char = '\u{1d}';

/// AIM symbology identifiers whose data is GS1 element strings.
const GS1_SYMBOLOGY_IDS: [&str; 5] = ["]C1", "]e0", "]d2", "]Q3", "]J1"];

/// Parses a bracketed or unbracketed element string naming a bottle, a case or pallet, a party
/// or a location.
pub fn parse_element_string(s: &str) -> Result<Code, CodeError> {
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

/// Escapes `(` as `\(` for the bracketed form.
fn escape_value(value: &str) -> String {
    value.replace('(', "\\(")
}

impl Sgtin {
    /// The bracketed element string, e.g. `(01)09506000134352(21)ABC123`.
    pub fn element_string(&self) -> String {
        format!(
            "(01){}(21){}",
            self.gtin,
            escape_value(self.serial.as_str())
        )
    }
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
