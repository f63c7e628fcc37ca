//! EPC pure identity URNs (GS1 EPC Tag Data Standard), the identifier form of EPCIS:
//! `urn:epc:id:sgtin:<CompanyPrefix>.<Indicator><ItemRef>.<Serial>`,
//! `urn:epc:id:sscc:<CompanyPrefix>.<Extension><SerialRef>`, `urn:epc:id:pgln:<CP>.<PartyRef>`
//! and `urn:epc:id:sgln:<CP>.<LocationRef>.0`.
//!
//! URN to key is mechanical: the indicator (or extension) digit moves to the front and the
//! check digit is recomputed. Key to URN needs the company prefix length, which the key does
//! not carry, so the writers take it as an argument (6 to 12 digits). In the serial, the CSET 82
//! characters `" % & / < > ?` are percent-escaped; all others appear as themselves.

use super::ai::Ai;
use super::check_digit;
use super::check_size;
use super::digital_link::percent_decode;
use super::error::CodeError;
use super::keys::{Code, Gln, Gtin, Serial, Sgtin, Sscc};

const PREFIX: &str = "urn:epc:id:";

/// Parses an EPC URN naming a bottle (`sgtin`), a case or pallet (`sscc`), a party (`pgln`) or a
/// location (`sgln` without extension).
pub fn parse_epc_urn(s: &str) -> Result<Code, CodeError> {
    check_size(s)?;
    let body = s
        .strip_prefix(PREFIX)
        .ok_or(CodeError::NotAnEpcUrn("expected urn:epc:id:<scheme>:..."))?;
    let Some((scheme, fields)) = body.split_once(':') else {
        return Err(CodeError::NotAnEpcUrn("expected urn:epc:id:<scheme>:..."));
    };
    match scheme {
        "sgtin" => parse_sgtin(fields).map(Code::Item),
        "sscc" => parse_sscc(fields).map(Code::Logistic),
        "pgln" => parse_pgln(fields).map(Code::Party),
        "sgln" => parse_sgln(fields).map(Code::Location),
        _ => Err(CodeError::NotAnEpcUrn(
            "scheme must be sgtin, sscc, pgln or sgln",
        )),
    }
}

fn parse_sgtin(fields: &str) -> Result<Sgtin, CodeError> {
    let mut parts = fields.splitn(3, '.');
    let (Some(prefix), Some(reference), Some(serial)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(CodeError::NotAnEpcUrn(
            "sgtin needs CompanyPrefix.ItemReference.Serial",
        ));
    };
    let body = key_body(
        Ai::Gtin,
        prefix,
        reference,
        13,
        "13 digits of prefix and reference",
    )?;
    let gtin = Gtin::from_value(check_digit::append(body))?;
    let serial = percent_decode("21", serial, is_raw_urn_char)?;
    Ok(Sgtin::new(gtin, Serial::parse(&serial)?))
}

fn parse_sscc(fields: &str) -> Result<Sscc, CodeError> {
    let Some((prefix, reference)) = fields.split_once('.') else {
        return Err(CodeError::NotAnEpcUrn(
            "sscc needs CompanyPrefix.SerialReference",
        ));
    };
    let body = key_body(
        Ai::Sscc,
        prefix,
        reference,
        17,
        "17 digits of prefix and reference",
    )?;
    Sscc::from_value(check_digit::append(body))
}

fn parse_pgln(fields: &str) -> Result<Gln, CodeError> {
    let Some((prefix, reference)) = fields.split_once('.') else {
        return Err(CodeError::NotAnEpcUrn(
            "pgln needs CompanyPrefix.PartyReference",
        ));
    };
    let body = key_body(
        Ai::PartyGln,
        prefix,
        reference,
        12,
        "12 digits of prefix and reference",
    )?;
    Gln::from_value(check_digit::append(body))
}

fn parse_sgln(fields: &str) -> Result<Gln, CodeError> {
    let mut parts = fields.splitn(3, '.');
    let (Some(prefix), Some(reference), Some(extension)) =
        (parts.next(), parts.next(), parts.next())
    else {
        return Err(CodeError::NotAnEpcUrn(
            "sgln needs CompanyPrefix.LocationReference.Extension",
        ));
    };
    // Extension "0" means the GLN itself; anything else is AI 254, which the chain refuses.
    if extension != "0" {
        return Err(CodeError::DisallowedQualifier {
            ai: "254",
            key: "414",
        });
    }
    let body = key_body(
        Ai::LocationGln,
        prefix,
        reference,
        12,
        "12 digits of prefix and reference",
    )?;
    Gln::from_value(check_digit::append(body))
}

