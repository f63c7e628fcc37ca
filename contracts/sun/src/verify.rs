//! The one-call verifier and where it gets each tag's keys.

use subtle::ConstantTimeEq;

use crate::error::SunError;
use crate::key::{
    diversify_shared_key, diversify_tag_key, AesKey, Uid, FILE_READ_KEY_NO, META_READ_KEY_NO,
};
use crate::params::{SunParams, MAC_INPUT_BYTES_MAX};
use crate::sdm::{decrypt_file_data, decrypt_picc_unchecked, encrypt_picc, sdm_mac, PICC_DATA_TAG};

/// Where the verifier gets a tag's SDM keys.
///
/// An implementor must be deterministic (the same arguments give the same key, on every
/// node) and must return exactly the keys written into the tag's meta-read and file-read
/// slots at personalisation.
pub trait KeySource {
    /// The key that decrypts PICCData. `bound_uid` is the UID bound to the bottle code the
    /// URL names, when the caller knows one. `None` if this source needs a UID and none is
    /// given.
    fn meta_read_key(&self, bound_uid: Option<&Uid>) -> Option<AesKey>;

    /// The file-read key (SDMMAC, file data) of the tag with this UID.
    fn file_read_key(&self, uid: &Uid) -> AesKey;
}

/// How the meta-read key of a [`DiversifiedKeys`] source is derived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetaReadKeying {
    /// Per tag, from the UID (recommended). The node must know the UID before decrypting:
    /// the URL names the bottle and the bottle record holds the bound UID. A tag moved to
    /// another bottle then fails at once, and a key extracted from one tag reveals nothing
    /// about any other.
    PerTag,
    /// One key for all of the producer's tags, so a URL that does not name the bottle can
    /// still be decrypted to find the UID. A key extracted from one tag then lets its holder
    /// read (not forge) the UID and counter of every tag of that producer.
    Shared,
}

/// A producer's two master keys; every tag key is derived from them (see [`crate::key`]).
/// The node holds only these two, never a per-tag key and never the master of key slot 0
/// (the application master key that can rewrite a tag's configuration), which stays at the
/// personalisation station.
#[derive(Clone, Debug)]
pub struct DiversifiedKeys {
    meta_read_master: AesKey,
    file_read_master: AesKey,
    meta_keying: MetaReadKeying,
}

impl DiversifiedKeys {
    pub fn new(
        meta_read_master: AesKey,
        file_read_master: AesKey,
        meta_keying: MetaReadKeying,
    ) -> Self {
        Self {
            meta_read_master,
            file_read_master,
            meta_keying,
        }
    }

    /// The keys to write into slots [`META_READ_KEY_NO`] and [`FILE_READ_KEY_NO`] of the tag
    /// `uid` when it is personalised.
    pub fn tag_keys(&self, uid: &Uid) -> TagKeys {
        TagKeys {
            meta_read: self.meta_key_for(uid),
            file_read: self.file_read_key(uid),
        }
    }

    fn meta_key_for(&self, uid: &Uid) -> AesKey {
        match self.meta_keying {
            MetaReadKeying::PerTag => {
                diversify_tag_key(&self.meta_read_master, uid, META_READ_KEY_NO)
            }
            MetaReadKeying::Shared => {
                diversify_shared_key(&self.meta_read_master, META_READ_KEY_NO)
            }
        }
    }
}

impl KeySource for DiversifiedKeys {
    fn meta_read_key(&self, bound_uid: Option<&Uid>) -> Option<AesKey> {
        match (self.meta_keying, bound_uid) {
            (MetaReadKeying::PerTag, None) => None,
            (MetaReadKeying::PerTag, Some(uid)) => Some(self.meta_key_for(uid)),
            (MetaReadKeying::Shared, _) => Some(diversify_shared_key(
                &self.meta_read_master,
                META_READ_KEY_NO,
            )),
        }
    }

    fn file_read_key(&self, uid: &Uid) -> AesKey {
        diversify_tag_key(&self.file_read_master, uid, FILE_READ_KEY_NO)
    }
}

/// The same two keys on every tag, undiversified: factory-fresh tags (all zero keys) and the
/// AN12196 examples. For development only: one extracted tag would forge every tag.
#[derive(Clone, Debug)]
pub struct FixedKeys {
    pub meta_read: AesKey,
    pub file_read: AesKey,
}

