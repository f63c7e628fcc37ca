//! Vectors and the refusal table for the GS1 parsers (properties are in `proptests.rs`).
//!
//! Every check-digit vector below was recomputed with the mod-10 3-1 rule before being written
//! down; the Digital Link and element string vectors come from the research notes (section 2),
//! the GS1 Digital Link standard examples and GS1's syntax engine tests; the URN vectors from
//! the EPC Tag Data Standard examples.

use borsh::BorshDeserialize;
use serde::de::value::{Error as DeError, StrDeserializer};
use serde::Deserialize;

use super::refusals::refusal_table;
use super::*;

fn gtin(s: &str) -> Gtin {
    Gtin::parse(s).expect("test GTIN is valid")
}

fn item(gtin_digits: &str, serial: &str) -> Code {
    Code::Item(Sgtin::new(
        gtin(gtin_digits),
        Serial::parse(serial).expect("test serial is valid"),
    ))
}

fn gln(s: &str) -> Gln {
    Gln::parse(s).expect("test GLN is valid")
}

fn sscc(s: &str) -> Sscc {
    Sscc::parse(s).expect("test SSCC is valid")
}

#[test]
fn test_valid_digital_links_parse_to_their_code() {
    let cases = [
        (
            "https://id.gs1.org/01/09506000134352/21/ABC123",
            item("09506000134352", "ABC123"),
        ),
        (
            "https://id.gs1.org/01/09520123456788/21/12345",
            item("09520123456788", "12345"),
        ),
        (
            "http://a/01/09506000134352/21/1",
            item("09506000134352", "1"),
        ),
        (
            "HTTPS://A/01/09506000134352/21/1",
            item("09506000134352", "1"),
        ),
        (
            "https://brand.example.com/some-extra/pathinfo/01/09520123456788/21/X",
            item("09520123456788", "X"),
        ),
        // Zero-suppressed GTIN-13, as in the Digital Link standard's examples.
        (
            "https://brand.example.com/01/9520123456788/21/X",
            item("09520123456788", "X"),
        ),
        // Query and fragment are not read: tag parameters, data attributes, anything.
        (
            "https://a/01/09506000134352/21/ABC?picc=EF963FF7828658A5&cmac=94EED9EE65337086",
            item("09506000134352", "ABC"),
        ),
        (
            "https://a/01/09506000134352/21/ABC?",
            item("09506000134352", "ABC"),
        ),
        (
            "https://a/01/09506000134352/21/ABC#frag",
            item("09506000134352", "ABC"),
        ),
        (
            "https://a/01/09506000134352/21/AB#/10/x",
            item("09506000134352", "AB"),
        ),
        (
            "https://a/01/09506000134352/21/A?10=LOT&17=991231",
            item("09506000134352", "A"),
        ),
        // Percent escapes, either hex case; '+' is itself in a path.
        (
            "https://a/01/09506000134352/21/ABC%2F1",
            item("09506000134352", "ABC/1"),
        ),
        (
            "https://a/01/09506000134352/21/ABC%2f1",
            item("09506000134352", "ABC/1"),
        ),
        (
            "https://a/01/09506000134352/21/A+B",
            item("09506000134352", "A+B"),
        ),
        (
            "https://a:65535/01/09506000134352/21/1",
            item("09506000134352", "1"),
        ),
        (
            "https://192.0.2.1/01/09506000134352/21/1",
            item("09506000134352", "1"),
        ),
        (
            "https://[2001:db8::1]/01/09506000134352/21/1",
            item("09506000134352", "1"),
        ),
        (
            "https://a/00/006141411234567890",
            Code::Logistic(sscc("006141411234567890")),
        ),
        (
            "https://id.gs1.org/00/952012345678912345?02=09520123456788&37=25",
            Code::Logistic(sscc("952012345678912345")),
        ),
        (
            "https://id.gs1.org/414/9520123456788",
            Code::Location(gln("9520123456788")),
        ),
        (
            "https://id.gs1.org/417/9520123456788",
            Code::Party(gln("9520123456788")),
        ),
    ];
    for (uri, expected) in cases {
        assert_eq!(parse_digital_link(uri), Ok(expected.clone()), "{uri}");
        assert_eq!(parse_code(uri), Ok(expected), "{uri}");
    }
}

