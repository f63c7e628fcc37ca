//! Cross-implementation vectors: `reference/gen_vectors.py` computes them with Python's
//! `cryptography` package from the specifications (and first reproduces AN12196 and AN10922),
//! sharing no code with this crate. They pin jiu's own choices: the diversification input and
//! the per-tag and shared meta-read keys. Changing one is a deliberate format change.

use super::{h, key};
use crate::{
    diversify_shared_key, diversify_tag_key, simulate_tap, verify_sun, DiversifiedKeys, KeySource,
    MetaReadKeying, SunParams, TamperStatus, FILE_READ_KEY_NO, META_READ_KEY_NO,
};

const META_MASTER: &str = "00112233445566778899AABBCCDDEEFF";
const FILE_MASTER: &str = "FFEEDDCCBBAA99887766554433221100";
const UID: &str = "04782E21801D80";

fn keys(meta_keying: MetaReadKeying) -> DiversifiedKeys {
    DiversifiedKeys::new(key(META_MASTER), key(FILE_MASTER), meta_keying)
}

#[test]
fn test_cross_diversified_keys() {
    let uid = h::<7>(UID);
    let meta = diversify_tag_key(&key(META_MASTER), &uid, META_READ_KEY_NO);
    let file = diversify_tag_key(&key(FILE_MASTER), &uid, FILE_READ_KEY_NO);
    let shared = diversify_shared_key(&key(META_MASTER), META_READ_KEY_NO);
    assert_eq!(
        meta.as_bytes(),
        &h::<16>("57805D24EC4501B008E05A0494378B7D")
    );
    assert_eq!(
        file.as_bytes(),
        &h::<16>("B28BB4C4D616DF8F848BFDA81518BDBB")
    );
    assert_eq!(
        shared.as_bytes(),
        &h::<16>("A7E14AD3ABEFDA7612861BF2FDD985F5")
    );

    let tag = keys(MetaReadKeying::PerTag).tag_keys(&uid);
    assert_eq!(tag.meta_read.as_bytes(), meta.as_bytes());
    assert_eq!(tag.file_read.as_bytes(), file.as_bytes());
    let tag = keys(MetaReadKeying::Shared).tag_keys(&uid);
    assert_eq!(tag.meta_read.as_bytes(), shared.as_bytes());
}

/// A per-tag tap at counter 0x01A2B3 (three distinct bytes, so the LSB-first order is tested).
#[test]
fn test_cross_per_tag_tap() {
    let uid = h::<7>(UID);
    let params = SunParams::parse("E1520BDEEC0EA06E99F0D93A89A96828", "1983219DF053381D", None)
        .expect("well formed");
    let per_tag = keys(MetaReadKeying::PerTag);
    let reading = verify_sun(&per_tag, Some(&uid), &params, b"").expect("genuine");
    assert_eq!((reading.uid, reading.counter), (uid, 0x01A2B3));
    // The simulator writes the same parameters.
    let tap = simulate_tap(&per_tag, &uid, 0x01A2B3, h("0102030405"), b"").expect("in range");
    assert_eq!(tap.picc_hex, "E1520BDEEC0EA06E99F0D93A89A96828");
    assert_eq!(tap.cmac_hex, "1983219DF053381D");
    // Per-tag keys cannot decrypt without the bound UID ...
    assert_eq!(
        verify_sun(&per_tag, None, &params, b"").map_err(|e| e.code()),
        Err("TAG_INVALID")
    );
    // ... and the shared key of the same master does not decrypt a per-tag tap.
    assert!(verify_sun(&keys(MetaReadKeying::Shared), None, &params, b"").is_err());
}

/// A shared-meta-key tap with TagTamper status and data in `enc`, MAC over `<enc>&cmac=`.
#[test]
fn test_cross_shared_tap_with_enc() {
    let enc = "9F4CB49CD8E93CBD7FE78E03FF21C08A";
    let params = SunParams::parse(
        "EDDEB3DF8D660D9E3A625F84AB0645AD",
        "EC28509FB8619825",
        Some(enc),
    )
    .expect("well formed");
    let shared = keys(MetaReadKeying::Shared);
    let mac_input = format!("{enc}&cmac=");
    let reading = verify_sun(&shared, None, &params, mac_input.as_bytes()).expect("genuine");
    assert_eq!((reading.uid, reading.counter), (h::<7>(UID), 0x2A));
    let data = reading.file_data.expect("enc was present");
    assert_eq!(data, b"CCjiu-bottle-001");
    assert!(!TamperStatus::from_file_data(&data)
        .expect("16 bytes")
        .opened());
    assert!(shared.meta_read_key(None).is_some());
}
