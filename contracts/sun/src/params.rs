//! Parsing the hex URL parameters a tag mirrors: `picc`, `cmac`, and optionally `enc`.
//!
//! The input comes from the public internet, so every length is checked before decoding and
//! every failure is a typed [`SunError`] with code `INVALID_TAG_PARAMS`; nothing here panics.
//! Upper and lower case hex are both accepted (tags emit upper case; some scanners and
//! browsers lower-case the query).

use crate::error::SunError;

/// Hex characters of `picc`: the 16-byte encrypted PICCData (AES mode).
pub const PICC_HEX_LEN: usize = 32;
/// Hex characters of `cmac`: the 8-byte truncated SDMMAC.
pub const CMAC_HEX_LEN: usize = 16;
/// Largest encrypted file data accepted, in bytes. The tag's NDEF file is 256 bytes and
/// carries the URL and the `enc` hex (two characters a byte), so a genuine `enc` is smaller.
pub const ENC_BYTES_MAX: usize = 128;
/// Largest SDMMAC input accepted, in bytes: the MAC window lies inside the 256-byte NDEF file.
pub const MAC_INPUT_BYTES_MAX: usize = 256;

/// The three parameters of one tap, decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SunParams {
    picc: [u8; 16],
    cmac: [u8; 8],
    enc: Option<Vec<u8>>,
}

impl SunParams {
    /// Decodes `picc` (32 hex), `cmac` (16 hex) and, if present, `enc` (a multiple of 32
    /// hex, at most [`ENC_BYTES_MAX`] bytes).
    pub fn parse(picc_hex: &str, cmac_hex: &str, enc_hex: Option<&str>) -> Result<Self, SunError> {
        Ok(Self {
            picc: parse_picc(picc_hex)?,
            cmac: parse_cmac(cmac_hex)?,
            enc: enc_hex.map(parse_enc).transpose()?,
        })
    }

    /// Builds parameters from already decoded bytes (tests, simulators, other encodings).
    pub fn from_parts(
        picc: [u8; 16],
        cmac: [u8; 8],
        enc: Option<Vec<u8>>,
    ) -> Result<Self, SunError> {
        if let Some(enc) = &enc {
            check_enc_len(enc.len() * 2)?;
        }
        Ok(Self { picc, cmac, enc })
    }

    /// The encrypted PICCData.
    pub fn picc(&self) -> &[u8; 16] {
        &self.picc
    }

    /// The truncated SDMMAC as the tag sent it.
    pub fn cmac(&self) -> &[u8; 8] {
        &self.cmac
    }

    /// The encrypted file data, if the URL carried any.
    pub fn enc(&self) -> Option<&[u8]> {
        self.enc.as_deref()
    }
}

/// Decodes the `picc` parameter: exactly 32 hex characters.
pub fn parse_picc(hex: &str) -> Result<[u8; 16], SunError> {
    decode_fixed("picc", "32", hex)
}

/// Decodes the `cmac` parameter: exactly 16 hex characters.
pub fn parse_cmac(hex: &str) -> Result<[u8; 8], SunError> {
    decode_fixed("cmac", "16", hex)
}

/// Decodes the `enc` parameter: a non-zero multiple of 32 hex characters (whole AES blocks),
/// at most `2 * ENC_BYTES_MAX`.
pub fn parse_enc(hex: &str) -> Result<Vec<u8>, SunError> {
    check_enc_len(hex.len())?;
    hex::decode(hex).map_err(|_| SunError::NotHex { param: "enc" })
}

fn check_enc_len(hex_len: usize) -> Result<(), SunError> {
    if hex_len == 0 || !hex_len.is_multiple_of(32) || hex_len > 2 * ENC_BYTES_MAX {
        return Err(SunError::WrongLength {
            param: "enc",
            got: hex_len,
            expected: "a multiple of 32, at most 256",
        });
    }
    Ok(())
}

/// Decodes exactly `2 * N` hex characters. `hex.len()` counts bytes, so a multi-byte UTF-8
/// character of the right byte length still fails, as `NotHex`.
pub(crate) fn decode_fixed<const N: usize>(
    param: &'static str,
    expected: &'static str,
    hex: &str,
) -> Result<[u8; N], SunError> {
    if hex.len() != 2 * N {
        return Err(SunError::WrongLength {
            param,
            got: hex.len(),
            expected,
        });
    }
    let mut out = [0u8; N];
    hex::decode_to_slice(hex, &mut out).map_err(|_| SunError::NotHex { param })?;
    Ok(out)
}
