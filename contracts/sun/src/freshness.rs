//! The replay rule and the TagTamper mirror: small pure helpers for the caller's decision.

/// Whether a verified counter may be accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Freshness {
    /// Newer than anything accepted for this UID: accept it and store it as the last one.
    Fresh,
    /// Equal to or older than the last accepted counter: a stale or captured URL
    /// ([`crate::TAG_REPLAY`]). Do not store it.
    Replay,
}

impl Freshness {
    pub fn is_fresh(self) -> bool {
        self == Freshness::Fresh
    }
}

/// The replay rule: `counter` must be strictly greater than the last counter accepted for
/// the same UID; the first verified tap of a UID is fresh whatever its counter.
///
/// The tag's counter is 24 bits and never wraps, and neither does this rule: after
/// [`crate::COUNTER_MAX`] (0xFFFFFF) nothing is fresh again, which a tag reaches only after
/// 16.7 million taps. The known limit: a URL captured and never presented stays fresh until
/// the genuine tag is tapped and verified again (an "offline storage attack").
pub fn check_counter(last_accepted: Option<u32>, counter: u32) -> Freshness {
    match last_accepted {
        Some(last) if counter <= last => Freshness::Replay,
        _ => Freshness::Fresh,
    }
}

/// One TagTamper status character (NT4H2421Tx): `C` closed, `O` open, `I` tamper detection
/// not enabled; anything else is kept as it came.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TamperState {
    Closed,
    Open,
    NotEnabled,
    Unknown(u8),
}

impl From<u8> for TamperState {
    fn from(byte: u8) -> Self {
        match byte {
            b'C' => TamperState::Closed,
            b'O' => TamperState::Open,
            b'I' => TamperState::NotEnabled,
            other => TamperState::Unknown(other),
        }
    }
}

/// The two-character TagTamper mirror: permanent status (was the loop ever open), then the
/// current one.
///
/// Trust it only from authenticated bytes: the first two bytes of the decrypted `enc` data
/// when the tag mirrors TTStatus there (and the MAC window covers `enc`), or two plain
/// characters inside the MAC window. Anywhere else anyone can write `CC`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TamperStatus {
    pub permanent: TamperState,
    pub current: TamperState,
}

impl TamperStatus {
    pub fn from_mirror(mirror: [u8; 2]) -> Self {
        Self {
            permanent: mirror[0].into(),
            current: mirror[1].into(),
        }
    }

    /// The first two bytes of decrypted file data, if there are two.
    pub fn from_file_data(file_data: &[u8]) -> Option<Self> {
        match file_data {
            [permanent, current, ..] => Some(Self::from_mirror([*permanent, *current])),
            _ => None,
        }
    }

    /// The loop is or was open (the permanent status latches): the seal is broken.
    pub fn opened(&self) -> bool {
        self.permanent == TamperState::Open || self.current == TamperState::Open
    }
}
