//! The SUN cryptography of one tap (NT4H2421Gx section 9.3, AES mode; worked examples in
//! AN12196): PICCData decryption, SDM session keys, the truncated SDMMAC and encrypted file
//! data. Every function takes the tag's own keys; [`crate::verify_sun`] finds them.

use aes::cipher::{generic_array::GenericArray, BlockDecrypt, KeyInit};
use aes::Aes128;
use cmac::{Cmac, Mac};
use subtle::ConstantTimeEq;

use crate::error::SunError;
use crate::key::{encrypt_in_place, AesKey, Uid};
use crate::params::ENC_BYTES_MAX;

/// The only PICCDataTag accepted: bit 7 UID mirrored, bit 6 read counter mirrored, bits 5-4
/// RFU (zero), bits 3-0 UID length 7. A wrong meta-read key yields this byte by chance only
/// once in 256 tries, so the check also catches most wrong keys before the MAC does.
pub const PICC_DATA_TAG: u8 = 0xC7;
/// The read counter is 24 bits on the tag; it never wraps.
pub const COUNTER_MAX: u32 = 0x00FF_FFFF;

/// Decrypted PICCData: `PICCDataTag (1) || UID (7) || SDMReadCtr (3, LSB first) || 5 random
/// padding bytes` (the padding is not returned: it carries no information).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PiccData {
    pub tag: u8,
    pub uid: Uid,
    pub counter: u32,
}

/// Decrypts `picc` with the meta-read key (AES-128, one block, zero IV, so a plain block
/// decryption) and checks the tag byte is [`PICC_DATA_TAG`].
pub fn decrypt_picc(meta_read_key: &AesKey, picc: &[u8; 16]) -> Result<PiccData, SunError> {
    let data = decrypt_picc_unchecked(meta_read_key, picc);
    if data.tag != PICC_DATA_TAG {
        return Err(SunError::PiccDataTag { tag: data.tag });
    }
    Ok(data)
}

/// The fields as decrypted, whatever the tag byte says (so a caller can finish the MAC work
/// before refusing, and a bad tag byte costs the same time as a bad MAC).
pub(crate) fn decrypt_picc_unchecked(meta_read_key: &AesKey, picc: &[u8; 16]) -> PiccData {
    let mut block = *picc;
    meta_read_key
        .cipher()
        .decrypt_block(GenericArray::from_mut_slice(&mut block));
    let mut uid = [0u8; 7];
    uid.copy_from_slice(&block[1..8]);
    PiccData {
        tag: block[0],
        uid,
        counter: u32::from_le_bytes([block[8], block[9], block[10], 0]),
    }
}

/// Encrypts PICCData the way a tag does (for simulators and tests): the inverse of
/// [`decrypt_picc`]. `padding` stands for the tag's random bytes.
pub fn encrypt_picc(
    meta_read_key: &AesKey,
    uid: &Uid,
    counter: u32,
    padding: [u8; 5],
) -> Result<[u8; 16], SunError> {
    let ctr = counter_bytes(counter)?;
    let mut block = [0u8; 16];
    block[0] = PICC_DATA_TAG;
    block[1..8].copy_from_slice(uid);
    block[8..11].copy_from_slice(&ctr);
    block[11..].copy_from_slice(&padding);
    encrypt_in_place(&meta_read_key.cipher(), &mut block);
    Ok(block)
}

/// `KSesSDMFileReadMAC = CMAC(K_SDMFileRead, SV2)`, `SV2 = 3C C3 00 01 00 80 || UID ||
/// SDMReadCtr (LSB first)`.
pub fn session_mac_key(
    file_read_key: &AesKey,
    uid: &Uid,
    counter: u32,
) -> Result<AesKey, SunError> {
    session_key([0x3C, 0xC3], file_read_key, uid, counter)
}

/// `KSesSDMFileReadENC = CMAC(K_SDMFileRead, SV1)`, `SV1 = C3 3C 00 01 00 80 || UID ||
/// SDMReadCtr (LSB first)`.
pub fn session_enc_key(
    file_read_key: &AesKey,
    uid: &Uid,
    counter: u32,
) -> Result<AesKey, SunError> {
    session_key([0xC3, 0x3C], file_read_key, uid, counter)
}