#[test]
fn test_a_lot_in_the_code_is_read_beside_the_bottle_it_qualifies() {
    let bottle = item("09506000134352", "ABC123");
    let lot = Lot::parse("L2026-A").expect("a lot");
    let with_lot = [
        "https://id.gs1.org/01/09506000134352/10/L2026-A/21/ABC123",
        "https://brand.example.com/q/01/9506000134352/10/L2026%2DA/21/ABC123?picc=00",
        "(01)09506000134352(10)L2026-A(21)ABC123",
        // Element strings fix no order of AIs.
        "(01)09506000134352(21)ABC123(10)L2026-A",
        "0109506000134352", /* (01) is fixed-length */
    ];
    for raw in &with_lot[..4] {
        let scanned = parse_scanned(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
        assert_eq!(scanned.code, bottle, "{raw}");
        assert_eq!(scanned.lot.as_ref(), Some(&lot), "{raw}");
        // The identity is the same with or without the lot.
        assert_eq!(parse_code(raw).expect("parses"), bottle, "{raw}");
    }
    let unbracketed = format!("{}10L2026-A{GROUP_SEPARATOR}21ABC123", with_lot[4]);
    let scanned = parse_scanned(&unbracketed).expect("scanner data with a lot");
    assert_eq!((scanned.code, scanned.lot), (bottle.clone(), Some(lot)));
    // No lot in the code: none read.
    let plain = parse_scanned("https://id.gs1.org/01/09506000134352/21/ABC123").expect("plain");
    assert_eq!((plain.code, plain.lot), (bottle, None));
    // A case's or party's code never carries one (the refusal table has the errors).
    assert!(parse_scanned("urn:epc:id:sscc:0614141.1234567890").is_ok_and(|s| s.lot.is_none()));
}

#[test]
fn test_valid_element_strings_parse_to_their_code() {
    let cases = [
        (
            "(01)09506000134352(21)ABC123",
            item("09506000134352", "ABC123"),
        ),
        // The research notes' example of an industrial scan (section 2.3).
        (
            "(01)09521234543213(21)K7Q2M9X4T1",
            item("09521234543213", "K7Q2M9X4T1"),
        ),
        // GS1 does not fix AI order in element strings.
        (
            "(21)ABC123(01)09506000134352",
            item("09506000134352", "ABC123"),
        ),
        (
            "(01)09506000134352(21)A\\(B)",
            item("09506000134352", "A(B)"),
        ),
        (
            "(00)106141411234567897",
            Code::Logistic(sscc("106141411234567897")),
        ),
        ("(417)9520123456788", Code::Party(gln("9520123456788"))),
        ("(414)9520123456788", Code::Location(gln("9520123456788"))),
        ("010950600013435221ABC123", item("09506000134352", "ABC123")),
        (
            "]d2010950600013435221ABC123\u{1d}",
            item("09506000134352", "ABC123"),
        ),
        (
            "]Q3\u{1d}21ABC\u{1d}0109506000134352",
            item("09506000134352", "ABC"),
        ),
        ("]C1010950600013435221ABC", item("09506000134352", "ABC")),
        ("0109506000134352\u{1d}21ABC", item("09506000134352", "ABC")),
        (
            "00106141411234567897",
            Code::Logistic(sscc("106141411234567897")),
        ),
    ];
    for (s, expected) in cases {
        assert_eq!(parse_element_string(s), Ok(expected.clone()), "{s:?}");
        assert_eq!(parse_code(s), Ok(expected), "{s:?}");
    }
}

#[test]
fn test_valid_epc_urns_parse_to_their_code() {
    let cases = [
        // Research notes section 2.2.
        (
            "urn:epc:id:sgtin:2345678901.123.9999",
            item("12345678901231", "9999"),
        ),
        // EPC Tag Data Standard examples.
        (
            "urn:epc:id:sgtin:0614141.812345.6789",
            item("80614141123458", "6789"),
        ),
        (
            "urn:epc:id:sgtin:387583784374.7.9302932",
            item("73875837843740", "9302932"),
        ),
        (
            "urn:epc:id:sgtin:0614141.812345.A%2FB%25",
            item("80614141123458", "A/B%"),
        ),
        (
            "urn:epc:id:sscc:0614141.1234567890",
            Code::Logistic(sscc("106141412345678908")),
        ),
        (
            "urn:epc:id:pgln:0614141.12345",
            Code::Party(gln("0614141123452")),
        ),
        (
            "urn:epc:id:sgln:0614141.12345.0",
            Code::Location(gln("0614141123452")),
        ),
    ];
    for (urn, expected) in cases {
        assert_eq!(parse_epc_urn(urn), Ok(expected.clone()), "{urn}");
        assert_eq!(parse_code(urn), Ok(expected), "{urn}");
    }
}

#[test]
fn test_epc_urn_writers_match_the_published_examples() {
    let code = item("12345678901231", "9999");
    assert_eq!(
        code.epc_urn(10),
        Ok("urn:epc:id:sgtin:2345678901.123.9999".to_owned())
    );
    assert_eq!(
        item("80614141123458", "A/B").epc_urn(7),
        Ok("urn:epc:id:sgtin:0614141.812345.A%2FB".to_owned())
    );
    assert_eq!(
        sscc("106141412345678908").epc_urn(7),
        Ok("urn:epc:id:sscc:0614141.1234567890".to_owned())
    );
    assert_eq!(
        Code::Party(gln("0614141123452")).epc_urn(7),
        Ok("urn:epc:id:pgln:0614141.12345".to_owned())
    );
    assert_eq!(
        Code::Location(gln("0614141123452")).epc_urn(7),
        Ok("urn:epc:id:sgln:0614141.12345.0".to_owned())
    );
    assert_eq!(
        code.epc_urn(13),
        Err(CodeError::BadCompanyPrefixLength { len: 13 })
    );
}

#[test]
fn test_canonical_forms() {
    let code = item("09506000134352", "AB/(1)");
    assert_eq!(
        code.to_string(),
        "https://id.gs1.org/01/09506000134352/21/AB%2F%281%29"
    );
    assert_eq!(code.element_string(), "(01)09506000134352(21)AB/\\(1)");
    assert_eq!(
        code.digital_link("brand.example.com/q/"),
        "https://brand.example.com/q/01/09506000134352/21/AB%2F%281%29"
    );
    // GS1 syntax engine generation vector: (01)12312312312326(21)abc123 on the canonical host.
    assert_eq!(
        item("12312312312326", "abc123").to_string(),
        "https://id.gs1.org/01/12312312312326/21/abc123"
    );
    assert_eq!(
        Code::Logistic(sscc("006141411234567890")).to_string(),
        "https://id.gs1.org/00/006141411234567890"
    );
    assert_eq!(
        Code::Party(gln("9520123456788")).element_string(),
        "(417)9520123456788"
    );
    assert_eq!(
        Code::Location(gln("9520123456788")).to_string(),
        "https://id.gs1.org/414/9520123456788"
    );
}

#[test]
fn test_gtin_check_digit_vectors_for_every_length() {
    let cases = [
        ("02345673", "00000002345673"),       // GTIN-8
        ("96385074", "00000096385074"),       // GTIN-8
        ("416000336108", "00416000336108"),   // GTIN-12
        ("036000291452", "00036000291452"),   // GTIN-12
        ("4006381333931", "04006381333931"),  // GTIN-13
        ("2112345678900", "02112345678900"),  // GTIN-13
        ("9520123456788", "09520123456788"),  // GTIN-13
        ("09506000134352", "09506000134352"), // GTIN-14
        ("12312312312333", "12312312312333"), // GTIN-14
        ("80614141123458", "80614141123458"), // GTIN-14
    ];
    for (input, canonical) in cases {
        assert_eq!(gtin(input).to_string(), canonical);
        assert_eq!(gtin(canonical), gtin(input));
        assert_wrong_check_digit_is_refused(input, "01", |s| Gtin::parse(s).map(|_| ()));
    }
}

#[test]
fn test_sscc_and_gln_check_digit_vectors() {
    for input in [
        "106141411234567897",
        "006141411234567890",
        "952012345678912345",
    ] {
        assert_eq!(sscc(input).to_string(), input);
        assert_wrong_check_digit_is_refused(input, "00", |s| Sscc::parse(s).map(|_| ()));
    }
    for input in ["9520123456788", "0614141123452", "4006381333931"] {
        assert_eq!(gln(input).to_string(), input);
        assert_wrong_check_digit_is_refused(input, "414", |s| Gln::parse(s).map(|_| ()));
    }
}

#[test]
fn test_from_body_appends_the_check_digit() {
    // The published vectors, from their bodies.
    assert_eq!(
        Sscc::from_body(10614141123456789).map(|k| k.to_string()),
        Ok("106141411234567897".into())
    );
    assert_eq!(
        Gln::from_body(952012345678).map(|k| k.to_string()),
        Ok("9520123456788".into())
    );
    assert_eq!(
        Gln::from_body(400638133393).map(|k| k.to_string()),
        Ok("4006381333931".into())
    );
    assert!(matches!(
        Gln::from_body(10_000_000_000_000),
        Err(CodeError::BadLength { .. })
    ));
}

/// Replaces the check digit of a valid key by each other digit and expects the exact error.
fn assert_wrong_check_digit_is_refused(
    valid: &str,
    ai: &'static str,
    parse: impl Fn(&str) -> Result<(), CodeError>,
) {
    let (body, check) = valid.split_at(valid.len() - 1);
    let expected: u8 = check.parse().expect("digit");
    for got in (0..10u8).filter(|d| *d != expected) {
        assert_eq!(
            parse(&format!("{body}{got}")),
            Err(CodeError::BadCheckDigit { ai, expected, got }),
            "{valid} with check digit {got}"
        );
    }
}

#[test]
fn test_serial_accepts_exactly_cset82() {
    let cset82 =
        "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";
    assert_eq!(cset82.len(), 82);
    for c in (0u8..=127)
        .map(char::from)
        .chain(['\u{e9}', '\u{3000}', '\u{ff10}'])
    {
        assert_eq!(is_cset82(c), cset82.contains(c), "{c:?}");
        let parsed = Serial::parse(&c.to_string());
        if cset82.contains(c) {
            assert!(parsed.is_ok(), "{c:?}");
        } else {
            let expected = CodeError::BadCharacter {
                ai: "21",
                position: 0,
                character: c,
            };
            assert_eq!(parsed, Err(expected), "{c:?}");
        }
    }
    assert!(Serial::parse(&"9".repeat(20)).is_ok());
}

#[test]
fn test_legacy_code_is_the_serial_under_the_product_gtin() {
    let product = gtin("09506000134352");
    let bottle = legacy_code(&product, "1234567890123456").expect("16 digits");
    assert_eq!(bottle.serial.as_str(), "1234567890123456");
    assert_eq!(
        parse_code("https://id.gs1.org/01/09506000134352/21/1234567890123456"),
        Ok(Code::Item(bottle))
    );
    assert_eq!(
        parse_code("1234567890123456"),
        Err(CodeError::LegacyCodeNeedsGtin)
    );
    assert_eq!(
        parse_code(" 1234567890123456\r\n"),
        Err(CodeError::LegacyCodeNeedsGtin)
    );
    let short = CodeError::BadLength {
        ai: "21",
        len: 15,
        expected: "16 digits (legacy bottle code)",
    };
    assert_eq!(legacy_code(&product, "123456789012345"), Err(short));
    let letter = CodeError::BadCharacter {
        ai: "21",
        position: 14,
        character: 'A',
    };
    assert_eq!(legacy_code(&product, "12345678901234A6"), Err(letter));
    assert_eq!(legacy_code(&product, ""), Err(CodeError::Empty));
}

#[test]
fn test_parse_code_trims_whitespace_and_reads_plain_symbology_ids() {
    let expected = item("09506000134352", "A");
    for s in [
        "  https://a/01/09506000134352/21/A\r\n",
        "]Q1https://a/01/09506000134352/21/A",
        "]d1(01)09506000134352(21)A",
    ] {
        assert_eq!(parse_code(s), Ok(expected.clone()), "{s:?}");
    }
    assert_eq!(
        parse_code("]Q1]d2010950600013435221A"),
        Err(CodeError::UnrecognisedForm)
    );
}

#[test]
fn test_serde_decoding_runs_the_same_checks() {
    let de = |s| StrDeserializer::<DeError>::new(s);
    assert_eq!(
        <Gtin as Deserialize<'_>>::deserialize(de("9520123456788")),
        Ok(gtin("09520123456788"))
    );
    assert!(<Gtin as Deserialize<'_>>::deserialize(de("09506000134353")).is_err());
    assert!(<Sscc as Deserialize<'_>>::deserialize(de("106141411234567890")).is_err());
    assert!(<Gln as Deserialize<'_>>::deserialize(de("952012345678")).is_err());
    assert!(<Serial as Deserialize<'_>>::deserialize(de("")).is_err());
    assert!(<Serial as Deserialize<'_>>::deserialize(de("A B")).is_err());
}

#[test]
fn test_borsh_decoding_runs_the_same_checks() {
    let bad_check_digit = borsh::to_vec(&9_506_000_134_353u64).expect("encodes");
    assert!(Gtin::try_from_slice(&bad_check_digit).is_err());
    let too_wide = borsh::to_vec(&(10u64.pow(14) + 3)).expect("encodes");
    assert!(Gtin::try_from_slice(&too_wide).is_err());
    let bad_serial = borsh::to_vec(&"A B".to_owned()).expect("encodes");
    assert!(Serial::try_from_slice(&bad_serial).is_err());
    let code = item("09506000134352", "A");
    let bytes = borsh::to_vec(&code).expect("encodes");
    assert_eq!(Code::try_from_slice(&bytes).ok(), Some(code));
}

#[test]
fn test_every_error_is_invalid_code_with_a_reason() {
    let errors = refusal_table().into_iter().map(|(_, error)| error);
    for error in errors {
        assert_eq!(error.code(), "INVALID_CODE");
        assert!(!error.reason().is_empty());
    }
}

#[test]
fn test_refusal_table() {
    for (input, expected) in refusal_table() {
        assert_eq!(parse_code(&input), Err(expected), "{input:?}");
    }
}

#[test]
fn test_a_lot_link_names_a_product_and_one_of_its_lots_and_nothing_else() {
    let (gtin, lot) =
        parse_lot_link("https://id.gs1.org/01/09506000134352/10/L2026%2F07").expect("lot link");
    assert_eq!(gtin, Gtin::parse("09506000134352").expect("gtin"));
    assert_eq!(lot.to_string(), "L2026/07");
    // Any host, a short GTIN padded as for a bottle.
    let (gtin, _) = parse_lot_link("https://brand.example/p/01/9506000134352/10/A1")
        .expect("lot link on a brand host");
    assert_eq!(gtin.to_string(), "09506000134352");
    for (uri, why) in [
        ("https://id.gs1.org/01/09506000134352", "(10) has no value"),
        ("https://id.gs1.org/01/09506000134352/21/B1", "nothing else"),
        (
            "https://id.gs1.org/01/09506000134352/10/L1/21/B1",
            "nothing else",
        ),
        ("https://id.gs1.org/00/095060001343520000", "nothing else"),
        ("https://id.gs1.org/01/09506000134353/10/L1", "check digit"),
        (
            "https://id.gs1.org/01/09506000134352/10/L%201",
            "not allowed",
        ),
        ("urn:epc:class:lgtin:9506000.013435.L1", "scheme"),
    ] {
        let error = parse_lot_link(uri).expect_err(uri).to_string();
        assert!(error.contains(why), "{uri}: {error}");
    }
}
