//! Header text repaired the way mail programs read it, before mail-parser sees the message.
//!
//! mail-parser decodes each RFC 2047 encoded-word on its own. Real mailers split one
//! character across two adjacent encoded-words (`…vis=C3?= =?UTF-8?Q?=A9?=`), which RFC 2047
//! forbids but Thunderbird, Gmail and Python's `email.header` accept: they join adjacent
//! words of one charset before decoding. They also read `iso-8859-1` as windows-1252 (the
//! WHATWG rule), decode raw 8-bit headers with the message's charset or windows-1252, and
//! forgive bad base64, a missing `?=` and encoded-words inside quoted display names.
//!
//! [`repair`] rewrites the top-level header fields people read (subject and addresses) into
//! one form mail-parser decodes cleanly: each run of adjacent encoded-words becomes one
//! UTF-8 encoded-word (inside quotes: plain UTF-8 text, escaped), and 8-bit text becomes
//! UTF-8. Only the copy handed to the parser changes — the stored raw bytes stay as they came.

use std::borrow::Cow;

use base64::Engine as _;
use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};

/// The fields whose text is shown or searched. Others (Received, DKIM-Signature,
/// Content-Type parameters) are left byte for byte: a rewrite could only break them.
const UNSTRUCTURED: &[&str] = &["subject", "comments", "keywords", "thread-topic"];
const ADDRESSES: &[&str] = &[
    "from",
    "to",
    "cc",
    "bcc",
    "reply-to",
    "sender",
    "resent-from",
    "resent-to",
    "resent-cc",
    "resent-sender",
];

/// The message with its readable header fields repaired; borrowed when nothing needed it.
pub fn repair(raw: &[u8]) -> Cow<'_, [u8]> {
    let header_len = header_block_len(raw);
    let block = &raw[..header_len];
    let fields = fields(block);
    let fallback = declared_charset(block, &fields).unwrap_or(WINDOWS_1252);
    let mut out: Option<Vec<u8>> = None;
    let mut copied = 0;
    for field in &fields {
        let name = block[field.start..field.colon].trim_ascii();
        let is = |names: &[&str]| {
            names
                .iter()
                .any(|n| n.as_bytes().eq_ignore_ascii_case(name))
        };
        let structured = if is(UNSTRUCTURED) {
            false
        } else if is(ADDRESSES) {
            true
        } else {
            continue;
        };
        let value = &block[field.colon + 1..field.end];
        let Some(repaired) = repair_value(value, fallback, structured) else {
            continue;
        };
        let out = out.get_or_insert_with(|| Vec::with_capacity(raw.len() + 64));
        out.extend_from_slice(&raw[copied..field.colon + 1]);
        out.extend_from_slice(&repaired);
        copied = field.end;
    }
    match out {
        None => Cow::Borrowed(raw),
        Some(mut out) => {
            out.extend_from_slice(&raw[copied..]);
            Cow::Owned(out)
        }
    }
}

/// Where the header block ends: after the line ending of the last field (the empty line
/// and the body are left alone). A message without a body is all header.
fn header_block_len(raw: &[u8]) -> usize {
    let mut line_start = 0;
    while line_start < raw.len() {
        let rest = &raw[line_start..];
        if rest.starts_with(b"\r\n") || rest.starts_with(b"\n") {
            return line_start;
        }
        match memchr::memchr(b'\n', rest) {
            Some(at) => line_start += at + 1,
            None => return raw.len(),
        }
    }
    raw.len()
}

struct Field {
    start: usize,
    colon: usize,
    /// Before the field's last line ending.
    end: usize,
}

