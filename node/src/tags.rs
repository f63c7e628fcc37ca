//! NFC tag checks for the verify answer (NTAG 424 DNA SUN, section 5.1 of the traceability
//! research; the cryptography is `jiu-sun`).
//!
//! A verify URL may carry `picc` and `cmac` (and `enc`) from a tap. A node that holds the
//! producer's tag master keys (`sun_keys` in config.toml, a node-local secret never on
//! chain) checks them:
//! - the MAC, with a per-tag file-read key diversified from the master by the tag's UID;
//!   the meta-read key is shared (the URL's code is known, but the chain does not yet bind
//!   UIDs to codes, so the UID must be read before its key is known);
//! - the UID's binding to the code: the first valid tap of a UID binds it to the code in the
//!   URL (trust on first use, node-local); a later tap of that UID naming another code is a
//!   clone or a moved tag;
//! - the counter, which must be above the last accepted one for that UID (else a replayed
//!   or stale URL).
//!
//! Outcomes: `TAG_INVALID` (critical: bad MAC, undecryptable data, UID bound to another
//! code) and `TAG_REPLAY` (warning). A node without keys says the tag was not checked.
//! Known limit: a URL captured and never used stays valid until the real tag is tapped
//! again (an "offline storage" attack); binding UIDs on chain at commissioning would make
//! the binding global instead of per node.

use std::sync::Mutex;

use jiu_contracts::Hash;
use jiu_sun::{
    check_counter, verify_sun, AesKey, DiversifiedKeys, Freshness, MetaReadKeying, SunParams,
};
use serde::{Deserialize, Serialize};

use crate::db::{Db, DbError};

/// The tag master keys file (`sun_keys` in config.toml): hex AES-128 keys.
#[derive(Deserialize, Serialize)]
pub struct SunKeysFile {
    pub meta_read_master: String,
    pub file_read_master: String,
}

/// What the verify answer says about a tap.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TagView {
    /// `ok`, `invalid`, `replay`, `not_checked`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counter: Option<u32>,
    pub cmac_ok: bool,
    pub counter_fresh: bool,
    pub message: String,
}

/// The node's tag checker and its counter store.
pub struct TagBook {
    keys: Option<DiversifiedKeys>,
    db: Db,
    /// Check-then-update of a UID's counter is one critical section, so two concurrent
    /// taps cannot both be accepted as fresh.
    lock: Mutex<()>,
}

impl TagBook {
    /// A tag book with the producer's master keys, or none (taps are not checked).
    pub fn new(keys: Option<(AesKey, AesKey)>, db: Db) -> Self {
        Self {
            keys: keys.map(|(meta, file)| DiversifiedKeys::new(meta, file, MetaReadKeying::Shared)),
            db,
            lock: Mutex::new(()),
        }
    }

    /// Checks a tap on the code with record key `code_key`.
    pub fn check(
        &self,
        code_key: &Hash,
        picc: &str,
        cmac: &str,
        enc: Option<&str>,
        mac_input: &[u8],
    ) -> Result<TagView, DbError> {
        let Some(keys) = &self.keys else {
            return Ok(view(
                "not_checked",
                None,
                false,
                false,
                "this node holds no tag keys; ask the producer's node",
            ));
        };
        let params = match SunParams::parse(picc, cmac, enc) {
            Ok(params) => params,
            Err(error) => return Ok(view("invalid", None, false, false, &error.to_string())),
        };
        let reading = match verify_sun(keys, None, &params, mac_input) {
            Ok(reading) => reading,
            Err(error) => return Ok(view("invalid", None, false, false, &error.to_string())),
        };
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let stored = self.db.tag(&reading.uid)?;
        if let Some((bound, _)) = &stored {
            if bound != code_key {
                let mut out = view(
                    "invalid",
                    Some((&reading.uid, reading.counter)),
                    true,
                    false,
                    "this tag is bound to another bottle: a cloned or moved tag",
                );
                out.cmac_ok = true;
                return Ok(out);
            }
        }
        let last = stored.map(|(_, counter)| counter);
        match check_counter(last, reading.counter) {
            Freshness::Fresh => {
                self.db.put_tag(&reading.uid, code_key, reading.counter)?;
                Ok(view("ok", Some((&reading.uid, reading.counter)), true, true, "genuine tag, fresh tap"))
            }
            Freshness::Replay => Ok(view(
                "replay",
                Some((&reading.uid, reading.counter)),
                true,
                false,
                &format!(
                    "tap counter {} is not above the last accepted {}: a replayed or stale URL; tap the tag again",
                    reading.counter,
                    last.unwrap_or(0)
                ),
            )),
        }
    }
}

fn view(
    status: &'static str,
    reading: Option<(&jiu_sun::Uid, u32)>,
    cmac_ok: bool,
    counter_fresh: bool,
    message: &str,
) -> TagView {
    TagView {
        status,
        uid: reading.map(|(uid, _)| hex::encode_upper(uid)),
        counter: reading.map(|(_, counter)| counter),
        cmac_ok,
        counter_fresh,
        message: message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiu_sun::simulate_tap;

    fn keys() -> (AesKey, AesKey) {
        (AesKey::from_bytes([1; 16]), AesKey::from_bytes([2; 16]))
    }

    fn tap(uid: [u8; 7], counter: u32) -> (String, String) {
        let (meta, file) = keys();
        let source = DiversifiedKeys::new(meta, file, MetaReadKeying::Shared);
        let t = simulate_tap(&source, &uid, counter, [9; 5], b"").expect("tap");
        (t.picc_hex, t.cmac_hex)
    }

    #[test]
    fn test_fresh_replay_clone_and_forgery() {
        let book = TagBook::new(Some(keys()), Db::in_memory());
        let (bottle, other) = ([1u8; 32], [2u8; 32]);
        let uid = [4, 1, 2, 3, 4, 5, 6];
        let check = |code: &Hash, (picc, cmac): &(String, String)| {
            book.check(code, picc, cmac, None, b"").expect("db").status
        };
        assert_eq!(check(&bottle, &tap(uid, 5)), "ok");
        assert_eq!(check(&bottle, &tap(uid, 5)), "replay", "the same URL again");
        assert_eq!(check(&bottle, &tap(uid, 3)), "replay", "an older URL");
        assert_eq!(check(&bottle, &tap(uid, 6)), "ok", "a new tap");
        assert_eq!(
            check(&other, &tap(uid, 7)),
            "invalid",
            "the tag is bound to `bottle`"
        );
        let (picc, cmac) = tap(uid, 8);
        let mut forged = cmac.clone();
        forged.replace_range(0..1, if cmac.starts_with('0') { "1" } else { "0" });
        assert_eq!(check(&bottle, &(picc.clone(), forged)), "invalid");
        assert_eq!(check(&bottle, &("ZZ".into(), cmac)), "invalid", "malformed");
        // A refused tap did not move the counter: the genuine tap 8 is still fresh.
        assert_eq!(check(&bottle, &tap(uid, 8)), "ok");
        let keyless = TagBook::new(None, Db::in_memory());
        let (picc, cmac) = tap(uid, 9);
        assert_eq!(
            keyless
                .check(&bottle, &picc, &cmac, None, b"")
                .expect("db")
                .status,
            "not_checked"
        );
    }
}
