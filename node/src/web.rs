//! The consumer verification page: what a phone shows when its camera opens a bottle's GS1
//! Digital Link. One static page; it fetches the JSON answer from the same node and shows
//! the verdict, the history, the alerts and whether the proof checked out.
//!
//! The browser checks the proof itself (`web/proof.js`, WebCrypto SHA-256 and Ed25519):
//! the record up to the state root, the header up to the block id, and the precommit
//! signatures against the validator keys of `GET /genesis`, whose hash it computes and shows.
//! `web/page.js` renders the answer with text nodes only, never markup from the answer.
//!
//! The page loads nothing from elsewhere (its Content-Security-Policy allows only this
//! node), so it works on a network with no other way out. It is assembled at compile time:
//! no build step, no bundler.

/// The page, served for `GET /01/{gtin}[/10/{lot}]/21/{serial}`, `GET /01/{gtin}` and
/// `GET /01/{gtin}/10/{lot}` when the client asks for HTML. For a product or a lot it shows
/// the product, its recalled lots and the lot's status, and checks the product's proof.
pub const VERIFY_PAGE: &str = concat!(
    include_str!("web/verify.html"),
    "<script>\n",
    include_str!("web/proof.js"),
    include_str!("web/page.js"),
    "</script>\n</body>\n</html>\n",
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_page_is_ascii_and_loads_nothing_from_elsewhere() {
        assert!(
            VERIFY_PAGE.is_ascii(),
            "plain ASCII; use entities or \\u escapes"
        );
        for needle in ["http:", "https:", "src=", "href=", "@import", "url("] {
            assert!(
                !VERIFY_PAGE.contains(needle),
                "the page must not load anything ({needle})"
            );
        }
        assert!(VERIFY_PAGE.contains("connect-src 'self'"));
        assert_eq!(VERIFY_PAGE.matches("<script>").count(), 1);
    }

    #[test]
    fn test_scripts_do_not_close_their_tag_or_inject_markup() {
        for script in [include_str!("web/proof.js"), include_str!("web/page.js")] {
            assert!(!script.contains("</"), "a script may not contain '</'");
            for needle in [
                "innerHTML",
                "outerHTML",
                "insertAdjacentHTML",
                "document.write",
            ] {
                assert!(
                    !script.contains(needle),
                    "data goes in as text only ({needle})"
                );
            }
        }
    }
}