/// The fields of a header block, each with its folded continuation lines.
fn fields(block: &[u8]) -> Vec<Field> {
    let mut lines = Vec::new();
    let mut at = 0;
    while at < block.len() {
        let end = memchr::memchr(b'\n', &block[at..]).map_or(block.len(), |i| at + i + 1);
        lines.push((at, end));
        at = end;
    }
    let mut fields: Vec<Field> = Vec::new();
    for (start, end) in lines {
        let content_end = trim_line_ending(block, start, end);
        let continuation = matches!(block.get(start), Some(b' ' | b'\t'));
        if continuation {
            if let Some(field) = fields.last_mut() {
                field.end = content_end;
            }
            continue;
        }
        if let Some(colon) = memchr::memchr(b':', &block[start..content_end]) {
            fields.push(Field {
                start,
                colon: start + colon,
                end: content_end,
            });
        }
    }
    fields
}

fn trim_line_ending(block: &[u8], start: usize, mut end: usize) -> usize {
    while end > start && matches!(block[end - 1], b'\n' | b'\r') {
        end -= 1;
    }
    end
}

/// The `charset` parameter of the top-level Content-Type: what mail programs use for raw
/// 8-bit header text. US-ASCII says nothing about 8-bit bytes, so it does not count.
fn declared_charset(block: &[u8], fields: &[Field]) -> Option<&'static Encoding> {
    let field = fields.iter().find(|field| {
        block[field.start..field.colon]
            .trim_ascii()
            .eq_ignore_ascii_case(b"content-type")
    })?;
    let value = String::from_utf8_lossy(&block[field.colon + 1..field.end]).to_ascii_lowercase();
    let at = value.find("charset=")? + "charset=".len();
    let label: String = value[at..]
        .trim_start_matches('"')
        .chars()
        .take_while(|c| !matches!(c, '"' | ';' | ' ' | '\t' | '\r' | '\n'))
        .collect();
    let encoding = Encoding::for_label(label.as_bytes())?;
    (!label.contains("ascii")).then_some(encoding)
}

/// The repaired value of one field, or `None` when it reads cleanly as it is.
fn repair_value(value: &[u8], fallback: &'static Encoding, structured: bool) -> Option<Vec<u8>> {
    let text: Cow<'_, str> = match std::str::from_utf8(value) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => Cow::Owned(decode_8bit(value, fallback)),
    };
    let words = encoded_words(&text, structured);
    if words.is_empty() {
        return match text {
            Cow::Borrowed(_) => None,
            Cow::Owned(text) => Some(text.into_bytes()),
        };
    }
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut run_start = 0;
    while run_start < words.len() {
        let mut run_end = run_start + 1;
        while run_end < words.len()
            && words[run_end].quoted == words[run_start].quoted
            && text[words[run_end - 1].end..words[run_end].start]
                .chars()
                .all(|c| matches!(c, ' ' | '\t' | '\r' | '\n'))
        {
            run_end += 1;
        }
        let run = &words[run_start..run_end];
        out.push_str(&text[copied..run[0].start]);
        let decoded = decode_run(run);
        if run[0].quoted {
            for c in decoded.chars() {
                if matches!(c, '"' | '\\') {
                    out.push('\\');
                }
                out.push(c);
            }
        } else {
            out.push_str("=?UTF-8?B?");
            out.push_str(&base64::engine::general_purpose::STANDARD.encode(decoded.as_bytes()));
            out.push_str("?=");
        }
        copied = run[run.len() - 1].end;
        run_start = run_end;
    }
    out.push_str(&text[copied..]);
    (out.as_bytes() != value).then(|| out.into_bytes())
}

/// Raw 8-bit header text: UTF-8 when it is, else the declared charset when it decodes
/// without error, else windows-1252 (which maps every byte to a character).
fn decode_8bit(bytes: &[u8], fallback: &'static Encoding) -> String {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return text.to_owned();
    }
    if let Some(text) = fallback.decode_without_bom_handling_and_without_replacement(bytes) {
        return text.into_owned();
    }
    WINDOWS_1252
        .decode_without_bom_handling(bytes)
        .0
        .into_owned()
}

#[derive(Debug)]
struct EncodedWord {
    start: usize,
    end: usize,
    charset: String,
    bytes: Vec<u8>,
    quoted: bool,
}

