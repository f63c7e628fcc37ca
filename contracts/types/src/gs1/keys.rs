//! The identifier types: GTIN, serial, SGTIN, SSCC, GLN and the [`Code`] a scan resolves to.
//!
//! Every value is valid by construction: the fields are private or themselves validated, and
//! borsh and serde decoding run the same checks as parsing, so a state or a message can never
//! hold a GTIN with a wrong check digit or a serial outside the GS1 character set.
//! Numeric keys are kept as their value (`u64`): fixed width makes numeric order equal to the
//! order of their canonical digit strings.

use std::fmt;
use std::str::FromStr;

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::check_digit;
use super::error::CodeError;

/// Host of the canonical GS1 Digital Link form, used by `Display` (GS1's canonical stem).
pub const CANONICAL_HOST: &str = "id.gs1.org";

/// A fixed-width GS1 numeric key with a mod-10 check digit: `Display`, serde as the digit
/// string, borsh as the `u64` value with the checks re-run on decode.
macro_rules! numeric_key {
    ($name:ident, $ai:literal, $digits:literal, $max:literal) => {
        impl $name {
            /// Number of digits in the canonical form, check digit included.
            pub const DIGITS: usize = $digits;
            /// The application identifier that carries this key.
            pub const AI: &'static str = $ai;

            /// The key from its numeric value; refuses values too wide or with a wrong check
            /// digit.
            pub fn from_value(value: u64) -> Result<Self, CodeError> {
                if value > $max {
                    return Err(CodeError::BadLength {
                        ai: $ai,
                        len: value.to_string().len(),
                        expected: concat!($digits, " digits"),
                    });
                }
                if !check_digit::is_valid(value) {
                    return Err(CodeError::BadCheckDigit {
                        ai: $ai,
                        expected: check_digit::of(value / 10),
                        got: (value % 10) as u8,
                    });
                }
                Ok(Self(value))
            }

            /// The key whose digits before the check digit are `body`; the check digit is
            /// computed. Refuses a body too wide for the key.
            pub fn from_body(body: u64) -> Result<Self, CodeError> {
                if body > $max / 10 {
                    return Err(CodeError::BadLength {
                        ai: $ai,
                        len: body.to_string().len() + 1,
                        expected: concat!($digits, " digits"),
                    });
                }
                Self::from_value(check_digit::append(body))
            }

            /// The numeric value of the key.
            pub fn value(&self) -> u64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:0width$}", self.0, width = $digits)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self)
            }
        }

        impl FromStr for $name {
            type Err = CodeError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <String as Deserialize>::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }

        impl BorshSerialize for $name {
            fn serialize<W: borsh::io::Write>(&self, writer: &mut W) -> borsh::io::Result<()> {
                BorshSerialize::serialize(&self.0, writer)
            }
        }

        impl BorshDeserialize for $name {
            fn deserialize_reader<R: borsh::io::Read>(reader: &mut R) -> borsh::io::Result<Self> {
                let value = u64::deserialize_reader(reader)?;
                Self::from_value(value).map_err(invalid_data)
            }
        }
    };
}

fn invalid_data(error: CodeError) -> borsh::io::Error {
    borsh::io::Error::new(borsh::io::ErrorKind::InvalidData, error.to_string())
}

/// A Global Trade Item Number, normalised to GTIN-14 (AI 01): the product a bottle is one of.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Gtin(u64);
numeric_key!(Gtin, "01", 14, 99_999_999_999_999);

impl Gtin {
    /// Parses a GTIN-8, -12, -13 or -14 and pads it to 14 digits; the check digit must hold.
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        check_digit::parse_key("01", s, &[8, 12, 13, 14], "8, 12, 13 or 14 digits").map(Self)
    }

    /// Parses exactly 14 digits, the fixed length of AI (01) in an element string or URN.
    pub fn parse_gtin14(s: &str) -> Result<Self, CodeError> {
        check_digit::parse_key("01", s, &[14], "14 digits").map(Self)
    }
}

/// A Serial Shipping Container Code (AI 00, 18 digits): a case or a pallet.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sscc(u64);
numeric_key!(Sscc, "00", 18, 999_999_999_999_999_999);

impl Sscc {
    /// Parses exactly 18 digits with a correct check digit.
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        check_digit::parse_key("00", s, &[18], "18 digits").map(Self)
    }
}

