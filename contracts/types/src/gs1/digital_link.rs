//! GS1 Digital Link URIs: `https://<host>[/<stem>...]/<key AI>/<value>[/<qualifier AI>/<value>]`.
//!
//! Parsing, in order: scheme (`http`/`https`, all lower or all upper case, as the GS1 reference
//! engine), host (characters only; any host is accepted, the brand's resolver or ours), then the
//! path. Query string and fragment are cut off unread: data attributes and tag parameters such as
//! `?picc=..&cmac=..` belong to other layers. The AI path starts at the first path segment that
//! is an AI this chain knows; the segments before it are the stem. From there segments pair up
//! as AI/value, percent-decoded per RFC 3986, and [`assemble`] applies the key rules.
//!
//! Stricter than GS1's reference engine, on purpose: a stem may not contain one of our AIs
//! (the reference takes the rightmost key, which would let `/01/<a>/21/<x>/01/<b>/21/<y>` show
//! one bottle to a human and resolve to another), a malformed `%` escape is refused rather than
//! kept literally, and characters that RFC 3986 forbids in a path are refused.

use super::ai::{assemble, Ai, GtinForm};
use super::check_size;
use super::error::CodeError;
use super::keys::{Code, Gln, Gtin, Lot, Sgtin, Sscc};
use super::Scanned;

/// Parses a GS1 Digital Link URI naming a bottle (`/01/../21/..`), a case or pallet (`/00/..`),
/// a party (`/417/..`) or a location (`/414/..`).
pub fn parse_digital_link(uri: &str) -> Result<Code, CodeError> {
    scan_digital_link(uri).map(|scanned| scanned.code)
}

/// [`parse_digital_link`], keeping a bottle's lot (`/01/{gtin}/10/{lot}/21/{serial}`).
pub(crate) fn scan_digital_link(uri: &str) -> Result<Scanned, CodeError> {
    assemble(&link_pairs(uri)?, true, GtinForm::AnyLength)
}

/// Parses a Digital Link naming one lot of a product, `/01/{gtin}/10/{lot}` and nothing
/// after: the EPC class (LGTIN) an EPCIS event names in `quantityList`, in the form
/// `jiu_epcis::canonical_uri` gives `urn:epc:class:lgtin:...`.
pub fn parse_lot_link(uri: &str) -> Result<(Gtin, Lot), CodeError> {
    match link_pairs(uri)?.as_slice() {
        [(Ai::Gtin, gtin), (Ai::Lot, lot)] => Ok((Gtin::parse(gtin)?, Lot::parse(lot)?)),
        [(Ai::Gtin, _)] => Err(CodeError::MissingValue { ai: Ai::Lot.code() }),
        _ => Err(CodeError::NotAUri(
            "a product's lot is named /01/{gtin}/10/{lot}, with nothing else",
        )),
    }
}

/// The AI/value pairs of a Digital Link's path, checked as far as the URI goes.
fn link_pairs(uri: &str) -> Result<Vec<(Ai, String)>, CodeError> {
    check_size(uri)?;
    let rest = strip_scheme(uri)?;
    let end = rest.find(['?', '#']).unwrap_or(rest.len());
    let Some((host, path)) = rest[..end].split_once('/') else {
        return Err(CodeError::NotAUri("no path after the host"));
    };
    check_host(host)?;
    if path.is_empty() {
        return Err(CodeError::MissingKey);
    }
    let segments: Vec<&str> = path.split('/').collect();
    if let Some(index) = segments.iter().position(|s| s.is_empty()) {
        return Err(CodeError::EmptySegment { index });
    }
    let start = segments
        .iter()
        .position(|s| Ai::from_code(s).is_some())
        .ok_or(CodeError::MissingKey)?;
    ai_pairs(&segments, start)
}

fn strip_scheme(uri: &str) -> Result<&str, CodeError> {
    ["https://", "http://", "HTTPS://", "HTTP://"]
        .into_iter()
        .find_map(|scheme| uri.strip_prefix(scheme))
        .ok_or(CodeError::NotAUri(
            "scheme must be http:// or https:// (all lower or all upper case)",
        ))
}

/// Any host is accepted (DNS name, IPv4, bracketed IPv6, with a port); only its characters are
/// checked. User info (`user@`) is refused: it makes a URI read as another host.
fn check_host(host: &str) -> Result<(), CodeError> {
    if host.is_empty() {
        return Err(CodeError::NotAUri("no host"));
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || "-._~:[]".contains(c);
    if !host.chars().all(allowed) {
        return Err(CodeError::NotAUri(
            "host has a character outside a-z 0-9 - . _ ~ : [ ]",
        ));
    }
    Ok(())
}

/// Pairs the segments from `start` on as AI/value, decoding each value.
fn ai_pairs(segments: &[&str], start: usize) -> Result<Vec<(Ai, String)>, CodeError> {
    let mut pairs = Vec::new();
    let mut index = start;
    while index < segments.len() {
        let segment = segments[index];
        let value = segments.get(index + 1);
        let ai = match (Ai::from_code(segment), value) {
            (Some(ai), Some(_)) => ai,
            (Some(ai), None) => return Err(CodeError::MissingValue { ai: ai.code() }),
            (None, Some(_)) => {
                return Err(CodeError::UnknownAi {
                    ai: segment.chars().take(UNKNOWN_AI_CHARS_MAX).collect(),
                })
            }
            (None, None) => return Err(CodeError::TrailingSegment { index }),
        };
        let raw = value.copied().unwrap_or_default();
        pairs.push((ai, percent_decode(ai.code(), raw, is_raw_path_char)?));
        index += 2;
    }
    Ok(pairs)
}

/// An unknown AI is echoed in the error, cut to this many characters.
const UNKNOWN_AI_CHARS_MAX: usize = 16;

/// RFC 3986 `pchar` minus `%`: what may appear unescaped in a path segment.
fn is_raw_path_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@".contains(&c)
}

