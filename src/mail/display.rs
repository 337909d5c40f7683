//! The parts of a message a person reads. Parsing is repeated from the raw bytes at view
//! time (they are the truth, DESIGN invariant 3); hostile structures get the same limits
//! as at fetch time.

use std::collections::HashMap;

use mail_parser::{Message, MessageParser, MimeHeaders, PartType};

use super::fields::{MAX_MULTIPARTS, count_multiparts};

/// HTML bigger than this is not rendered (the original is still one click away).
pub const MAX_HTML_BYTES: usize = 4 * 1024 * 1024;
/// Inline (`cid:`) images bigger than this are not embedded in the rendered HTML.
const MAX_INLINE_IMAGE_BYTES: usize = 2 * 1024 * 1024;

/// What the message page shows.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Displayed {
    /// The plain text body (or text made from the HTML when there is no text part).
    pub text: Option<String>,
    /// The HTML body as sent — unsafe until [`super::sanitize`] has seen it.
    pub html: Option<String>,
    pub attachments: Vec<AttachmentInfo>,
    /// Why not everything could be shown, in words for the reader.
    pub problem: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentInfo {
    /// Position among the message's attachments: the download route's `n`.
    pub index: usize,
    pub name: String,
    pub content_type: String,
    pub size: usize,
}

/// One attachment's bytes and what to call it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

fn with_message<T>(raw: &[u8], read: impl FnOnce(Option<&Message<'_>>) -> T) -> Result<T, String> {
    let multiparts = count_multiparts(raw);
    if multiparts > MAX_MULTIPARTS {
        return Err(format!(
            "this message has {multiparts} MIME parts (more than {MAX_MULTIPARTS}), so its body \
             is not displayed — \"View original\" shows all of it"
        ));
    }
    // A panic in the parser on one hostile message must not take the page down.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let repaired = super::headers::repair(raw);
        let message = MessageParser::default().parse(&repaired);
        read(message.as_ref())
    }))
    .map_err(|_| "this message could not be read — \"View original\" shows its bytes".to_owned())
}

/// The readable parts of a raw message.
pub fn display(raw: &[u8]) -> Displayed {
    let shown = with_message(raw, |message| {
        let Some(message) = message else {
            return Displayed {
                problem: Some(
                    "this message could not be read as email — \"View original\" shows its bytes"
                        .into(),
                ),
                ..Displayed::default()
            };
        };
        let html = message.html_part(0).and_then(|part| match &part.body {
            PartType::Html(html) => Some(html.as_ref()),
            _ => None,
        });
        let mut problem = None;
        let html = match html {
            Some(html) if html.len() > MAX_HTML_BYTES => {
                problem = Some(
                    "the HTML part is too large to display — the text version is shown".into(),
                );
                None
            }
            other => other.map(str::to_owned),
        };
        let text = message
            .body_text(0)
            .map(|text| text.replace('\0', " "))
            .filter(|text| !text.trim().is_empty());
        let attachments = message
            .attachments()
            .enumerate()
            .map(|(index, part)| AttachmentInfo {
                index,
                name: attachment_name(part, index),
                content_type: content_type_of(part),
                size: part.len(),
            })
            .collect();
        Displayed {
            text,
            html,
            attachments,
            problem,
        }
    });
    shown.unwrap_or_else(|problem| Displayed {
        problem: Some(problem),
        ..Displayed::default()
    })
}

/// The `index`-th attachment, as listed by [`display`].
pub fn attachment(raw: &[u8], index: usize) -> Option<Attachment> {
    with_message(raw, |message| {
        let part = message?.attachments().nth(index)?;
        Some(Attachment {
            name: attachment_name(part, index),
            content_type: content_type_of(part),
            bytes: part.contents().to_vec(),
        })
    })
    .ok()
    .flatten()
}

/// Inline images by Content-ID, as `data:` URLs, for `cid:` references in the HTML. Only
/// raster types a browser shows as an image are embedded.
pub fn inline_images(raw: &[u8]) -> HashMap<String, String> {
    use base64::Engine as _;
    with_message(raw, |message| {
        let mut images = HashMap::new();
        let Some(message) = message else {
            return images;
        };
        for part in message.parts.iter() {
            let (Some(id), PartType::Binary(bytes) | PartType::InlineBinary(bytes)) =
                (part.content_id(), &part.body)
            else {
                continue;
            };
            let content_type = content_type_of(part);
            if !matches!(
                content_type.as_str(),
                "image/png" | "image/gif" | "image/jpeg" | "image/webp"
            ) || bytes.len() > MAX_INLINE_IMAGE_BYTES
            {
                continue;
            }
            let id = id.trim().trim_start_matches('<').trim_end_matches('>');
            images.insert(
                id.to_owned(),
                format!(
                    "data:{content_type};base64,{}",
                    base64::engine::general_purpose::STANDARD.encode(bytes)
                ),
            );
        }
        images
    })
    .unwrap_or_default()
}

