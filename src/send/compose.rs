//! Builds the finished RFC 5322 message from what the person wrote: headers encoded by
//! mail-builder (RFC 2047), a plain-text body (quoted-printable when needed), attachments
//! in base64, threading headers, a Message-ID on the sender's own domain. Pure: no I/O.

use mail_builder::MessageBuilder;
use mail_builder::headers::address::Address;
use mail_builder::headers::message_id::MessageId;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::mail::address::{self, AddressError, Mailbox};
use crate::store::outbox::{Attachment, Built};

/// Who the message is from, as the identity says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sender {
    pub name: String,
    pub address: String,
    pub reply_to: Option<String>,
    pub signature: String,
}

/// The message being answered: its Message-ID and References.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Thread {
    pub message_id: Option<String>,
    pub references: Vec<String>,
}

/// Everything the finished message is made of.
#[derive(Debug, Clone)]
pub struct Outgoing<'a> {
    pub sender: &'a Sender,
    pub to: &'a [Mailbox],
    pub cc: &'a [Mailbox],
    pub bcc: &'a [Mailbox],
    pub subject: &'a str,
    pub body: &'a str,
    pub attachments: &'a [Attachment],
    pub thread: Option<&'a Thread>,
    pub date: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComposeError {
    #[error("{}", self.text())]
    NoRecipients,
    #[error("{}", self.text())]
    ControlCharacter(&'static str),
    #[error(transparent)]
    Address(#[from] AddressError),
    #[error("{}", self.text())]
    AttachmentName(String),
    #[error("{}", self.text())]
    ContentType(String),
}

impl ComposeError {
    /// What is wrong with the message, in words.
    pub fn text(&self) -> crate::i18n::Text {
        use crate::i18n::Text;
        match self {
            Self::NoRecipients => Text::new("compose-no-recipients"),
            Self::ControlCharacter(field) => Text::new("compose-control").with("field", *field),
            Self::Address(e) => e.text(),
            Self::AttachmentName(name) => {
                Text::new("compose-attachment-name").with("name", format!("{name:?}"))
            }
            Self::ContentType(kind) => {
                Text::new("compose-content-type").with("value", format!("{kind:?}"))
            }
        }
    }
}

/// Refuses CR, LF, NUL and other control characters in a one-line field.
pub fn one_line(field: &'static str, value: &str) -> Result<(), ComposeError> {
    if value.chars().any(char::is_control) {
        return Err(ComposeError::ControlCharacter(field));
    }
    Ok(())
}

fn mailbox(m: &Mailbox) -> Address<'_> {
    Address::new_address(m.name.as_deref(), m.address.as_str())
}

fn list<'a>(mailboxes: &'a [Mailbox]) -> Address<'a> {
    Address::new_list(mailboxes.iter().map(mailbox).collect())
}

/// A Message-ID id (without brackets) on the sender's domain.
pub fn new_message_id(sender_address: &str) -> String {
    let domain = sender_address
        .rsplit_once('@')
        .map(|(_, domain)| domain)
        .filter(|d| !d.is_empty())
        .unwrap_or("tributary.invalid");
    format!("{}@{domain}", Uuid::new_v4().simple())
}

/// A Message-ID as stored (maybe with brackets) without them.
fn bare_id(id: &str) -> &str {
    id.trim().trim_start_matches('<').trim_end_matches('>')
}

/// The body as sent: the text, then the signature after the usual `-- ` line.
pub fn body_with_signature(body: &str, signature: &str) -> String {
    let body = body.replace("\r\n", "\n");
    if signature.trim().is_empty() {
        return body;
    }
    format!(
        "{}\n\n-- \n{}",
        body.trim_end(),
        signature.replace("\r\n", "\n").trim_end()
    )
}

pub fn build(message: &Outgoing<'_>) -> Result<Built, ComposeError> {
    let Outgoing {
        sender,
        to,
        cc,
        bcc,
        ..
    } = message;
    if to.is_empty() && cc.is_empty() && bcc.is_empty() {
        return Err(ComposeError::NoRecipients);
    }
    one_line("the subject", message.subject)?;
    one_line("the sender's name", &sender.name)?;
    let from = Mailbox {
        name: (!sender.name.trim().is_empty()).then(|| sender.name.trim().to_owned()),
        address: address::parse_address(&sender.address)?,
    };
    for attachment in message.attachments {
        check_attachment(attachment)?;
    }
    let message_id = new_message_id(&from.address);
    let mut builder = MessageBuilder::new()
        .from(mailbox(&from))
        .subject(message.subject)
        .date(message.date.unix_timestamp())
        .message_id(message_id.clone())
        .header(
            "User-Agent",
            mail_builder::headers::raw::Raw::new("Tributary"),
        );
    if !to.is_empty() {
        builder = builder.to(list(to));
    }
    if !cc.is_empty() {
        builder = builder.cc(list(cc));
    }
    // Bcc recipients are in the envelope only: a Bcc header would show them to everyone.
    if let Some(reply_to) = &sender.reply_to {
        builder = builder.reply_to(Address::new_address(None::<&str>, reply_to.as_str()));
    }
    if let Some(thread) = message.thread
        && let Some(parent) = thread.message_id.as_deref().map(bare_id)
        && !parent.is_empty()
    {
        let mut references: Vec<String> = thread
            .references
            .iter()
            .map(|r| bare_id(r).to_owned())
            .filter(|r| !r.is_empty() && !r.chars().any(char::is_control))
            .collect();
        references.push(parent.to_owned());
        if !parent.chars().any(char::is_control) {
            builder = builder
                .in_reply_to(parent.to_owned())
                .references(MessageId::new_list(references.into_iter()));
        }
    }
    builder = builder.text_body(body_with_signature(message.body, &sender.signature));
    for attachment in message.attachments {
        builder = builder.attachment(
            attachment.content_type.as_str(),
            attachment.filename.as_str(),
            attachment.content.as_slice(),
        );
    }
    let raw = builder
        .write_to_vec()
        .map_err(|_| ComposeError::ControlCharacter("the message"))?;
    let envelope_to = to
        .iter()
        .chain(cc.iter())
        .chain(bcc.iter())
        .map(|m| m.address.clone())
        .fold(Vec::new(), |mut all, address| {
            if !all.contains(&address) {
                all.push(address);
            }
            all
        });
    Ok(Built {
        message_id: format!("<{message_id}>"),
        raw,
        envelope_from: from.address,
        envelope_to,
    })
}

