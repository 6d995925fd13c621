//! Stream descriptions: CommonMark in, sanitized HTML out. Raw HTML in the markdown is not
//! trusted: the rendered HTML goes through an allow-list sanitizer (ammonia), so `<script>`,
//! event handlers, `javascript:` links and styles never reach a browser.

use pulldown_cmark::{Options, Parser, html};

/// Longest accepted description (bytes of markdown).
pub const MAX_DESCRIPTION_BYTES: usize = 100_000;

/// Renders markdown to HTML that is safe to embed in the portal.
pub fn render(markdown: &str) -> String {
    let mut options = Options::empty();
    options.insert(Options::ENABLE_TABLES);
    options.insert(Options::ENABLE_STRIKETHROUGH);
    options.insert(Options::ENABLE_TASKLISTS);
    let mut raw = String::with_capacity(markdown.len() * 2);
    html::push_html(&mut raw, Parser::new_ext(markdown, options));
    ammonia::Builder::default()
        .link_rel(Some("noopener noreferrer nofollow"))
        .url_schemes(["http", "https", "mailto"].into())
        .clean(&raw)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn markdown_becomes_html() {
        let html = render("# Trades\n\nEvery **fill**, with [docs](https://example.com).");
        assert!(html.contains("<h1>Trades</h1>"), "{html}");
        assert!(html.contains("<strong>fill</strong>"), "{html}");
        assert!(
            html.contains(
                r#"<a href="https://example.com" rel="noopener noreferrer nofollow">docs</a>"#
            ),
            "{html}"
        );
    }

    #[test]
    fn scripts_handlers_and_javascript_links_are_removed() {
        let html = render(
            "<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n[x](javascript:alert(3))\n\n<a href=\"javascript:alert(4)\">y</a><style>body{}</style><iframe src=\"https://evil\"></iframe>",
        );
        for bad in [
            "<script",
            "onerror",
            "javascript:",
            "<style",
            "<iframe",
            "alert(1)",
        ] {
            assert!(!html.contains(bad), "{bad} survived: {html}");
        }
    }
}
