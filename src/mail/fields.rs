//! Reads the fields lists and search need out of a raw message (DESIGN invariant 3: the
//! raw bytes are stored whatever happens here; parsing only adds what it can).

use mail_parser::{Address, Message, MessageParser};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

/// What could be read from a message's headers and body. Every text is free of NUL
/// (PostgreSQL `text` cannot hold it) — the raw bytes keep the original.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageFields {
    pub date_header: Option<OffsetDateTime>,
    pub message_id: Option<String>,
    pub from_address: Option<String>,
    pub from_name: Option<String>,
    pub to_addresses: Option<String>,
    pub cc_addresses: Option<String>,
    pub subject: Option<String>,
    pub snippet: Option<String>,
    pub has_attachments: bool,
    /// Why parsing was partial, in words for the user; `None` when it went fine.
    pub parse_problem: Option<String>,
    /// Subject, addresses and body text for the full-text vector.
    pub search_text: String,
    /// SHA-256 of the raw bytes: the same message offered again under another UIDL is
    /// recognised by it. Made here, with the parse, so it costs the same place nothing new
    /// (large messages are parsed off the async workers).
    pub raw_sha256: [u8; 32],
}

/// More multipart containers than this and only the headers are read: a message nested
/// thousands deep is hostile, and its body parts are still in the raw bytes.
pub const MAX_MULTIPARTS: usize = 64;
const SNIPPET_CHARS: usize = 200;
const ADDRESS_LIST_CHARS: usize = 1_000;
/// The body text that goes into the search vector (PostgreSQL caps a tsvector at 1 MB).
const SEARCH_TEXT_BYTES: usize = 64 * 1024;

pub fn parse(raw: &[u8]) -> MessageFields {
    let multiparts = count_multiparts(raw);
    let deep = multiparts > MAX_MULTIPARTS;
    // mail-parser is robust, but a panic on one hostile message must not stop the account.
    let parsed = std::panic::catch_unwind(|| {
        let repaired = super::headers::repair(raw);
        let parser = MessageParser::default();
        let message = if deep {
            parser.parse_headers(&repaired)
        } else {
            parser.parse(&repaired)
        };
        message.map(|message| fields_of(&message, !deep))
    });
    let mut fields = match parsed {
        Ok(Some(mut fields)) => {
            if deep {
                fields.parse_problem = Some(format!(
                    "the message has {multiparts} MIME parts nested or side by side \
                     (more than {MAX_MULTIPARTS}); only its headers were read — \
                     \"view original\" shows all of it"
                ));
            }
            fields
        }
        Ok(None) => MessageFields {
            parse_problem: Some(
                "the message could not be read as email; \"view original\" shows its bytes".into(),
            ),
            ..MessageFields::default()
        },
        Err(_) => MessageFields {
            parse_problem: Some(
                "reading this message failed; \"view original\" shows its bytes".into(),
            ),
            ..MessageFields::default()
        },
    };
    fields.raw_sha256 = Sha256::digest(raw).into();
    fields
}

fn fields_of(message: &Message<'_>, with_body: bool) -> MessageFields {
    let subject = message.subject().map(clean_line);
    let from = message.from().and_then(Address::first);
    let from_address = from.and_then(|a| a.address()).map(clean_line);
    let from_name = from.and_then(|a| a.name()).map(clean_line);
    let to_addresses = message.to().map(address_list);
    let cc_addresses = message.cc().map(address_list);
    let date_header = message
        .date()
        .and_then(|date| OffsetDateTime::from_unix_timestamp(date.to_timestamp()).ok());
    let message_id = message.message_id().map(clean_line);
    let (snippet, body_text, has_attachments) = if with_body {
        let body = message
            .body_text(0)
            .map(|text| text.into_owned())
            .unwrap_or_default();
        let snippet = snippet_of(&body);
        (snippet, body, message.attachment_count() > 0)
    } else {
        (None, String::new(), false)
    };
    let mut search_text = String::new();
    for part in [
        &subject,
        &from_name,
        &from_address,
        &to_addresses,
        &cc_addresses,
    ]
    .into_iter()
    .flatten()
    {
        search_text.push_str(part);
        search_text.push('\n');
    }
    search_text.push_str(truncate_bytes(&strip_nul(&body_text), SEARCH_TEXT_BYTES));
    MessageFields {
        date_header,
        message_id,
        from_address,
        from_name,
        to_addresses,
        cc_addresses,
        subject,
        snippet,
        has_attachments,
        parse_problem: None,
        search_text,
        // `parse` sets it, whatever the parser made of the message.
        raw_sha256: [0; 32],
    }
}

/// Counts `multipart/` content types: an upper bound on the nesting depth, found without
/// parsing, so hostile nesting is caught before the parser sees it.
pub fn count_multiparts(raw: &[u8]) -> usize {
    const NEEDLE: &[u8] = b"multipart/";
    raw.windows(NEEDLE.len())
        .filter(|window| window.eq_ignore_ascii_case(NEEDLE))
        .count()
}

