//! The refusal table: inputs `parse_code` must refuse, each with its exact error.
//!
//! One row per rule, so a change in what is accepted shows up here as a deliberate edit.

use super::error::CodeError::{self, *};

const DL: &str = "https://a";
const GTIN: &str = "09506000134352";
const SSCC: &str = "106141411234567897";
const GLN: &str = "9520123456788";

fn dl(path: &str) -> String {
    format!("{DL}{path}")
}

fn serial_char(position: usize, character: char) -> CodeError {
    BadCharacter {
        ai: "21",
        position,
        character,
    }
}

pub(crate) fn refusal_table() -> Vec<(String, CodeError)> {
    let mut table = vec![
        // Size and form.
        (String::new(), Empty),
        (" \r\n".into(), Empty),
        (
            "x".repeat(2049),
            TooLong {
                len: 2049,
                max: 2048,
            },
        ),
        ("hello".into(), UnrecognisedForm),
        (format!("ftp://a/01/{GTIN}/21/A"), UnrecognisedForm),
        ("1234567890123456".into(), LegacyCodeNeedsGtin),
        // Scheme and host.
        (
            format!("HtTp://a/01/{GTIN}/21/A"),
            NotAUri("scheme must be http:// or https:// (all lower or all upper case)"),
        ),
        ("https://".into(), NotAUri("no path after the host")),
        ("https://a".into(), NotAUri("no path after the host")),
        ("https://a?/01".into(), NotAUri("no path after the host")),
        (format!("https:///01/{GTIN}/21/A"), NotAUri("no host")),
        (
            format!("https://user@a/01/{GTIN}/21/A"),
            NotAUri("host has a character outside a-z 0-9 - . _ ~ : [ ]"),
        ),
        // Path structure.
        (dl("/"), MissingKey),
        (dl("/b"), MissingKey),
        (dl(&format!("/gtin/{GTIN}/ser/A")), MissingKey),
        (dl(&format!("//01/{GTIN}/21/A")), EmptySegment { index: 0 }),
        (dl(&format!("/01/{GTIN}/21/A/")), EmptySegment { index: 4 }),
        (dl(&format!("/01/{GTIN}//21/A")), EmptySegment { index: 2 }),
        (
            dl(&format!("/01/{GTIN}/21/A/x")),
            TrailingSegment { index: 4 },
        ),
        (
            dl(&format!("/01/{GTIN}/21/A/99/X")),
            UnknownAi { ai: "99".into() },
        ),
        (dl("/01"), MissingValue { ai: "01" }),
        (dl(&format!("/01/{GTIN}/21")), MissingValue { ai: "21" }),
        // Key and qualifier rules.
        (dl(&format!("/01/{GTIN}")), MissingSerial),
        (
            dl(&format!("/21/A/01/{GTIN}")),
            WrongOrder {
                ai: "21",
                key: "01",
            },
        ),
        (
            dl("/21/A"),
            WrongOrder {
                ai: "21",
                key: "01",
            },
        ),
        (
            dl(&format!("/254/1/414/{GLN}")),
            WrongOrder {
                ai: "254",
                key: "414",
            },
        ),
        (
            dl(&format!("/01/{GTIN}/21/A/21/B")),
            DuplicateAi { ai: "21" },
        ),
        (
            dl(&format!("/01/{GTIN}/21/A/01/{GTIN}/21/B")),
            DuplicateAi { ai: "01" },
        ),
        (
            dl(&format!("/01/{GTIN}/21/A/00/{SSCC}")),
            MixedKeys {
                first: "01",
                second: "00",
            },
        ),
        // The lot (10) is read with a bottle, before its serial as the Digital Link orders
        // qualifiers, and never with another key.
        (
            dl(&format!("/01/{GTIN}/21/A/10/LOT")),
            QualifierOrder {
                ai: "10",
                before: "21",
            },
        ),
        (
            dl(&format!("/00/{SSCC}/10/LOT")),
            DisallowedQualifier {
                ai: "10",
                key: "00",
            },
        ),
        (dl(&format!("/01/{GTIN}/10/LOT")), MissingSerial),
        (
            dl(&format!("/01/{GTIN}/10/L~T/21/A")),
            BadCharacter {
                ai: "10",
                position: 1,
                character: '~',
            },
        ),
        (
            dl(&format!("/01/{GTIN}/10/{}/21/A", "L".repeat(21))),
            BadLength {
                ai: "10",
                len: 21,
                expected: "1 to 20",
            },
        ),
        (
            dl(&format!("/01/{GTIN}/10/L/10/M/21/A")),
            DuplicateAi { ai: "10" },
        ),
        (
            dl(&format!("/01/{GTIN}/22/CPV/21/A")),
            DisallowedQualifier {
                ai: "22",
                key: "01",
            },
        ),
        (
            dl(&format!("/01/{GTIN}/235/TPX")),
            DisallowedQualifier {
                ai: "235",
                key: "01",
            },
        ),
        (
            dl(&format!("/00/{SSCC}/21/A")),
            DisallowedQualifier {
                ai: "21",
                key: "00",
            },
        ),
        (
            dl(&format!("/414/{GLN}/254/1")),
            DisallowedQualifier {
                ai: "254",
                key: "414",
            },
        ),
        // Our AIs may not appear in the stem (GS1's engine would take the rightmost key).
        (dl(&format!("/00/faux/00/{SSCC}")), DuplicateAi { ai: "00" }),
        // Key values.
        (
            dl("/01/09506000134353/21/A"),
            BadCheckDigit {
                ai: "01",
                expected: 2,
                got: 3,
            },
        ),
        (
            dl("/01/09506000134/21/A"),
            BadLength {
                ai: "01",
                len: 11,
                expected: "8, 12, 13 or 14 digits",
            },
        ),
        (
            dl("/01/0950600013435X/21/A"),
            BadCharacter {
                ai: "01",
                position: 13,
                character: 'X',
            },
        ),
        (
            dl("/00/106141411234567890"),
            BadCheckDigit {
                ai: "00",
                expected: 7,
                got: 0,
            },
        ),
        (
            dl("/417/9520123456780"),
            BadCheckDigit {
                ai: "417",
                expected: 8,
                got: 0,
            },
        ),
        (
            dl("/414/952012345678"),
            BadLength {
                ai: "414",
                len: 12,
                expected: "13 digits",
            },
        ),
        // Serial values.
        (
            dl(&format!("/01/{GTIN}/21/ABCDEFGHIJKLMNOPQRSTU")),
            BadLength {
                ai: "21",
                len: 21,
                expected: "1 to 20",
            },
        ),
        (dl(&format!("/01/{GTIN}/21/AB%20C")), serial_char(2, ' ')),
        (dl(&format!("/01/{GTIN}/21/A^B")), serial_char(1, '^')),
        (dl(&format!("/01/{GTIN}/21/A%5EB")), serial_char(1, '^')),
        (dl(&format!("/01/{GTIN}/21/A$")), serial_char(1, '$')),
        (
            dl(&format!("/01/{GTIN}/21/\u{fc}")),
            serial_char(0, '\u{fc}'),
        ),
        (
            dl(&format!("/01/{GTIN}/21/%C3%BC")),
            serial_char(0, '\u{fc}'),
        ),
        (
            dl(&format!("/01/{GTIN}/21/%FF")),
            serial_char(0, '\u{fffd}'),
        ),
        (dl(&format!("/01/{GTIN}/21/%00")), serial_char(0, '\0')),
        (
            dl(&format!("/01/{GTIN}/21/A%2")),
            BadPercentEncoding {
                ai: "21",
                position: 1,
            },
        ),
        (
            dl(&format!("/01/{GTIN}/21/A%G0")),
            BadPercentEncoding {
                ai: "21",
                position: 1,
            },
        ),
        // Element strings.
        (format!("(01){GTIN}"), MissingSerial),
        (format!("(01){GTIN}(21)"), MissingValue { ai: "21" }),
        (
            "(01)9506000134352(21)A".into(),
            BadLength {
                ai: "01",
                len: 13,
                expected: "14 digits",
            },
        ),
        (
            format!("(01){GTIN} (21)A"),
            BadLength {
                ai: "01",
                len: 15,
                expected: "14 digits",
            },
        ),
        ("(99)X".into(), UnknownAi { ai: "99".into() }),
        ("()X".into(), UnknownAi { ai: String::new() }),
        (format!("(01){GTIN}(21)A(21)B"), DuplicateAi { ai: "21" }),
        (
            format!("(00){SSCC}(10)L"),
            DisallowedQualifier {
                ai: "10",
                key: "00",
            },
        ),
        ("(21)A".into(), MissingKey),
        (
            format!("(00){SSCC}(01){GTIN}(21)A"),
            MixedKeys {
                first: "00",
                second: "01",
            },
        ),
        (
            "(01".into(),
            NotAnElementString("'(' without a closing ')'"),
        ),
        (
            format!("(21)A(B(01){GTIN}"),
            UnknownAi { ai: "B(01".into() },
        ),
        (format!("(01){GTIN}(21)A\u{1d}"), serial_char(1, '\u{1d}')),
        (
            format!("]E0{GTIN}"),
            NotAnElementString("symbology identifier does not announce GS1 data"),
        ),
        ("9912345".into(), UnknownAi { ai: "9912".into() }),
        (format!("]d201{GTIN}"), MissingSerial),
        (format!("01{GTIN}"), LegacyCodeNeedsGtin),
        (
            format!("01{GTIN}21A\u{1d}\u{1d}"),
            UnknownAi {
                ai: "\u{1d}".into(),
            },
        ),
        (
            "01095060001343\u{1d}21A".into(),
            BadCharacter {
                ai: "01",
                position: 12,
                character: '\u{1d}',
            },
        ),
        // EPC URNs.
        (
            "urn:foo".into(),
            NotAnEpcUrn("expected urn:epc:id:<scheme>:..."),
        ),
        (
            "urn:epc:id:grai:0614141.12345.1".into(),
            NotAnEpcUrn("scheme must be sgtin, sscc, pgln or sgln"),
        ),
        (
            "urn:epc:id:sgtin:0614141.812345".into(),
            NotAnEpcUrn("sgtin needs CompanyPrefix.ItemReference.Serial"),
        ),
        (
            "urn:epc:id:sgtin:06141.8123456.1".into(),
            BadCompanyPrefixLength { len: 5 },
        ),
        (
            "urn:epc:id:sgtin:0614141.81234.1".into(),
            BadLength {
                ai: "01",
                len: 12,
                expected: "13 digits of prefix and reference",
            },
        ),
        (
            "urn:epc:id:sgtin:0614141.81234A.1".into(),
            BadCharacter {
                ai: "01",
                position: 12,
                character: 'A',
            },
        ),
        (
            "urn:epc:id:sgtin:0614141.812345.A/B".into(),
            serial_char(1, '/'),
        ),
        (
            "urn:epc:id:sgtin:0614141.812345.".into(),
            BadLength {
                ai: "21",
                len: 0,
                expected: "1 to 20",
            },
        ),
        (
            "urn:epc:id:sgln:0614141.12345.7".into(),
            DisallowedQualifier {
                ai: "254",
                key: "414",
            },
        ),
        (
            "urn:epc:id:sscc:0614141.123456789".into(),
            BadLength {
                ai: "00",
                len: 16,
                expected: "17 digits of prefix and reference",
            },
        ),
    ];
    // A GTIN-13 that is only valid with a different check digit.
    table.push((
        dl("/01/4006381333932/21/A"),
        BadCheckDigit {
            ai: "01",
            expected: 1,
            got: 2,
        },
    ));
    table
}
