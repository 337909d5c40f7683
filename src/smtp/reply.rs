//! SMTP replies (RFC 5321 §4.2) and EHLO extensions, parsed without I/O.

use crate::server_text::ServerText;

use super::error::SmtpError;

/// Most lines one reply may have: an EHLO answer has a dozen; a server that sends
/// thousands is broken or hostile.
pub const MAX_REPLY_LINES: usize = 128;

/// One complete reply: its code and the text of all its lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    /// Each line's text after the code and separator.
    pub lines: Vec<Vec<u8>>,
}

impl Reply {
    pub fn is_positive(&self) -> bool {
        (200..300).contains(&self.code)
    }

    pub fn is_intermediate(&self) -> bool {
        (300..400).contains(&self.code)
    }

    /// All lines joined, safe to show.
    pub fn text(&self) -> ServerText {
        ServerText::new(&self.lines.join(&b' '))
    }
}

/// One reply line: `250-text` (more follow), `250 text` or `250` (last).
pub fn parse_line(line: &[u8]) -> Result<(u16, bool, &[u8]), SmtpError> {
    let malformed = || {
        SmtpError::Protocol(format!(
            "not an SMTP reply line: {}",
            ServerText::new(&line[..line.len().min(60)])
        ))
    };
    if line.len() < 3 || !line[..3].iter().all(u8::is_ascii_digit) {
        return Err(malformed());
    }
    let code = u16::from(line[0] - b'0') * 100
        + u16::from(line[1] - b'0') * 10
        + u16::from(line[2] - b'0');
    if !(200..600).contains(&code) {
        return Err(malformed());
    }
    match line.get(3) {
        None => Ok((code, true, &[])),
        Some(b' ') => Ok((code, true, &line[4..])),
        Some(b'-') => Ok((code, false, &line[4..])),
        Some(_) => Err(malformed()),
    }
}

/// Gathers reply lines into replies.
#[derive(Debug, Default)]
pub struct ReplyParser {
    code: Option<u16>,
    lines: Vec<Vec<u8>>,
}

impl ReplyParser {
    /// Feeds one line; a complete reply when it was the last.
    pub fn push(&mut self, line: &[u8]) -> Result<Option<Reply>, SmtpError> {
        let (code, last, text) = parse_line(line)?;
        if self.code.is_some_and(|first| first != code) {
            return Err(SmtpError::Protocol(
                "a multi-line reply changed its code midway".into(),
            ));
        }
        if self.lines.len() >= MAX_REPLY_LINES {
            return Err(SmtpError::Protocol(format!(
                "a reply of more than {MAX_REPLY_LINES} lines"
            )));
        }
        self.code = Some(code);
        self.lines.push(text.to_vec());
        if !last {
            return Ok(None);
        }
        self.code = None;
        Ok(Some(Reply {
            code,
            lines: std::mem::take(&mut self.lines),
        }))
    }
}

/// What the server offers, from its EHLO answer (RFC 5321 §4.1.1.1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extensions {
    pub starttls: bool,
    /// SASL mechanisms, upper case.
    pub auth: Vec<String>,
    /// The SIZE limit (RFC 1870); `None` when not announced or announced as 0 (no limit).
    pub size: Option<u64>,
    pub smtputf8: bool,
    pub eight_bit_mime: bool,
}

impl Extensions {
    /// From the EHLO reply; its first line is the greeting and is skipped.
    pub fn parse(reply: &Reply) -> Self {
        let mut extensions = Self::default();
        for line in reply.lines.iter().skip(1) {
            let line = String::from_utf8_lossy(line).to_ascii_uppercase();
            let mut words = line.split_ascii_whitespace();
            match words.next() {
                Some("STARTTLS") => extensions.starttls = true,
                Some("SMTPUTF8") => extensions.smtputf8 = true,
                Some("8BITMIME") => extensions.eight_bit_mime = true,
                Some("SIZE") => {
                    extensions.size = words
                        .next()
                        .and_then(|n| n.parse::<u64>().ok())
                        .filter(|n| *n > 0);
                }
                // Some old servers also announce `AUTH=LOGIN PLAIN`.
                Some(word) if word == "AUTH" || word.starts_with("AUTH=") => {
                    let first = word.strip_prefix("AUTH=").filter(|w| !w.is_empty());
                    for mechanism in first.into_iter().chain(words) {
                        if !extensions.auth.iter().any(|m| m == mechanism) {
                            extensions.auth.push(mechanism.to_owned());
                        }
                    }
                }
                _ => {}
            }
        }
        extensions
    }

    pub fn has_auth(&self, mechanism: &str) -> bool {
        self.auth.iter().any(|m| m == mechanism)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(lines: &[&[u8]]) -> Result<Vec<Reply>, SmtpError> {
        let mut parser = ReplyParser::default();
        let mut replies = Vec::new();
        for line in lines {
            if let Some(reply) = parser.push(line)? {
                replies.push(reply);
            }
        }
        Ok(replies)
    }

    #[test]
    fn single_and_multi_line_replies() {
        let replies = parse_all(&[
            b"220 mx ready",
            b"250-mx",
            b"250-SIZE 1000",
            b"250 AUTH PLAIN",
        ])
        .expect("parse");
        assert_eq!(replies.len(), 2);
        assert_eq!(replies[0].code, 220);
        assert_eq!(replies[0].text().as_str(), "mx ready");
        assert_eq!(replies[1].lines.len(), 3);
        assert!(replies[1].is_positive());
        let bare = parse_all(&[b"354"]).expect("bare code");
        assert!(bare[0].is_intermediate());
    }

    #[test]
    fn malformed_replies_are_refused() {
        for line in [
            &b"25"[..],
            b"abc hello",
            b"250xhello",
            b"199 too low",
            b"600 too high",
        ] {
            assert!(parse_all(&[line]).is_err(), "{line:?}");
        }
        assert!(parse_all(&[b"250-a", b"550 b"]).is_err());
        let endless: Vec<&[u8]> = std::iter::repeat_n(&b"250-x"[..], MAX_REPLY_LINES + 1).collect();
        assert!(parse_all(&endless).is_err());
    }

    #[test]
    fn ehlo_extensions() {
        let reply = Reply {
            code: 250,
            lines: vec![
                b"mx.example.org greets you".to_vec(),
                b"PIPELINING".to_vec(),
                b"SIZE 10240000".to_vec(),
                b"starttls".to_vec(),
                b"AUTH PLAIN LOGIN".to_vec(),
                b"AUTH=LOGIN".to_vec(),
                b"SMTPUTF8".to_vec(),
            ],
        };
        let extensions = Extensions::parse(&reply);
        assert!(extensions.starttls && extensions.smtputf8 && !extensions.eight_bit_mime);
        assert_eq!(extensions.size, Some(10_240_000));
        assert_eq!(extensions.auth, vec!["PLAIN", "LOGIN"]);
        assert!(extensions.has_auth("LOGIN"));
        let unlimited = Reply {
            code: 250,
            lines: vec![b"mx".to_vec(), b"SIZE 0".to_vec()],
        };
        assert_eq!(Extensions::parse(&unlimited).size, None);
    }
}