fn address_list(address: &Address<'_>) -> String {
    let mut out = String::new();
    for addr in address.iter() {
        if !out.is_empty() {
            out.push_str(", ");
        }
        match (addr.name(), addr.address()) {
            (Some(name), Some(email)) => out.push_str(&format!("{name} <{email}>")),
            (Some(name), None) => out.push_str(name),
            (None, Some(email)) => out.push_str(email),
            (None, None) => {}
        }
        if out.len() > ADDRESS_LIST_CHARS {
            break;
        }
    }
    clean_line(&out)
}

fn snippet_of(body: &str) -> Option<String> {
    let words: String = body
        .split_whitespace()
        .flat_map(|word| [word, " "])
        .take(SNIPPET_CHARS)
        .collect();
    let snippet: String = clean_line(words.trim())
        .chars()
        .take(SNIPPET_CHARS)
        .collect();
    (!snippet.is_empty()).then_some(snippet)
}

/// One display line: control characters (NUL included) become spaces, runs of spaces
/// collapse, and the length is bounded.
fn clean_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(ADDRESS_LIST_CHARS));
    let mut last_space = false;
    for c in text.chars() {
        let c = if c.is_control() { ' ' } else { c };
        if c == ' ' && last_space {
            continue;
        }
        last_space = c == ' ';
        out.push(c);
        if out.len() >= ADDRESS_LIST_CHARS {
            break;
        }
    }
    out.trim().to_owned()
}

fn strip_nul(text: &str) -> String {
    text.replace('\0', " ")
}

fn truncate_bytes(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_usual_fields() {
        let raw = b"From: =?UTF-8?B?SsO8cmdlbg==?= <j@example.org>\r\n\
            To: a@example.org, Bob <b@example.org>\r\nCc: c@example.org\r\n\
            Subject: =?ISO-8859-1?Q?Gr=FC=DFe?=\r\nDate: Tue, 3 Nov 2026 10:00:00 +0100\r\n\
            Message-ID: <m1@example.org>\r\n\r\nHello   there,\r\nsecond line\r\n";
        let fields = parse(raw);
        assert_eq!(fields.subject.as_deref(), Some("Grüße"));
        assert_eq!(fields.from_name.as_deref(), Some("Jürgen"));
        assert_eq!(fields.from_address.as_deref(), Some("j@example.org"));
        assert_eq!(
            fields.to_addresses.as_deref(),
            Some("a@example.org, Bob <b@example.org>")
        );
        assert_eq!(fields.cc_addresses.as_deref(), Some("c@example.org"));
        assert_eq!(fields.message_id.as_deref(), Some("m1@example.org"));
        assert_eq!(fields.snippet.as_deref(), Some("Hello there, second line"));
        assert_eq!(
            fields.date_header.map(OffsetDateTime::unix_timestamp),
            Some(1_793_696_400)
        );
        assert!(!fields.has_attachments);
        assert!(fields.parse_problem.is_none());
        assert!(fields.search_text.contains("Grüße") && fields.search_text.contains("second"));
    }

    #[test]
    fn nul_bytes_and_bad_charsets_never_reach_text_columns() {
        let raw = b"Subject: a\x00b\r\nContent-Type: text/plain; charset=x-unknown-42\r\n\r\n\
            body \x00 with \xff\xfe bytes\r\n";
        let fields = parse(raw);
        for text in [&fields.subject, &fields.snippet].into_iter().flatten() {
            assert!(!text.contains('\0'), "{text:?}");
        }
        assert!(!fields.search_text.contains('\0'));
        assert_eq!(fields.subject.as_deref(), Some("a b"));
    }

    #[test]
    fn mime_nested_thousands_deep_reads_headers_only() {
        let mut raw = b"Subject: deep\r\n".to_vec();
        for level in 0..5_000 {
            raw.extend_from_slice(
                format!(
                    "Content-Type: multipart/mixed; boundary=\"b{level}\"\r\n\r\n--b{level}\r\n"
                )
                .as_bytes(),
            );
        }
        raw.extend_from_slice(b"Content-Type: text/plain\r\n\r\ninnermost\r\n");
        let fields = parse(&raw);
        assert_eq!(fields.subject.as_deref(), Some("deep"));
        let problem = fields.parse_problem.expect("a depth problem is reported");
        assert!(problem.contains("5000 MIME parts"), "{problem}");
    }

    #[test]
    fn attachments_are_noticed() {
        let raw = b"Subject: report\r\nContent-Type: multipart/mixed; boundary=\"x\"\r\n\r\n\
            --x\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n\
            --x\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"r.pdf\"\r\n\
            Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--x--\r\n";
        let fields = parse(raw);
        assert!(fields.has_attachments);
        assert_eq!(fields.snippet.as_deref(), Some("see attached"));
    }

    #[test]
    fn garbage_still_yields_a_row() {
        for raw in [&b""[..], b"\x00\x01\x02", &[0xff; 100]] {
            let fields = parse(raw);
            assert!(fields.search_text.len() <= SEARCH_TEXT_BYTES + 10_000);
            assert!(!fields.search_text.contains('\0'));
            assert_eq!(fields.raw_sha256, <[u8; 32]>::from(Sha256::digest(raw)));
        }
        let message = b"Subject: hi\r\n\r\nbody\r\n";
        assert_eq!(
            parse(message).raw_sha256,
            <[u8; 32]>::from(Sha256::digest(message))
        );
        assert!(parse(b"").parse_problem.is_some());
    }
}