fn session_key(
    label: [u8; 2],
    file_read_key: &AesKey,
    uid: &Uid,
    counter: u32,
) -> Result<AesKey, SunError> {
    let mut sv = [0u8; 16];
    sv[..2].copy_from_slice(&label);
    sv[2..6].copy_from_slice(&[0x00, 0x01, 0x00, 0x80]);
    sv[6..13].copy_from_slice(uid);
    sv[13..].copy_from_slice(&counter_bytes(counter)?);
    Ok(AesKey::from_bytes(cmac(file_read_key, &sv)))
}

/// The 8-byte SDMMAC a tag would send: the odd-indexed bytes (1, 3, .., 15) of
/// `CMAC(KSesSDMFileReadMAC, mac_input)`. `mac_input` is the file content between
/// SDMMACInputOffset and SDMMACOffset: empty in the `?picc=..&cmac=..` layout.
pub fn sdm_mac(
    file_read_key: &AesKey,
    uid: &Uid,
    counter: u32,
    mac_input: &[u8],
) -> Result<[u8; 8], SunError> {
    let session = session_mac_key(file_read_key, uid, counter)?;
    let full = cmac(&session, mac_input);
    let mut out = [0u8; 8];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = full[2 * i + 1];
    }
    Ok(out)
}

/// Checks `mac` against [`sdm_mac`] in constant time.
pub fn verify_sdm_mac(
    file_read_key: &AesKey,
    uid: &Uid,
    counter: u32,
    mac_input: &[u8],
    mac: &[u8; 8],
) -> Result<(), SunError> {
    let expected = sdm_mac(file_read_key, uid, counter, mac_input)?;
    if bool::from(expected.ct_eq(mac)) {
        Ok(())
    } else {
        Err(SunError::BadMac)
    }
}

/// Decrypts SDMENCFileData: AES-128-CBC under `KSesSDMFileReadENC` with
/// `IV = AES(KSesSDMFileReadENC, SDMReadCtr (LSB first) || 13 zero bytes)`.
/// `enc` must be whole blocks, at most [`ENC_BYTES_MAX`] bytes. The plaintext is only
/// authentic if the tag's MAC window covers the `enc` text, so check the MAC first.
pub fn decrypt_file_data(
    file_read_key: &AesKey,
    uid: &Uid,
    counter: u32,
    enc: &[u8],
) -> Result<Vec<u8>, SunError> {
    if enc.is_empty() || !enc.len().is_multiple_of(16) || enc.len() > ENC_BYTES_MAX {
        return Err(SunError::WrongLength {
            param: "enc",
            got: 2 * enc.len(),
            expected: "a multiple of 32, at most 256",
        });
    }
    let key = session_enc_key(file_read_key, uid, counter)?;
    let cipher = key.cipher();
    let mut previous = iv(&cipher, counter)?;
    let mut plain = Vec::with_capacity(enc.len());
    for chunk in enc.chunks_exact(16) {
        let mut block = [0u8; 16];
        block.copy_from_slice(chunk);
        cipher.decrypt_block(GenericArray::from_mut_slice(&mut block));
        for (byte, prev) in block.iter_mut().zip(previous.iter()) {
            *byte ^= prev;
        }
        plain.extend_from_slice(&block);
        previous.copy_from_slice(chunk);
    }
    Ok(plain)
}

fn iv(cipher: &Aes128, counter: u32) -> Result<[u8; 16], SunError> {
    let mut block = [0u8; 16];
    block[..3].copy_from_slice(&counter_bytes(counter)?);
    encrypt_in_place(cipher, &mut block);
    Ok(block)
}

/// SDMReadCtr as the crypto uses it: three bytes, least significant first.
fn counter_bytes(counter: u32) -> Result<[u8; 3], SunError> {
    if counter > COUNTER_MAX {
        return Err(SunError::CounterOutOfRange { counter });
    }
    let [b0, b1, b2, _] = counter.to_le_bytes();
    Ok([b0, b1, b2])
}

/// AES-128-CMAC (RFC 4493).
pub(crate) fn cmac(key: &AesKey, data: &[u8]) -> [u8; 16] {
    let mut mac = <Cmac<Aes128> as KeyInit>::new(GenericArray::from_slice(key.as_bytes()));
    mac.update(data);
    mac.finalize().into_bytes().into()
}
