//! GS1 Digital Link URIs on any host to the constrained canonical form.

use super::{digits, STEM};

/// Primary-key AIs in the order the reference tries them when re-rooting a URI.
const KEY_AIS: [&str; 14] = [
    "00", "01", "253", "255", "401", "402", "414", "417", "8003", "8004", "8006", "8010", "8017",
    "8018",
];

/// Deprecated alphabetic short names and their AIs.
const SHORT_NAMES: [(&str, &str); 17] = [
    ("/gtin/", "/01/"),
    ("/itip/", "/8006/"),
    ("/cpid/", "/8010/"),
    ("/gln/", "/414/"),
    ("/party/", "/417/"),
    ("/gsrnp/", "/8017/"),
    ("/gsrn/", "/8018/"),
    ("/gcn/", "/255/"),
    ("/sscc/", "/00/"),
    ("/gdti/", "/253/"),
    ("/ginc/", "/401/"),
    ("/gsin/", "/402/"),
    ("/grai/", "/8003/"),
    ("/giai/", "/8004/"),
    ("/cpv/", "/22/"),
    ("/lot/", "/10/"),
    ("/ser/", "/21/"),
];

/// GS1 Digital Link URI on any host to the constrained canonical form.
pub(super) fn normalise(uri: &str) -> Option<String> {
    if is_plain_canonical(uri) {
        return Some(uri.to_owned());
    }
    normalise_as_reference(uri)
}

/// True for the two forms a packing line names thousands of times per document, already
/// canonical: `https://id.gs1.org/00/<18 digits>` and
/// `https://id.gs1.org/01/<14 digits>/21/<1-20 Digital Link characters, no '?'>`. The
/// reference's rewrites leave them unchanged (a test checks it on generated URIs), and
/// skipping its ~60 substring searches and four allocations per identifier took a third
/// off mapping a packing document.
pub(super) fn is_plain_canonical(uri: &str) -> bool {
    let Some(rest) = uri.strip_prefix(STEM) else {
        return false;
    };
    if let Some(sscc) = rest.strip_prefix("00/") {
        return digits(sscc, 18, 18);
    }
    rest.strip_prefix("01/")
        .and_then(|value| fixed_then(value, 14))
        .and_then(|tail| tail.strip_prefix("/21/"))
        .is_some_and(|serial| dl_value(serial, 1, 20) && !serial.contains('?'))
}

/// The reference's steps, in its order.
fn normalise_as_reference(uri: &str) -> Option<String> {
    if !(uri.starts_with("http:") || uri.starts_with("https:")) {
        return None;
    }
    let path_end = uri.find(['?', '#']).unwrap_or(uri.len());
    if !has_key_segment(&uri[..path_end], uri) {
        return None;
    }
    let mut uri = uri[..uri.find('?').unwrap_or(uri.len())].to_owned();
    // Most URIs name no short name: look for one before rewriting (a `replace` allocates a
    // new string even when nothing matches, 17 per URI; a capture names thousands).
    if SHORT_NAMES.iter().any(|(short, _)| uri.contains(short)) {
        for (short, ai) in SHORT_NAMES {
            uri = uri.replace(short, ai);
        }
    }
    if !is_canonical_root(&uri) {
        let start = KEY_AIS.iter().find_map(|ai| uri.find(&format!("/{ai}/")))?;
        uri = format!("https://id.gs1.org{}", &uri[start..]);
    }
    uri = pad_gtin(uri);
    uri = drop_cpv(uri);
    uri = drop_lot_if_serial(uri);
    is_valid_output(&uri).then_some(uri)
}