/// Decodes `%XX` escapes (hex digits of either case). Raw ASCII characters that `is_raw`
/// refuses and malformed escapes are errors; non-ASCII and decoded bytes are left for the
/// value's own character check, invalid UTF-8 becoming U+FFFD.
pub(crate) fn percent_decode(
    ai: &'static str,
    raw: &str,
    is_raw: fn(u8) -> bool,
) -> Result<String, CodeError> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        if byte == b'%' {
            let hi = bytes.get(i + 1).and_then(|b| hex_value(*b));
            let lo = bytes.get(i + 2).and_then(|b| hex_value(*b));
            let (Some(hi), Some(lo)) = (hi, lo) else {
                return Err(CodeError::BadPercentEncoding {
                    ai,
                    position: raw[..i].chars().count(),
                });
            };
            out.push(hi << 4 | lo);
            i += 3;
        } else if byte.is_ascii() && !is_raw(byte) {
            return Err(CodeError::BadCharacter {
                ai,
                position: raw[..i].chars().count(),
                character: char::from(byte),
            });
        } else {
            out.push(byte);
            i += 1;
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

fn hex_value(b: u8) -> Option<u8> {
    char::from(b).to_digit(16).map(|d| d as u8)
}

/// Escapes everything outside RFC 3986 `unreserved` as `%XX` with upper-case hex, as GS1's
/// reference engine does, so one value has one written form (and a value can be one path
/// segment of any URI).
pub fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `https://<host>` with any trailing `/` of `host` removed. `host` is an authority, optionally
/// followed by a path stem (`brand.example/q`), without scheme.
fn stem(host: &str) -> String {
    format!("https://{}", host.trim_end_matches('/'))
}

impl Sgtin {
    /// The Digital Link URI on `host` (authority and optional stem, no scheme), e.g.
    /// `https://id.gs1.org/01/09506000134352/21/ABC%2F1`.
    pub fn digital_link(&self, host: &str) -> String {
        format!(
            "{}/01/{}/21/{}",
            stem(host),
            self.gtin,
            percent_encode(self.serial.as_str())
        )
    }
}

impl Sscc {
    /// The Digital Link URI on `host`: `https://<host>/00/<sscc>`.
    pub fn digital_link(&self, host: &str) -> String {
        format!("{}/00/{}", stem(host), self)
    }
}

impl Code {
    /// The Digital Link URI on `host` (authority and optional stem, no scheme).
    pub fn digital_link(&self, host: &str) -> String {
        match self {
            Code::Item(sgtin) => sgtin.digital_link(host),
            Code::Logistic(sscc) => sscc.digital_link(host),
            Code::Party(gln) => gln_link(host, "417", gln),
            Code::Location(gln) => gln_link(host, "414", gln),
        }
    }
}

fn gln_link(host: &str, ai: &str, gln: &Gln) -> String {
    format!("{}/{ai}/{gln}", stem(host))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_percent_decode_accepts_either_hex_case() {
        assert_eq!(
            percent_decode("21", "A%2fB%2FC", is_raw_path_char),
            Ok("A/B/C".to_owned())
        );
    }

    #[test]
    fn test_percent_decode_refuses_truncated_and_non_hex_escapes() {
        for (raw, position) in [("ABC%2", 3), ("ABCD%", 4), ("A%4gB", 1), ("A%G4B", 1)] {
            assert_eq!(
                percent_decode("21", raw, is_raw_path_char),
                Err(CodeError::BadPercentEncoding { ai: "21", position }),
                "{raw}"
            );
        }
    }

    #[test]
    fn test_percent_decode_refuses_raw_characters_outside_pchar() {
        assert_eq!(
            percent_decode("21", "A<B", is_raw_path_char),
            Err(CodeError::BadCharacter {
                ai: "21",
                position: 1,
                character: '<'
            })
        );
    }

    #[test]
    fn test_percent_encode_matches_gs1_reference_escapes() {
        // The GS1 syntax engine's URIescape vector for the AI characters that need escaping.
        assert_eq!(
            percent_encode("!\"%&'()*+,/:;<=>?"),
            "%21%22%25%26%27%28%29%2A%2B%2C%2F%3A%3B%3C%3D%3E%3F"
        );
        assert_eq!(percent_encode("az09-._"), "az09-._");
    }
}
