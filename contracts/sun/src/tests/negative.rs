//! Refusals: every altered, wrongly keyed, malformed or replayed input is turned away with the
//! right code.

use super::{h, key, zero_keys};
use crate::{
    check_counter, decrypt_file_data, decrypt_picc, parse_cmac, parse_enc, parse_picc,
    simulate_tap, verify_sun, AesKey, DiversifiedKeys, FixedKeys, Freshness, MetaReadKeying,
    SunError, SunParams, COUNTER_MAX, INVALID_TAG_PARAMS, TAG_INVALID,
};

const PICC: [u8; 16] = [
    0xEF, 0x96, 0x3F, 0xF7, 0x82, 0x86, 0x58, 0xA5, 0x99, 0xF3, 0x04, 0x15, 0x10, 0x67, 0x1E, 0x88,
];
const CMAC: [u8; 8] = [0x94, 0xEE, 0xD9, 0xEE, 0x65, 0x33, 0x70, 0x86];

fn genuine() -> SunParams {
    SunParams::from_parts(PICC, CMAC, None).expect("no enc")
}

#[test]
fn test_genuine_baseline_verifies() {
    // The refusals below mean something only if the unaltered message passes.
    assert!(verify_sun(&zero_keys(), None, &genuine(), b"").is_ok());
}

#[test]
fn test_every_flipped_picc_bit_is_refused() {
    for bit in 0..128 {
        let mut picc = PICC;
        picc[bit / 8] ^= 1 << (bit % 8);
        let params = SunParams::from_parts(picc, CMAC, None).expect("no enc");
        let err = verify_sun(&zero_keys(), None, &params, b"").expect_err("altered picc");
        assert_eq!(err.code(), TAG_INVALID, "bit {bit}: {err}");
    }
}

#[test]
fn test_every_flipped_cmac_bit_is_refused() {
    for bit in 0..64 {
        let mut cmac = CMAC;
        cmac[bit / 8] ^= 1 << (bit % 8);
        let params = SunParams::from_parts(PICC, cmac, None).expect("no enc");
        assert_eq!(
            verify_sun(&zero_keys(), None, &params, b""),
            Err(SunError::BadMac),
            "bit {bit}"
        );
    }
}

#[test]
fn test_wrong_keys_are_refused() {
    let mut one = [0u8; 16];
    one[15] = 1;
    let wrong_meta = FixedKeys {
        meta_read: AesKey::from_bytes(one),
        file_read: AesKey::from_bytes([0; 16]),
    };
    let err = verify_sun(&wrong_meta, None, &genuine(), b"").expect_err("wrong meta-read key");
    assert_eq!(err.code(), TAG_INVALID);
    assert!(decrypt_picc(&AesKey::from_bytes(one), &PICC).is_err());

    let wrong_file = FixedKeys {
        meta_read: AesKey::from_bytes([0; 16]),
        file_read: AesKey::from_bytes(one),
    };
    assert_eq!(
        verify_sun(&wrong_file, None, &genuine(), b""),
        Err(SunError::BadMac)
    );
}

#[test]
fn test_mac_input_must_be_exact() {
    // The MAC covers the URL text as the tag wrote it: extra text, or the same `enc` in lower
    // case, is a different message.
    assert_eq!(
        verify_sun(&zero_keys(), None, &genuine(), b"&"),
        Err(SunError::BadMac)
    );
    let enc = "CEE9A53E3E463EF1F459635736738962";
    let params = SunParams::parse(
        "FD91EC264309878BE6345CBE53BADF40",
        "ECC1E7F6C6C73BF6",
        Some(enc),
    )
    .expect("well formed");
    let lower = format!("{}&cmac=", enc.to_lowercase());
    assert_eq!(
        verify_sun(&zero_keys(), None, &params, lower.as_bytes()),
        Err(SunError::BadMac)
    );
    // A changed `enc`, passed on faithfully in the MAC input, fails too.
    let altered = "CEE9A53E3E463EF1F459635736738963";
    let params = SunParams::parse(
        "FD91EC264309878BE6345CBE53BADF40",
        "ECC1E7F6C6C73BF6",
        Some(altered),
    )
    .expect("well formed");
    let input = format!("{altered}&cmac=");
    assert_eq!(
        verify_sun(&zero_keys(), None, &params, input.as_bytes()),
        Err(SunError::BadMac)
    );
}