fn check_attachment(attachment: &Attachment) -> Result<(), ComposeError> {
    let name = &attachment.filename;
    if name.is_empty()
        || name
            .chars()
            .any(|c| c.is_control() || c == '/' || c == '\\' || c == '"')
    {
        return Err(ComposeError::AttachmentName(name.clone()));
    }
    let content_type = &attachment.content_type;
    let valid = content_type.split_once('/').is_some_and(|(kind, sub)| {
        let token = |t: &str| {
            !t.is_empty()
                && t.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "!#$&-^_.+".contains(c))
        };
        token(kind) && token(sub)
    });
    if !valid {
        return Err(ComposeError::ContentType(content_type.clone()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sender() -> Sender {
        Sender {
            name: "Zoë Martin".into(),
            address: "zoe@example.org".into(),
            reply_to: Some("replies@example.org".into()),
            signature: "Zoë".into(),
        }
    }

    #[test]
    fn a_reply_has_threading_headers_and_no_bcc() {
        let sender = sender();
        let to = address::parse_list("Ann <ann@example.net>").expect("to");
        let bcc = address::parse_list("hidden@example.com, ann@example.net").expect("bcc");
        let thread = Thread {
            message_id: Some("<parent@example.net>".into()),
            references: vec!["<root@example.net>".into()],
        };
        let attachment = Attachment {
            filename: "notes.txt".into(),
            content_type: "text/plain".into(),
            content: b"some notes".to_vec(),
        };
        let built = build(&Outgoing {
            sender: &sender,
            to: &to,
            cc: &[],
            bcc: &bcc,
            subject: "Re: Réunion",
            body: "Oui.\n.\nÀ demain",
            attachments: std::slice::from_ref(&attachment),
            thread: Some(&thread),
            date: OffsetDateTime::UNIX_EPOCH,
        })
        .expect("build");
        let parsed = mail_parser::MessageParser::default()
            .parse(&built.raw)
            .expect("parses");
        assert_eq!(parsed.subject(), Some("Re: Réunion"));
        assert_eq!(parsed.in_reply_to().as_text(), Some("parent@example.net"));
        let references: Vec<String> = parsed
            .references()
            .as_text_list()
            .unwrap_or_default()
            .iter()
            .map(|r| r.to_string())
            .collect();
        assert_eq!(references, vec!["root@example.net", "parent@example.net"]);
        assert!(
            built.message_id.ends_with("@example.org>"),
            "{}",
            built.message_id
        );
        assert_eq!(
            parsed.message_id(),
            Some(&built.message_id[1..built.message_id.len() - 1])
        );
        let raw = String::from_utf8_lossy(&built.raw);
        // Random hex in the Message-ID or boundary may spell "bcc", so look for the header itself.
        assert!(
            !raw.lines()
                .any(|line| line.to_ascii_lowercase().starts_with("bcc:")),
            "{raw}"
        );
        assert!(!raw.contains("hidden@example.com"));
        assert_eq!(
            built.envelope_to,
            vec![
                "ann@example.net".to_owned(),
                "hidden@example.com".to_owned()
            ]
        );
        assert_eq!(built.envelope_from, "zoe@example.org");
        let text = parsed.body_text(0).expect("text");
        assert!(
            text.contains("À demain") && text.contains("\n-- \nZoë"),
            "{text}"
        );
        assert_eq!(
            parsed.attachment(0).map(|a| a.contents()),
            Some(&b"some notes"[..])
        );
        assert!(raw.is_ascii(), "7-bit on the wire");
    }

    #[test]
    fn header_injection_is_refused() {
        let sender = sender();
        let to = address::parse_list("ann@example.net").expect("to");
        let outgoing = |subject| Outgoing {
            sender: &sender,
            to: &to,
            cc: &[],
            bcc: &[],
            subject,
            body: "",
            attachments: &[],
            thread: None,
            date: OffsetDateTime::UNIX_EPOCH,
        };
        assert_eq!(
            build(&outgoing("hi\r\nBcc: evil@example.com")),
            Err(ComposeError::ControlCharacter("the subject"))
        );
        assert_eq!(
            build(&outgoing("a\0b")),
            Err(ComposeError::ControlCharacter("the subject"))
        );
        let none = Outgoing {
            to: &[],
            ..outgoing("x")
        };
        assert_eq!(build(&none), Err(ComposeError::NoRecipients));
        let bad_name = Attachment {
            filename: "a\r\nb".into(),
            content_type: "text/plain".into(),
            content: vec![],
        };
        let with = Outgoing {
            attachments: std::slice::from_ref(&bad_name),
            ..outgoing("x")
        };
        assert!(matches!(build(&with), Err(ComposeError::AttachmentName(_))));
    }
}