/// Finds the encoded-words of a field value. In address fields, words inside a quoted
/// string are marked, because their decoded text must stay inside the quotes.
fn encoded_words(text: &str, structured: bool) -> Vec<EncodedWord> {
    let bytes = text.as_bytes();
    let mut words = Vec::new();
    let mut quoted = false;
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'\\' if quoted => {
                at += 2;
                continue;
            }
            b'"' if structured => quoted = !quoted,
            b'=' if bytes.get(at + 1) == Some(&b'?') => {
                if let Some(word) = encoded_word_at(text, at, quoted) {
                    at = word.end;
                    words.push(word);
                    continue;
                }
            }
            _ => {}
        }
        at += 1;
    }
    words
}

/// `=?charset[*lang]?B|Q?text?=` at `start`. A word that runs to the end of its token
/// without the closing `?=` is accepted, as mail programs do.
fn encoded_word_at(text: &str, start: usize, quoted: bool) -> Option<EncodedWord> {
    let rest = &text[start + 2..];
    let charset_end = rest.find('?')?;
    let charset = &rest[..charset_end];
    if charset.is_empty()
        || charset.len() > 64
        || !charset
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:*".contains(&b))
    {
        return None;
    }
    let after_charset = &rest[charset_end + 1..];
    let mut chars = after_charset.chars();
    let encoding = chars.next()?.to_ascii_uppercase();
    if !matches!(encoding, 'B' | 'Q') || chars.next() != Some('?') {
        return None;
    }
    let data_start = start + 2 + charset_end + 3;
    let data_len = text[data_start..]
        .find(|c: char| c == '?' || c.is_whitespace() || (quoted && c == '"'))
        .unwrap_or(text.len() - data_start);
    let data = &text[data_start..data_start + data_len];
    let after = &text[data_start + data_len..];
    let end = if after.starts_with("?=") {
        data_start + data_len + 2
    } else if after.starts_with('?') {
        return None;
    } else {
        data_start + data_len
    };
    let bytes = if encoding == 'B' {
        decode_base64_lenient(data)
    } else {
        decode_q(data)
    };
    let charset = charset.split('*').next().unwrap_or(charset);
    Some(EncodedWord {
        start,
        end,
        charset: charset.to_ascii_lowercase(),
        bytes,
        quoted,
    })
}

/// Base64 as mail programs read it: characters outside the alphabet skipped, padding
/// optional, a dangling last character dropped.
fn decode_base64_lenient(data: &str) -> Vec<u8> {
    let mut clean: Vec<u8> = data
        .bytes()
        .take_while(|b| *b != b'=')
        .filter(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/')
        .collect();
    if clean.len() % 4 == 1 {
        clean.pop();
    }
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireNone)
            .with_decode_allow_trailing_bits(true),
    );
    engine.decode(&clean).unwrap_or_default()
}

/// The Q encoding: `_` is a space, `=XX` a byte; a broken `=` escape stays as written.
fn decode_q(data: &str) -> Vec<u8> {
    let bytes = data.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'_' => out.push(b' '),
            b'=' => {
                let pair = bytes.get(at + 1..at + 3).and_then(|pair| {
                    std::str::from_utf8(pair)
                        .ok()
                        .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                });
                match pair {
                    Some(byte) => {
                        out.push(byte);
                        at += 3;
                        continue;
                    }
                    None => out.push(b'='),
                }
            }
            byte => out.push(byte),
        }
        at += 1;
    }
    out
}

/// One run of adjacent encoded-words as text: the bytes of neighbours in one charset are
/// joined before decoding, so a character split between two words comes out whole.
fn decode_run(run: &[EncodedWord]) -> String {
    let mut out = String::new();
    let mut at = 0;
    while at < run.len() {
        let charset = &run[at].charset;
        let mut bytes = Vec::new();
        while at < run.len() && run[at].charset == *charset {
            bytes.extend_from_slice(&run[at].bytes);
            at += 1;
        }
        out.push_str(&decode_charset(charset, &bytes));
    }
    // A header line cannot hold line breaks or NUL; the decoded text must not smuggle them in.
    out.chars()
        .map(|c| if c.is_control() && c != '\t' { ' ' } else { c })
        .collect()
}

