//! EPC URNs (TDS 2.x pure identity, class and pattern URIs) to Digital Link.

use super::{digits, STEM};

/// `urn:epc:id:...`, `urn:epc:class:lgtin:...` or `urn:epc:idpat:...` to Digital Link.
pub(super) fn normalise(uri: &str) -> Option<String> {
    if let Some(body) = uri.strip_prefix("urn:epc:id:") {
        return epc_id(body);
    }
    if let Some(body) = uri.strip_prefix("urn:epc:class:lgtin:") {
        let (gtin, lot) = gtin_and_rest(body)?;
        return epc_chars(lot, 1, 20).then(|| format!("{STEM}01/{gtin}/10/{}", pct(lot)));
    }
    let body = uri.strip_prefix("urn:epc:idpat:")?;
    epc_pattern(body)
}

fn epc_id(body: &str) -> Option<String> {
    let (scheme, body) = body.split_once(':')?;
    match scheme {
        "sgtin" => {
            let (gtin, serial) = gtin_and_rest(body)?;
            epc_chars(serial, 1, 20).then(|| format!("{STEM}01/{gtin}/21/{}", pct(serial)))
        }
        "upui" => {
            let (gtin, serial) = gtin_and_rest(body)?;
            epc_chars(serial, 1, 28).then(|| format!("{STEM}01/{gtin}/235/{}", pct(serial)))
        }
        "itip" => {
            let (gtin, rest) = gtin_and_rest(body)?;
            let (piece, rest) = rest.split_once('.')?;
            let (total, serial) = rest.split_once('.')?;
            let ok = digits(piece, 2, 2) && digits(total, 2, 2) && epc_chars(serial, 1, 20);
            ok.then(|| format!("{STEM}8006/{gtin}{piece}{total}/21/{}", pct(serial)))
        }
        "sscc" => {
            let (cp, rest) = company_prefix(body)?;
            if !digits(rest, 17 - cp.len(), 17 - cp.len()) {
                return None;
            }
            let raw = format!("{}{cp}{}", &rest[..1], &rest[1..]);
            Some(format!("{STEM}00/{raw}{}", check_digit(&raw)))
        }
        "sgln" => {
            let (gln, ext) = twelve_and_rest(body)?;
            if !epc_chars(ext, 1, 20) {
                return None;
            }
            Some(match ext {
                "0" => format!("{STEM}414/{gln}"),
                _ => format!("{STEM}414/{gln}/254/{}", pct(ext)),
            })
        }
        "grai" => {
            let (key, serial) = twelve_and_rest_zero_padded(body)?;
            epc_chars(serial, 1, 16).then(|| format!("{STEM}8003/{key}{}", pct(serial)))
        }
        "gdti" => {
            let (key, serial) = twelve_and_rest(body)?;
            epc_chars_or_empty(serial, 19).then(|| format!("{STEM}253/{key}{}", pct(serial)))
        }
        "sgcn" => {
            let (key, serial) = twelve_and_rest(body)?;
            digits(serial, 1, 12).then(|| format!("{STEM}255/{key}{serial}"))
        }
        "pgln" => {
            let (cp, rest) = company_prefix(body)?;
            if !digits(rest, 12 - cp.len(), 12 - cp.len()) {
                return None;
            }
            let raw = format!("{cp}{rest}");
            Some(format!("{STEM}417/{raw}{}", check_digit(&raw)))
        }
        "gsrn" | "gsrnp" => {
            let (cp, rest) = company_prefix(body)?;
            if !digits(rest, 17 - cp.len(), 17 - cp.len()) {
                return None;
            }
            let ai = if scheme == "gsrn" { "8018" } else { "8017" };
            let raw = format!("{cp}{rest}");
            Some(format!("{STEM}{ai}/{raw}{}", check_digit(&raw)))
        }
        "gsin" => {
            let (cp, rest) = company_prefix(body)?;
            if !digits(rest, 16 - cp.len(), 16 - cp.len()) {
                return None;
            }
            let raw = format!("{cp}{rest}");
            Some(format!("{STEM}402/{raw}{}", check_digit(&raw)))
        }
        "giai" | "ginc" => {
            let (cp, rest) = company_prefix(body)?;
            if !epc_chars(rest, 1, 30 - cp.len()) {
                return None;
            }
            let ai = if scheme == "giai" { "8004" } else { "401" };
            Some(format!("{STEM}{ai}/{cp}{}", pct(rest)))
        }
        "cpi" => {
            let (cp, rest) = company_prefix(body)?;
            let (part, serial) = rest.rsplit_once('.')?;
            let ok = cpi_chars(part, 30 - cp.len()) && digits(serial, 1, 12);
            ok.then(|| format!("{STEM}8010/{}/8011/{serial}", pct(&format!("{cp}{part}"))))
        }
        _ => None,
    }
}

fn epc_pattern(body: &str) -> Option<String> {
    let (scheme, body) = body.split_once(':')?;
    match scheme {
        "sgtin" | "upui" => {
            let (gtin, rest) = gtin_and_rest(body)?;
            (rest == "*").then(|| format!("{STEM}01/{gtin}"))
        }
        "itip" => {
            let (gtin, rest) = gtin_and_rest(body)?;
            let (piece, rest) = rest.split_once('.')?;
            let (total, star) = rest.split_once('.')?;
            let ok = digits(piece, 2, 2) && digits(total, 2, 2) && star == "*";
            ok.then(|| format!("{STEM}8006/{gtin}{piece}{total}"))
        }
        "grai" => {
            let (key, rest) = twelve_and_rest_zero_padded(body)?;
            (rest == "*").then(|| format!("{STEM}8003/{key}"))
        }
        "gdti" | "sgcn" => {
            let (key, rest) = twelve_and_rest(body)?;
            let ai = if scheme == "gdti" { "253" } else { "255" };
            (rest == "*").then(|| format!("{STEM}{ai}/{key}"))
        }
        "cpi" => {
            let (cp, rest) = company_prefix(body)?;
            let part = rest.strip_suffix(".*")?;
            cpi_chars(part, 30 - cp.len())
                .then(|| format!("{STEM}8010/{}", pct(&format!("{cp}{part}"))))
        }
        _ => None,
    }
}