/// Whether the path holds `/<key or short name>/dddd` followed by a non-slash character.
fn has_key_segment(path: &str, whole: &str) -> bool {
    // Every match below is a `/` followed by four digits in the path: without one (a CBV
    // URI such as `https://ref.gs1.org/cbv/BizStep-packing`, of which every event names a
    // few) there is no key segment, and the 28 substring searches are skipped.
    let digits_after_slash = path
        .as_bytes()
        .windows(5)
        .any(|w| w[0] == b'/' && w[1..].iter().all(u8::is_ascii_digit));
    if !digits_after_slash {
        return false;
    }
    // `/<name>/` for each key AI and its short name.
    const NEEDLES: [&str; 28] = [
        "/01/", "/gtin/", "/8006/", "/itip/", "/8010/", "/cpid/", "/414/", "/gln/", "/417/",
        "/party/", "/8017/", "/gsrnp/", "/8018/", "/gsrn/", "/255/", "/gcn/", "/00/", "/sscc/",
        "/253/", "/gdti/", "/401/", "/ginc/", "/402/", "/gsin/", "/8003/", "/grai/", "/8004/",
        "/giai/",
    ];
    NEEDLES.iter().any(|needle| {
        path.match_indices(needle).any(|(at, _)| {
            let value = &whole.as_bytes()[at + needle.len()..];
            value.len() >= 5 && value[..4].iter().all(u8::is_ascii_digit) && value[4] != b'/'
        })
    })
}

fn is_canonical_root(uri: &str) -> bool {
    let Some(rest) = uri.strip_prefix(STEM) else {
        return false;
    };
    KEY_AIS.iter().any(|ai| {
        rest.strip_prefix(ai)
            .and_then(|r| r.strip_prefix('/'))
            .is_some_and(|value| {
                let v = value.as_bytes();
                v.len() >= 5 && v[..4].iter().all(u8::is_ascii_digit) && v[4] != b'/'
            })
    })
}

fn pad_gtin(uri: String) -> String {
    let Some(rest) = uri.strip_prefix("https://id.gs1.org/01/") else {
        return uri;
    };
    let n = rest.bytes().take_while(u8::is_ascii_digit).count();
    let pad = match n {
        14.. => return uri,
        13 => "0",
        12 => "00",
        8..=11 => "000000",
        _ => return uri,
    };
    uri.replace("/01/", &format!("/01/{pad}"))
}

/// Split `https://id.gs1.org/{01/d14 | 8006/d18}/` from the rest of the URI.
fn gtin_like(uri: &str) -> Option<(&str, &str)> {
    for (ai, len) in [("01", 14), ("8006", 18)] {
        let head = format!("{STEM}{ai}/");
        if let Some(rest) = uri.strip_prefix(&head) {
            if rest.len() >= len && rest.as_bytes()[..len].iter().all(u8::is_ascii_digit) {
                let at = head.len() + len;
                return Some((&uri[..at], &uri[at..]));
            }
        }
    }
    None
}

fn drop_cpv(uri: String) -> String {
    let Some((key, rest)) = gtin_like(&uri) else {
        return uri;
    };
    let Some(after) = rest.strip_prefix("/22/") else {
        return uri;
    };
    if after.chars().count() <= 20 && after.bytes().all(|b| dl_char(b) || b == b'/') {
        let tail = after.find('/').map_or("", |i| &after[i..]);
        return format!("{key}{tail}");
    }
    uri
}

fn drop_lot_if_serial(uri: String) -> String {
    let Some((key, rest)) = gtin_like(&uri) else {
        return uri;
    };
    let Some(after) = rest.strip_prefix("/10/") else {
        return uri;
    };
    if let Some((lot, serial)) = after.split_once("/21/") {
        if dl_value(lot, 0, 20) && dl_value(serial, 0, 20) {
            return format!("{key}/21/{serial}");
        }
    }
    uri
}

/// Characters the reference accepts in Digital Link values (a subset of GS1 CSET 82).
fn dl_char(b: u8) -> bool {
    matches!(b, 0x22 | 0x27 | 0x2D | 0x2E | 0x30..=0x39 | 0x3B..=0x3F | 0x41..=0x5A | 0x5F | 0x61..=0x7A)
}

fn dl_value(s: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&s.len()) && s.bytes().all(dl_char)
}

fn cpid_value(s: &str) -> bool {
    s.len() <= 30
        && s.bytes()
            .all(|b| matches!(b, b'#' | b'-' | b'/' | b'0'..=b'9' | b'A'..=b'Z'))
}

