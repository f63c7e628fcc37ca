//! The GS1 mod-10 check digit shared by GTIN, SSCC and GLN.
//!
//! Weights 3 and 1 alternate from the rightmost digit of the body (the digits before the check
//! digit), so leading zeros change nothing: a GTIN-13 and its zero-padded GTIN-14 have the same
//! check digit. Working on the numeric value keeps the keys `Copy` and their order numeric.

use super::error::CodeError;

/// The check digit of `body`, the key's digits without its check digit.
pub(crate) fn of(body: u64) -> u8 {
    let mut rest = body;
    let mut sum = 0u64;
    let mut weight = 3;
    while rest > 0 {
        sum += (rest % 10) * weight;
        rest /= 10;
        weight = 4 - weight;
    }
    // The result is below 10, so the cast never truncates.
    ((10 - sum % 10) % 10) as u8
}

/// Whether `value` (body followed by its check digit) has a correct check digit.
pub(crate) fn is_valid(value: u64) -> bool {
    u64::from(of(value / 10)) == value % 10
}

/// Appends the check digit to `body`. The caller keeps `body` below 10^18 so this cannot
/// overflow; every key here has at most 17 body digits.
pub(crate) fn append(body: u64) -> u64 {
    body * 10 + u64::from(of(body))
}

/// Parses a GS1 numeric key: `value` has one of `lengths` ASCII digits (at most 18), the last
/// being a correct check digit. Returns the numeric value; leading zeros are implied by the
/// key's fixed width.
pub(crate) fn parse_key(
    ai: &'static str,
    value: &str,
    lengths: &[usize],
    expected: &'static str,
) -> Result<u64, CodeError> {
    let len = value.chars().count();
    if !lengths.contains(&len) {
        return Err(CodeError::BadLength { ai, len, expected });
    }
    let mut number = 0u64;
    for (position, character) in value.chars().enumerate() {
        let Some(digit) = character.to_digit(10) else {
            return Err(CodeError::BadCharacter {
                ai,
                position,
                character,
            });
        };
        // At most 18 digits: below 10^18 < u64::MAX, so no overflow.
        number = number * 10 + u64::from(digit);
    }
    let expected_digit = of(number / 10);
    let got = (number % 10) as u8;
    if expected_digit != got {
        return Err(CodeError::BadCheckDigit {
            ai,
            expected: expected_digit,
            got,
        });
    }
    Ok(number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_check_digit_of_known_bodies() {
        // Each body is a published key with its check digit removed.
        assert_eq!(of(400638133393), 1); // GTIN-13 4006381333931
        assert_eq!(of(950600013435), 2); // GTIN-14 09506000134352
        assert_eq!(of(10614141123456789), 7); // SSCC 106141411234567897
        assert_eq!(of(952012345678), 8); // GLN 9520123456788
        assert_eq!(of(0), 0);
    }

    #[test]
    fn test_append_then_is_valid() {
        for body in [0, 1, 9, 1234567, 95012345678, 99_999_999_999_999_999] {
            assert!(is_valid(append(body)));
            assert!(!is_valid(append(body) / 10 * 10 + (append(body) + 1) % 10));
        }
    }

    #[test]
    fn test_parse_key_accepts_only_the_given_lengths() {
        let err = parse_key("01", "123", &[14], "14 digits").unwrap_err();
        assert_eq!(
            err,
            CodeError::BadLength {
                ai: "01",
                len: 3,
                expected: "14 digits"
            }
        );
    }

    #[test]
    fn test_parse_key_rejects_non_ascii_digits() {
        // U+0663 is an Arabic-Indic digit three: a digit to Unicode, not to GS1.
        let err = parse_key("01", "0950600013435\u{663}", &[14], "14 digits").unwrap_err();
        assert_eq!(
            err,
            CodeError::BadCharacter {
                ai: "01",
                position: 13,
                character: '\u{663}'
            }
        );
    }
}