fn attachment_name(part: &mail_parser::MessagePart<'_>, index: usize) -> String {
    let name: String = part
        .attachment_name()
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '/' | '\\'))
        .take(200)
        .collect();
    let name = name.trim();
    if name.is_empty() || name.chars().all(|c| c == '.') {
        format!("attachment-{}", index + 1)
    } else {
        name.to_owned()
    }
}

/// `type/subtype` in lower case, or `application/octet-stream` when missing or odd.
fn content_type_of(part: &mail_parser::MessagePart<'_>) -> String {
    let declared = part.content_type().map(|ct| {
        format!(
            "{}/{}",
            ct.c_type,
            ct.c_subtype.as_deref().unwrap_or("octet-stream")
        )
        .to_ascii_lowercase()
    });
    match declared {
        Some(ct)
            if ct.len() <= 100
                && ct.bytes().all(|b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'+' | b'.' | b'_')
                })
                && ct.matches('/').count() == 1 =>
        {
            ct
        }
        _ => "application/octet-stream".into(),
    }
}

/// `Content-Disposition: attachment` with an ASCII fallback name and the exact name in
/// RFC 5987 encoding.
pub fn attachment_disposition(name: &str) -> String {
    let fallback: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ' | '(' | ')') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_') {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn download_names_keep_to_ascii_with_the_exact_name_encoded() {
        let disposition = attachment_disposition("Rechnung \"März\";\r\n.pdf");
        assert!(
            disposition.starts_with("attachment; filename=\"Rechnung _M_rz__"),
            "{disposition}"
        );
        assert!(disposition.contains("filename*=UTF-8''Rechnung%20%22M%C3%A4rz%22%3B%0D%0A.pdf"));
        assert!(disposition.is_ascii() && !disposition.contains(['\r', '\n']));
    }

    const MIXED: &[u8] = b"From: a@example.org\r\nSubject: hi\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\n\
Content-Type: multipart/alternative; boundary=\"b2\"\r\n\r\n--b2\r\n\
Content-Type: text/plain; charset=utf-8\r\n\r\nHello text\r\n--b2\r\n\
Content-Type: text/html; charset=utf-8\r\n\r\n<p>Hello <b>html</b></p>\r\n--b2--\r\n--b1\r\n\
Content-Type: application/pdf; name=\"../../etc/report.pdf\"\r\n\
Content-Disposition: attachment; filename=\"../../etc/report.pdf\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b1--\r\n";

    #[test]
    fn text_html_and_attachments_are_found() {
        let shown = display(MIXED);
        assert_eq!(shown.text.as_deref().map(str::trim), Some("Hello text"));
        assert_eq!(
            shown.html.as_deref().map(str::trim),
            Some("<p>Hello <b>html</b></p>")
        );
        assert_eq!(shown.attachments.len(), 1);
        let info = &shown.attachments[0];
        assert_eq!(info.content_type, "application/pdf");
        assert!(!info.name.contains('/'), "{}", info.name);
        assert!(info.name.ends_with("report.pdf"));
        let file = attachment(MIXED, 0).expect("attachment 0");
        assert_eq!(file.bytes, b"%PDF-1.4\n");
        assert!(attachment(MIXED, 1).is_none());
    }

    #[test]
    fn a_text_only_message_has_no_html() {
        let shown = display(b"Subject: plain\r\n\r\nJust text\r\n");
        assert_eq!(shown.html, None);
        assert_eq!(shown.text.as_deref().map(str::trim), Some("Just text"));
    }

    #[test]
    fn hostile_nesting_is_not_parsed() {
        let mut raw = b"Subject: deep\r\n".to_vec();
        for i in 0..100 {
            raw.extend_from_slice(
                format!("Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n")
                    .as_bytes(),
            );
        }
        let shown = display(&raw);
        assert!(shown.problem.is_some());
        assert_eq!(shown.text, None);
        assert!(attachment(&raw, 0).is_none());
    }
}