impl KeySource for FixedKeys {
    fn meta_read_key(&self, _bound_uid: Option<&Uid>) -> Option<AesKey> {
        Some(self.meta_read.clone())
    }

    fn file_read_key(&self, _uid: &Uid) -> AesKey {
        self.file_read.clone()
    }
}

/// The SDM keys of one tag.
#[derive(Clone, Debug)]
pub struct TagKeys {
    pub meta_read: AesKey,
    pub file_read: AesKey,
}

/// A verified tap: the tag is genuine and this is its counter. Whether the counter is fresh
/// is the caller's question ([`crate::check_counter`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TagReading {
    pub uid: Uid,
    pub counter: u32,
    /// The decrypted `enc` data, if the URL carried it.
    pub file_data: Option<Vec<u8>>,
}

/// Verifies one tap.
///
/// 1. Decrypts PICCData with the meta-read key (`keys.meta_read_key(bound_uid)`).
/// 2. Recomputes the SDMMAC over `mac_input` with the file-read key of the decrypted UID.
/// 3. Accepts only if the tag byte is 0xC7, the UID is `bound_uid` (when given) and the MAC
///    matches (constant-time); all three are computed before any is judged, so a refusal
///    takes the same time whichever check failed.
/// 4. Decrypts `enc`, if present, with the file-read session key.
///
/// `mac_input` is the exact text of the URL between the tag's SDMMACInputOffset and
/// SDMMACOffset, as received (empty in the `?picc=..&cmac=..` layout;
/// `"<enc as received>&cmac="` in AN12196's `enc` example).
pub fn verify_sun(
    keys: &impl KeySource,
    bound_uid: Option<&Uid>,
    params: &SunParams,
    mac_input: &[u8],
) -> Result<TagReading, SunError> {
    if mac_input.len() > MAC_INPUT_BYTES_MAX {
        return Err(SunError::MacInputTooLong {
            len: mac_input.len(),
            max: MAC_INPUT_BYTES_MAX,
        });
    }
    let meta_key = keys.meta_read_key(bound_uid).ok_or(SunError::NoBoundUid)?;
    let picc = decrypt_picc_unchecked(&meta_key, params.picc());
    let file_key = keys.file_read_key(&picc.uid);
    // The counter came from three bytes, so it is in range and `sdm_mac` cannot refuse it.
    let expected_mac = sdm_mac(&file_key, &picc.uid, picc.counter, mac_input)?;

    let mac_ok = bool::from(expected_mac.ct_eq(params.cmac()));
    let uid_ok = bound_uid.is_none_or(|bound| bool::from(bound.ct_eq(&picc.uid)));
    if picc.tag != PICC_DATA_TAG {
        return Err(SunError::PiccDataTag { tag: picc.tag });
    }
    if !uid_ok {
        return Err(SunError::UidMismatch);
    }
    if !mac_ok {
        return Err(SunError::BadMac);
    }

    let file_data = params
        .enc()
        .map(|enc| decrypt_file_data(&file_key, &picc.uid, picc.counter, enc))
        .transpose()?;
    Ok(TagReading {
        uid: picc.uid,
        counter: picc.counter,
        file_data,
    })
}

/// What a tag with these keys would send at this counter: `picc` and `cmac` (upper-case hex,
/// as tags write them). For the node's tests and for demos; `padding` stands for the tag's
/// five random PICCData bytes and `mac_input` is as in [`verify_sun`].
pub fn simulate_tap(
    keys: &impl KeySource,
    uid: &Uid,
    counter: u32,
    padding: [u8; 5],
    mac_input: &[u8],
) -> Result<SimulatedTap, SunError> {
    let meta_key = keys.meta_read_key(Some(uid)).ok_or(SunError::NoBoundUid)?;
    let picc = encrypt_picc(&meta_key, uid, counter, padding)?;
    let cmac = sdm_mac(&keys.file_read_key(uid), uid, counter, mac_input)?;
    Ok(SimulatedTap {
        picc_hex: hex::encode_upper(picc),
        cmac_hex: hex::encode_upper(cmac),
    })
}

/// The URL parameters of a simulated tap.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimulatedTap {
    pub picc_hex: String,
    pub cmac_hex: String,
}
