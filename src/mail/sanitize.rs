//! Makes a message's HTML inert (DESIGN invariant 6). ammonia keeps an allow-list of
//! tags and attributes — no script, no event handlers, no SVG or MathML, no forms, frames,
//! `<base>`, `<meta>`, `<link>` or `<style>` — and only safe URL schemes. On top of that:
//! relative URLs are dropped (there is no base they could resolve against safely), links
//! open in a new tab, and remote images are removed unless the reader asked for them.
//! The route that serves the result adds a CSP that blocks the same things again.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// CSS properties allowed in `style` attributes: layout and typography only. Nothing that
/// takes a URL (background-image, list-style-image, border-image, cursor, …).
const STYLE_PROPERTIES: &[&str] = &[
    "color",
    "background-color",
    "font",
    "font-family",
    "font-size",
    "font-style",
    "font-weight",
    "text-align",
    "text-decoration",
    "text-transform",
    "line-height",
    "letter-spacing",
    "white-space",
    "vertical-align",
    "margin",
    "margin-top",
    "margin-right",
    "margin-bottom",
    "margin-left",
    "padding",
    "padding-top",
    "padding-right",
    "padding-bottom",
    "padding-left",
    "border",
    "border-top",
    "border-right",
    "border-bottom",
    "border-left",
    "border-color",
    "border-style",
    "border-width",
    "border-collapse",
    "border-spacing",
    "border-radius",
    "width",
    "max-width",
    "min-width",
    "height",
];

/// What the reader allowed for this message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoteContent {
    Blocked,
    Shown,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sanitized {
    pub html: String,
    /// Remote images were removed (offer "Show images").
    pub remote_blocked: bool,
}

fn is_remote(url: &str) -> bool {
    let lower = url.trim_start().to_ascii_lowercase();
    lower.starts_with("http:") || lower.starts_with("https:") || lower.starts_with("//")
}

/// Sanitises `html`. `inline_images` maps Content-IDs to `data:` URLs (see
/// [`super::display::inline_images`]) so `cid:` images show without any request.
pub fn sanitize(
    html: &str,
    remote: RemoteContent,
    inline_images: HashMap<String, String>,
) -> Sanitized {
    let blocked = Arc::new(AtomicBool::new(false));
    let blocked_seen = Arc::clone(&blocked);
    let inline_images = Arc::new(inline_images);
    let mut builder = ammonia::Builder::default();
    builder
        .url_relative(ammonia::UrlRelative::Deny)
        .add_url_schemes(["cid", "data"])
        .set_tag_attribute_value("a", "target", "_blank")
        .link_rel(Some("noopener noreferrer nofollow"))
        .add_generic_attributes(["style"])
        .filter_style_properties(STYLE_PROPERTIES.iter().copied().collect::<HashSet<_>>())
        .attribute_filter(move |element, attribute, value| {
            let lower = value.trim_start().to_ascii_lowercase();
            let is_image_source = element == "img" && attribute == "src";
            if lower.starts_with("data:") {
                // Only raster images may be inline data; never a link or anything else.
                let raster = [
                    "data:image/png",
                    "data:image/gif",
                    "data:image/jpeg",
                    "data:image/webp",
                ]
                .iter()
                .any(|prefix| lower.starts_with(prefix));
                return (is_image_source && raster).then(|| value.into());
            }
            if lower.starts_with("cid:") {
                if !is_image_source {
                    return None;
                }
                let id = value.trim()[4..]
                    .trim_start_matches('<')
                    .trim_end_matches('>');
                return inline_images.get(id).map(|url| url.clone().into());
            }
            if is_image_source && is_remote(value) && remote == RemoteContent::Blocked {
                blocked_seen.store(true, Ordering::Relaxed);
                return None;
            }
            Some(value.into())
        });
    let html = builder.clean(html).to_string();
    Sanitized {
        html,
        remote_blocked: blocked.load(Ordering::Relaxed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(html: &str) -> Sanitized {
        sanitize(html, RemoteContent::Blocked, HashMap::new())
    }

    #[test]
    fn scripts_handlers_and_dangerous_tags_go() {
        let hostile = r#"<script>alert(1)</script><img src=x onerror="alert(2)">
            <a href="javascript:alert(3)">j</a><svg onload="alert(4)"><circle/></svg>
            <math><mi>x</mi></math><iframe src="https://evil.example/"></iframe>
            <form action="https://evil.example/"><input name=p></form>
            <meta http-equiv="refresh" content="0;url=https://evil.example/">
            <base href="https://evil.example/"><style>body{background:url(https://evil.example/)}</style>
            <link rel=stylesheet href="https://evil.example/x.css">
            <div style="background-image:url(https://evil.example/bg); color: red">text</div>
            <a href="data:text/html,<script>alert(5)</script>">d</a>"#;
        let out = clean(hostile).html;
        for banned in [
            "<script",
            "onerror",
            "javascript:",
            "<svg",
            "<math",
            "<iframe",
            "<form",
            "<input",
            "<meta",
            "<base",
            "<style",
            "<link",
            "evil.example",
            "data:text",
        ] {
            assert!(
                !out.to_ascii_lowercase().contains(banned),
                "{banned} survived in {out}"
            );
        }
        assert!(out.contains("color:red"), "{out}");
        assert!(out.contains("text"));
    }

    #[test]
    fn remote_images_wait_for_the_reader() {
        let html = r#"<p>hi</p><img src="https://tracker.example/pixel.gif" alt="p">"#;
        let blocked = clean(html);
        assert!(blocked.remote_blocked);
        assert!(
            !blocked.html.contains("tracker.example"),
            "{}",
            blocked.html
        );
        let shown = sanitize(html, RemoteContent::Shown, HashMap::new());
        assert!(!shown.remote_blocked);
        assert!(shown.html.contains("https://tracker.example/pixel.gif"));
    }

    #[test]
    fn links_open_elsewhere_and_inline_images_embed() {
        let images =
            HashMap::from([("logo@x".to_owned(), "data:image/png;base64,AAAA".to_owned())]);
        let out = sanitize(
            r#"<a href="https://example.org/">x</a><img src="cid:logo@x"><img src="cid:other"><a href="relative/path">r</a>"#,
            RemoteContent::Blocked,
            images,
        );
        assert!(out.html.contains(r#"target="_blank""#), "{}", out.html);
        assert!(out.html.contains("noopener"), "{}", out.html);
        assert!(
            out.html.contains(r#"src="data:image/png;base64,AAAA""#),
            "{}",
            out.html
        );
        assert!(!out.html.contains("cid:"), "{}", out.html);
        assert!(!out.html.contains("relative/path"), "{}", out.html);
        assert!(!out.remote_blocked);
    }
}
