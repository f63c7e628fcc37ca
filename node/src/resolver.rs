//! The GS1 Digital Link side of `/01/{gtin}[/10/{lot}]/21/{serial}`: what a GS1-Conformant
//! Resolver client (a scanner app, a retailer's system) can ask besides the verification
//! answer.
//!
//! - `?linkType=linkset` (or `all`, the older spelling, or `Accept:
//!   application/linkset+json`): the links the node offers for the bottle, as an RFC 9264
//!   linkset with GS1 Web Vocabulary relations: the default link (this address: the
//!   verification page for a browser, the answer for an API), `gs1:verificationService`
//!   (the JSON answer with its proof) and `gs1:epcis` (the bottle's EPCIS events).
//! - `?linkType=gs1:verificationService` or `gs1:epcis` (or the full IRI): a 307 redirect to
//!   that link, passing the other query parameters on (an NFC tag's `picc`/`cmac`).
//! - Every answer carries `Link: <...?linkType=linkset>; rel="linkset"`.
//! - `/.well-known/gs1resolver`: the resolver description file.
//!
//! The node serves the default link's content at the Digital Link address itself rather
//! than redirecting to it (the answer is the resource); an unknown link type gets that
//! default. A GTIN alone, or with a lot (`/01/{gtin}[/10/{lot}]`), names a product or a
//! lot, not a bottle: those addresses answer the product's master data and recalled lots
//! (`crate::verify::product_answer`), without links.

use jiu_contracts::gs1::percent_encode;
use serde_json::{json, Value};

/// The GS1 Web Vocabulary namespace the link relation types come from.
pub const VOCABULARY: &str = "https://ref.gs1.org/voc/";

/// The media type of a JSON linkset (RFC 9264).
pub const LINKSET_MEDIA_TYPE: &str = "application/linkset+json";

/// The JSON-LD context GS1 publishes for linksets.
const LINKSET_CONTEXT: &str = "https://ref.gs1.org/standards/resolver/linkset-context";

/// One link of a bottle: relation (a GS1 Web Vocabulary term), target, title, media type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    pub relation: &'static str,
    pub href: String,
    pub title: &'static str,
    pub media_type: &'static str,
}

/// What a `linkType` parameter (and the `Accept` header) asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Requested {
    /// No link type (or `gs1:defaultLink`): the address's own content.
    Default,
    /// Every link, as a linkset.
    Linkset,
    /// One relation, by its GS1 Web Vocabulary term (`verificationService`).
    Relation(String),
}

impl Requested {
    /// Reads `linkType` (`gs1:epcis`, the full IRI, `linkset`, `all`); a client that only
    /// accepts a linkset gets one.
    pub fn parse(link_type: Option<&str>, accept: Option<&str>) -> Requested {
        let wants_linkset = accept.is_some_and(|a| a.contains(LINKSET_MEDIA_TYPE));
        match link_type.map(str::trim) {
            None | Some("") if wants_linkset => Requested::Linkset,
            None | Some("") => Requested::Default,
            Some("linkset" | "all") => Requested::Linkset,
            Some(other) => {
                let term = other
                    .strip_prefix("gs1:")
                    .or_else(|| other.strip_prefix(VOCABULARY))
                    .or_else(|| other.strip_prefix("https://gs1.org/voc/"))
                    .unwrap_or(other);
                if term == "defaultLink" {
                    Requested::Default
                } else {
                    Requested::Relation(term.to_owned())
                }
            }
        }
    }
}

/// The links of the bottle at `path` (`/01/{gtin}/21/{serial}`, as requested) on a node
/// reached at `base` (`https://host`; empty for links relative to the node).
/// `canonical` is the bottle's canonical Digital Link and `verify_code` the form the
/// verification link asks about: its `(01)...(21)...` element string, or the Digital Link
/// with the lot the address named.
pub fn links(base: &str, path: &str, canonical: &str, verify_code: &str) -> Vec<Link> {
    vec![
        Link {
            relation: "defaultLink",
            href: format!("{base}{path}"),
            title: "Verify this bottle",
            media_type: "text/html",
        },
        Link {
            relation: "verificationService",
            href: format!("{base}/verify/{}", percent_encode(verify_code)),
            title: "Verification answer with its proof",
            media_type: "application/json",
        },
        Link {
            relation: "epcis",
            href: format!("{base}/epcs/{}/events", percent_encode(canonical)),
            title: "EPCIS events of this bottle",
            media_type: "application/ld+json",
        },
    ]
}

/// The RFC 9264 JSON linkset of `links` about `anchor`: one context object, each relation
/// a full GS1 Web Vocabulary IRI with its target objects.
pub fn linkset(anchor: &str, links: &[Link]) -> Value {
    let mut context = serde_json::Map::new();
    context.insert("anchor".to_owned(), Value::from(anchor));
    for link in links {
        let target = json!({ "href": link.href, "title": link.title, "type": link.media_type });
        let relation = format!("{VOCABULARY}{}", link.relation);
        match context.get_mut(&relation) {
            Some(Value::Array(targets)) => targets.push(target),
            _ => {
                context.insert(relation, Value::Array(vec![target]));
            }
        }
    }
    json!({ "linkset": [Value::Object(context)] })
}