/// A 6..=12 digit company prefix before the first dot, and the rest.
fn company_prefix(body: &str) -> Option<(&str, &str)> {
    let (cp, rest) = body.split_once('.')?;
    digits(cp, 6, 12).then_some((cp, rest))
}

/// `CP.IR.rest` with 13 digits in CP+IR: the GTIN-14 (indicator digit first, check digit
/// computed) and the rest.
fn gtin_and_rest(body: &str) -> Option<(String, &str)> {
    let (cp, rest) = company_prefix(body)?;
    let (item, rest) = rest.split_once('.')?;
    if !digits(item, 13 - cp.len(), 13 - cp.len()) || item.is_empty() {
        return None;
    }
    let raw = format!("{}{cp}{}", &item[..1], &item[1..]);
    let cd = check_digit(&raw);
    Some((format!("{raw}{cd}"), rest))
}

/// `CP.REF.rest` with 12 digits in CP+REF: the 13-digit key (check digit computed) and the rest.
fn twelve_and_rest(body: &str) -> Option<(String, &str)> {
    let (cp, rest) = company_prefix(body)?;
    let (reference, rest) = rest.split_once('.')?;
    if !digits(reference, 12 - cp.len(), 12 - cp.len()) {
        return None;
    }
    let raw = format!("{cp}{reference}");
    let cd = check_digit(&raw);
    Some((format!("{raw}{cd}"), rest))
}

/// As [`twelve_and_rest`] with the GRAI's leading zero.
fn twelve_and_rest_zero_padded(body: &str) -> Option<(String, &str)> {
    let (cp, rest) = company_prefix(body)?;
    let (reference, rest) = rest.split_once('.')?;
    if !digits(reference, 12 - cp.len(), 12 - cp.len()) {
        return None;
    }
    let raw = format!("0{cp}{reference}");
    let cd = check_digit(&raw);
    Some((format!("{raw}{cd}"), rest))
}

/// EPC URI component characters (TDS table of allowed characters and `%xx` escapes),
/// counting an escape as one character.
fn epc_chars(s: &str, min: usize, max: usize) -> bool {
    let Some(count) = escaped_count(s, epc_plain, epc_escape) else {
        return false;
    };
    (min..=max).contains(&count)
}

fn epc_chars_or_empty(s: &str, max: usize) -> bool {
    s.is_empty() || epc_chars(s, 1, max)
}

fn cpi_chars(s: &str, max: usize) -> bool {
    let count = escaped_count(
        s,
        |b| b.is_ascii_digit() || b.is_ascii_uppercase() || b == b'-',
        |h, l| {
            matches!((h, l), (b'2', b'3' | b'd' | b'f' | b'D' | b'F'))
                || (h == b'3' && l.is_ascii_digit())
                || (h == b'4' && matches!(l, b'1'..=b'9' | b'A'..=b'F' | b'a'..=b'f'))
                || (h == b'5' && matches!(l, b'0'..=b'9' | b'A' | b'a'))
        },
    );
    matches!(count, Some(n) if (1..=max).contains(&n))
}

fn epc_plain(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!')(*+,.:;=_-".contains(&b)
}

fn epc_escape(h: u8, l: u8) -> bool {
    match h {
        b'2' => matches!(l, b'1' | b'2' | b'5'..=b'9' | b'A'..=b'F' | b'a'..=b'f'),
        b'3' => l.is_ascii_hexdigit(),
        b'4' => matches!(l, b'1'..=b'9' | b'A'..=b'F' | b'a'..=b'f'),
        b'5' => matches!(l, b'0'..=b'9' | b'A' | b'a' | b'F' | b'f'),
        b'6' => matches!(l, b'1'..=b'9' | b'A'..=b'F' | b'a'..=b'f'),
        b'7' => matches!(l, b'0'..=b'9' | b'A' | b'a'),
        _ => false,
    }
}

fn escaped_count(
    s: &str,
    plain: impl Fn(u8) -> bool,
    escape: impl Fn(u8, u8) -> bool,
) -> Option<usize> {
    let b = s.as_bytes();
    let (mut i, mut count) = (0, 0);
    while i < b.len() {
        if b[i] == b'%' {
            if !escape(*b.get(i + 1)?, *b.get(i + 2)?) {
                return None;
            }
            i += 3;
        } else if plain(b[i]) {
            i += 1;
        } else {
            return None;
        }
        count += 1;
    }
    Some(count)
}

/// Percent-encode the characters Digital Link reserves but EPC URIs allow literally.
fn pct(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '!' => out.push_str("%21"),
            '(' => out.push_str("%28"),
            ')' => out.push_str("%29"),
            '*' => out.push_str("%2A"),
            '+' => out.push_str("%2B"),
            ',' => out.push_str("%2C"),
            ':' => out.push_str("%3A"),
            _ => out.push(c),
        }
    }
    out
}

/// GS1 mod-10 check digit (weights 3,1,3,... from the right).
fn check_digit(digits: &str) -> u32 {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    (10 - sum % 10) % 10
}