#[test]
fn test_uid_not_bound_to_code_is_refused() {
    let other = h::<7>("04DE5F1EACC041");
    assert_eq!(
        verify_sun(&zero_keys(), Some(&other), &genuine(), b""),
        Err(SunError::UidMismatch)
    );
}

#[test]
fn test_per_tag_keys_need_a_bound_uid() {
    let keys = DiversifiedKeys::new(
        key("00112233445566778899AABBCCDDEEFF"),
        key("FFEEDDCCBBAA99887766554433221100"),
        MetaReadKeying::PerTag,
    );
    let uid = h::<7>("04010203040506");
    let tap = simulate_tap(&keys, &uid, 5, [0; 5], b"").expect("in range");
    let params = SunParams::parse(&tap.picc_hex, &tap.cmac_hex, None).expect("well formed");
    assert_eq!(
        verify_sun(&keys, None, &params, b""),
        Err(SunError::NoBoundUid)
    );
    assert!(verify_sun(&keys, Some(&uid), &params, b"").is_ok());
    // The key of another tag decrypts to garbage: a tag moved onto another bottle.
    let other = h::<7>("04010203040507");
    let err = verify_sun(&keys, Some(&other), &params, b"").expect_err("other tag's key");
    assert_eq!(err.code(), TAG_INVALID);
}

#[test]
fn test_wrong_lengths_are_malformed() {
    let picc = "EF963FF7828658A599F3041510671E88";
    let cmac = "94EED9EE65337086";
    for bad in [
        "",
        &picc[..31],
        &picc[..30],
        &format!("{picc}0"),
        &format!("{picc}00"),
    ] {
        let err = parse_picc(bad).expect_err("wrong length");
        assert!(
            matches!(err, SunError::WrongLength { param: "picc", .. }),
            "{bad:?}"
        );
        assert_eq!(err.code(), INVALID_TAG_PARAMS);
    }
    for bad in ["", &cmac[..15], &format!("{cmac}0"), picc] {
        let err = parse_cmac(bad).expect_err("wrong length");
        assert!(
            matches!(err, SunError::WrongLength { param: "cmac", .. }),
            "{bad:?}"
        );
    }
    for len in [0, 2, 16, 31, 33, 48, 288] {
        let err = parse_enc(&"A".repeat(len)).expect_err("wrong length");
        assert!(
            matches!(err, SunError::WrongLength { param: "enc", .. }),
            "{len}"
        );
    }
    assert_eq!(parse_enc(&"A".repeat(256)).map(|v| v.len()), Ok(128));
    assert!(AesKey::from_hex("00").is_err());
}

#[test]
fn test_non_hex_is_malformed() {
    let err = parse_picc("EF963FF7828658A599F3041510671E8G").expect_err("G");
    assert_eq!(err, SunError::NotHex { param: "picc" });
    assert_eq!(err.code(), INVALID_TAG_PARAMS);
    // 'é' is two bytes, so the string has the right byte length but is not hex.
    let err = parse_cmac("94EED9EE653370é").expect_err("non-ASCII");
    assert_eq!(err, SunError::NotHex { param: "cmac" });
    assert_eq!(
        parse_enc(&"Z".repeat(32)),
        Err(SunError::NotHex { param: "enc" })
    );
    assert!(
        SunParams::parse("EF963FF7828658A599F3041510671E88", "94EED9EE6533708 ", None).is_err()
    );
    // Lower case is hex: browsers may lower-case a query.
    assert_eq!(parse_cmac("94eed9ee65337086"), Ok(CMAC));
}

#[test]
fn test_oversized_mac_input_is_malformed() {
    let input = vec![b'A'; 257];
    let err = verify_sun(&zero_keys(), None, &genuine(), &input).expect_err("too long");
    assert_eq!(err.code(), INVALID_TAG_PARAMS);
}

#[test]
fn test_file_data_length_checks() {
    let uid = h::<7>("04958CAA5C5E80");
    let zero = AesKey::from_bytes([0; 16]);
    for len in [0, 15, 17, 144] {
        let err = decrypt_file_data(&zero, &uid, 1, &vec![0; len]).expect_err("not whole blocks");
        assert_eq!(err.code(), INVALID_TAG_PARAMS, "{len}");
    }
    assert!(SunParams::from_parts(PICC, CMAC, Some(vec![0; 15])).is_err());
    assert!(SunParams::from_parts(PICC, CMAC, Some(vec![])).is_err());
}