/// Text in a named charset; an unknown name is read as UTF-8 when the bytes are UTF-8,
/// else as windows-1252 — which is also what `iso-8859-1` and `us-ascii` mean in practice.
fn decode_charset(label: &str, bytes: &[u8]) -> String {
    let encoding = Encoding::for_label(label.as_bytes()).unwrap_or(UTF_8);
    if encoding == UTF_8 {
        return decode_8bit(bytes, WINDOWS_1252);
    }
    let (text, _, had_errors) = encoding.decode(bytes);
    if had_errors && let Ok(text) = std::str::from_utf8(bytes) {
        // A mailer that labels UTF-8 as something else is common enough to try.
        return text.to_owned();
    }
    text.into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject_of(raw: &[u8]) -> String {
        let raw = repair(raw);
        let message = mail_parser::MessageParser::default()
            .parse_headers(&raw)
            .expect("headers parse");
        message.subject().unwrap_or_default().to_owned()
    }

    fn from_name_of(raw: &[u8]) -> String {
        let raw = repair(raw);
        let message = mail_parser::MessageParser::default()
            .parse_headers(&raw)
            .expect("headers parse");
        let from = message.from().and_then(|a| a.first()).expect("a sender");
        format!(
            "{} <{}>",
            from.name().unwrap_or_default(),
            from.address().unwrap_or_default()
        )
    }

    #[test]
    fn real_world_header_forms_decode_like_mail_programs() {
        let cases: &[(&[u8], &str)] = &[
            // One UTF-8 character split between two Q words.
            (
                b"Subject: =?UTF-8?Q?ordre_du_jour_r=C3=A9vis=C3?= =?UTF-8?Q?=A9?=\r\n\r\n",
                "ordre du jour révisé",
            ),
            // Split between B words, folded over two lines (Cyrillic).
            (
                "Subject: =?UTF-8?B?0JLQsNGIINC30LDQutCw0LcgNzExOSDQ?=\r\n =?UTF-8?B?s9C+0YLQvtCyINC6INCy0YvQtNCw0YfQtQ==?=\r\n\r\n".as_bytes(),
                "Ваш заказ 7119 готов к выдаче",
            ),
            // ISO-2022-JP split inside an escape sequence's text.
            (
                b"Subject: =?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?=\r\n\r\n",
                "\u{30c6}\u{30b9}\u{30c8}",
            ),
            (
                b"Subject: =?ISO-2022-JP?B?GyRCJUYl?= =?ISO-2022-JP?B?OSVIGyhC?=\r\n\r\n",
                "\u{30c6}\u{30b9}\u{30c8}",
            ),
            // GB18030.
            (b"Subject: =?GB18030?B?1tDOxA==?=\r\n\r\n", "中文"),
            // windows-1252 characters declared as ISO-8859-1 (the euro sign, curly quotes).
            (
                b"Subject: =?ISO-8859-1?Q?=80_5_=93offre=94?=\r\n\r\n",
                "€ 5 “offre”",
            ),
            // The closing ?= missing at the end of the field.
            (b"Subject: =?UTF-8?Q?Caf=C3=A9\r\n\r\n", "Café"),
            // Bad base64: no padding, a stray character.
            (b"Subject: =?UTF-8?B?Q2Fmw6k?=\r\n\r\n", "Café"),
            (b"Subject: =?UTF-8?B?Q2Fm!w6k=?=\r\n\r\n", "Café"),
            // An unknown charset holding UTF-8.
            (b"Subject: =?x-unknown?Q?Caf=C3=A9?=\r\n\r\n", "Café"),
            // Raw 8-bit header, UTF-8 and latin-1.
            ("Subject: Grüße\r\n\r\n".as_bytes(), "Grüße"),
            (b"Subject: Gr\xfc\xdfe\r\n\r\n", "Grüße"),
            // Text around the words keeps its spaces; between words they go.
            (
                b"Subject: Re: =?UTF-8?Q?a?= =?UTF-8?Q?b?= end\r\n\r\n",
                "Re: ab end",
            ),
            // Different charsets side by side.
            (
                b"Subject: =?ISO-8859-1?Q?caf=E9?= =?UTF-8?Q?_cr=C3=A8me?=\r\n\r\n",
                "café crème",
            ),
        ];
        for (raw, expected) in cases {
            assert_eq!(
                subject_of(raw),
                *expected,
                "{}",
                String::from_utf8_lossy(raw)
            );
        }
    }

    #[test]
    fn raw_8bit_headers_use_the_declared_charset() {
        let raw = b"Subject: \xc2\xe0\xf8 \xe7\xe0\xea\xe0\xe7\r\n\
                    Content-Type: text/plain; charset=\"windows-1251\"\r\n\r\nbody";
        assert_eq!(subject_of(raw), "Ваш заказ");
    }

    #[test]
    fn names_in_addresses_decode_inside_and_outside_quotes() {
        let cases: &[(&[u8], &str)] = &[
            (
                b"From: \"=?UTF-8?Q?Ren=C3=A9e_Dupont?=\" <renee@example.org>\r\n\r\n",
                "Renée Dupont <renee@example.org>",
            ),
            (
                b"From: =?UTF-8?Q?Dupont=2C_Ren=C3?= =?UTF-8?Q?=A9e?= <renee@example.org>\r\n\r\n",
                "Dupont, Renée <renee@example.org>",
            ),
            (
                b"From: \"=?UTF-8?Q?say_=22hi=22?=\" <a@example.org>\r\n\r\n",
                "say \"hi\" <a@example.org>",
            ),
            (
                b"From: Jos\xe9 Garc\xeda <jose@example.org>\r\n\r\n",
                "José García <jose@example.org>",
            ),
        ];
        for (raw, expected) in cases {
            assert_eq!(
                from_name_of(raw),
                *expected,
                "{}",
                String::from_utf8_lossy(raw)
            );
        }
    }

    #[test]
    fn clean_messages_are_not_copied_and_bodies_never_change() {
        let clean =
            b"Subject: =?UTF-8?B?R3LDvMOfZQ==?=\r\nFrom: a@example.org\r\n\r\n=?UTF-8?Q?x?=";
        assert!(matches!(repair(clean), Cow::Borrowed(_)));
        let split = b"Subject: =?UTF-8?Q?a?= =?UTF-8?Q?b?=\r\nX-Other: =?UTF-8?Q?a?= =?UTF-8?Q?b?=\r\n\r\nbody =?UTF-8?Q?a?= =?UTF-8?Q?b?=\r\n";
        let repaired = repair(split);
        let text = String::from_utf8_lossy(&repaired);
        assert!(text.starts_with("Subject: =?UTF-8?B?YWI=?=\r\n"), "{text}");
        assert!(
            text.ends_with(
                "X-Other: =?UTF-8?Q?a?= =?UTF-8?Q?b?=\r\n\r\nbody =?UTF-8?Q?a?= =?UTF-8?Q?b?=\r\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn hostile_headers_cannot_add_lines_or_panic() {
        let raw = b"Subject: =?UTF-8?Q?a=0D=0ABcc:_victim@example.org?=\r\n\r\n";
        let repaired = repair(raw);
        assert_eq!(
            String::from_utf8_lossy(&repaired).matches("\r\n").count(),
            2
        );
        for raw in [
            &b"Subject: =?"[..],
            b"Subject: =?UTF-8?",
            b"Subject: =?UTF-8?Q",
            b"Subject: =?UTF-8?Q?",
            b"Subject: =?UTF-8?Q?=",
            b"Subject: =?UTF-8?Q?=A",
            b"Subject: =?UTF-8?B?=?=",
            b"From: \"\\",
            b"From: \"=?UTF-8?Q?a",
            b"\r\n",
            b"",
        ] {
            let _ = repair(raw);
        }
    }
}