/// The `Link` header value pointing at the linkset of the resource at `self_uri` (sent on
/// every verify answer of the address, so kept to the one link).
pub fn link_header(self_uri: &str) -> String {
    format!("<{self_uri}?linkType=linkset>; rel=\"linkset\"; type=\"{LINKSET_MEDIA_TYPE}\"")
}

/// `scheme://host` the client reached the node at, from `Host` (and `X-Forwarded-Proto`
/// behind a TLS-terminating proxy); empty, so links stay relative, when the request names
/// no usable host.
pub fn base_url(headers: &axum::http::HeaderMap) -> String {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let Some(host) = header("host").filter(|h| is_host(h)) else {
        return String::new();
    };
    let scheme = match header("x-forwarded-proto") {
        Some("https") => "https",
        _ => "http",
    };
    format!("{scheme}://{host}")
}

/// A `host[:port]` made of the characters a host name, an IPv4 or a bracketed IPv6
/// address and a port use: anything else (a header injected with a path or a space) is not
/// echoed into links.
fn is_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}

/// The resolver description file (`/.well-known/gs1resolver`) of a node named `name`
/// reached at `base`.
pub fn description(name: &str, base: &str) -> Value {
    json!({
        "name": format!("jiu node {name}"),
        "resolverRoot": base,
        "supportedPrimaryKeys": ["01"],
        "linkTypeDefaultCanBeLinkset": false,
        "supportedLinkType": [{
            "namespace": VOCABULARY,
            "prefix": "gs1:",
            "profile": "https://ref.gs1.org/voc/?show=linktypes",
        }],
        "jsonLdContextLocation": LINKSET_CONTEXT,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CANONICAL: &str = "https://id.gs1.org/01/09506000134352/21/B%2F1";
    const ELEMENT: &str = "(01)09506000134352(21)B/1";

    #[test]
    fn test_link_type_spellings() {
        let parse = |t: Option<&str>| Requested::parse(t, None);
        assert_eq!(parse(None), Requested::Default);
        assert_eq!(parse(Some("gs1:defaultLink")), Requested::Default);
        assert_eq!(parse(Some("linkset")), Requested::Linkset);
        assert_eq!(parse(Some("all")), Requested::Linkset);
        for spelling in [
            "gs1:epcis",
            "https://ref.gs1.org/voc/epcis",
            "https://gs1.org/voc/epcis",
        ] {
            assert_eq!(parse(Some(spelling)), Requested::Relation("epcis".into()));
        }
        assert_eq!(
            Requested::parse(None, Some("application/linkset+json")),
            Requested::Linkset
        );
        assert_eq!(
            Requested::parse(Some("gs1:epcis"), Some("application/linkset+json")),
            Requested::Relation("epcis".into()),
            "an explicit link type wins over Accept"
        );
    }

    #[test]
    fn test_linkset_shape_and_encoded_targets() {
        let path = "/01/09506000134352/21/B%2F1";
        let links = links("https://node.example", path, CANONICAL, ELEMENT);
        let set = linkset(&format!("https://node.example{path}"), &links);
        let context = &set["linkset"][0];
        assert_eq!(
            context["anchor"],
            "https://node.example/01/09506000134352/21/B%2F1"
        );
        let target = |relation: &str| context[format!("{VOCABULARY}{relation}")][0].clone();
        assert_eq!(target("defaultLink")["href"], context["anchor"]);
        assert_eq!(
            target("verificationService")["href"],
            "https://node.example/verify/%2801%2909506000134352%2821%29B%2F1"
        );
        assert_eq!(
            target("epcis")["href"],
            "https://node.example/epcs/https%3A%2F%2Fid.gs1.org%2F01%2F09506000134352%2F21%2FB%252F1/events"
        );
        // Every target has a URL, a title and a media type (the resolver standard).
        for (relation, targets) in context.as_object().expect("object") {
            if relation == "anchor" {
                continue;
            }
            for t in targets.as_array().expect("targets") {
                assert!(t["href"].is_string() && t["title"].is_string() && t["type"].is_string());
            }
        }
    }

    #[test]
    fn test_base_url_from_host_only_when_it_is_a_host() {
        let headers = |pairs: &[(&'static str, &'static str)]| {
            let mut map = axum::http::HeaderMap::new();
            for (name, value) in pairs {
                map.insert(*name, axum::http::HeaderValue::from_static(value));
            }
            map
        };
        assert_eq!(
            base_url(&headers(&[("host", "127.0.0.1:26650")])),
            "http://127.0.0.1:26650"
        );
        assert_eq!(
            base_url(&headers(&[
                ("host", "verify.example"),
                ("x-forwarded-proto", "https")
            ])),
            "https://verify.example"
        );
        assert_eq!(
            base_url(&headers(&[("host", "[::1]:8080")])),
            "http://[::1]:8080"
        );
        assert_eq!(base_url(&headers(&[("host", "evil.example/phish")])), "");
        assert_eq!(base_url(&headers(&[])), "");
    }
}