/// A Global Location Number (13 digits): a party (PGLN, AI 417) or a location (AI 414),
/// depending on the [`Code`] variant holding it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Gln(u64);
numeric_key!(Gln, "414", 13, 9_999_999_999_999);

impl Gln {
    /// Parses exactly 13 digits with a correct check digit.
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        Self::parse_for("414", s)
    }

    /// As [`Gln::parse`], naming `ai` (414 or 417) in errors.
    pub(crate) fn parse_for(ai: &'static str, s: &str) -> Result<Self, CodeError> {
        check_digit::parse_key(ai, s, &[13], "13 digits").map(Self)
    }
}

/// A GS1 text attribute of 1 to 20 CSET 82 characters (`X..20`): `Display` and serde as the
/// text, borsh as a string, with the checks re-run on every decode.
macro_rules! cset82_text {
    ($(#[$doc:meta])* $name:ident, $ai:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, BorshSerialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Most characters in the value (the AI is `X..20`).
            pub const CHARS_MAX: usize = 20;
            /// The application identifier that carries this value.
            pub const AI: &'static str = $ai;

            /// Parses 1 to 20 characters, each in CSET 82.
            pub fn parse(s: &str) -> Result<Self, CodeError> {
                let len = s.chars().count();
                if !(1..=Self::CHARS_MAX).contains(&len) {
                    return Err(CodeError::BadLength {
                        ai: $ai,
                        len,
                        expected: "1 to 20",
                    });
                }
                if let Some((position, character)) =
                    s.chars().enumerate().find(|(_, c)| !is_cset82(*c))
                {
                    return Err(CodeError::BadCharacter {
                        ai: $ai,
                        position,
                        character,
                    });
                }
                Ok(Self(s.to_owned()))
            }

            /// The value as printed.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl FromStr for $name {
            type Err = CodeError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <String as Deserialize>::deserialize(deserializer)?;
                Self::parse(&text).map_err(serde::de::Error::custom)
            }
        }

        impl BorshDeserialize for $name {
            fn deserialize_reader<R: borsh::io::Read>(reader: &mut R) -> borsh::io::Result<Self> {
                let text = String::deserialize_reader(reader)?;
                Self::parse(&text).map_err(invalid_data)
            }
        }
    };
}

cset82_text!(
    /// The serial number of one item (AI 21): 1 to 20 characters of GS1 CSET 82.
    Serial,
    "21"
);

cset82_text!(
    /// A batch or lot number (AI 10): 1 to 20 characters of GS1 CSET 82. Not part of a
    /// bottle's identity (GTIN + serial is), but printed with it and recorded at commissioning.
    Lot,
    "10"
);

/// GS1 AI encodable character set 82 (GS1 General Specifications, "CSET 82"): the digits,
/// upper- and lower-case Latin letters, and `! " % & ' ( ) * + , - . / : ; < = > ? _`.
pub fn is_cset82(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!\"%&'()*+,-./:;<=>?_".contains(c)
}

/// A serialised trade item: one bottle, GTIN (AI 01) plus serial (AI 21).
#[derive(
    Clone,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    BorshSerialize,
    BorshDeserialize,
)]
pub struct Sgtin {
    pub gtin: Gtin,
    pub serial: Serial,
}

impl Sgtin {
    pub fn new(gtin: Gtin, serial: Serial) -> Self {
        Self { gtin, serial }
    }
}

/// What a scanned code identifies. `Display` is the canonical GS1 Digital Link URI on
/// [`CANONICAL_HOST`]; parsing it gives back the same value.
#[derive(
    Clone,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    BorshSerialize,
    BorshDeserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    /// A bottle (or a serialised case): AI 01 + AI 21.
    Item(Sgtin),
    /// A case or pallet: AI 00.
    Logistic(Sscc),
    /// An organisation: PGLN, AI 417.
    Party(Gln),
    /// A place: GLN, AI 414.
    Location(Gln),
}

impl Code {
    /// The item, when the code identifies one.
    pub fn as_item(&self) -> Option<&Sgtin> {
        match self {
            Code::Item(sgtin) => Some(sgtin),
            _ => None,
        }
    }
}

impl fmt::Display for Sgtin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.digital_link(CANONICAL_HOST))
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.digital_link(CANONICAL_HOST))
    }
}

impl FromStr for Code {
    type Err = CodeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        super::parse_code(s)
    }
}