/// The key's digits without check digit, as a number. `prefix` and `reference` must be ASCII
/// digits, the prefix 6 to 12 of them, `total` together. For SGTIN and SSCC the reference's first
/// digit (indicator or extension) leads the key.
fn key_body(
    ai: Ai,
    prefix: &str,
    reference: &str,
    total: usize,
    expected: &'static str,
) -> Result<u64, CodeError> {
    let all = prefix.chars().chain(reference.chars());
    if let Some((position, character)) = all.enumerate().find(|(_, c)| !c.is_ascii_digit()) {
        return Err(CodeError::BadCharacter {
            ai: ai.code(),
            position,
            character,
        });
    }
    // Only ASCII digits from here, so byte lengths are digit counts.
    if !(6..=12).contains(&prefix.len()) {
        return Err(CodeError::BadCompanyPrefixLength { len: prefix.len() });
    }
    let len = prefix.len() + reference.len();
    if len != total {
        return Err(CodeError::BadLength {
            ai: ai.code(),
            len,
            expected,
        });
    }
    let (lead, rest) = match ai {
        Ai::Gtin | Ai::Sscc => reference.split_at(1),
        _ => ("", reference),
    };
    // At most 17 digits: no overflow.
    Ok([lead, prefix, rest]
        .concat()
        .bytes()
        .fold(0u64, |n, b| n * 10 + u64::from(b - b'0')))
}

/// GS1 TDS "GS3A3" characters that appear unescaped in an EPC URN.
fn is_raw_urn_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!'()*+,-.:;=_".contains(&c)
}

/// Escapes the CSET 82 characters that TDS requires escaped in a URN, upper-case hex.
fn urn_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for c in value.chars() {
        if "\"%&/<>?".contains(c) {
            out.push_str(&format!("%{:02X}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// Splits the canonical digits of a key at the company prefix: (prefix, digits after it up to
/// but excluding the check digit). `digits` is ASCII, so byte slicing is safe.
fn split_prefix(
    digits: &str,
    skip: usize,
    company_prefix_len: usize,
) -> Result<(&str, &str), CodeError> {
    if !(6..=12).contains(&company_prefix_len) {
        return Err(CodeError::BadCompanyPrefixLength {
            len: company_prefix_len,
        });
    }
    let end = skip + company_prefix_len;
    Ok((&digits[skip..end], &digits[end..digits.len() - 1]))
}

impl Sgtin {
    /// The EPC URN, given the length (6 to 12) of the brand's GS1 company prefix.
    pub fn epc_urn(&self, company_prefix_len: usize) -> Result<String, CodeError> {
        let digits = self.gtin.to_string();
        let (prefix, item) = split_prefix(&digits, 1, company_prefix_len)?;
        Ok(format!(
            "{PREFIX}sgtin:{prefix}.{}{item}.{}",
            &digits[..1],
            urn_escape(self.serial.as_str())
        ))
    }
}

impl Sscc {
    /// The EPC URN, given the length (6 to 12) of the GS1 company prefix.
    pub fn epc_urn(&self, company_prefix_len: usize) -> Result<String, CodeError> {
        let digits = self.to_string();
        let (prefix, serial) = split_prefix(&digits, 1, company_prefix_len)?;
        Ok(format!("{PREFIX}sscc:{prefix}.{}{serial}", &digits[..1]))
    }
}

impl Code {
    /// The EPC URN (`sgtin`, `sscc`, `pgln`, or `sgln` with extension 0), given the length
    /// (6 to 12) of the GS1 company prefix.
    pub fn epc_urn(&self, company_prefix_len: usize) -> Result<String, CodeError> {
        let gln_urn = |scheme: &str, gln: &Gln, extension: &str| -> Result<String, CodeError> {
            let digits = gln.to_string();
            let (prefix, reference) = split_prefix(&digits, 0, company_prefix_len)?;
            Ok(format!("{PREFIX}{scheme}:{prefix}.{reference}{extension}"))
        };
        match self {
            Code::Item(sgtin) => sgtin.epc_urn(company_prefix_len),
            Code::Logistic(sscc) => sscc.epc_urn(company_prefix_len),
            Code::Party(gln) => gln_urn("pgln", gln, ""),
            Code::Location(gln) => gln_urn("sgln", gln, ".0"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_urn_escape_covers_exactly_the_tds_characters() {
        assert_eq!(
            urn_escape("!\"%&'()*+,-./:;<=>?_aZ9"),
            "!%22%25%26'()*+,-.%2F:;%3C=%3E%3F_aZ9"
        );
    }

    #[test]
    fn test_split_prefix_refuses_bad_prefix_lengths() {
        for len in [0, 5, 13] {
            assert_eq!(
                split_prefix("09506000134352", 1, len),
                Err(CodeError::BadCompanyPrefixLength { len })
            );
        }
    }
}