/// `value` minus its first `n` characters, if those are ASCII digits.
fn fixed_then(value: &str, n: usize) -> Option<&str> {
    let b = value.as_bytes();
    (b.len() >= n && b[..n].iter().all(u8::is_ascii_digit)).then(|| &value[n..])
}

/// Only keys the reference knows, in their constrained form, leave the normaliser.
fn is_valid_output(uri: &str) -> bool {
    let Some(rest) = uri.strip_prefix(STEM) else {
        return false;
    };
    let Some((ai, value)) = rest.split_once('/') else {
        return false;
    };
    let qualified = |tail: &str, options: &[(&str, usize)]| -> bool {
        tail.is_empty()
            || options.iter().any(|(q, max)| {
                tail.strip_prefix(q)
                    .is_some_and(|v| v.strip_prefix('/').is_some_and(|v| dl_value(v, 0, *max)))
            })
    };
    match ai {
        "00" => digits(value, 18, 18),
        "01" => fixed_then(value, 14)
            .is_some_and(|t| qualified(t, &[("/21", 20), ("/10", 20), ("/235", 28)])),
        "8006" => fixed_then(value, 18).is_some_and(|t| qualified(t, &[("/21", 20), ("/10", 20)])),
        "414" => fixed_then(value, 13).is_some_and(|t| qualified(t, &[("/254", 20)])),
        "253" => fixed_then(value, 13).is_some_and(|t| dl_value(t, 0, 17)),
        "255" => fixed_then(value, 13).is_some_and(|t| digits(t, 0, 12)),
        "8003" => fixed_then(value, 14).is_some_and(|t| dl_value(t, 0, 16)),
        "401" | "8004" => dl_value(value, 0, 30),
        "402" => digits(value, 17, 17),
        "417" => digits(value, 13, 13),
        "8017" | "8018" => digits(value, 18, 18),
        "8010" => {
            cpid_value(value)
                || value.match_indices("/8011/").any(|(at, m)| {
                    cpid_value(&value[..at]) && digits(&value[at + m.len()..], 0, 12)
                })
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Serials over the Digital Link characters and a few that are not (`/`, `%`, `#`),
    /// including `?`, which starts a query string.
    fn serial() -> impl Strategy<Value = String> {
        let other = vec![
            '-', '.', '_', '"', '\'', ';', '<', '=', '>', '?', '/', '%', '#',
        ];
        proptest::collection::vec(
            prop_oneof![
                proptest::char::range('0', '9'),
                proptest::char::range('A', 'Z'),
                proptest::char::range('a', 'z'),
                prop::sample::select(other),
            ],
            0..24,
        )
        .prop_map(|chars| chars.into_iter().collect())
    }

    proptest! {
        /// Whatever the shortcut accepts, the reference's steps return unchanged.
        #[test]
        fn prop_plain_canonical_uris_are_what_the_reference_returns(
            gtin in "[0-9]{12,15}",
            serial in serial(),
            sscc in "[0-9]{16,19}",
        ) {
            for uri in [
                format!("{STEM}01/{gtin}/21/{serial}"),
                format!("{STEM}00/{sscc}"),
                format!("{STEM}00/{sscc}/21/{serial}"),
            ] {
                if is_plain_canonical(&uri) {
                    prop_assert_eq!(normalise_as_reference(&uri), Some(uri.clone()));
                }
            }
        }
    }

    #[test]
    fn test_plain_canonical_takes_only_the_two_forms() {
        for (uri, plain) in [
            (format!("{STEM}01/09506000134352/21/S1"), true),
            (format!("{STEM}00/395060001343520019"), true),
            (format!("{STEM}01/9506000134352/21/S1"), false),
            (format!("{STEM}01/09506000134352/21/"), false),
            (format!("{STEM}01/09506000134352/21/S1?x=1"), false),
            (format!("{STEM}01/09506000134352/10/L1/21/S1"), false),
            (format!("{STEM}00/39506000134352001"), false),
            (
                "https://example.com/01/09506000134352/21/S1".to_string(),
                false,
            ),
        ] {
            assert_eq!(is_plain_canonical(&uri), plain, "{uri}");
        }
    }
}
