//! The chain's view of the genesis group key: [`jiu_types::beacon::Beacon`] over byte
//! strings, as the state machine calls it. Every parse failure is a refusal, never a panic.

use jiu_types::beacon::Beacon;
use jiu_types::PublicKey;

use crate::{GroupPublic, PartialSignature, SeedMessage, Signature};

impl Beacon for GroupPublic {
    fn threshold(&self) -> u32 {
        GroupPublic::threshold(self)
    }

    fn index_of(&self, key: &PublicKey) -> Option<u32> {
        GroupPublic::index_of(self, key)
    }

    fn verify_share(&self, index: u32, message: &[u8], partial: &[u8]) -> bool {
        let (Ok(partial), Ok(message)) = (
            PartialSignature::from_bytes(partial),
            SeedMessage::from_bytes(message),
        ) else {
            return false;
        };
        partial.index == index && crate::verify_partial(self, &message, &partial).is_ok()
    }

    fn combine(&self, message: &[u8], partials: &[Vec<u8>]) -> Option<Vec<u8>> {
        let message = SeedMessage::from_bytes(message).ok()?;
        let partials = partials
            .iter()
            .map(|p| PartialSignature::from_bytes(p))
            .collect::<crate::Result<Vec<_>>>()
            .ok()?;
        let signature = crate::combine(self, &message, &partials).ok()?;
        Some(signature.to_bytes().to_vec())
    }

    fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        let (Ok(message), Ok(parsed)) = (
            SeedMessage::from_bytes(message),
            Signature::from_bytes(signature),
        ) else {
            return false;
        };
        // One accepted encoding per signature: the seed is the hash of these bytes.
        parsed.to_bytes()[..] == *signature
            && crate::verify(self.group_key(), &message, &parsed).is_ok()
    }
}
