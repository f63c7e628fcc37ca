//! Property tests: no input panics, genuine taps always verify, the replay rule is "strictly
//! greater", and AN10922 agrees with CMAC where the two coincide.

use proptest::prelude::*;

use super::{key, zero_keys};
use crate::key::diversify_aes128;
use crate::sdm::cmac;
use crate::{
    check_counter, decrypt_file_data, parse_cmac, parse_enc, parse_picc, simulate_tap, verify_sun,
    AesKey, DiversifiedKeys, Freshness, MetaReadKeying, SunParams, COUNTER_MAX,
};

fn diversified(meta: [u8; 16], file: [u8; 16], keying: MetaReadKeying) -> DiversifiedKeys {
    DiversifiedKeys::new(AesKey::from_bytes(meta), AesKey::from_bytes(file), keying)
}

/// Strings that look like parameters: mostly hex, some near-misses, some arbitrary text.
fn param_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9A-Fa-f]{0,300}",
        "[0-9A-Fa-f]{15,17}",
        "[0-9A-Fa-f]{31,33}",
        "[0-9A-Za-z&=%é ]{0,64}",
        any::<String>(),
    ]
}

proptest! {
    #[test]
    fn prop_parsing_never_panics(picc in param_text(), cmac in param_text(), enc in param_text()) {
        let _ = parse_picc(&picc);
        let _ = parse_cmac(&cmac);
        let _ = parse_enc(&enc);
        let _ = AesKey::from_hex(&picc);
        let _ = SunParams::parse(&picc, &cmac, Some(&enc));
    }

    #[test]
    fn prop_random_messages_never_panic_and_never_verify(
        picc in any::<[u8; 16]>(),
        cmac in any::<[u8; 8]>(),
        enc in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..160)),
        mac_input in proptest::collection::vec(any::<u8>(), 0..300),
        bound in proptest::option::of(any::<[u8; 7]>()),
        per_tag in any::<bool>(),
    ) {
        let keying = if per_tag { MetaReadKeying::PerTag } else { MetaReadKeying::Shared };
        let keys = diversified([1; 16], [2; 16], keying);
        if let Ok(params) = SunParams::from_parts(picc, cmac, enc) {
            // A random 64-bit MAC matches with probability 2^-64 (after a 2^-8 tag byte).
            prop_assert!(verify_sun(&keys, bound.as_ref(), &params, &mac_input).is_err());
            prop_assert!(verify_sun(&zero_keys(), bound.as_ref(), &params, &mac_input).is_err());
        }
    }

    #[test]
    fn prop_file_data_decryption_never_panics(
        enc in proptest::collection::vec(any::<u8>(), 0..200),
        uid in any::<[u8; 7]>(),
        counter in any::<u32>(),
    ) {
        let _ = decrypt_file_data(&key("00112233445566778899AABBCCDDEEFF"), &uid, counter, &enc);
    }

    #[test]
    fn prop_genuine_taps_verify(
        meta in any::<[u8; 16]>(),
        file in any::<[u8; 16]>(),
        uid in any::<[u8; 7]>(),
        counter in 0..=COUNTER_MAX,
        padding in any::<[u8; 5]>(),
        mac_input in proptest::collection::vec(any::<u8>(), 0..=256),
        per_tag in any::<bool>(),
    ) {
        let keying = if per_tag { MetaReadKeying::PerTag } else { MetaReadKeying::Shared };
        let keys = diversified(meta, file, keying);
        let tap = simulate_tap(&keys, &uid, counter, padding, &mac_input).expect("in range");
        let params = SunParams::parse(&tap.picc_hex, &tap.cmac_hex, None).expect("well formed");
        let reading = verify_sun(&keys, Some(&uid), &params, &mac_input).expect("genuine");
        prop_assert_eq!((reading.uid, reading.counter), (uid, counter));
        if !per_tag {
            let reading = verify_sun(&keys, None, &params, &mac_input).expect("genuine");
            prop_assert_eq!(reading.uid, uid);
        }
    }

    #[test]
    fn prop_fresh_iff_strictly_greater(last in proptest::option::of(any::<u32>()), counter in any::<u32>()) {
        let fresh = check_counter(last, counter) == Freshness::Fresh;
        prop_assert_eq!(fresh, last.is_none_or(|last| counter > last));
    }

    #[test]
    fn prop_an10922_is_cmac_from_16_bytes(
        master in any::<[u8; 16]>(),
        m in proptest::collection::vec(any::<u8>(), 16..=31),
    ) {
        let master = AesKey::from_bytes(master);
        let mut d = vec![0x01];
        d.extend_from_slice(&m);
        let derived = diversify_aes128(&master, &m).expect("in range");
        prop_assert_eq!(*derived.as_bytes(), cmac(&master, &d));
    }
}
