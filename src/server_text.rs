//! Text that came from a remote mail server (POP3 or SMTP), made safe to show and log.

use std::fmt;

/// Text that came from the remote server, made safe to show and log: control characters
/// are replaced and the length is capped, so a hostile server cannot forge log lines.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct ServerText(String);

/// Longest server text we keep for people to read.
pub const MAX_SERVER_TEXT_CHARS: usize = 200;

impl ServerText {
    pub fn new(raw: &[u8]) -> Self {
        let text = String::from_utf8_lossy(raw);
        let mut clean: String = text
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .take(MAX_SERVER_TEXT_CHARS)
            .collect();
        if text.chars().count() > MAX_SERVER_TEXT_CHARS {
            clean.push('…');
        }
        Self(clean.trim().to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ServerText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("(no text)")
        } else {
            f.write_str(&self.0)
        }
    }
}

impl fmt::Debug for ServerText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}
