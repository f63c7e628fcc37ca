//! The primitives under the SUN layer: AES-CMAC (RFC 4493) and AN10922 diversification.

use super::{h, key};
use crate::key::{cmac_subkeys, diversify_aes128, NTAG424_AID, SYSTEM_ID};
use crate::sdm::cmac;
use crate::{diversify_shared_key, diversify_tag_key};

/// RFC 4493 section 4: key, message prefix and the four examples.
const RFC4493_KEY: &str = "2b7e151628aed2a6abf7158809cf4f3c";
const RFC4493_MSG: &str = "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51\
                           30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710";

#[test]
fn test_rfc4493_subkeys() {
    // RFC 4493 section 4, "Subkey Generation": K1 and K2 for the example key.
    let (k1, k2) = cmac_subkeys(&key(RFC4493_KEY).cipher());
    assert_eq!(k1, h::<16>("fbeed618357133667c85e08f7236a8de"));
    assert_eq!(k2, h::<16>("f7ddac306ae266ccf90bc11ee46d513b"));
}

#[test]
fn test_rfc4493_examples() {
    let msg = h::<64>(RFC4493_MSG);
    let cases = [
        (0, "bb1d6929e95937287fa37d129b756746"),
        (16, "070a16b46b4d4144f79bdd9dd04a287c"),
        (40, "dfa66747de9ae63030ca32611497c827"),
        (64, "51f0bebf7e3b9d92fc49741779363cfe"),
    ];
    for (len, expected) in cases {
        assert_eq!(
            cmac(&key(RFC4493_KEY), &msg[..len]),
            h::<16>(expected),
            "{len} bytes"
        );
    }
}

/// AN10922 section 2.2.1 (AES-128 example): master key, the CMAC subkeys of steps 2 to 4,
/// `M = UID 04782E21801D80 || AID 3042F5 || "NXP Abu"` and the diversified key of step 15.
/// Also restated by the ntag424 crate (`src/crypto/key_diversification.rs`) and several
/// DESFire libraries.
#[test]
fn test_an10922_aes128_vector() {
    let master = key("00112233445566778899AABBCCDDEEFF");
    let cipher = master.cipher();
    let mut l = [0u8; 16];
    crate::key::encrypt_in_place(&cipher, &mut l);
    assert_eq!(l, h::<16>("FDE4FBAE4A09E020EFF722969F83832B"));
    let (k1, k2) = cmac_subkeys(&cipher);
    assert_eq!(k1, h::<16>("FBC9F75C9413C041DFEE452D3F0706D1"));
    assert_eq!(k2, h::<16>("F793EEB928278083BFDC8A5A7E0E0D25"));

    let m = h::<17>("04782E21801D803042F54E585020416275");
    let derived = diversify_aes128(&master, &m).expect("17 bytes is in range");
    assert_eq!(
        derived.as_bytes(),
        &h::<16>("A8DD63A3B89D54B37CA802473FDA9175")
    );
}

#[test]
fn test_diversify_aes128_input_bounds() {
    let master = key("00112233445566778899AABBCCDDEEFF");
    assert!(diversify_aes128(&master, &[]).is_none());
    assert!(diversify_aes128(&master, &[0; 32]).is_none());
    assert!(diversify_aes128(&master, &[0; 1]).is_some());
    // 31 bytes: no padding, so the K1 branch; AN10922 then equals CMAC(K, 01 || M).
    let m = [0xAA; 31];
    let mut d = vec![0x01];
    d.extend_from_slice(&m);
    assert_eq!(
        diversify_aes128(&master, &m).map(|k| *k.as_bytes()),
        Some(cmac(&master, &d))
    );
}

/// AN10922 pads a short `M` to two blocks where CMAC would use one: the two must differ
/// up to 15 bytes (with 15, `01 || M` is one whole block for CMAC), or the explicit
/// construction is not doing its job.
#[test]
fn test_an10922_short_input_is_not_plain_cmac() {
    let master = key("00112233445566778899AABBCCDDEEFF");
    for len in 1..=15 {
        let m = vec![0x5A; len];
        let mut d = vec![0x01];
        d.extend_from_slice(&m);
        let derived = diversify_aes128(&master, &m).expect("in range");
        assert_ne!(derived.as_bytes(), &cmac(&master, &d), "{len} bytes");
    }
}

#[test]
fn test_tag_key_input_layout() {
    // The layout documented in `key`: UID || AID || key number || SYSTEM_ID.
    let master = key("00112233445566778899AABBCCDDEEFF");
    let uid = h::<7>("04782E21801D80");
    let mut m = uid.to_vec();
    m.extend_from_slice(&h::<7>("D2760000850101"));
    m.push(2);
    m.extend_from_slice(b"jiu-sun-v1");
    assert_eq!(NTAG424_AID, h::<7>("D2760000850101"));
    assert_eq!(SYSTEM_ID, b"jiu-sun-v1");
    let expected = diversify_aes128(&master, &m).expect("25 bytes");
    assert_eq!(
        diversify_tag_key(&master, &uid, 2).as_bytes(),
        expected.as_bytes()
    );

    let shared = diversify_aes128(&master, &m[7..]).expect("18 bytes");
    assert_eq!(
        diversify_shared_key(&master, 2).as_bytes(),
        shared.as_bytes()
    );
}

#[test]
fn test_tag_keys_differ_by_uid_slot_and_master() {
    let master = key("00112233445566778899AABBCCDDEEFF");
    let other_master = key("00112233445566778899AABBCCDDEEFE");
    let uid = h::<7>("04782E21801D80");
    let other_uid = h::<7>("04782E21801D81");
    let base = *diversify_tag_key(&master, &uid, 1).as_bytes();
    assert_ne!(base, *diversify_tag_key(&master, &uid, 2).as_bytes());
    assert_ne!(base, *diversify_tag_key(&master, &other_uid, 1).as_bytes());
    assert_ne!(base, *diversify_tag_key(&other_master, &uid, 1).as_bytes());
    assert_ne!(base, *diversify_shared_key(&master, 1).as_bytes());
}

#[test]
fn test_key_debug_hides_bytes() {
    let k = key("00112233445566778899AABBCCDDEEFF");
    let shown = format!("{k:?}");
    assert_eq!(shown, "AesKey(..)");
}
