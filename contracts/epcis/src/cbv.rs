//! CBV 2.0 terms in the three spellings EPCIS 2.0 documents use: the bare word of JSON-LD
//! (`shipping`), the Web URI (`https://ref.gs1.org/cbv/BizStep-shipping`) and the old URN
//! (`urn:epcglobal:cbv:bizstep:shipping`). Capture and query compare terms through
//! [`term`], so the three spellings of one term are one value, and anything else (an
//! extension URI, a misspelt word) is never taken for a CBV term.

use crate::vocab::{self, Vocabulary};

/// A CBV vocabulary whose terms appear as field values of events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vocab {
    /// `bizStep`.
    BizStep,
    /// `disposition`, `persistentDisposition.set` / `unset`.
    Disposition,
    /// `bizTransactionList[].type`.
    BizTransactionType,
    /// `sourceList[].type`, `destinationList[].type`.
    SourceDestinationType,
    /// `errorDeclaration.reason`.
    ErrorReason,
}

impl Vocab {
    fn terms(self) -> &'static Vocabulary {
        match self {
            Vocab::BizStep => &vocab::BIZ_STEP,
            Vocab::Disposition => &vocab::DISPOSITION,
            Vocab::BizTransactionType => &vocab::BIZ_TRANSACTION_TYPE,
            Vocab::SourceDestinationType => &vocab::SOURCE_DESTINATION_TYPE,
            Vocab::ErrorReason => &vocab::ERROR_REASON,
        }
    }

    /// The CBV 1.x URN prefix of the vocabulary.
    fn urn_prefix(self) -> &'static str {
        match self {
            Vocab::BizStep => "urn:epcglobal:cbv:bizstep:",
            Vocab::Disposition => "urn:epcglobal:cbv:disp:",
            Vocab::BizTransactionType => "urn:epcglobal:cbv:btt:",
            Vocab::SourceDestinationType => "urn:epcglobal:cbv:sdt:",
            Vocab::ErrorReason => "urn:epcglobal:cbv:er:",
        }
    }
}

/// The CBV 2.0 term `value` spells, as its bare word, when `value` is a term of `vocab` in
/// any of the three spellings; `None` for anything else. Matching is exact (no trimming,
/// no case folding): `Shipping` is not a term.
pub fn term(vocab: Vocab, value: &str) -> Option<&'static str> {
    let terms = vocab.terms();
    let word = value
        .strip_prefix(terms.base)
        .or_else(|| value.strip_prefix(vocab.urn_prefix()))
        .unwrap_or(value);
    terms
        .terms
        .binary_search(&word)
        .ok()
        .and_then(|index| terms.terms.get(index).copied())
}

/// The Web URI of the term `value` spells, if it is one (see [`term`]).
pub fn web_uri(vocab: Vocab, value: &str) -> Option<String> {
    term(vocab, value).map(|word| format!("{}{word}", vocab.terms().base))
}

/// Whether `value` may stand in a CBV-typed field: a term of `vocab`, or an extension URI
/// or CURIE (anything with a `:` after a non-empty scheme-like prefix). A bare word that is
/// not a term (`Shipping`, `shiping`) is neither, and the EPCIS JSON schema refuses it.
pub fn is_term_or_uri(vocab: Vocab, value: &str) -> bool {
    term(vocab, value).is_some() || looks_like_uri(value)
}

/// A URI or CURIE: a scheme (a letter, then letters, digits, `+`, `-`, `.`), a colon, and
/// something after it.
pub(crate) fn looks_like_uri(value: &str) -> bool {
    let Some((scheme, rest)) = value.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        && !rest.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_three_spellings_are_one_term() {
        for value in [
            "shipping",
            "https://ref.gs1.org/cbv/BizStep-shipping",
            "urn:epcglobal:cbv:bizstep:shipping",
        ] {
            assert_eq!(term(Vocab::BizStep, value), Some("shipping"), "{value}");
            assert_eq!(
                web_uri(Vocab::BizStep, value).as_deref(),
                Some("https://ref.gs1.org/cbv/BizStep-shipping")
            );
        }
        assert_eq!(
            term(Vocab::Disposition, "urn:epcglobal:cbv:disp:recalled"),
            Some("recalled")
        );
        assert_eq!(
            term(
                Vocab::SourceDestinationType,
                "https://ref.gs1.org/cbv/SDT-owning_party"
            ),
            Some("owning_party")
        );
    }

    #[test]
    fn test_non_terms_are_not_taken_for_terms() {
        for value in [
            "Shipping",
            " shipping",
            "shiping",
            "https://ref.gs1.org/cbv/Disp-shipping",
            "urn:epcglobal:cbv:disp:shipping",
            "https://example.com/BizStep-shipping",
            "",
        ] {
            assert_eq!(term(Vocab::BizStep, value), None, "{value:?}");
        }
    }

    #[test]
    fn test_term_or_uri() {
        assert!(is_term_or_uri(Vocab::BizStep, "receiving"));
        assert!(is_term_or_uri(
            Vocab::BizStep,
            "http://epcis.example.org/hc/bizstep/summarising_discharge"
        ));
        assert!(is_term_or_uri(Vocab::BizStep, "example:my_step"));
        for value in ["Receiving", "my_step", ":x", "1a:x", "a:", ""] {
            assert!(!is_term_or_uri(Vocab::BizStep, value), "{value:?}");
        }
    }
}
