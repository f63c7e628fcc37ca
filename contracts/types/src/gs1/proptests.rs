//! Properties of the GS1 parsers: every canonical form round-trips, and no input, however
//! mangled, makes a parser panic.

use borsh::BorshDeserialize;
use proptest::prelude::*;

use super::*;

fn gtin(s: &str) -> Gtin {
    Gtin::parse(s).expect("test GTIN is valid")
}

fn gtin_strategy() -> impl Strategy<Value = Gtin> {
    (0..10u64.pow(13))
        .prop_map(|body| Gtin::from_value(check_digit::append(body)).expect("computed check digit"))
}

fn serial_strategy() -> impl Strategy<Value = Serial> {
    "[0-9A-Za-z!\"%&'()*+,\\-./:;<=>?_]{1,20}"
        .prop_map(|s| Serial::parse(&s).expect("generated from CSET 82"))
}

fn sgtin_strategy() -> impl Strategy<Value = Sgtin> {
    (gtin_strategy(), serial_strategy()).prop_map(|(gtin, serial)| Sgtin::new(gtin, serial))
}

fn code_strategy() -> impl Strategy<Value = Code> {
    let sscc = (0..10u64.pow(17)).prop_map(|body| {
        Sscc::from_value(check_digit::append(body)).expect("computed check digit")
    });
    let gln = || {
        (0..10u64.pow(12))
            .prop_map(|body| Gln::from_value(check_digit::append(body)).expect("computed"))
    };
    prop_oneof![
        sgtin_strategy().prop_map(Code::Item),
        sscc.prop_map(Code::Logistic),
        gln().prop_map(Code::Party),
        gln().prop_map(Code::Location),
    ]
}

/// Pieces that reach deep into the parsers when concatenated at random.
const TOKENS: &[&str] = &[
    "https://",
    "http://",
    "HTTP://",
    "a",
    "id.gs1.org",
    "/",
    "//",
    "01",
    "21",
    "00",
    "10",
    "22",
    "235",
    "254",
    "414",
    "417",
    "99",
    "09506000134352",
    "106141411234567897",
    "9520123456788",
    "ABC",
    "%",
    "%2F",
    "%2",
    "%FF",
    "%C3%BC",
    "?",
    "#",
    "&",
    "=",
    "(",
    ")",
    "\\(",
    "\\",
    "]d2",
    "]Q1",
    "]Q3",
    "\u{1d}",
    "urn:epc:id:",
    "sgtin:",
    "sscc:",
    "pgln:",
    "sgln:",
    "0614141",
    ".",
    "812345",
    "1234567890123456",
    " ",
    "\u{e9}",
    "\u{0}",
    "9",
    "0",
];

fn token_soup() -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(TOKENS), 0..24).prop_map(|t| t.concat())
}

/// Runs every parser on `s`; none may panic. Whatever `parse_code` accepts re-displays to a
/// canonical form that parses back to the same value.
fn run_all_parsers(s: &str) -> Result<(), TestCaseError> {
    let _ = parse_digital_link(s);
    let _ = parse_element_string(s);
    let _ = parse_epc_urn(s);
    let _ = Gtin::parse(s);
    let _ = Sscc::parse(s);
    let _ = Gln::parse(s);
    let _ = Serial::parse(s);
    let _ = legacy_code(&gtin("09506000134352"), s);
    if let Ok(code) = parse_code(s) {
        prop_assert_eq!(parse_code(&code.to_string()), Ok(code));
    }
    Ok(())
}

proptest! {
    #[test]
    fn test_canonical_form_round_trips(code in code_strategy()) {
        prop_assert_eq!(parse_code(&code.to_string()), Ok(code.clone()));
        prop_assert_eq!(parse_digital_link(&code.to_string()), Ok(code.clone()));
        prop_assert_eq!(parse_element_string(&code.element_string()), Ok(code.clone()));
        prop_assert_eq!(parse_code(&code.element_string()), Ok(code.clone()));
        let bytes = borsh::to_vec(&code).expect("encodes");
        prop_assert_eq!(Code::try_from_slice(&bytes).ok(), Some(code));
    }

    #[test]
    fn test_digital_link_round_trips_on_any_host(
        code in code_strategy(),
        host in proptest::sample::select(vec![
            "id.gs1.org", "brand.example.com", "a:8443", "brand.example/q/r", "[2001:db8::1]",
        ]),
    ) {
        prop_assert_eq!(parse_digital_link(&code.digital_link(host)), Ok(code));
    }

    #[test]
    fn test_epc_urn_round_trips(code in code_strategy(), company_prefix_len in 6usize..=12) {
        let urn = code.epc_urn(company_prefix_len).expect("prefix length in range");
        prop_assert_eq!(parse_epc_urn(&urn), Ok(code));
    }

    #[test]
    fn test_unbracketed_element_string_round_trips(sgtin in sgtin_strategy(), serial_first: bool) {
        let gtin_part = format!("01{}", sgtin.gtin);
        let serial_part = format!("21{}", sgtin.serial);
        let scan = if serial_first {
            format!("]d2{serial_part}\u{1d}{gtin_part}")
        } else {
            format!("]d2{gtin_part}{serial_part}")
        };
        prop_assert_eq!(parse_element_string(&scan), Ok(Code::Item(sgtin)));
    }

    #[test]
    fn test_legacy_code_round_trips(gtin in gtin_strategy(), code16 in "[0-9]{16}") {
        let sgtin = legacy_code(&gtin, &code16).expect("16 digits");
        prop_assert_eq!(parse_code(&sgtin.to_string()), Ok(Code::Item(sgtin)));
    }

    #[test]
    fn test_parsers_never_panic_on_arbitrary_strings(s in any::<String>()) {
        run_all_parsers(&s)?;
    }

    #[test]
    fn test_parsers_never_panic_on_arbitrary_bytes(
        bytes in proptest::collection::vec(any::<u8>(), 0..400),
    ) {
        run_all_parsers(&String::from_utf8_lossy(&bytes))?;
    }

    #[test]
    fn test_parsers_never_panic_on_token_soup(s in token_soup()) {
        run_all_parsers(&s)?;
    }

    #[test]
    fn test_parsers_never_panic_on_mutated_codes(
        code in code_strategy(),
        form in 0usize..3,
        at in any::<usize>(),
        replacement in any::<char>(),
    ) {
        let text = match form {
            0 => code.to_string(),
            1 => code.element_string(),
            _ => code.epc_urn(7).expect("prefix length in range"),
        };
        let mut chars: Vec<char> = text.chars().collect();
        let at = at % chars.len();
        chars[at] = replacement;
        run_all_parsers(&chars.iter().collect::<String>())?;
        chars.remove(at);
        run_all_parsers(&chars.iter().collect::<String>())?;
    }

    #[test]
    fn test_borsh_decode_of_random_bytes_never_panics(
        bytes in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        // Whatever decodes re-encodes to the same bytes: one code, one encoding.
        if let Ok(code) = Code::try_from_slice(&bytes) {
            prop_assert_eq!(borsh::to_vec(&code).expect("encodes"), bytes);
        }
    }
}
