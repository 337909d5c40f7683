//! Addresses a person types (To, Cc, Bcc, From, Reply-To), checked strictly: RFC 5322
//! mailboxes (`name <local@domain>` or `local@domain`), domains in Unicode or ASCII
//! (IDN, UTS 46), local parts in UTF-8 allowed (RFC 6532; sent with SMTPUTF8). Anything
//! that could break a header or a command line — CR, LF, NUL — is refused with a reason.

use std::fmt;

/// Longest address (RFC 5321 §4.5.3.1.3 path limit, less the brackets).
pub const MAX_ADDRESS_LEN: usize = 254;
/// Longest local part (RFC 5321 §4.5.3.1.1).
pub const MAX_LOCAL_LEN: usize = 64;

/// One checked mailbox: an optional display name and the address, its domain in ASCII.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub name: Option<String>,
    pub address: String,
}

impl fmt::Display for Mailbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "{name} <{}>", self.address),
            None => f.write_str(&self.address),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.text())]
pub enum AddressError {
    ControlCharacter,
    Malformed(String),
    LocalPart(String),
    Domain(String),
    TooLong(String),
}

impl AddressError {
    /// What is wrong, in words; the address as typed, quoted.
    pub fn text(&self) -> crate::i18n::Text {
        use crate::i18n::Text;
        let quoted = |id, address: &String| Text::new(id).with("address", format!("{address:?}"));
        match self {
            Self::ControlCharacter => Text::new("address-control"),
            Self::Malformed(address) => quoted("address-malformed", address),
            Self::LocalPart(address) => quoted("address-local-part", address),
            Self::Domain(address) => quoted("address-domain", address),
            Self::TooLong(address) => quoted("address-too-long", address),
        }
    }
}

/// A comma- or semicolon-separated list; empty entries are skipped.
pub fn parse_list(text: &str) -> Result<Vec<Mailbox>, AddressError> {
    if text.chars().any(char::is_control) {
        return Err(AddressError::ControlCharacter);
    }
    split_outside_quotes(text)
        .into_iter()
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(parse_mailbox)
        .collect()
}

/// One mailbox: `addr`, `<addr>`, `Name <addr>` or `"Name, Jr." <addr>`.
pub fn parse_mailbox(text: &str) -> Result<Mailbox, AddressError> {
    if text.chars().any(char::is_control) {
        return Err(AddressError::ControlCharacter);
    }
    let text = text.trim();
    let (name, address) = match (text.rfind('<'), text.ends_with('>')) {
        (Some(open), true) => {
            let name = text[..open].trim();
            let name = name
                .strip_prefix('"')
                .and_then(|n| n.strip_suffix('"'))
                .unwrap_or(name)
                .replace("\\\"", "\"");
            let name = (!name.trim().is_empty()).then(|| name.trim().to_owned());
            (name, &text[open + 1..text.len() - 1])
        }
        (None, false) => (None, text),
        _ => return Err(AddressError::Malformed(text.to_owned())),
    };
    Ok(Mailbox {
        name,
        address: parse_address(address.trim())?,
    })
}

/// A bare address, returned with its domain in ASCII (punycode).
pub fn parse_address(text: &str) -> Result<String, AddressError> {
    if text.chars().any(char::is_control) {
        return Err(AddressError::ControlCharacter);
    }
    let malformed = || AddressError::Malformed(text.to_owned());
    let (local, domain) = text.rsplit_once('@').ok_or_else(malformed)?;
    if local.is_empty() || domain.is_empty() {
        return Err(malformed());
    }
    if local.len() > MAX_LOCAL_LEN {
        return Err(AddressError::TooLong(text.to_owned()));
    }
    if !(is_dot_atom(local) || is_quoted_string(local)) {
        return Err(AddressError::LocalPart(text.to_owned()));
    }
    let ascii =
        idna::domain_to_ascii_strict(domain).map_err(|_| AddressError::Domain(text.to_owned()))?;
    let labels_ok = ascii.split('.').all(|label| {
        !label.is_empty()
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    });
    if !labels_ok || !ascii.contains('.') {
        return Err(AddressError::Domain(text.to_owned()));
    }
    let address = format!("{local}@{ascii}");
    if address.len() > MAX_ADDRESS_LEN {
        return Err(AddressError::TooLong(text.to_owned()));
    }
    Ok(address)
}

/// RFC 5322 `atext` (plus UTF-8, RFC 6532), in dot-separated runs.
fn is_dot_atom(local: &str) -> bool {
    local.split('.').all(|atom| {
        !atom.is_empty()
            && atom.chars().all(|c| {
                c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c) || !c.is_ascii()
            })
    })
}

fn is_quoted_string(local: &str) -> bool {
    let Some(inner) = local.strip_prefix('"').and_then(|l| l.strip_suffix('"')) else {
        return false;
    };
    let mut escaped = false;
    for c in inner.chars() {
        match (escaped, c) {
            (true, _) => escaped = false,
            (false, '\\') => escaped = true,
            (false, '"') => return false,
            _ => {}
        }
    }
    !escaped
}

fn split_outside_quotes(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut quoted, mut angle, mut escaped, mut start) = (false, false, false, 0);
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '<' if !quoted => angle = true,
            '>' if !quoted => angle = false,
            ',' | ';' if !quoted && !angle => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailboxes_parse() {
        let list = parse_list(
            r#"ann@example.org, "Doe, John" <john@example.org>; Zoë <zoe@bücher.example>"#,
        )
        .expect("list");
        assert_eq!(list.len(), 3);
        assert_eq!(list[0].address, "ann@example.org");
        assert_eq!(list[1].name.as_deref(), Some("Doe, John"));
        assert_eq!(list[2].address, "zoe@xn--bcher-kva.example");
        assert_eq!(list[2].to_string(), "Zoë <zoe@xn--bcher-kva.example>");
        assert_eq!(parse_list(" , ").expect("empty"), vec![]);
        assert_eq!(
            parse_address("\"a b\"@example.org").expect("quoted"),
            "\"a b\"@example.org"
        );
        assert_eq!(
            parse_address("jörg@example.org").expect("utf8"),
            "jörg@example.org"
        );
    }

    #[test]
    fn bad_addresses_are_refused_with_a_reason() {
        assert_eq!(
            parse_list("a@example.org\r\nBcc: evil@example.org"),
            Err(AddressError::ControlCharacter)
        );
        assert_eq!(
            parse_address("a\0@example.org"),
            Err(AddressError::ControlCharacter)
        );
        for bad in [
            "plain",
            "@example.org",
            "a@",
            "a..b@example.org",
            ".a@example.org",
        ] {
            assert!(parse_address(bad).is_err(), "{bad}");
        }
        assert!(matches!(
            parse_address("a@-x.example"),
            Err(AddressError::Domain(_))
        ));
        assert!(matches!(
            parse_address("a@localhost"),
            Err(AddressError::Domain(_))
        ));
        assert!(matches!(
            parse_address("a b@example.org"),
            Err(AddressError::LocalPart(_))
        ));
        assert!(matches!(
            parse_address(&format!("{}@example.org", "a".repeat(65))),
            Err(AddressError::TooLong(_))
        ));
        assert!(matches!(
            parse_mailbox("Ann <ann@example.org"),
            Err(AddressError::Malformed(_))
        ));
    }
}
