//! GS1 key normaliser: EPC URNs, EPC class and pattern URNs and GS1 Digital Link URIs
//! to the constrained canonical Digital Link form the CBV 2.0 hash uses
//! (`https://id.gs1.org/...`, finest identification level only, no CPV, no query string).
//!
//! Anything not recognised yields `None` and the caller keeps the value as it is.

mod uri;
mod urn;

const STEM: &str = "https://id.gs1.org/";

/// Normalise `uri` if it carries a GS1 key; `None` otherwise.
pub(crate) fn normalise(uri: &str) -> Option<String> {
    // The reference rejects anything without a dot before looking further.
    if !uri.contains('.') {
        return None;
    }
    if uri.starts_with("urn:epc:") {
        return urn::normalise(uri);
    }
    uri::normalise(uri)
}

/// True if `uri` is a canonical GTIN + serial or SSCC Digital Link URI, which every step of
/// canonicalisation leaves as it is (see `uri::is_plain_canonical`).
pub(crate) fn is_plain_canonical(uri: &str) -> bool {
    uri::is_plain_canonical(uri)
}

fn digits(s: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::normalise;

    #[test]
    fn test_normalise_table() {
        let table = [
            (
                "urn:epc:id:sgtin:0614141.107346.2017",
                Some("https://id.gs1.org/01/10614141073464/21/2017"),
            ),
            (
                "urn:epc:id:sscc:4012345.0000000333",
                Some("https://id.gs1.org/00/040123450000003338"),
            ),
            (
                "urn:epc:id:sgln:4012345.00011.987",
                Some("https://id.gs1.org/414/4012345000115/254/987"),
            ),
            (
                "urn:epc:id:sgln:4012345.00011.0",
                Some("https://id.gs1.org/414/4012345000115"),
            ),
            (
                "urn:epc:id:pgln:999999999999.",
                Some("https://id.gs1.org/417/9999999999994"),
            ),
            (
                "urn:epc:id:gdti:987659999999..9",
                Some("https://id.gs1.org/253/98765999999929"),
            ),
            (
                "urn:epc:idpat:sgtin:4012345.044444.*",
                Some("https://id.gs1.org/01/04012345444445"),
            ),
            (
                "https://id.gs1.de/414/4012345000115",
                Some("https://id.gs1.org/414/4012345000115"),
            ),
            (
                "https://example.com/gtin/09780345418913/21/765tz?abc=211121",
                Some("https://id.gs1.org/01/09780345418913/21/765tz"),
            ),
            (
                "https://id.gs1.org/01/9780345418913/22/A/10/L1/21/S1",
                Some("https://id.gs1.org/01/09780345418913/21/S1"),
            ),
            (
                "https://id.gs1.org/01/09780345418913/10/L1",
                Some("https://id.gs1.org/01/09780345418913/10/L1"),
            ),
            ("http://transaction.acme.com/po/12345678", None),
            ("geo:50.947573340894124,6.922120147375441", None),
            ("urn:epc:id:sgtin:0614141.107346.", None),
            ("urn:epc:id:sgtin:0614141.107346.%", None),
            ("urn:epc:id:sgtin:0614141.107346.%2", None),
            ("https://id.gs1.org/01/", None),
        ];
        for (input, want) in table {
            assert_eq!(normalise(input).as_deref(), want, "input {input:?}");
        }
    }
}