#[test]
fn test_replayed_counter() {
    // Section 5.1 of the research: counter must be strictly greater than the last accepted.
    let cases = [
        (None, 0, Freshness::Fresh),
        (None, 61, Freshness::Fresh),
        (Some(61), 62, Freshness::Fresh),
        (Some(61), 61, Freshness::Replay),
        (Some(61), 60, Freshness::Replay),
        (Some(61), 0, Freshness::Replay),
        (Some(0), 1, Freshness::Fresh),
    ];
    for (last, counter, expected) in cases {
        assert_eq!(
            check_counter(last, counter),
            expected,
            "{last:?} then {counter}"
        );
    }
}

#[test]
fn test_counter_wrap_edge() {
    let max = 0x00FF_FFFF;
    assert_eq!(COUNTER_MAX, max);
    assert_eq!(check_counter(Some(max - 1), max), Freshness::Fresh);
    assert_eq!(check_counter(Some(max), max), Freshness::Replay);
    // No wrap back to zero is ever accepted.
    assert_eq!(check_counter(Some(max), 0), Freshness::Replay);
    assert!(!check_counter(Some(max), 1).is_fresh());

    // A tap at the last counter value still verifies and reads back as 0xFFFFFF ...
    let keys = zero_keys();
    let uid = h::<7>("04DE5F1EACC040");
    let tap = simulate_tap(&keys, &uid, max, [7; 5], b"").expect("in range");
    let params = SunParams::parse(&tap.picc_hex, &tap.cmac_hex, None).expect("well formed");
    assert_eq!(
        verify_sun(&keys, None, &params, b"").map(|r| r.counter),
        Ok(max)
    );
    // ... and no tag can produce one more.
    assert_eq!(
        simulate_tap(&keys, &uid, max + 1, [7; 5], b""),
        Err(SunError::CounterOutOfRange { counter: max + 1 })
    );
}

#[test]
fn test_error_codes_are_stable() {
    let table = [
        (
            SunError::WrongLength {
                param: "picc",
                got: 1,
                expected: "32",
            },
            "INVALID_TAG_PARAMS",
        ),
        (SunError::NotHex { param: "cmac" }, "INVALID_TAG_PARAMS"),
        (
            SunError::MacInputTooLong { len: 300, max: 256 },
            "INVALID_TAG_PARAMS",
        ),
        (SunError::PiccDataTag { tag: 0x87 }, "TAG_INVALID"),
        (SunError::NoBoundUid, "TAG_INVALID"),
        (SunError::UidMismatch, "TAG_INVALID"),
        (SunError::BadMac, "TAG_INVALID"),
        (
            SunError::CounterOutOfRange { counter: 1 << 24 },
            "TAG_INVALID",
        ),
    ];
    for (err, code) in table {
        assert_eq!(err.code(), code, "{err}");
    }
}

/// A PICCData block with a valid MAC but another tag byte (UID length 6, counter not
/// mirrored, RFU bits set) is refused: the MAC alone does not make the layout right.
#[test]
fn test_wrong_picc_data_tag_with_valid_mac_is_refused() {
    let zero = AesKey::from_bytes([0; 16]);
    let uid = h::<7>("04DE5F1EACC040");
    let mac = crate::sdm_mac(&zero, &uid, 0x3D, b"").expect("in range");
    for tag in [0xC6, 0x87, 0x47, 0xD7, 0xE7, 0x00] {
        let mut block = [0u8; 16];
        block[0] = tag;
        block[1..8].copy_from_slice(&uid);
        block[8] = 0x3D;
        crate::key::encrypt_in_place(&zero.cipher(), &mut block);
        let params = SunParams::from_parts(block, mac, None).expect("no enc");
        assert_eq!(
            verify_sun(&zero_keys(), None, &params, b""),
            Err(SunError::PiccDataTag { tag }),
            "{tag:#04x}"
        );
        assert_eq!(
            decrypt_picc(&zero, &block),
            Err(SunError::PiccDataTag { tag })
        );
    }
}
